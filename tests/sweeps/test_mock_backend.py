"""A sweep over a backend with no simulator: the mock, registered the way the conformance suite registers it.

The Dask client runs its workers as threads of this process, so the registration is visible to them; what is checked
is the sweep machinery (grid, trial directories, metadata, Experiment), not any simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client

from spikebridge import backends
from spikebridge.backends.mock import MockBackend
from spikebridge.workflows.sweeps import Experiment, Grid, SweepPlan, run_sweep

from .conftest import STDP_SETS


@pytest.fixture
def mock() -> Iterator[str]:
    backends.register("mock", MockBackend)
    try:
        yield "mock"
    finally:
        backends.unregister("mock")


def test_a_sweep_runs_on_the_mock_backend(mock: str, tmp_path: Path) -> None:
    plan = SweepPlan(
        model="stdp_bimodal",
        grid=Grid.parse(["simulation.seed=1,2,3"]),
        out=tmp_path / "sweep",
        backend=mock,
        overrides=STDP_SETS,
    )
    with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        report = run_sweep(plan, client, progress=False, command=["test"])
    assert report.ok, report.failed
    experiment = Experiment(report.path)
    assert len(experiment.complete) == 3
    runs = [trial.results for trial in experiment]
    assert sorted(r.meta["seed"] for r in runs) == [1, 2, 3]
    assert {r.meta["backend"] for r in runs} == {"mock"}
    assert all(sum(len(st) for seg in r.block.segments for st in seg.spiketrains) > 0 for r in runs)
    assert all(len(r.weights()) > 0 for r in runs)  # the weight table of every trial was written and reads back
