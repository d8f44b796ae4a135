"""The run directory: recordings, the resolved model, drawn network, final weights, snapshots and metadata."""

from .atomic import atomic_file
from .layout import CONNECTIONS, META, MODEL, NETWORK, RECORDINGS, REQUIRED, WEIGHTS
from .results import Results, load
from .write import write_run

__all__ = ["CONNECTIONS", "META", "MODEL", "NETWORK", "RECORDINGS", "REQUIRED", "WEIGHTS", "Results", "atomic_file", "load", "write_run"]
