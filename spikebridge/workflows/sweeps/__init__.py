"""Parameter sweeps: many runs of one model (grids x seeds x backends) on Dask distributed, and analyses over them.

A grid is every combination of the values of its axes:

>>> from spikebridge.workflows.sweeps import Grid
>>> grid = Grid.parse(["projections.e2e.synapse.timing.A_plus=0.01,0.02", "simulation.seed=1,2,3"])
>>> len(grid), grid.paths
(6, ['projections.e2e.synapse.timing.A_plus', 'simulation.seed'])

An experiment directory holds a sweep's trials (simulator runs, so this is not run as a doctest)::

    from spikebridge.workflows.sweeps import Experiment

    exp = Experiment("experiments/stdp")
    exp.where(A_plus=0.02).collect(lambda r: r.rates("post").mean())   # one row per trial, rates in Hz

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
