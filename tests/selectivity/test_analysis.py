"""Rates from spike records, the selectivity measure, traceback, and the records' save/reload round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from spikebridge.analysis.selectivity import infer_rates, mutual_information, selectivity, top_k
from spikebridge.analysis.traceback import image_sensitivities, sensitivities
from spikebridge.workflows.selectivity.records import SpikeRecord, load_records, records_array, save_records

LABELS = pd.DataFrame({"image_id": range(8), "left": [0, 1] * 4, "top": [0, 0, 0, 0, 1, 1, 1, 1]})


def test_mutual_information_known_values() -> None:
    assert mutual_information(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1])) == pytest.approx(1.0)
    assert mutual_information(np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1])) == pytest.approx(0.0)
    assert mutual_information(np.zeros(6), np.array([0, 1, 2, 0, 1, 2])) == pytest.approx(0.0)


def test_selective_neuron_scores_higher_than_random_ones() -> None:
    rng = np.random.default_rng(0)
    n_img, n_rep, n_nrn = 8, 4, 30
    rates = rng.gamma(2.0, 5.0, (n_img, n_rep, n_nrn))
    left = LABELS["left"].to_numpy()
    rates[:, :, 0] = np.where(left[:, None] == 1, 30.0, 2.0) + rng.normal(0, 1, (n_img, n_rep))  # fires for convex left
    da = xr.DataArray(rates, dims=("img", "rep", "nrn"), coords={"img": range(8), "rep": range(n_rep), "nrn": range(n_nrn)})
    scores = selectivity(da, LABELS, columns=("left", "top"), seed=1)
    assert scores.dims == ("nrn", "label")
    assert scores.sel(nrn=0, label="left") > 0.7
    assert float(scores.sel(label="left").isel(nrn=slice(1, None)).max()) < 0.5
    assert float(scores.sel(nrn=0, label="left")) > float(scores.sel(nrn=0, label="top")) + 0.5
    best = top_k(scores, 3)
    assert int(best["nrn"][0]) == 0 and len(best) == 3
    assert np.all(np.diff(best.values) <= 0)
    silent = da.copy(data=np.zeros_like(rates))
    assert float(abs(selectivity(silent, LABELS, columns=("left",))).max()) == 0.0


def test_traceback_on_a_hand_made_chain() -> None:
    # input (3 cells) -> layer 1 (2 cells) -> layer 2 (1 cell); weights (post, pre)
    w1 = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 1.0]])
    w2 = np.array([[1.0, 1.0]])
    rates = {0: np.array([10.0, 10.0, 0.0]), 1: np.array([5.0, 15.0])}
    # layer 1: r1 * (w2.T @ [1]) = [5, 15] -> [0.25, 0.75]
    # input:   r0 * (w1.T @ [0.25, 0.75]) = [10 * 0.25, 10 * 2.25, 0 * 1.25] = [2.5, 22.5, 0] -> [0.1, 0.9, 0]
    s = sensitivities(0, 2, rates, {1: w1, 2: w2})
    assert np.allclose(s, [0.1, 0.9, 0.0])
    s1 = sensitivities(1, 1, rates, {1: w1})  # one step: r0 * w1[1] = [0, 30, 0]
    assert np.allclose(s1, [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match=r"weights\[2\] has shape"):
        sensitivities(0, 2, rates, {1: w1, 2: np.ones((1, 3))})


def test_image_sensitivities_sum_channels_and_trim_padding() -> None:
    w1 = np.eye(2, 8)  # layer 1 cell k <- input cell k; input is [2 channels, 2, 2]
    rates = np.full((1, 2, 8), np.nan)  # img, layer, nrn (layer 1 padded to 8 with NaN)
    rates[0, 0] = 1.0
    rates[0, 1, :2] = 4.0
    da = xr.DataArray(rates, dims=("img", "layer", "nrn"), coords={"img": [7], "layer": [0, 1]})
    maps = image_sensitivities(1, 1, da, {1: w1}, (2, 2, 2))
    assert maps.dims == ("img", "row", "col") and maps.shape == (1, 2, 2)
    assert np.allclose(maps.sel(img=7).values, [[0.0, 1.0], [0.0, 0.0]])


def make_records() -> xr.DataArray:
    rng = np.random.default_rng(2)
    out = np.empty((2, 3, 2, 2), dtype=object)
    for idx in np.ndindex(out.shape):
        n = 4 if idx[3] == 0 else 2
        k = int(rng.integers(0, 20))
        out[idx] = SpikeRecord(rng.integers(0, n, k), np.sort(rng.uniform(0, 100, k)), (2, n // 2), 100.0)
    return records_array(out, [3, 5], [0, 1, 2], [0, 1], {"state": "trained", "noise": 20.0, "populations": {"1": ["a", "b"]}})


def test_records_round_trip(tmp_path: Path) -> None:
    rec = make_records()
    back = load_records(save_records(rec, tmp_path / "r.records.npz"))
    assert back.dims == rec.dims and back.attrs == rec.attrs
    for d in rec.dims:
        assert list(back[d].values) == list(rec[d].values)
    for a, b in zip(rec.values.ravel(), back.values.ravel(), strict=True):
        assert np.array_equal(a.cells, b.cells) and np.array_equal(a.times, b.times) and a.shape == b.shape
    assert back.sel(img=5, rep=2, layer=1, nrn_cls="EXC").item().duration == 100.0


def test_infer_rates_window_and_padding() -> None:
    rec = make_records()
    rec.values[0, 0, 0, 0] = SpikeRecord(np.array([0, 0, 1, 3]), np.array([10.0, 60.0, 70.0, 99.0]), (2, 2), 100.0)
    rates = infer_rates(rec, duration=50.0, offset=50.0)
    assert rates.dims == ("img", "rep", "layer", "nrn_cls", "nrn") and rates.sizes["nrn"] == 4
    assert np.allclose(rates.isel(img=0, rep=0, layer=0, nrn_cls=0).values, [20.0, 20.0, 0.0, 20.0])
    assert np.isnan(rates.isel(nrn_cls=1, nrn=3)).all()  # INH has 2 cells: padded


def test_vectorised_selectivity_equals_the_mutual_information_of_each_neuron() -> None:
    from spikebridge.analysis.selectivity import _bins

    rng = np.random.default_rng(4)
    n_img, n_rep, n_nrn = 8, 3, 12
    rates = rng.poisson(3.0, (n_img, n_rep, n_nrn)).astype(float) * 20.0  # spike counts in a 50 ms window
    rates[:, :, 5] = 0.0  # a silent neuron
    da = xr.DataArray(rates, dims=("img", "rep", "nrn"), coords={"img": range(n_img), "rep": range(n_rep), "nrn": range(n_nrn)})
    got = selectivity(da, LABELS, columns=("left", "top"), shuffles=0)
    for j in range(n_nrn):
        x = rates[:, :, j].ravel()
        for col in ("left", "top"):
            want = 0.0 if np.ptp(x) == 0 else mutual_information(_bins(x, 2), np.repeat(LABELS[col].to_numpy(), n_rep))
            assert float(got.sel(nrn=j, label=col)) == pytest.approx(want, abs=1e-12)


def test_chance_level_of_the_top_k_is_above_zero_and_below_a_real_selectivity() -> None:
    from spikebridge.analysis.selectivity import chance_top_k

    rng = np.random.default_rng(2)
    rates = rng.gamma(2.0, 5.0, (8, 4, 40))
    da = xr.DataArray(rates, dims=("img", "rep", "nrn"), coords={"img": range(8), "rep": range(4), "nrn": range(40)})
    mean, sd = chance_top_k(da, LABELS, "left", k=5, shuffles=10, seed=3)
    assert 0.0 < mean < 0.6 and sd >= 0.0
    assert chance_top_k(da, LABELS, "left", k=5, shuffles=10, seed=3) == (mean, sd)  # seeded
    left = LABELS["left"].to_numpy()
    rates[:, :, :5] = np.where(left[:, None, None] == 1, 30.0, 2.0) + rng.normal(0, 1, (8, 4, 5))
    real = float(top_k(selectivity(da.copy(data=rates), LABELS, ("left",), seed=3), 5).mean())
    assert real > mean + 3 * sd
