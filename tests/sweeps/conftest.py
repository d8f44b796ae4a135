"""Fixtures of the sweep tests: a local Dask cluster, a Dask scheduler and workers as separate processes (on
127.0.0.1, always stopped afterwards), and a tiny real sweep shared by the Experiment and summary tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spikebridge.workflows.sweeps import Experiment, Grid, SweepPlan, dask_client, run_sweep

A_PLUS = "projections.input_post.synapse.timing.A_plus"
# stdp_bimodal shrunk to 100 inputs (weights x10, so that the cell still fires): ~0.2-0.5 s a trial
STDP_SETS = (
    "populations.inputs.size=100",
    "projections.input_post.weight.high=0.002",
    "projections.input_post.synapse.weight_dependence.w_max=0.002",
    "projections.input_post.synapse.timing.A_minus=0.00525",
    "simulation.duration=1000",
    "record_weights.interval=250",
)
EI_SETS = ("simulation.duration=50",)  # ei_weight_matrix for 50 ms: ~0.2 s a trial
START_TIMEOUT_S = 40.0


@pytest.fixture(scope="session")
def client() -> Iterator[object]:
    """A LocalCluster of two single-threaded worker processes, shared by the tests."""
    with dask_client(None, workers=2, threads=1) as c:
        yield c


@pytest.fixture(scope="session")
def stdp_experiment(tmp_path_factory: pytest.TempPathFactory, client: object) -> Experiment:
    """A_plus in {0.005, 0.02} x seeds {1, 2} of the shrunk stdp_bimodal, run once."""
    plan = SweepPlan(
        model="stdp_bimodal",
        grid=Grid.parse([f"{A_PLUS}=0.005,0.02", "simulation.seed=1,2"]),
        out=tmp_path_factory.mktemp("sweeps") / "stdp",
        backend="nest",
        overrides=STDP_SETS,
    )
    report = run_sweep(plan, client, progress=False, command=["test"])  # type: ignore[arg-type]
    assert report.ok, report.failed
    return Experiment(report.path)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process group this test started (the scheduler, or the worker nannies and their workers)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)
    # workers forked by a nanny share its process group: make sure none outlives the test
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """A ``dask scheduler`` and a ``dask worker`` (2 processes x 1 thread) on 127.0.0.1, as subprocesses.

    Yields the scheduler's address; both are stopped (SIGTERM, then SIGKILL) whatever the test did.
    """
    from distributed import Client

    file = tmp_path / "scheduler.json"
    log = open(tmp_path / "dask.log", "wb")  # noqa: SIM115 - closed in finally
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                    "--no-dashboard", "--scheduler-file", str(file), "--idle-timeout", "300s",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (file.is_file() and file.stat().st_size):
            if time.monotonic() > deadline or procs[0].poll() is not None:
                pytest.fail(f"the Dask scheduler did not start: {(tmp_path / 'dask.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        address = json.loads(file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        procs.append(
            subprocess.Popen(
                [
                    sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "2", "--nthreads", "1",
                    "--host", "127.0.0.1", "--no-dashboard", "--death-timeout", "60",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        with Client(address, timeout=START_TIMEOUT_S) as c:
            c.wait_for_workers(2, timeout=START_TIMEOUT_S)
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)
        log.close()
