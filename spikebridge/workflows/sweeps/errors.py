"""Errors of parameter sweeps that a user can act on (printed as one line by the CLI, exit code 2)."""

from __future__ import annotations

from ...errors import ExecutionError, SpikebridgeError


class SweepError(SpikebridgeError):
    """A sweep cannot start or go on: an experiment directory in use or made by another sweep, a lost scheduler."""


class GridError(SweepError):
    """A ``--grid PATH=V1,V2`` specification is malformed."""


class ExperimentError(SweepError):
    """An experiment directory is missing or unreadable, or a trial asked of it does not exist or is not complete."""


class SchedulerLostError(SweepError, ExecutionError):
    """The Dask scheduler went away during a sweep: the input was fine, rerunning resumes (exit 3)."""
