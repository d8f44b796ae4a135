"""The rule study's plan and command line without a simulator (issue 16): tasks, seed limits, duplicates, bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from spikebridge.stimuli import digits
from spikebridge.workflows.rule_study import network, study


def test_a_plan_runs_each_task_once_and_a_limited_backend_on_its_first_seeds(tmp_path: Path) -> None:
    plan = study.StudyPlan(
        rules=("backprop", "lds", "lds"), seeds=(1, 2, 2, 3), backends=("nest", "brian2:cpp"), config=study.QUICK, out=tmp_path,
        seed_limits={"nest": 2},
    )
    tasks = plan.tasks()
    assert len(tasks) == len(set(tasks)) == 3 + 2 + 3
    assert {t.seed for t in tasks if t.backend == "nest"} == {1, 2}
    assert {t.backend for t in tasks if t.rule == "backprop"} == {"numpy"}
    assert plan.digest(tasks[1]) != plan.digest(tasks[2]), "the digest names the task"


def test_the_protocol_alternates_test_blocks_and_training_chunks_on_the_snapshot_grid() -> None:
    config = network.TaskConfig(n_train=20, n_test=10, epochs=2, snapshot_every=10)
    data = digits.load(config.n_train, config.n_test, seed=3)
    prot = network.protocol(config, data, seed=3)
    assert config.n_chunks == 4 and len(prot.onset) == 5 * 10 + 4 * 10
    for k in range(config.n_chunks + 1):
        tests = prot.onset[~prot.is_train & (prot.chunk == k)]
        assert tests[0] == k * config.period, "a test block starts at each weight snapshot"
    train = prot.is_train
    assert sorted(prot.index[train][:20]) == list(range(20)), "every training image once per pass"
    assert np.all(np.diff(prot.onset) > 0) and prot.onset[-1] + config.t_free + config.t_gap == config.duration


def test_bad_study_input_exits_2_in_one_line_before_anything_runs(tmp_path: Path) -> None:
    bad = tmp_path / "diagrams.csv"
    bad.write_text("rule,x\nlds,1\n")
    for extra, words in (
        (["--diagrams", str(bad)], "lacks the column(s) backend"),
        (["--limit", "nest"], "expected BACKEND:N"),
        (["--limit", "brian2:2", "--backends", "nest"], "a seed limit names brian2"),
    ):
        argv = [sys.executable, "-m", "spikebridge.cli", "study", "rules", "--rules", "backprop", "--out", str(tmp_path / "out"), *extra]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (extra, done.stderr)
        assert words in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "out" / "runs").exists()
