"""The feature-selectivity workflow: train a layered network on images, test it before and after training
(optionally under pixel noise), and keep the spike records as an ``xarray`` for analysis.

>>> from spikebridge.workflows.selectivity import Workflow                      # doctest: +SKIP
>>> wf = Workflow("runs/fs", backend="nest")                          # doctest: +SKIP
>>> wf.train(); pre = wf.test("untrained"); post = wf.test("trained") # doctest: +SKIP

Analysis: :mod:`spikebridge.analysis.selectivity` and :mod:`spikebridge.analysis.traceback`.
"""

from .config import Layers, Protocol, WorkflowError
from .records import SpikeRecord, load_records, save_records
from .workflow import STATES, Workflow

__all__ = ["STATES", "Layers", "Protocol", "SpikeRecord", "Workflow", "WorkflowError", "load_records", "save_records"]
