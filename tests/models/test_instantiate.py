"""instantiate(): every random draw once, in numpy, from the seed; byte-identical for the same model and seed."""

from __future__ import annotations

import copy
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from spikebridge.errors import ModelError, ModelWarning
from spikebridge.models import bundled_models, connectors, instantiate, load_model, validate
from spikebridge.models.random import stream

from .test_schema_errors import BASE


def model(**patch: Any) -> Any:
    raw = copy.deepcopy(BASE)
    for key, value in patch.items():
        node = raw
        parts = key.split("__")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return validate(raw)


def test_same_seed_same_bytes_different_seed_differs() -> None:
    m = load_model("vogels_abbott_coba")
    a, b = instantiate(m), instantiate(m)
    assert a.digest() == b.digest()
    for name, arr in a.arrays().items():
        assert arr.tobytes() == b.arrays()[name].tobytes(), name
    other = instantiate(load_model("vogels_abbott_coba", ["simulation.seed=7"]))
    assert other.digest() != a.digest()


def test_digest_is_identical_in_a_fresh_process() -> None:
    code = "from spikebridge.models import load_model, instantiate; print(instantiate(load_model('stdp_bimodal')).digest())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == instantiate(load_model("stdp_bimodal")).digest()


def test_projections_drawn_on_threads_are_the_projections_drawn_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Projections are drawn in parallel above ``PARALLEL_FROM`` synapses: the same bytes, the same notes in the
    model's order, and the first failing projection in the model's order is the one reported."""
    import importlib

    inst = importlib.import_module("spikebridge.models.instantiate")

    m = load_model("vogels_abbott_coba", ["projections.exc_exc.delay=1.05"])  # an off-grid delay: a rounding note
    monkeypatch.setattr(inst.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    with warnings.catch_warnings(record=True) as one_by_one:
        warnings.simplefilter("always")
        monkeypatch.setattr(inst, "PARALLEL_FROM", float("inf"))
        a = instantiate(m)
    with warnings.catch_warnings(record=True) as threaded:
        warnings.simplefilter("always")
        monkeypatch.setattr(inst, "PARALLEL_FROM", 0.0)
        b = instantiate(m)
    assert a.digest() == b.digest()
    assert [str(w.message) for w in one_by_one] == [str(w.message) for w in threaded]
    assert any("projections.exc_exc.delay" in str(w.message) for w in threaded)
    bad = copy.deepcopy(BASE)
    negative = {"distribution": "normal", "mean": -1.0, "sd": 0.1}  # negative conductances onto IF_cond_exp
    bad["projections"]["exc_exc"]["weight"] = negative
    bad["projections"]["zzz"] = {"pre": "exc", "post": "exc", "connector": {"rule": "all_to_all"}, "weight": negative}
    invalid = validate(bad)
    with pytest.raises(ModelError, match=r"^projections\.exc_exc\.weight.*negative conductances"):
        instantiate(invalid)


def test_streams_are_independent_of_other_items() -> None:
    m = model()
    extra = copy.deepcopy(BASE)
    extra["projections"]["aaa_first"] = {"pre": "src", "post": "exc", "connector": {"rule": "fixed_probability", "p": 0.5}, "weight": 0.001}
    a, b = instantiate(m), instantiate(validate(extra))
    for field in ("pre_idx", "post_idx", "weight"):
        np.testing.assert_array_equal(getattr(a.projections["exc_exc"], field), getattr(b.projections["exc_exc"], field))


@pytest.mark.parametrize("name", sorted(bundled_models()))
def test_bundled_models_instantiate(name: str) -> None:
    net = instantiate(load_model(name, ["scale=0.02"] if name.startswith("microcircuit") else []))
    assert net.n_cells > 0 and net.n_synapses > 0
    for prj in net.projections.values():
        assert len(prj.pre_idx) == len(prj.post_idx) == len(prj.weight) == len(prj.delay)
        assert prj.pre_idx.dtype == np.int64 and prj.weight.dtype == np.float64


def test_vogels_abbott_sizes_and_probability() -> None:
    net = instantiate(load_model("vogels_abbott_coba"))
    assert net.populations["exc"].size == 3200 and net.populations["inh"].size == 800
    ee = net.projections["exc_exc"]
    assert not np.any(ee.pre_idx == ee.post_idx)
    expected = 0.02 * 3200 * 3199
    assert abs(len(ee) - expected) < 5 * np.sqrt(expected)
    assert np.allclose(ee.weight, 0.004) and np.allclose(ee.delay, 0.2)


def test_fixed_indegree_exact_counts_without_self_or_multapses() -> None:
    pre, post = connectors.fixed_indegree(50, 40, 7, False, False, stream(1, "t"), "x")
    assert np.all(np.bincount(post, minlength=40) == 7)
    pairs = set(zip(pre.tolist(), post.tolist()))
    assert len(pairs) == len(pre)
    assert not any(i == j for i, j in pairs)


def test_fixed_outdegree_counts() -> None:
    pre, post = connectors.fixed_outdegree(30, 60, 5, True, False, stream(2, "t"), "x")
    assert np.all(np.bincount(pre, minlength=30) == 5)


def test_fixed_probability_is_binomial() -> None:
    pre, post = connectors.fixed_probability(200, 300, 0.1, True, stream(3, "t"))
    n = 200 * 300
    assert stats.binomtest(len(pre), n, 0.1).pvalue > 1e-4
    assert len(set(zip(pre.tolist(), post.tolist()))) == len(pre)
    # post-synaptic targets are uniform
    counts = np.bincount(post, minlength=300)
    assert stats.chisquare(counts).pvalue > 1e-4


def test_fixed_probability_is_bernoulli_per_pair_where_few_are_drawn() -> None:
    """Where n * p is small, the gap drawn past the end must not land on the last pair."""
    draws = [connectors.fixed_probability(1, 10, 0.02, True, stream(seed, "few"))[1] for seed in range(3000)]
    counts = np.bincount(np.concatenate(draws), minlength=10)
    assert stats.binomtest(int(counts.sum()), 30000, 0.02).pvalue > 1e-4
    assert stats.binomtest(int(counts[-1]), 3000, 0.02).pvalue > 1e-4, "the last pair as often as any"


def test_distance_patch_respects_radius_on_rescaled_grids() -> None:
    pre, post = connectors.distance_patch([2, 8, 8], [4, 4], 1.0, 1.0, True, False, stream(4, "t"))
    pre_pos = connectors.grid_positions([2, 8, 8], (4, 4))
    post_pos = connectors.grid_positions([4, 4], (4, 4))
    d = np.linalg.norm(pre_pos[pre] - post_pos[post], axis=1)
    assert d.max() <= 1.0 + 1e-12
    # every pre cell within the radius is connected when p = 1
    all_d = np.linalg.norm(post_pos[:, None] - pre_pos[None], axis=2)
    assert len(pre) == int((all_d <= 1.0).sum())


def test_from_list_and_from_file(tmp_path: Path) -> None:
    rows = [[0, 1, 0.003, 2.0], [3, 2, 0.004, 1.0]]
    m = model(projections__exc_exc__connector={"rule": "from_list", "connections": rows})
    prj = instantiate(m).projections["exc_exc"]
    np.testing.assert_array_equal(prj.pre_idx, [0, 3])
    np.testing.assert_allclose(prj.weight, [0.003, 0.004])
    np.testing.assert_allclose(prj.delay, [2.0, 1.0])
    f = tmp_path / "conns.csv"
    f.write_text("# pre,post\n1,2\n4,5\n")
    m2 = model(projections__exc_exc__connector={"rule": "from_file", "file": str(f)})
    prj2 = instantiate(m2).projections["exc_exc"]
    np.testing.assert_array_equal(prj2.post_idx, [2, 5])


def test_bounds_are_respected_and_drawn_delays_rounded_to_the_grid_silently() -> None:
    m = model(projections__exc_exc__delay={"distribution": "uniform", "low": 0.1, "high": 3.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelWarning)  # a continuous distribution is always off the grid: no warning
        prj = instantiate(m).projections["exc_exc"]
    assert prj.weight.min() >= 0 and prj.weight.max() <= 0.01
    steps = prj.delay / 0.1
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)
    assert prj.delay.min() >= 0.1 - 1e-12


def test_poisson_inputs_are_on_grid_and_at_the_right_rate() -> None:
    m = model(populations__src__parameters={"rate": 50.0}, simulation__duration=2000.0)
    trains = instantiate(m).populations["src"].spike_times
    assert trains is not None and len(trains) == 10
    counts = np.array([len(t) for t in trains])
    assert stats.poisson.cdf(counts.sum(), 10 * 50 * 2.0) > 1e-4
    for t in trains:
        assert np.all(np.diff(t) > 0) and t.min() >= 0.2 - 1e-12 and t.max() < 2000.0
        np.testing.assert_allclose(t / 0.1, np.round(t / 0.1), atol=1e-6)


def test_heterogeneous_initial_values_are_drawn_per_cell() -> None:
    net = instantiate(load_model("vogels_abbott_coba"))
    v = net.populations["exc"].initial["v"]
    assert isinstance(v, np.ndarray) and v.shape == (3200,)
    assert -60.0 <= v.min() and v.max() <= -50.0 and v.std() > 2.0


def test_stimulus_windows_and_spike_arrays() -> None:
    raw = copy.deepcopy(BASE)
    raw["populations"]["arr"] = {"cell_type": "SpikeSourceArray", "size": 3}
    raw["stimuli"] = {
        "burst": {"kind": "poisson", "target": "arr", "windows": [{"start": 10.0, "stop": 20.0, "rate": 2000.0}]},
        "fixed": {"kind": "spike_array", "target": "arr", "cells": [1], "spike_times": [[50.0, 60.04]]},
        "dc": {"kind": "dc", "target": "exc", "amplitude": "0.5 nA", "start": 5.0, "stop": 50.0},
    }
    net = instantiate(validate(raw))
    trains = net.populations["arr"].spike_times
    assert trains is not None
    burst = [t[(t >= 10) & (t < 20)] for t in trains]
    assert all(len(b) > 5 for b in burst)
    assert 50.0 in trains[1] and 60.0 in np.round(trains[1], 6)
    cur = net.currents["dc"]
    np.testing.assert_allclose(cur.times, [5.0, 50.0])
    np.testing.assert_allclose(cur.amplitudes, [0.5, 0.0])


@settings(max_examples=25, deadline=None)
@given(n_pre=st.integers(1, 30), n_post=st.integers(1, 30), p=st.floats(0, 1), allow_self=st.booleans(), seed=st.integers(0, 2**31))
def test_fixed_probability_indices_in_range_and_unique(n_pre: int, n_post: int, p: float, allow_self: bool, seed: int) -> None:
    if not allow_self and n_post < 2:
        return
    pre, post = connectors.fixed_probability(n_pre, n_post, p, allow_self, stream(seed, "h"))
    assert pre.min(initial=0) >= 0 and pre.max(initial=0) < n_pre
    assert post.min(initial=0) >= 0 and post.max(initial=0) < n_post
    assert len(set(zip(pre.tolist(), post.tolist()))) == len(pre)
    if not allow_self:
        assert not np.any(pre == post)
