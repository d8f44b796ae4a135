"""Parameter sweeps: many runs of one model (grids x seeds x backends) on Dask distributed, and analyses over them.

>>> from spikebridge.workflows.sweeps import Experiment                                    # doctest: +SKIP
>>> exp = Experiment("experiments/stdp")                                         # doctest: +SKIP
>>> exp.where(A_plus=0.02).collect(lambda r: r.rates("post").mean())             # doctest: +SKIP

Run one from the command line with ``spikebridge sweep MODEL --grid PATH=V1,V2 ...`` or from Python with
:func:`run_sweep` and :func:`dask_client`.
"""

from .engine import SweepPlan, SweepReport, dask_client, run_sweep
from .errors import ExperimentError, GridError, SweepError
from .experiment import Experiment, Trial
from .grid import Axis, Grid

__all__ = [
    "Axis",
    "Experiment",
    "ExperimentError",
    "Grid",
    "GridError",
    "SweepError",
    "SweepPlan",
    "SweepReport",
    "Trial",
    "dask_client",
    "run_sweep",
]
