"""Scaling a model (``scale``), the ``fixed_total_number`` rule, and the bundled microcircuit against the paper."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from spikebridge.errors import ModelError
from spikebridge.models import connectors, instantiate, load_model, validate
from spikebridge.models.random import stream

from .test_schema_errors import BASE

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
import _microcircuit as paper  # noqa: E402


@pytest.mark.parametrize("allow_self", [True, False])
@pytest.mark.parametrize(("n_pre", "n_post"), [(7, 7), (9, 4), (4, 9), (1, 5)])
def test_fixed_total_number_without_multapses_draws_distinct_pairs(n_pre: int, n_post: int, allow_self: bool) -> None:
    available = n_pre * n_post - (0 if allow_self else min(n_pre, n_post))
    pre, post = connectors.fixed_total_number(n_pre, n_post, available, allow_self, False, stream(1, "t"), "x")
    pairs = set(zip(pre.tolist(), post.tolist()))
    assert len(pairs) == len(pre) == available
    assert allow_self or not any(i == j for i, j in pairs)
    assert max(pre) < n_pre and max(post) < n_post
    with pytest.raises(ModelError, match="cannot choose"):
        connectors.fixed_total_number(n_pre, n_post, available + 1, allow_self, False, stream(1, "t"), "x")


def test_fixed_total_number_with_multapses_is_uniform_and_exact() -> None:
    pre, post = connectors.fixed_total_number(300, 200, 60_000, False, True, stream(2, "t"), "x")
    assert len(pre) == 60_000 and not np.any(pre == post)
    # every pre and every post cell equally likely: chi-square against uniform counts
    assert stats.chisquare(np.bincount(pre, minlength=300)).pvalue > 1e-4
    assert stats.chisquare(np.bincount(post, minlength=200)).pvalue > 1e-4


@pytest.mark.parametrize("allow_self", [True, False])
def test_fixed_total_number_with_multapses_draws_pairs_in_order_as_independent_uniform_draws(allow_self: bool) -> None:
    n_pre, n_post, n = 7, 5, 70_000
    pre, post = connectors.fixed_total_number(n_pre, n_post, n, allow_self, True, stream(3, "t"), "x")
    key = pre * n_post + post
    assert len(key) == n and (np.diff(key) >= 0).all()
    allowed = np.ones((n_pre, n_post), bool)
    if not allow_self:
        allowed[np.arange(n_post), np.arange(n_post)] = False
    counts = np.bincount(key, minlength=n_pre * n_post).reshape(n_pre, n_post)
    assert not counts[~allowed].any()
    # multinomial counts over the allowed pairs: too even a spread (a stratified draw) fails as surely as a skewed one
    p = stats.chisquare(counts[allowed]).pvalue
    assert 1e-4 < p < 1 - 1e-4


def test_sorted_uniform_has_the_spread_of_sorted_independent_draws() -> None:
    rng = np.random.default_rng(5)
    ours = np.array([connectors.sorted_uniform(1000, 200, rng) for _ in range(300)])
    theirs = np.sort(rng.integers(0, 1000, size=(300, 200)), axis=1)
    for rank in (0, 50, 100, 199):  # each order statistic has the same distribution
        assert stats.ks_2samp(ours[:, rank], theirs[:, rank]).pvalue > 1e-4


def test_scale_keeps_expected_in_degrees() -> None:
    raw = copy.deepcopy(BASE)
    raw["populations"]["exc"]["size"] = 400
    raw["projections"]["exc_exc"]["connector"] = {"rule": "fixed_probability", "p": 0.05}
    raw["projections"]["total"] = {
        "pre": "exc",
        "post": "exc",
        "connector": {"rule": "fixed_total_number", "n": 4000, "allow_multapses": True},
        "weight": 0.001,
    }
    full = validate(raw)
    half = validate({**raw, "scale": 0.5})
    assert half.scale == 1.0 and half.populations["exc"].size == 200
    assert half.projections["exc_exc"].connector.p == pytest.approx(0.1)
    assert half.projections["total"].connector.n == 2000
    for prj in ("exc_exc", "total"):
        a, b = instantiate(full).projections[prj], instantiate(half).projections[prj]
        assert len(b) / 200 == pytest.approx(len(a) / 400, rel=0.1)  # inputs per post cell kept
    assert validate(half.model_dump()) == half  # a resolved model is not scaled again


def test_scale_refuses_what_cannot_keep_its_in_degree() -> None:
    raw = copy.deepcopy(BASE)
    raw["projections"]["exc_exc"]["connector"] = {"rule": "all_to_all"}  # from a scaled population
    with pytest.raises(ModelError, match=r"projections\.exc_exc\.connector: rule 'all_to_all' cannot keep its in-degrees at scale 0.5"):
        validate({**raw, "scale": 0.5})
    raw["projections"]["exc_exc"]["connector"] = {"rule": "fixed_probability", "p": 0.6}
    with pytest.raises(ModelError, match=r"projections\.exc_exc\.connector\.p: scale 0.5 would need a probability of 1.2"):
        validate({**raw, "scale": 0.5})


def test_microcircuit_is_the_published_network() -> None:
    scale = 0.05
    model = load_model("microcircuit", [f"scale={scale}"])
    dc = load_model("microcircuit_dc", [f"scale={scale}"])
    n, k = paper.scaled(scale)
    assert [model.populations[p].size for p in paper.POPULATIONS] == n.tolist()
    w = paper.weight_means() / 1000.0
    for t, target in enumerate(paper.POPULATIONS):
        # Poisson background of K_ext inputs at 8 Hz, or its mean current as i_offset
        background = model.stimuli[f"background_{target}"]
        assert (background.n, background.rate) == (paper.K_EXT[t], paper.BG_RATE)
        assert background.weight == pytest.approx(paper.W_E / 1000, rel=1e-5)
        assert model.populations[target].parameters["i_offset"].value == 0.0
        assert dc.populations[target].parameters["i_offset"].value == pytest.approx(paper.dc_background()[t], rel=1e-5)
        assert not dc.stimuli and dc.projections == model.projections
        for s, source in enumerate(paper.POPULATIONS):
            name = f"{source}_{target}"
            if k[t, s] == 0:
                assert name not in model.projections
                continue
            prj = model.projections[name]
            assert prj.connector.rule == "fixed_total_number" and prj.connector.n == k[t, s]
            assert prj.weight.mean == pytest.approx(w[t, s], rel=1e-5)
    # the paper's numbers themselves: 0.15 mV PSPs are 87.8 pA, and about 0.3 billion synapses at full scale
    assert paper.W_E == pytest.approx(87.81, abs=0.01)
    assert paper.synapse_numbers().sum() == pytest.approx(2.99e8, rel=0.01)
    net = instantiate(model)
    ee = net.projections["L4E_L23E"]
    assert ee.weight.mean() == pytest.approx(2 * 87.81e-3, rel=0.01) and ee.weight.min() >= 0
    ii = net.projections["L23I_L23I"]
    assert ii.weight.max() <= 0 and ii.delay.min() >= 0.1 and np.mean(ii.delay) == pytest.approx(0.78, abs=0.05)
