"""Figures of parameter sweeps: a metric over training time, mean +- s.d. across seeds, one line per condition.

The numbers come from :func:`spikebridge.workflows.sweeps.summaries.band_statistics`; this module only draws them.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["COLOURS", "plot_bands"]

# Okabe & Ito's palette: distinguishable with the common colour-vision deficiencies
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def plot_bands(
    bands: pd.DataFrame,
    *,
    over: str = "seed",
    x_scale: float = 1e-3,
    xlabel: str = "training time (s)",
    ylabel: str = "value",
    title: str | None = None,
    figsize: tuple[float, float] = (6.4, 4.0),
) -> Figure:
    """One line (the mean) and band (+- one standard deviation) per condition against ``x``.

    Parameters
    ----------
    bands
        Columns ``label`` (the condition as shown in the legend), ``x``, ``mean``, ``sd`` and ``n`` (the number
        of repetitions of the condition), one row per condition and ``x``, conditions in drawing order, as
        :func:`~spikebridge.workflows.sweeps.summaries.band_statistics` returns them.
    over
        What repeats a condition (the legend title says the spread is across it).
    x_scale
        ``x`` is multiplied by it before drawing (default: ms to s).
    xlabel, ylabel
        Axis labels: the x axis is ``x * x_scale`` (default "training time (s)"), the y axis in the metric's
        units.
    title
        Axes title (``None``: none).
    figsize
        Figure size (inches).

    Returns
    -------
    Figure
        One axes; every condition's line carries the label ``"<label>  (n = <n>)"``.
    """
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    for k, (label, group) in enumerate(bands.groupby("label", sort=False)):
        t = group["x"].to_numpy(float) * x_scale
        mean, sd = group["mean"].to_numpy(float), group["sd"].to_numpy(float)
        colour = COLOURS[k % len(COLOURS)]
        ax.fill_between(t, mean - sd, mean + sd, color=colour, alpha=0.22, lw=0)
        n = int(group["n"].iloc[0])
        ax.plot(t, mean, color=colour, lw=2.0, marker="o" if len(t) <= 30 else None, ms=3.5, label=f"{label}  (n = {n})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, lw=0.5)
    ax.legend(frameon=False, title=f"mean \u00b1 s.d. across {over}s", title_fontsize=9, fontsize=9)
    if title:
        ax.set_title(title, fontsize=11)
    return fig
