"""The feature-selectivity workflow: train a layered network on images, test it before and after training
(optionally under pixel noise), and keep the spike records as an ``xarray`` for analysis.

A workflow is set up without running anything (nothing is written until it trains or tests):

>>> from spikebridge.workflows.selectivity import Workflow
>>> wf = Workflow("runs/fs", backend="nest")
>>> wf.input_shape, wf.layers.indices, wf.epoch_dir(0).as_posix()
((8, 16, 16), [0, 1, 2], 'runs/fs/train/epoch_00')

Training and testing run the simulator (minutes), so they are not run as a doctest::

    wf.train()                          # one run directory per epoch under runs/fs/train/
    pre = wf.test("untrained")          # spike records, dims (img, rep, layer, nrn_cls)
    post = wf.test("trained", noise=60) # after training, with pixel noise of 60 grey levels

Analysis: :mod:`spikebridge.analysis.selectivity` and :mod:`spikebridge.analysis.traceback`.
"""

from .config import Layers, Protocol, WorkflowError
from .records import SpikeRecord, load_records, save_records
from .workflow import STATES, Workflow

__all__ = ["STATES", "Layers", "Protocol", "SpikeRecord", "Workflow", "WorkflowError", "load_records", "save_records"]
