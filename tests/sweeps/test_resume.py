"""A sweep on a Dask scheduler and workers in their own processes; its client killed half-way, then resumed."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import spikebridge
from spikebridge.workflows.sweeps import Experiment

from .conftest import A_PLUS, STDP_SETS

TRIALS = 10
# 3 s of simulated time (~0.5 s a trial): long enough to kill the client between the third and the last trial
SETS = [*(s for s in STDP_SETS if not s.startswith("simulation.duration=")), "simulation.duration=3000"]


def _statuses(path: Path) -> list[str]:
    try:
        return [t["status"] for t in json.loads((path / "metadata.json").read_text())["trials"]]
    except (FileNotFoundError, json.JSONDecodeError):
        return []


@pytest.mark.slow
def test_killed_client_resumes_with_no_trial_run_twice_or_lost(scheduler: str, tmp_path: Path) -> None:
    out = tmp_path / "exp"
    command = [
        sys.executable, "-m", "spikebridge.cli.sweep", "stdp_bimodal", "--backend", "nest", "--quiet", "--scheduler",
        scheduler, "--out", str(out),
    ]
    command += [arg for s in SETS for arg in ("--set", s)]
    command += ["--grid", f"{A_PLUS}=0.005,0.02", "--grid", "simulation.seed=1,2,3,4,5"]

    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 45
        while _statuses(out).count("complete") < 3:
            if first.poll() is not None:
                pytest.fail(f"the sweep ended before it could be killed: {first.stdout.read().decode()[-2000:] if first.stdout else ''}")
            if time.monotonic() > deadline:
                pytest.fail("no three trials completed in 45 s")
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
    finally:
        if first.poll() is None:
            first.kill()
        first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    before = _statuses(out)
    assert len(before) == TRIALS and 3 <= before.count("complete") < TRIALS

    second = subprocess.run(command, capture_output=True, text=True, timeout=55)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"{TRIALS} trials: {TRIALS} complete" in second.stdout

    meta = json.loads((out / "metadata.json").read_text())
    assert [t["status"] for t in meta["trials"]] == ["complete"] * TRIALS
    assert len(meta["sweeps"]) == 2
    exp = Experiment(out)
    assert sorted(exp.trials["seed"].tolist()) == sorted([1, 2, 3, 4, 5] * 2)
    for trial in meta["trials"]:
        # every simulation start is a line of the trial's attempt log: one each, so none ran twice
        starts = (out / ".trials" / f"{trial['id']}.attempts").read_text().splitlines()
        assert len(starts) == 1, (trial["id"], starts)
        assert trial["attempts"] == 1
        assert trial["host"] and trial["timings"]["run_s"] > 0
        results = spikebridge.load(out / trial["dir"])
        assert results.meta["seed"] == trial["params"]["simulation.seed"]
    run_dirs = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(run_dirs) == TRIALS
    assert not list(out.glob(".*partial*"))
