"""Weights over time in a run directory: snapshots, reload, restore, figures (NEST here; other backends in their tests)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import spikebridge
from spikebridge.analysis.weights import weight_matrices, weight_matrix
from spikebridge.errors import RunDirectoryError
from spikebridge.models import validate
from spikebridge.rundir.checkpoint import CheckpointError

from .backends.test_nest import STDP_RAW

ULP = float(np.finfo(np.float64).eps)


def stdp_model(**changes: Any) -> spikebridge.Model:
    raw = copy.deepcopy(STDP_RAW)
    raw["record_weights"] = {"projections": ["ff"], "interval": 100.0}
    raw.update(changes)
    return validate(raw)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> spikebridge.Results:
    return spikebridge.run(stdp_model(), "nest", tmp_path_factory.mktemp("w") / "train", progress=False)


def test_snapshots_are_taken_at_every_interval_and_reload(trained: spikebridge.Results) -> None:
    table = trained.weights("ff")
    times = sorted(set(table.columns.get_level_values("t").astype(float)))
    assert times == [100.0 * k for k in range(11)]  # 0 .. 1000 ms over two phases
    assert table.index.names == ["projection", "pre", "post"]
    w = {t: table[(t, "w")].to_numpy() for t in times}
    # NEST holds weights in nS: the uS -> nS -> uS round trip may move the last bit
    np.testing.assert_allclose(w[0.0], trained.network["prj/ff/weight"], rtol=ULP, atol=0)
    assert np.abs(w[500.0] - w[0.0]).max() > 1e-4  # learning in the plastic phase
    np.testing.assert_array_equal(w[1000.0], w[500.0])  # frozen in the test phase
    np.testing.assert_array_equal(w[1000.0], trained.connections("ff").weight)
    again = spikebridge.load(trained.path).weights("ff", t=[0.0, 500.0])
    assert list(again.columns.get_level_values("t").unique()) == [0.0, 500.0]
    with pytest.raises(RunDirectoryError, match="no weight snapshot"):
        trained.weights("ff", t=123.0)


def test_restore_reproduces_saved_weights_before_the_next_run(trained: spikebridge.Results, tmp_path: Path) -> None:
    from spikebridge import backends
    from spikebridge.models import instantiate
    from spikebridge.rundir.checkpoint import restore

    net = restore(instantiate(trained.model), trained)
    sim = backends.create("nest")
    sim.build(net)
    try:
        got = sim.connections("ff")
    finally:
        sim.end()
    saved = trained.connections("ff")
    np.testing.assert_array_equal(got.pre, saved.pre)
    np.testing.assert_allclose(got.weight, saved.weight, rtol=ULP, atol=0)
    np.testing.assert_array_equal(got.delay, saved.delay)
    again = spikebridge.run(trained.model, "nest", tmp_path / "test", progress=False, figure=False, restore=trained.path)
    assert again.meta["restored_from"]["path"] == str(trained.path)
    np.testing.assert_allclose(again.weights("ff", t=0.0)[(0.0, "w")].to_numpy(), saved.weight, rtol=ULP)


def test_runs_that_go_on_from_checkpoints_keep_the_drawn_network_s_digest(trained: spikebridge.Results, tmp_path: Path) -> None:
    import json
    import shutil

    from spikebridge.rundir.checkpoint import drawn_network_sha256

    drawn = trained.meta["network_sha256"]
    assert trained.meta["drawn_network_sha256"] == drawn and trained.meta["restored_from"] is None
    second = spikebridge.run(trained.model, "nest", tmp_path / "epoch_1", progress=False, figure=False, restore=trained.path)
    third = spikebridge.run(trained.model, "nest", tmp_path / "epoch_2", progress=False, figure=False, restore=second.path)
    # each later run starts from trained weights: its own network differs, the drawn one is the first run's
    assert len({trained.meta["network_sha256"], second.meta["network_sha256"], third.meta["network_sha256"]}) == 3
    assert second.meta["drawn_network_sha256"] == third.meta["drawn_network_sha256"] == drawn
    # a run written before the key existed: the chain of restored_from is followed, at the recorded path or beside
    # the run (checkpoints moved together, their recorded paths relative to another working directory)
    first = tmp_path / "epoch_0"
    shutil.copytree(trained.path, first)
    metas = {}
    for run, origin in ((first, None), (second.path, "elsewhere/epoch_0"), (third.path, "elsewhere/epoch_1")):
        meta = json.loads((run / "meta.json").read_text())
        del meta["drawn_network_sha256"]
        if origin is not None:
            meta["restored_from"]["path"] = origin
        (run / "meta.json").write_text(json.dumps(meta))
        metas[run.name] = meta
    assert drawn_network_sha256(metas["epoch_2"], third.path) == drawn
    assert drawn_network_sha256(metas["epoch_2"]) is None  # the recorded path alone leads nowhere
    shutil.rmtree(first)
    assert drawn_network_sha256(metas["epoch_2"], third.path) is None  # the first checkpoint is gone


def test_restore_refuses_a_checkpoint_with_other_connectivity(trained: spikebridge.Results, tmp_path: Path) -> None:
    other = copy.deepcopy(STDP_RAW)
    other["projections"]["ff"]["connector"] = {"rule": "fixed_probability", "p": 0.5}
    with pytest.raises(CheckpointError, match=r"projection 'ff': the checkpoint has 100 synapses, the model draws \d+"):
        spikebridge.run(validate(other), "nest", tmp_path / "x", progress=False, restore=trained.path)
    other["projections"]["ff"]["connector"] = {"rule": "fixed_indegree", "n": 50, "allow_multapses": True}
    with pytest.raises(CheckpointError, match=r"projection .ff.: \d+ of 100 \(pre, post\) pairs differ, first at synapse"):
        spikebridge.run(validate(other), "nest", tmp_path / "y", progress=False, restore=trained.path)
    cli = subprocess.run(
        [sys.executable, "-m", "spikebridge.cli", "run", "ei_weight_matrix", "--restore", str(trained.path), "--out", str(tmp_path / "z")],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 2 and "is not in the checkpoint" in cli.stderr and "Traceback" not in cli.stderr
    assert not (tmp_path / "z").exists()


@pytest.mark.slow
def test_weight_matrices_of_the_ei_network(tmp_path: Path) -> None:
    res = spikebridge.run(
        spikebridge.load_model("ei_weight_matrix", ["simulation.duration=50"]), "nest", tmp_path / "ei", progress=False, figure=False
    )
    mats = weight_matrices(res, "E", "I")
    assert mats["W_EE"].shape == (100, 100) and mats["W_EI"].shape == (100, 25)
    assert mats["W_IE"].shape == (25, 100) and mats["W_II"].shape == (25, 25)
    # fixed in-degree: each E cell receives 10 E and 2 I inputs (rows are post-synaptic cells)
    assert np.all((mats["W_EE"] != 0).sum(axis=1) == 10) and np.all((mats["W_EI"] != 0).sum(axis=1) == 2)
    assert np.all(mats["W_EI"] <= 0) and mats["W_EE"].max() == pytest.approx(0.02, abs=0.003)
    np.testing.assert_array_equal(weight_matrix(res, "I", "E"), mats["W_EI"])
    for kind in ("matrix", "hist", "evolution"):
        cli = subprocess.run(
            [sys.executable, "-m", "spikebridge.cli", "plot", "weights", str(res.path), "--kind", kind], capture_output=True, text=True
        )
        assert cli.returncode == 0, cli.stderr
        assert (res.path / "figures" / f"weights_{kind}.png").stat().st_size > 10_000
        assert (res.path / "figures" / f"weights_{kind}.pdf").is_file()


@pytest.fixture(scope="module", params=["brian2", pytest.param("brian2:cpp", marks=pytest.mark.compile)])
def trained_brian2(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> spikebridge.Results:
    out = tmp_path_factory.mktemp("b2") / request.param.replace(":", "-")
    return spikebridge.run(stdp_model(), request.param, out, progress=False, figure=False)


def test_brian2_snapshots_reload_and_match_nest(trained_brian2: spikebridge.Results, trained: spikebridge.Results) -> None:
    table = spikebridge.load(trained_brian2.path).weights("ff")
    times = sorted(set(table.columns.get_level_values("t").astype(float)))
    assert times == [100.0 * k for k in range(11)]
    w = {t: table[(t, "w")].to_numpy() for t in times}
    # Brian2 holds weights in siemens: the uS -> S -> uS round trip may move the last bit
    np.testing.assert_allclose(w[0.0], trained_brian2.network["prj/ff/weight"], rtol=ULP, atol=0)
    np.testing.assert_array_equal(w[1000.0], w[500.0])  # frozen test phase
    np.testing.assert_array_equal(w[1000.0], trained_brian2.connections("ff").weight)
    # Same network and input, NEST's STDP meaning; the post cells integrate differently (Euler here, RKF45 in
    # NEST), so post spikes drift by a few steps and learning agrees only statistically (measured r = 0.70).
    # Exact agreement is tested where dynamics allow it: tests/validation/test_stdp_window.py.
    w0 = trained.network["prj/ff/weight"]
    nest_change = trained.weights("ff", t=500.0)[(500.0, "w")].to_numpy() - w0
    assert np.corrcoef(w[500.0] - w0, nest_change)[0, 1] > 0.5


@pytest.mark.parametrize(("source", "target"), [("nest", "brian2"), ("brian2", "nest")])
def test_restore_into_the_other_backend(source: str, target: str, trained: spikebridge.Results, tmp_path: Path) -> None:
    from spikebridge import backends
    from spikebridge.models import instantiate
    from spikebridge.rundir.checkpoint import restore

    checkpoint = trained if source == "nest" else spikebridge.run(stdp_model(), source, tmp_path / "src", progress=False, figure=False)
    sim = backends.create(target)
    sim.build(restore(instantiate(checkpoint.model), checkpoint))
    try:
        got = sim.connections("ff")
    finally:
        sim.end()
    saved = checkpoint.connections("ff")
    np.testing.assert_array_equal(got.pre, saved.pre)
    np.testing.assert_allclose(got.weight, saved.weight, rtol=ULP, atol=0)
    np.testing.assert_allclose(got.delay, saved.delay, rtol=ULP, atol=0)  # NEST reports steps x dt


@pytest.mark.slow
@pytest.mark.compile
def test_stdp_bimodal_splits_the_weights_to_their_bounds(tmp_path: Path) -> None:
    """Song et al.'s competition: after 2000 s at least 80 % of the weights lie within 10 % of a bound.

    On brian2:cpp (about 15 s of simulation); NEST needs about 12 minutes for the same 2000 s (its adaptive
    RKF45 integration of the single post cell dominates), so it is measured in the model's description instead.
    """
    from spikebridge.analysis.weights import bimodality

    model = spikebridge.load_model("stdp_bimodal", ["simulation.duration=2000000", "record_weights.interval=1000000"])
    res = spikebridge.run(model, "brian2:cpp", tmp_path / "song", progress=False, figure=False)
    w = res.weights("input_post").xs("w", axis=1, level="var")
    start, end = (bimodality(w[t].to_numpy(), 0.0, 2e-4) for t in (0.0, 2000000.0))
    assert start["frac_bounds"] < 0.3
    assert end["frac_bounds"] >= 0.8, end
    assert end["frac_low"] > 0.3 and end["frac_high"] > 0.3  # both bounds, not one
    assert end["coef"] > 5 / 9
