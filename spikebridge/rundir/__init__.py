"""The run directory: recordings, the resolved model, drawn network, final weights, snapshots and metadata.

Its format is defined here and nowhere else: the layout (:mod:`.layout`), writing (:mod:`.write`), reading
(:mod:`.results`), the weight table (:mod:`.weights`), the final connections (:mod:`.connections`), checksums,
atomic files, and whether a run can be reused (:mod:`.reuse`).
"""

from .atomic import atomic_file
from .layout import CONNECTIONS, FORMAT, META, MODEL, NETWORK, RECORDINGS, REQUIRED, WEIGHTS
from .results import Results, load
from .reuse import matches, reusable
from .write import write_run

__all__ = [
    "CONNECTIONS",
    "FORMAT",
    "META",
    "MODEL",
    "NETWORK",
    "RECORDINGS",
    "REQUIRED",
    "WEIGHTS",
    "Results",
    "atomic_file",
    "load",
    "matches",
    "reusable",
    "write_run",
]
