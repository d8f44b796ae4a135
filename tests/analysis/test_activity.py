"""Firing statistics computed on arrays are Elephant's, cell by cell."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import quantities as pq
from elephant.statistics import cv, isi, mean_firing_rate

import spikebridge
from spikebridge.analysis.activity import cv_isi, firing_stats


def test_rates_and_cvs_are_elephants(tmp_path: Path) -> None:
    model = spikebridge.load_model("ei_weight_matrix", ["simulation.duration=500"])
    results = spikebridge.run(model, "nest", tmp_path / "ei", progress=False, figure=False)
    stats = firing_stats(results)
    assert (stats.spikes > 0).all()
    for name in stats.index:
        trains = results.spiketrains(name)
        rates = np.array([float(mean_firing_rate(st).rescale(pq.Hz).magnitude) for st in trains])
        cvs = np.array([cv(isi(st)) for st in trains if len(st) >= 3], dtype=float)
        np.testing.assert_allclose(results.rates(name), rates, rtol=1e-12)
        assert len(cvs) >= 5
        np.testing.assert_allclose(cv_isi(results, name), cvs, rtol=1e-12)
        assert stats.loc[name, "cells"] == len(trains) and stats.loc[name, "spikes"] == sum(len(st) for st in trains)
        assert stats.loc[name, "rate_mean"] == np.mean(rates)


def test_binned_counts_and_correlations_are_elephants_from_spike_trains(tmp_path: Path) -> None:
    from elephant.conversion import BinnedSpikeTrain
    from elephant.spike_train_correlation import correlation_coefficient

    from spikebridge.analysis.validation.measures import CORRELATION_BIN_MS, binned, by_name

    model = spikebridge.load_model("ei_weight_matrix", ["simulation.duration=500"])
    results = spikebridge.run(model, "nest", tmp_path / "ei", progress=False, figure=False)
    phase = results.phases[-1]
    for name in results.model.recording:
        _, t = results.spikes(name, phase)
        assert np.any(np.isclose(t % CORRELATION_BIN_MS, 0.0)), "a spike on a bin edge, where rounding decides the bin"
        for cells in (None, 7):
            trains = results.spiketrains(name, phase, cells=cells)
            expected = BinnedSpikeTrain(trains, bin_size=CORRELATION_BIN_MS * pq.ms).to_array()
            np.testing.assert_array_equal(binned(results, name, phase, CORRELATION_BIN_MS, cells).to_array(), expected)
        trains = results.spiketrains(name, phase, cells=200)
        matrix = correlation_coefficient(BinnedSpikeTrain(trains, bin_size=CORRELATION_BIN_MS * pq.ms))
        values = matrix[np.triu_indices(len(trains), k=1)]
        np.testing.assert_allclose(by_name("correlation").sample(results, name, phase), values[np.isfinite(values)], rtol=1e-12)
