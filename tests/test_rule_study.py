"""The rule study's plan and command line without a simulator (issue 16): tasks, seed limits, duplicates, bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spikebridge.rundir.lock import lock_path
from spikebridge.stimuli import digits
from spikebridge.workflows.rule_study import network, study


def test_a_plan_runs_each_task_once_and_a_limited_backend_on_its_first_seeds(tmp_path: Path) -> None:
    plan = study.StudyPlan(
        rules=("backprop", "lds", "lds"),
        seeds=(1, 2, 2, 3),
        backends=("nest", "brian2:cpp"),
        config=study.QUICK,
        out=tmp_path,
        seed_limits={"nest": 2},
    )
    tasks = plan.tasks()
    assert len(tasks) == len(set(tasks)) == 3 + 2 + 3
    assert {t.seed for t in tasks if t.backend == "nest"} == {1, 2}
    assert {t.backend for t in tasks if t.rule == "backprop"} == {"numpy"}
    assert plan.digest(tasks[1]) != plan.digest(tasks[2]), "the digest names the task"


def test_the_protocol_alternates_test_blocks_and_training_chunks_on_the_snapshot_grid() -> None:
    config = network.TaskConfig(n_train=20, n_test=10, epochs=2, snapshot_every=10, angle_batch=5, t_test=300.0)
    data = digits.load(config.n_train, config.n_test, seed=3)
    prot = network.protocol(config, data, seed=3)
    assert config.n_chunks == 4 and len(prot.onset) == 5 * 10 + 4 * 10
    for k in range(config.n_chunks + 1):
        tests = prot.onset[~prot.is_train & (prot.chunk == k)]
        assert tests[0] == k * config.period, "a test block starts at each weight snapshot"
    train = prot.is_train
    assert sorted(prot.index[train][:20]) == list(range(20)), "every training image once per pass"
    assert np.all(np.diff(prot.onset) > 0) and prot.onset[-1] + config.t_test + config.t_gap == config.duration
    batches = prot.onset[train][:: config.angle_batch]
    assert np.allclose(batches % config.snapshot_interval, 0.0), "every batch of the angle starts on a weight snapshot"


def test_a_task_whose_batches_or_test_blocks_miss_the_snapshot_grid_is_refused_naming_the_fields() -> None:
    for changes, words in (
        ({"angle_batch": 3}, "angle_batch (3) must divide snapshot_every (10)"),
        ({"t_test": 200.0}, "a test block (2500 ms: n_test x (t_test + t_gap)) must last a whole number of snapshot intervals"),
        ({"n_train": 25}, "snapshot_every (10) must divide n_train (25)"),
    ):
        config = network.TaskConfig(**({"n_train": 20, "n_test": 10, "snapshot_every": 10, "angle_batch": 5, "t_test": 300.0} | changes))
        with pytest.raises(ValueError, match=re.escape(words)):
            config.check()


def test_bad_study_input_exits_2_in_one_line_before_anything_runs(tmp_path: Path) -> None:
    bad = tmp_path / "diagrams.csv"
    bad.write_text("rule,x\nlds,1\n")
    for extra, words in (
        (["--diagrams", str(bad)], "lacks the column(s) backend"),
        (["--limit", "nest"], "expected BACKEND:N"),
        (["--limit", "brian2:2", "--backends", "nest"], "a seed limit names brian2"),
        (["--epochs", "0"], "--epochs must be >= 1, got 0"),
        (["--workers", "0"], "--workers must be >= 1, got 0"),
    ):
        argv = [sys.executable, "-m", "spikebridge.cli", "study", "rules", "--rules", "backprop", "--out", str(tmp_path / "out"), *extra]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (extra, done.stderr)
        assert words in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "out" / "runs").exists()


def test_report_runs_nothing_and_writes_the_tables_and_figure_from_the_measures_the_folder_holds(tmp_path: Path) -> None:
    out = tmp_path / "study"
    base = [sys.executable, "-m", "spikebridge.cli", "study", "rules", "--quick", "--rules", "backprop"]
    base += ["--backends", "nest,brian2", "--out", str(out), "--quiet"]
    empty = subprocess.run([*base, "--report"], capture_output=True, text=True, timeout=300)
    assert empty.returncode == 2 and "holds no measures for this plan's 2 networks" in empty.stderr, empty.stderr
    assert "Traceback" not in empty.stderr and not (out / "table.csv").exists()
    ran = subprocess.run(base, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    curves = (out / "curves.csv").read_text()
    assert {line.split(",")[1] for line in curves.splitlines()[1:]} == {"1", "2"}
    second = next(out.glob("runs/backprop/*/seed2/measures.json"))
    second.unlink()
    for name in ("curves.csv", "table.csv", "figures/rule_study.png"):
        (out / name).unlink()
    report = subprocess.run([*base, "--report"], capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    assert "1 of 2 networks have measures" not in report.stderr, "--quiet prints nothing but errors"
    assert not second.exists(), "--report ran a network"
    kept = [line for line in curves.splitlines() if line.split(",")[1] != "2"]
    assert (out / "curves.csv").read_text().splitlines() == kept
    times = pd.read_csv(out / study.TIMINGS)
    assert times["seed"].tolist() == [1] and times["source"].tolist() == ["measures"] and times["wall_s"].iloc[0] > 0
    header, row = (line.split(",") for line in (out / "table.csv").read_text().splitlines())
    assert row[header.index("seeds")] == "1", "the table counts the one seed left"
    assert (out / "figures" / "rule_study.png").stat().st_size > 0


def test_epochs_sets_the_passes_and_keys_the_measures_so_a_folder_never_mixes_them(tmp_path: Path) -> None:
    """``--epochs 2`` on the quick task (1 pass, 20 images, a snapshot every 10): twice the training samples and
    snapshots; the one-pass measures in the same folder are not this plan's (``--report`` finds none)."""
    out = tmp_path / "study"
    base = [sys.executable, "-m", "spikebridge.cli", "study", "rules", "--quick", "--rules", "backprop", "--out", str(out), "--quiet"]
    one = subprocess.run(base, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    assert pd.read_csv(out / "curves.csv")["samples"].tolist() == [0, 10, 20]
    report = subprocess.run([*base, "--epochs", "2", "--report"], capture_output=True, text=True, timeout=300)
    assert report.returncode == 2 and "holds no measures for this plan's 1 networks" in report.stderr, report.stderr
    two = subprocess.run([*base, "--epochs", "2"], capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr
    assert pd.read_csv(out / "curves.csv")["samples"].tolist() == [0, 10, 20, 30, 40]


def test_timings_come_from_the_measures_else_the_runs_phases_else_the_folders_last_table(tmp_path: Path) -> None:
    plan = study.StudyPlan(rules=("lds",), seeds=(1, 2, 3), backends=("nest",), config=study.QUICK, out=tmp_path)
    measured, phases_only, unknown = plan.tasks()
    for task, extra in ((measured, {"wall_s": 12.5}), (phases_only, {}), (unknown, {})):
        folder = study.task_folder(plan, task)
        folder.mkdir(parents=True)
        (folder / study.MEASURES).write_text(json.dumps({"digest": plan.digest(task), **extra}))
    run = study.task_folder(plan, phases_only) / "run"
    run.mkdir()
    (run / "meta.json").write_text(json.dumps({"timings": {"build_s": 1.5, "run_s": 8.5}}))
    first = study.timings(plan)
    assert first["wall_s"].tolist()[:2] == [12.5, 10.0] and np.isnan(first["wall_s"].iloc[2])
    assert first["source"].tolist()[:2] == ["measures", "run"] and pd.isna(first["source"].iloc[2])
    first.to_csv(tmp_path / study.TIMINGS, index=False)
    shutil.rmtree(run)  # the study carried to a machine without its run directories
    again = study.timings(plan)
    assert again["wall_s"].tolist()[:2] == [12.5, 10.0] and again["source"].tolist()[:2] == ["measures", "run"]
    assert np.isnan(again["wall_s"].iloc[2])


def test_the_network_draws_its_feedback_from_the_output_weights_and_centres_it_on_request(tmp_path: Path) -> None:
    """Feedback onto hidden cell i from output j is feedback_scale x w_out[j, i] (the transposed initial output
    weights), tied to the output weights (copied at every snapshot) unless asked not to be; centred (untied only),
    each hidden cell's feedback weights sum to 0, so a change common to every output leaves its dendritic state
    alone. The dendritic time constants reach the cells."""
    config = network.TaskConfig(n_train=20, n_test=10, epochs=1, snapshot_every=10, angle_batch=5, t_test=300.0, tau_u=40.0)
    plain, _, _ = network.build("lds", 2, config, tmp_path / "a")
    assert plain["projections"]["feedback"]["tie"] == {  # type: ignore[index]
        "source": "ff_output", "scale": config.feedback_scale, "interval": config.snapshot_interval
    }
    untied = replace(config, feedback_tied=False)
    assert "tie" not in network.build("lds", 2, untied, tmp_path / "c")[0]["projections"]["feedback"]
    with pytest.raises(ValueError, match="centre_feedback needs feedback_tied = False"):
        network.build("lds", 2, replace(config, centre_feedback=True), tmp_path / "d")
    centred, _, _ = network.build("lds", 2, replace(untied, centre_feedback=True), tmp_path / "b")

    def matrix(model: dict[str, object], name: str, shape: tuple[int, int]) -> np.ndarray:
        w = np.zeros(shape)
        for pre, post, weight in model["projections"][name]["connector"]["connections"]:  # type: ignore[index]
            w[int(pre), int(post)] = weight
        return w

    w_out = matrix(plain, "ff_output", (config.n_hidden, digits.N_CLASSES))
    fb = matrix(plain, "feedback", (digits.N_CLASSES, config.n_hidden))
    np.testing.assert_allclose(fb, config.feedback_scale * w_out.T)
    fb_c = matrix(centred, "feedback", (digits.N_CLASSES, config.n_hidden))
    np.testing.assert_allclose(fb_c.sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(fb_c, fb - fb.mean(axis=0))
    assert plain["populations"]["hidden"]["parameters"]["tau_u"] == 40.0  # type: ignore[index]


def test_the_gate_opens_with_a_weight_that_decays_per_pass_and_closes_after_every_nudge(tmp_path: Path) -> None:
    """Pass e's nudges open the gate with weight gate_decay ** e (every rule's change scales with it: the learning
    rate's schedule); one source closes it t_nudge later; the hidden layer's own rule parameters reach its synapses."""
    config = network.TaskConfig(
        n_train=20, n_test=10, epochs=3, snapshot_every=10, angle_batch=5, t_test=300.0, gate_decay=0.5,
        hidden_rule_parameters={"y_active": 3.0},
    )
    model, prot, _ = network.build("lds", 1, config, tmp_path)
    nudges = prot.onset[prot.is_train] + config.t_free
    times = model["stimuli"]["gate"]["spike_times"]
    assert len(times) == config.epochs + 1 == model["populations"]["gate"]["size"]
    for e in range(config.epochs):
        np.testing.assert_allclose(times[e], nudges[e * config.n_train : (e + 1) * config.n_train])
    np.testing.assert_allclose(times[-1], nudges + config.t_nudge)
    weights = {(int(pre), float(w)) for pre, _, w in model["projections"]["gate_hidden"]["connector"]["connections"]}
    assert weights == {(0, 1.0), (1, 0.5), (2, 0.25), (3, -1.0)}
    assert model["projections"]["ff_hidden"]["synapse"]["parameters"]["y_active"] == 3.0
    assert "y_active" not in model["projections"]["ff_output"]["synapse"]["parameters"]


def test_a_spiking_task_does_not_depend_on_the_rate_references_settings(tmp_path: Path) -> None:
    base = study.StudyPlan(rules=("backprop", "lds"), seeds=(1,), backends=("nest",), config=network.TaskConfig(), out=tmp_path)
    other = replace(base, config=replace(base.config, reference_learning_rate=0.5))
    spiking, reference = study.Task("lds", 1, "nest"), study.Task("backprop", 1, "numpy")
    assert base.digest(spiking) == other.digest(spiking)
    assert base.digest(reference) != other.digest(reference)
    assert base.digest(spiking) != replace(base, config=replace(base.config, t_test=1350.0)).digest(spiking)


def _curves(d_by_rule: dict[str, float]) -> pd.DataFrame:
    rows = [
        {"rule": rule, "seed": seed, "backend": "nest", "samples": samples, "accuracy": 0.5, "dendritic_state": d * seed, "angle": 60.0}
        for rule, d in d_by_rule.items()
        for seed in (1, 2)
        for samples in (500, 1000)
    ]
    return pd.DataFrame(rows)


def test_the_figure_draws_dendritic_states_on_a_log_axis_only_where_they_span_decades() -> None:
    import matplotlib.pyplot as plt

    from spikebridge.plotting.rule_study import study_figure

    wide = study_figure(_curves({"lds": 2.0, "btsp_dendritic": 400.0}), {})
    narrow = study_figure(_curves({"lds": 15.0, "bcm_supervised": 22.0}), {})
    assert [ax.get_yscale() for ax in wide.axes] == ["log", "linear", "linear"]
    assert [ax.get_yscale() for ax in narrow.axes] == ["linear", "linear", "linear"]
    assert all(len(ax.get_lines()) >= 2 for ax in wide.axes), "every rule is drawn on every panel"
    plt.close(wide)
    plt.close(narrow)


def test_a_study_kept_in_git_leaves_out_its_run_directories_and_their_locks_and_keeps_the_measures(tmp_path: Path) -> None:
    """Judged by git itself: ``git add`` of a study folder while a task runs takes its measures, not its lock."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("runs/\n")  # spikebridge's default run folder, left out by a project
    task = tmp_path / "study" / "runs" / "lds" / "brian2:cpp" / "seed1"
    (task / "run").mkdir(parents=True)
    (tmp_path / "study" / ".gitignore").write_text(study.GITIGNORE)
    names = ["measures.json", lock_path(task / "run").name, "protocol.npz", "run/meta.json"]
    for name in names:
        (task / name).write_text("x")
    paths = [str((task / name).relative_to(tmp_path)) for name in names]
    done = subprocess.run(["git", "-C", str(tmp_path), "check-ignore", *paths], capture_output=True, text=True)
    assert done.stdout.split() == paths[1:], done.stdout
