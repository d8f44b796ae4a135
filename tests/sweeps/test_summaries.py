"""Multi-seed band figures from a real sweep."""

from __future__ import annotations

from pathlib import Path

import pytest

from spikebridge.workflows.sweeps import Experiment, SweepError
from spikebridge.workflows.sweeps.summaries import band_statistics, over_time, plot_multiseed_band, weight_statistic


def test_weight_statistic_is_a_series_over_snapshot_times(stdp_experiment: Experiment) -> None:
    results = stdp_experiment[0].results
    mean = weight_statistic("mean")(results)
    assert mean.index.name == "t" and mean.index.tolist() == [0.0, 250.0, 500.0, 750.0, 1000.0]
    relative = weight_statistic("mean", "input_post", relative=True)(results)
    assert relative.to_numpy() == pytest.approx(mean.to_numpy() / 0.002)
    assert 0.0 < relative.min() and relative.max() < 1.0
    with pytest.raises(SweepError, match="unknown weight statistic 'median'; choose one of mean, std, p5"):
        weight_statistic("median")


def test_band_figure_of_two_conditions_across_seeds(stdp_experiment: Experiment, tmp_path: Path) -> None:
    table = over_time(stdp_experiment, weight_statistic("p50"))
    assert table.columns.tolist() == ["A_plus", "seed", "t", "value"] and len(table) == 4 * 5
    bands = band_statistics(table, "A_plus")
    low = table[table["A_plus"] == table["A_plus"].min()].groupby("t")["value"]
    assert bands["label"].tolist()[:5] == ["A_plus = 0.005"] * 5 and bands["n"].tolist() == [2] * 10
    assert bands["mean"].tolist()[:5] == pytest.approx(low.mean().tolist())
    assert bands["sd"].tolist()[:5] == pytest.approx(low.std().tolist())
    fig = plot_multiseed_band(
        stdp_experiment, weight_statistic("mean", relative=True), "A_plus", path=tmp_path / "band", ylabel="mean weight / w_max"
    )
    assert (tmp_path / "band.png").stat().st_size > 10_000 and (tmp_path / "band.pdf").is_file()
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["A_plus = 0.005  (n = 2)", "A_plus = 0.02  (n = 2)"]
    assert ax.get_xlabel() == "training time (s)" and ax.get_ylabel() == "mean weight / w_max"
    assert ax.get_lines()[0].get_xdata().tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]

    with pytest.raises(SweepError, match="seed vary within a condition"):
        band_statistics(table, "A_plus", over="t", x="t")
    with pytest.raises(SweepError, match=r"no column\(s\) backend"):
        band_statistics(table, "backend")
