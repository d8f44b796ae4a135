"""The Experiment API on a real sweep: trial table, selections, trials' results, collect (here and on Dask)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import spikebridge
from spikebridge.analysis.activity import firing_stats
from spikebridge.models.io import load_model
from spikebridge.workflows.sweeps import Experiment, ExperimentError, Grid, GridError, SweepError, SweepPlan, run_sweep
from spikebridge.workflows.sweeps.summaries import weight_statistic

from .conftest import A_PLUS, EI_SETS


def test_trials_table_lists_parameters_and_status(stdp_experiment: Experiment) -> None:
    table = stdp_experiment.trials
    assert table.index.tolist() == ["t0000", "t0001", "t0002", "t0003"]
    assert table.columns.tolist() == ["A_plus", "seed", "status", "attempts", "host", "duration_s", "error", "dir"]
    assert table[["A_plus", "seed"]].to_numpy().tolist() == [[0.005, 1], [0.005, 2], [0.02, 1], [0.02, 2]]
    assert (table["status"] == "complete").all() and (table["attempts"] == 1).all()
    assert table["error"].isna().all() and (table["duration_s"] > 0).all()
    assert stdp_experiment.paths == [A_PLUS, "simulation.seed"]
    assert stdp_experiment.parameters == ["A_plus", "seed"]


def test_where_groupby_and_indexing(stdp_experiment: Experiment) -> None:
    exp = stdp_experiment
    strong = exp.where(A_plus=0.02)
    assert strong.trials.index.tolist() == ["t0002", "t0003"]
    assert exp.where({A_PLUS: 0.02}).trials.index.tolist() == ["t0002", "t0003"]
    assert exp.where({"simulation.seed": 2}, A_plus=0.02).trials.index.tolist() == ["t0003"]
    assert {k: len(v) for k, v in exp.groupby("A_plus").items()} == {0.005: 2, 0.02: 2}
    trial = exp[{"A_plus": 0.02, "seed": 1}]
    assert trial.id == "t0002" and exp["t0002"].id == "t0002" and exp[2].id == "t0002" and strong[-1].id == "t0003"
    assert trial.params == {A_PLUS: 0.02, "simulation.seed": 1} and trial.parameters == {"A_plus": 0.02, "seed": 1}
    assert trial.results.model.projections["input_post"].synapse.timing.A_plus == pytest.approx(0.02)
    assert trial.results.meta["seed"] == 1
    assert trial.checkpoints == [0.0, 250.0, 500.0, 750.0, 1000.0]
    with pytest.raises(ExperimentError, match=r"2 trials match \{'A_plus': 0.02\}; also give seed"):
        exp[{"A_plus": 0.02}]
    with pytest.raises(ExperimentError, match=r"no trial has A_plus = 0.03 \(values: 0.005, 0.02\)"):
        exp.where(A_plus=0.03)
    with pytest.raises(GridError, match=r"no swept parameter 'A_minus' \(swept: A_plus, seed\)"):
        exp.where(A_minus=0.01)
    with pytest.raises(ExperimentError, match="no trial 't0009'"):
        exp["t0009"]


def test_collect_stacks_outcomes_by_parameters_here_and_on_the_cluster(stdp_experiment: Experiment, client: object) -> None:
    exp = stdp_experiment
    rates = exp.collect(lambda r: r.rates("post").mean())
    assert rates.index.names == ["A_plus", "seed"] and rates.columns.tolist() == ["value"]
    assert rates.loc[(0.02, 1), "value"] == pytest.approx(exp[2].results.rates("post").mean())
    assert (rates.xs(0.02)["value"] > rates.xs(0.005)["value"]).all()  # potentiation wins: the cell fires more

    stats = exp.where(seed=1).collect(firing_stats)  # a DataFrame per trial keeps its own index
    assert stats.index.names == ["A_plus", "seed", "population"]
    assert stats.loc[(0.005, 1, "post"), "cells"] == 1

    metric = weight_statistic("mean", relative=True)
    here = exp.collect(metric)
    there = exp.collect(metric, client=client)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(here, there)
    assert here.columns.tolist() == [0.0, 250.0, 500.0, 750.0, 1000.0]
    assert np.all(here[1000.0].xs(0.02) > here[1000.0].xs(0.005))

    def broken(results: spikebridge.Results) -> float:
        raise ValueError("no such thing")

    with pytest.raises(ValueError, match="no such thing") as info:
        exp.collect(broken)
    assert "while collecting trial t0000 {'A_plus': 0.005, 'seed': 1}" in str(info.value.__notes__)


def test_rerun_skips_complete_trials_and_extending_the_grid_adds_trials(client: object, tmp_path: Path) -> None:
    out = tmp_path / "exp"
    plan = SweepPlan(model="ei_weight_matrix", grid=Grid.parse(["simulation.seed=1,2"]), out=out, backend="nest", overrides=EI_SETS)
    assert run_sweep(plan, client, progress=False).complete == 2  # type: ignore[arg-type]
    created = {t.id: t.results.meta["created"] for t in Experiment(out)}
    again = run_sweep(plan, client, progress=False)  # type: ignore[arg-type]
    assert (again.total, again.complete, again.already_complete) == (2, 2, 2)
    more = run_sweep(replace(plan, grid=Grid.parse(["simulation.seed=1,2,3"])), client, progress=False)  # type: ignore[arg-type]
    assert (more.total, more.complete, more.already_complete) == (3, 3, 2)
    exp = Experiment(out)
    assert exp.trials["seed"].tolist() == [1, 2, 3] and exp.meta["grid"] == {"simulation.seed": [1, 2, 3]}
    assert {t.id: t.results.meta["created"] for t in exp if t.id in created} == created
    assert [t["attempts"] for t in json.loads((out / "metadata.json").read_text())["trials"]] == [1, 1, 1]
    assert len(exp.meta["sweeps"]) == 3

    other = SweepPlan(
        model="ei_weight_matrix", grid=Grid.parse(["simulation.seed=1,2"]), out=out, backend="nest", overrides=("simulation.duration=60",)
    )
    with pytest.raises(SweepError, match=r"holds another experiment: its model \(after --set\) differ"):
        run_sweep(other, client, progress=False)  # type: ignore[arg-type]
    renamed = SweepPlan(model="ei_weight_matrix", grid=Grid.parse(["simulation.dt=0.1"]), out=out, backend="nest", overrides=EI_SETS)
    with pytest.raises(SweepError, match="its swept parameters differ"):
        run_sweep(renamed, client, progress=False)  # type: ignore[arg-type]
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("mine")
    with pytest.raises(SweepError, match="exists and is not an experiment directory"):
        run_sweep(replace(plan, out=tmp_path / "junk"), client, progress=False)  # type: ignore[arg-type]
    with pytest.raises(ExperimentError, match="is not an experiment directory"):
        Experiment(tmp_path / "junk")


def test_consecutive_trials_in_one_process_are_reproducible(tmp_path: Path) -> None:
    """A worker runs trial after trial in one process: pyNN.nest's setup must reset NEST's kernel in between."""
    spikes = []
    for k, seed in enumerate((1, 2, 1)):
        results = spikebridge.run(
            load_model("ei_weight_matrix", [*EI_SETS, f"simulation.seed={seed}"]), "nest", tmp_path / str(k), progress=False, figure=False
        )
        spikes.append(results.spikes("I"))
    assert len(spikes[0][1]) > 0
    np.testing.assert_array_equal(spikes[0][0], spikes[2][0])
    np.testing.assert_array_equal(spikes[0][1], spikes[2][1])
    assert not (len(spikes[0][1]) == len(spikes[1][1]) and np.array_equal(spikes[0][1], spikes[1][1]))


def test_a_grid_over_backends(client: object, tmp_path: Path) -> None:
    plan = SweepPlan(
        model="ei_weight_matrix", grid=Grid.parse(["backend=nest", "simulation.seed=1"]), out=tmp_path / "exp", overrides=EI_SETS
    )
    assert run_sweep(plan, client, progress=False).ok  # type: ignore[arg-type]
    exp = Experiment(tmp_path / "exp")
    assert exp.trials[["backend", "seed", "dir"]].to_numpy().tolist() == [["nest", 1, "t0000_backend=nest_seed=1"]]
    assert exp.where(backend="nest")[0].results.meta["backend"] == "nest"
