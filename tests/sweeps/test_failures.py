"""Trials that fail (invalid model, an exception in the simulator, a crashed worker) are recorded; the rest run."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import pytest

import spikebridge
from spikebridge.workflows.sweeps import Experiment, ExperimentError, Grid, SweepPlan, dask_client, run_sweep
from spikebridge.workflows.sweeps.trial import TrialSpec, execute_trial

from .conftest import EI_SETS
from .crashing import segfault_on_seed_2


def test_failed_trials_carry_their_message_and_the_others_complete(client: object, tmp_path: Path) -> None:
    plan = SweepPlan(
        model="ei_weight_matrix",
        # threads=0 passes the model schema but the NEST backend refuses it in the worker; duration -5 is an
        # invalid model, caught before anything is submitted
        grid=Grid.parse(["simulation.backend_options.threads=1,0", "simulation.duration=50,-5"]),
        out=tmp_path / "exp",
        backend="nest",
    )
    report = run_sweep(plan, client, progress=False)  # type: ignore[arg-type]
    assert (report.total, report.complete, len(report.failed)) == (4, 1, 3)
    table = Experiment(report.path).trials.set_index(["threads", "duration"])
    assert table.loc[(1, 50), "status"] == "complete"
    assert table.loc[(0, 50), "status"] == "failed"
    assert table.loc[(0, 50), "error"] == "BackendError: nest option 'threads' must be >= 1, got 0"
    assert table.loc[(0, 50), "attempts"] == 1 and table.loc[(0, 50), "host"]
    for threads in (0, 1):
        assert table.loc[(threads, -5), "status"] == "failed"
        assert (
            "ModelError" in table.loc[(threads, -5), "error"]
            and "simulation.duration: expected a positive duration in ms (> 0), got -5" in table.loc[(threads, -5), "error"]
        )
        assert table.loc[(threads, -5), "attempts"] == 0  # never submitted
    with pytest.raises(ExperimentError, match=r"t0002 .* is failed: BackendError"):
        _ = Experiment(report.path)["t0002"].results

    # rerunning retries the failed trials only
    again = run_sweep(plan, client, progress=False)  # type: ignore[arg-type]
    assert (again.already_complete, again.complete, len(again.failed)) == (1, 1, 3)
    meta = json.loads((report.path / "metadata.json").read_text())
    assert [t["attempts"] for t in meta["trials"]] == [1, 0, 2, 0]


def test_a_worker_that_segfaults_fails_its_trial_and_the_sweep_goes_on(tmp_path: Path) -> None:
    plan = SweepPlan(
        model="ei_weight_matrix", grid=Grid.parse(["simulation.seed=1,2,3"]), out=tmp_path / "exp", backend="nest", overrides=EI_SETS
    )
    with dask_client(None, workers=2, threads=1) as c:
        report = run_sweep(plan, c, progress=False, task=segfault_on_seed_2)
    assert report.complete == 2
    [(trial_id, params, error)] = report.failed
    assert params == {"simulation.seed": 2}
    assert error.startswith("the worker process died while running this trial (a simulator crash, or killed for memory)")
    assert "all those workers died while running it" in error  # Dask's KilledWorker, after one death (allowed_failures=0)
    exp = Experiment(report.path)
    assert exp.where(seed=2)[0].status == "failed"
    assert [t.status for t in exp.where(seed=1)] + [t.status for t in exp.where(seed=3)] == ["complete", "complete"]


def test_isolated_trials_run_in_their_own_process(client: object, tmp_path: Path) -> None:
    plan = SweepPlan(
        model="ei_weight_matrix",
        grid=Grid.parse(["simulation.seed=1,2"]),
        out=tmp_path / "exp",
        backend="nest",
        overrides=EI_SETS,
        isolate=True,
    )
    report = run_sweep(plan, client, progress=False)  # type: ignore[arg-type]
    assert report.ok
    exp = Experiment(report.path)
    for trial in exp:
        assert trial.results.meta["seed"] == trial.params["simulation.seed"]
        # the run's own record of its command line: python -m spikebridge.workflows.sweeps.trial SPEC OUTCOME
        assert trial.results.meta["command"][0].endswith("spikebridge/workflows/sweeps/trial.py")
        assert json.loads(trial.results.meta["command"][1])["trial"] == trial.id
    assert not list((report.path / ".trials").glob("*outcome*"))


def test_two_copies_of_a_trial_run_it_once(client: object, tmp_path: Path) -> None:
    """What a resumed client does to a trial the killed one left running: the copy waits, then adopts it."""
    from spikebridge.models.io import find_model_file

    exp = tmp_path / "exp"

    def spec() -> TrialSpec:
        return TrialSpec(
            str(exp), "t0000", str(exp / "t0000"), str(find_model_file("ei_weight_matrix")), EI_SETS, "nest", token=uuid.uuid4().hex
        )

    futures = [client.submit(execute_trial, spec(), pure=False) for _ in range(2)]  # type: ignore[attr-defined]
    outcomes = [f.result(timeout=50) for f in futures]
    assert sorted(o["reused"] for o in outcomes) == [False, True]
    assert all(o["status"] == "complete" and o["attempts"] == 1 for o in outcomes)
    assert spikebridge.load(exp / "t0000").meta["seed"] == 42

    # the same in one process, from two threads
    results: list[dict[str, object]] = []
    threads = [threading.Thread(target=lambda: results.append(execute_trial(spec()))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=50)
    assert [r["reused"] for r in results] == [True, True]
