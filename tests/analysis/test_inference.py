"""Tests of spikebridge.analysis.inference on synthetic networks with known weights.

The networks are simulated in numpy (spikebridge.analysis.synthetic): 100 LIF
inputs -> 10 LIF outputs, 200 Hz Poisson sources of which a random 20 % is
active in every 100 ms window, dt 0.25 ms, 30 s.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import neo
import numpy as np
import pandas as pd
import pytest
import quantities as pq
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from spikebridge.analysis import inference as inf
from spikebridge.analysis.synthetic import SyntheticNetwork, simulate_lif_network

T_STOP = 30_000.0  # ms
METHODS = ("akrout", "stdwi", "rdd")


def run_method(method: str, net: SyntheticNetwork, **kwargs: object) -> xr.DataArray:
    if method == "akrout":
        return inf.akrout(net.pre, net.post, net.t_stop, **kwargs)
    if method == "stdwi":
        return inf.stdwi(net.pre, net.post, net.t_stop, dt=net.dt, **kwargs)
    return inf.rdd(net.pre, net.post, net.v_pre, net.t_stop, v_thresh=net.v_thresh,
                   v_reset=net.v_reset, dt=net.dt, tau_m=net.tau_m, **kwargs)


@pytest.fixture(scope="module")
def net() -> SyntheticNetwork:
    """Reference-style network: mixed-sign weights with a positive mean."""
    return simulate_lif_network(t_stop=T_STOP, seed=3)


@pytest.fixture(scope="module")
def w_ternary() -> np.ndarray:
    """A third each of uncoupled (0), strong excitatory (+50) and strong inhibitory (-50) pairs, mV*ms."""
    return 50.0 * np.random.default_rng(5).choice([-1.0, 0.0, 1.0], size=(10, 100))


@pytest.fixture(scope="module")
def nets_flipped(w_ternary: np.ndarray) -> tuple[SyntheticNetwork, SyntheticNetwork]:
    """The same stimulation through w_ternary and through -w_ternary (zero-mean, so a bias keeps outputs firing)."""
    return tuple(  # type: ignore[return-value]
        simulate_lif_network(t_stop=T_STOP, w_true=sign * w_ternary, post_bias=10.0, seed=7)
        for sign in (1.0, -1.0)
    )


# ---------------------------------------------------------------------------
# the methods recover known weights
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_estimate_correlates_with_true_weights(net: SyntheticNetwork, method: str) -> None:
    est = run_method(method, net)
    final = est.isel(time=-1)
    assert inf.pearson(final, net.w_true) > 0.6
    assert inf.sign_alignment(final, net.w_true) > 0.65
    # The estimate improves with data: the last check point beats the first tenth.
    r = inf.pearson(est.values, net.w_true)
    assert r[-1] > r[len(r) // 10]


@pytest.mark.parametrize("method", METHODS)
def test_strong_pairs_ranked_beyond_uncoupled(nets_flipped: tuple[SyntheticNetwork, SyntheticNetwork],
                                              w_ternary: np.ndarray, method: str) -> None:
    final = run_method(method, nets_flipped[0]).isel(time=-1).values
    uncoupled = final[w_ternary == 0]
    excitatory = final[w_ternary > 0]
    inhibitory = final[w_ternary < 0]
    # Area under the ROC curve: P(strong excitatory estimate > uncoupled estimate), etc.
    assert (excitatory[:, None] > uncoupled[None, :]).mean() > 0.75
    assert (inhibitory[:, None] < uncoupled[None, :]).mean() > 0.7


@pytest.mark.parametrize("method", METHODS)
def test_flipping_the_weights_flips_the_estimate(nets_flipped: tuple[SyntheticNetwork, SyntheticNetwork],
                                                 w_ternary: np.ndarray, method: str) -> None:
    original, flipped = (run_method(method, n).isel(time=-1) for n in nets_flipped)
    assert inf.pearson(original, w_ternary) > 0.6
    assert inf.pearson(flipped, w_ternary) < -0.6
    assert inf.pearson(original, flipped) < -0.4


def test_rdd_accepts_a_drive_without_resets(net: SyntheticNetwork) -> None:
    # Add the resets back independently of the library: with exact exponential
    # integration each spike's reset decays by exp(-dt / tau_m) per step.
    from scipy.signal import lfilter

    n_steps = net.v_pre.shape[0]
    spikes = np.zeros((n_steps, len(net.pre)))
    for i, t in enumerate(net.pre):
        spikes[np.round(t / net.dt).astype(int), i] = 1.0
    a = np.exp(-net.dt / net.tau_m)
    drive = net.v_pre + lfilter([net.v_thresh - net.v_reset], [1.0, -a], spikes, axis=0)
    est = inf.rdd(net.pre, net.post, drive, net.t_stop, v_thresh=net.v_thresh, v_reset=net.v_reset,
                  dt=net.dt, tau_m=None)
    assert inf.pearson(est.isel(time=-1), net.w_true) > 0.6


def test_rdd_plain_least_squares_runs_and_reports_parameters(net: SyntheticNetwork) -> None:
    est = run_method("rdd", net, ridge=0.0, max_drive=5.0)
    assert np.isfinite(est.values).all()
    params = json.loads(est.attrs["parameters"])
    assert params["ridge"] == 0.0 and params["max_drive"] == 5.0 and params["alpha"] == 0.025


# ---------------------------------------------------------------------------
# exact update rules on hand-computed cases
# ---------------------------------------------------------------------------


def test_stdwi_matches_hand_computed_traces() -> None:
    pre = [np.array([1.0, 3.0, 5.0]), np.array([4.0])]
    post = [np.array([5.0, 8.0])]
    eta, decay, tf, ts = 0.5, 0.2, 2.0, 4.0
    est = inf.stdwi(pre, post, 10.0, dt=0.25, tau_fast=tf, tau_slow=ts, eta=eta, decay=decay, check_every=6.0)

    def diff(t: float, spikes: np.ndarray) -> float:
        s = spikes[spikes < t - 0.125]  # spikes in the same dt step as t are excluded
        return float(np.sum(np.exp(-(t - s) / tf)) / tf - np.sum(np.exp(-(t - s) / ts)) / ts)

    w = np.zeros(2)
    expected = []
    for t in (5.0, 8.0):
        w = w + eta * (np.array([diff(t, p) for p in pre]) - decay * w)
        expected.append(w.copy())
    assert est["time"].values.tolist() == [6.0, 10.0]
    np.testing.assert_allclose(est.values[0, 0], expected[0], rtol=1e-12)
    np.testing.assert_allclose(est.values[1, 0], expected[1], rtol=1e-12)


def test_akrout_matches_hand_computed_update() -> None:
    # Two 10 ms windows in one batch: pre counts (2, 0), post counts (1, 0).
    pre = [np.array([1.0, 2.0])]
    post = [np.array([3.0])]
    est = inf.akrout(pre, post, 20.0, window=10.0, batch=2, eta=0.5, decay=0.4, check_every=10.0)
    # Centred: x = (1, -1), y = (0.5, -0.5); rho = 1 - 0.5 * 0.4 = 0.8.
    # B1 = 0.5 * 0.5 * 1 = 0.25; B2 = 0.8 * 0.25 + 0.5 * (-0.5) * (-1) = 0.45.
    np.testing.assert_allclose(est.values[:, 0, 0], [0.25, 0.45])
    np.testing.assert_allclose(est["time"].values, [10.0, 20.0])


def test_akrout_ignores_an_incomplete_last_window() -> None:
    pre = [np.array([1.0, 2.0, 25.0])]
    post = [np.array([3.0, 26.0])]
    est = inf.akrout(pre, post, 29.0, window=10.0, batch=2, eta=0.5, decay=0.4, check_every=10.0)
    np.testing.assert_allclose(est.values[:, 0, 0], [0.25, 0.45])


# ---------------------------------------------------------------------------
# output format and inputs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_output_is_a_labelled_data_array(net: SyntheticNetwork, method: str) -> None:
    est = run_method(method, net, check_every=5000.0)
    assert est.dims == ("time", "post", "pre")
    assert est.shape == (6, 10, 100)
    np.testing.assert_allclose(est["time"].values, np.arange(1, 7) * 5000.0)
    assert est["time"].attrs["units"] == "ms"
    assert est.attrs["method"] == method and est.attrs["units"]
    assert json.loads(est.attrs["parameters"])["check_every"] == 5000.0


@pytest.mark.parametrize("method", METHODS)
def test_neo_spike_trains_in_seconds_give_the_same_estimate(net: SyntheticNetwork, method: str) -> None:
    def to_neo(trains: list[np.ndarray]) -> list[neo.SpikeTrain]:
        return [neo.SpikeTrain(t / 1000.0 * pq.s, t_stop=net.t_stop / 1000.0 * pq.s) for t in trains]

    as_neo = net._replace(pre=to_neo(net.pre), post=to_neo(net.post))
    np.testing.assert_allclose(run_method(method, as_neo).values, run_method(method, net).values,
                               rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------
# unit checks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_step_indices_are_refused(net: SyntheticNetwork, method: str) -> None:
    as_int = [np.round(t / net.dt).astype(np.int64) for t in net.pre]
    with pytest.raises(ValueError, match="integer dtype"):
        run_method(method, net._replace(pre=as_int))
    as_float_steps = [t / net.dt for t in net.post]
    with pytest.raises(inf.InferenceInputError, match="after t_stop"):
        run_method(method, net._replace(post=as_float_steps))


def test_negative_and_nan_spike_times_are_refused(net: SyntheticNetwork) -> None:
    with pytest.raises(ValueError, match="negative"):
        inf.stdwi([np.array([-1.0, 2.0])], net.post, net.t_stop, dt=net.dt)
    with pytest.raises(ValueError, match="NaN"):
        inf.akrout([np.array([np.nan])], net.post, net.t_stop)


def test_spike_times_in_seconds_warn(net: SyntheticNetwork) -> None:
    in_seconds = [t / 1000.0 for t in net.pre]
    with pytest.warns(UserWarning, match="seconds"):
        inf.akrout(in_seconds, net.post, net.t_stop)


def test_inconsistent_dt_and_t_stop_are_refused(net: SyntheticNetwork) -> None:
    with pytest.raises(ValueError, match="multiple of dt"):
        inf.stdwi(net.pre, net.post, net.t_stop, dt=0.7)
    with pytest.raises(ValueError, match="smaller than t_stop"):
        inf.stdwi([np.empty(0)], [np.empty(0)], 1.0, dt=2.0)
    with pytest.raises(ValueError, match="samples"):  # v_pre is 30 s long, t_stop says 20 s
        inf.rdd([t[t < 20_000] for t in net.pre], [t[t < 20_000] for t in net.post], net.v_pre, 20_000.0,
                v_thresh=net.v_thresh, v_reset=net.v_reset, dt=net.dt, tau_m=net.tau_m)
    with pytest.raises(ValueError, match="samples"):  # dt in seconds
        run_method("rdd", net._replace(dt=net.dt / 1000.0))
    with pytest.raises(ValueError, match="multiple of window"):
        inf.akrout(net.pre, net.post, net.t_stop, window=100.0, check_every=150.0)
    with pytest.raises(ValueError, match="positive number of ms"):
        inf.akrout(net.pre, net.post, -5.0)


def test_t_stop_as_a_quantity(net: SyntheticNetwork) -> None:
    est = inf.akrout(net.pre, net.post, net.t_stop / 1000.0 * pq.s)
    np.testing.assert_allclose(est.values, inf.akrout(net.pre, net.post, net.t_stop).values)
    with pytest.raises(ValueError, match="must be a time"):
        inf.akrout(net.pre, net.post, 3.0 * pq.mV)


def test_rdd_refuses_membrane_in_volts(net: SyntheticNetwork) -> None:
    with pytest.raises(ValueError, match="mV"):
        inf.rdd(net.pre, net.post, net.v_pre / 1000.0, net.t_stop, v_thresh=net.v_thresh, v_reset=net.v_reset,
                dt=net.dt, tau_m=net.tau_m)
    with pytest.raises(ValueError, match="above v_reset"):
        run_method("rdd", net._replace(v_reset=net.v_thresh + 1.0))


def test_rdd_warns_when_no_input_nears_threshold(net: SyntheticNetwork) -> None:
    with pytest.warns(UserWarning, match="no input neuron"):
        est = inf.rdd(net.pre, net.post, net.v_pre, net.t_stop, v_thresh=100.0, v_reset=90.0,
                      dt=net.dt, tau_m=None)
    assert not est.values.any()


def test_a_single_array_is_not_a_list_of_trains() -> None:
    with pytest.raises(ValueError, match="sequence of spike trains"):
        inf.akrout(np.array([1.0, 2.0]), [np.array([1.0])], 100.0)


# ---------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------


def test_pearson_and_sign_alignment_hand_cases() -> None:
    w = np.array([[1.0, -2.0], [0.5, 3.0]])
    assert inf.pearson(w, w) == pytest.approx(1.0)
    assert inf.pearson(-w, w) == pytest.approx(-1.0)
    assert inf.sign_alignment(w, w) == 1.0
    assert inf.sign_alignment(-w, w) == 0.0
    # x = (1, 2, 3, 4), y = (1, 3, 2, 4): sum dx dy = 4, sum dx^2 = sum dy^2 = 5, r = 0.8.
    assert inf.pearson(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 3.0], [2.0, 4.0]])) == pytest.approx(0.8)
    # Same signs at (0, 0) and (0, 1) only.
    assert inf.sign_alignment(np.array([[1.0, -2.0], [0.5, -0.1]]), np.array([[2.0, -1.0], [-3.0, 0.4]])) == 0.5
    # An untrained (zero) estimate aligns with no nonzero weight, and has no correlation.
    assert inf.sign_alignment(np.zeros((2, 2)), w) == 0.0
    assert np.isnan(inf.pearson(np.zeros((2, 2)), w))


def test_metrics_on_a_stack_give_one_value_per_time() -> None:
    w = np.array([[1.0, -2.0], [0.5, 3.0]])
    stack = np.stack([w, -w, 2 * w])
    np.testing.assert_allclose(inf.pearson(stack, w), [1.0, -1.0, 1.0])
    np.testing.assert_allclose(inf.sign_alignment(stack, w), [1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        inf.pearson(np.zeros((3, 2)), w)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.01, 100.0), st.floats(-100.0, 100.0))
def test_pearson_is_invariant_to_positive_affine_maps(seed: int, scale: float, shift: float) -> None:
    rng = np.random.default_rng(seed)
    w, est = rng.normal(size=(2, 4, 6))
    assert inf.pearson(scale * est + shift, w) == pytest.approx(inf.pearson(est, w), abs=1e-9)
    assert inf.sign_alignment(scale * est, w) == inf.sign_alignment(est, w)


def test_score_is_a_tidy_table(net: SyntheticNetwork) -> None:
    ests = [run_method(m, net, check_every=10_000.0) for m in METHODS]
    table = inf.score(ests, net.w_true)
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["method", "time", "pearson", "sign_alignment"]
    assert table["method"].tolist() == [m for m in METHODS for _ in range(3)]
    assert table["time"].tolist() == [10_000.0, 20_000.0, 30_000.0] * 3
    for est in ests:
        rows = table[table["method"] == est.attrs["method"]]
        np.testing.assert_allclose(rows["pearson"], inf.pearson(est.values, net.w_true))
        np.testing.assert_allclose(rows["sign_alignment"], inf.sign_alignment(est.values, net.w_true))
    single = inf.score(ests[0], net.w_true)
    assert len(single) == 3


# ---------------------------------------------------------------------------
# perturbations
# ---------------------------------------------------------------------------


@pytest.fixture
def trains() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [np.sort(rng.uniform(0.0, 1000.0, n)) for n in (0, 1, 7, 100, 333)]


def test_delete_spikes_removes_the_right_number(trains: list[np.ndarray]) -> None:
    out = inf.delete_spikes(trains, 0.2, rng=1)
    assert [t.size for t in out] == [t.size - round(0.2 * t.size) for t in trains]
    for before, after in zip(trains, out, strict=True):
        assert np.isin(after, before).all()
        assert np.all(np.diff(after) >= 0)
    assert [t.size for t in inf.delete_spikes(trains, 1.0, rng=1)] == [0] * len(trains)
    for before, after in zip(trains, inf.delete_spikes(trains, 0.0, rng=1), strict=True):
        np.testing.assert_array_equal(before, after)


def test_insert_spikes_adds_uniform_spikes_within_t_stop(trains: list[np.ndarray]) -> None:
    out = inf.insert_spikes(trains, 0.5, t_stop=1000.0, rng=2)
    assert [t.size for t in out] == [t.size + round(0.5 * t.size) for t in trains]
    for before, after in zip(trains, out, strict=True):
        assert np.isin(before, after).all()
        assert after.min(initial=0.0) >= 0.0 and after.max(initial=0.0) < 1000.0
        assert np.all(np.diff(after) >= 0)
    # Inserted spikes spread over the whole interval.
    many = inf.insert_spikes([np.zeros(1)], 4000.0, t_stop=1000.0, rng=3)[0][1:]
    assert np.histogram(many, bins=4, range=(0.0, 1000.0))[0].min() > 850


def test_jitter_preserves_counts_and_bounds(trains: list[np.ndarray]) -> None:
    out = inf.jitter_spikes(trains, sd=5.0, rng=3, t_stop=1000.0)
    assert [t.size for t in out] == [t.size for t in trains]
    for after in out:
        assert after.min(initial=0.0) >= 0.0 and after.max(initial=0.0) < 1000.0
        assert np.all(np.diff(after) >= 0)
    # Spikes 50 ms apart keep their order under 2 ms jitter: the shifts have sd 2 ms.
    spaced = np.arange(100.0, 100_000.0, 50.0)
    shift = inf.jitter_spikes([spaced], sd=2.0, rng=3)[0] - spaced
    assert 1.85 < np.std(shift) < 2.15 and abs(np.mean(shift)) < 0.15
    for before, after in zip(trains, inf.jitter_spikes(trains, sd=0.0, rng=3), strict=True):
        np.testing.assert_array_equal(before, after)


def test_perturb_keeps_counts_and_replaces_the_fraction(trains: list[np.ndarray]) -> None:
    out = inf.perturb(trains, 0.1, rng=4, t_stop=1000.0)
    assert [t.size for t in out] == [t.size for t in trains]
    big_before, big_after = trains[-1], out[-1]
    kept = np.isin(big_after, big_before).sum()
    assert kept == big_before.size - round(0.1 * big_before.size)
    for before, after in zip(trains, inf.perturb(trains, 0.0, rng=4, t_stop=1000.0), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize(
    "apply",
    [
        lambda t, r: inf.delete_spikes(t, 0.3, r),
        lambda t, r: inf.insert_spikes(t, 0.3, 1000.0, r),
        lambda t, r: inf.jitter_spikes(t, 2.0, r, t_stop=1000.0),
        lambda t, r: inf.perturb(t, 0.3, r, 1000.0),
    ],
    ids=["delete", "insert", "jitter", "perturb"],
)
def test_perturbations_are_seeded(trains: list[np.ndarray],
                                  apply: Callable[[list[np.ndarray], inf.Seed], list[np.ndarray]]) -> None:
    first = apply(trains, 11)
    again = apply(trains, np.random.default_rng(11))
    other = apply(trains, 12)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(a.size != b.size or not np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_perturbations_accept_neo_and_check_arguments(trains: list[np.ndarray]) -> None:
    as_neo = [neo.SpikeTrain(t * pq.ms, t_stop=1.0 * pq.s) for t in trains]
    for a, b in zip(inf.delete_spikes(as_neo, 0.3, 5), inf.delete_spikes(trains, 0.3, 5), strict=True):
        np.testing.assert_allclose(a, b)
    with pytest.raises(ValueError):
        inf.delete_spikes(trains, 1.5, 0)
    with pytest.raises(ValueError):
        inf.insert_spikes(trains, -0.1, 1000.0, 0)
    with pytest.raises(ValueError):
        inf.jitter_spikes(trains, -1.0, 0)
    with pytest.raises(ValueError, match="integer dtype"):
        inf.delete_spikes([np.arange(5)], 0.2, 0)


def test_estimates_degrade_gracefully_under_noise(net: SyntheticNetwork) -> None:
    rng = np.random.default_rng(9)
    noisy = net._replace(pre=inf.perturb(net.pre, 0.2, rng, net.t_stop),
                         post=inf.perturb(net.post, 0.2, rng, net.t_stop))
    clean = inf.pearson(run_method("stdwi", net).isel(time=-1), net.w_true)
    degraded = inf.pearson(run_method("stdwi", noisy).isel(time=-1), net.w_true)
    assert 0.2 < degraded < clean
