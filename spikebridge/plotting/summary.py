"""Figures of a run's activity; every figure is saved as PNG and PDF."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..rundir import Results

__all__ = ["plot_summary"]


def plot_summary(results: Results, phase: str | None = None, max_cells: int = 200) -> Figure:
    """Raster (up to ``max_cells`` per population) and per-cell rate histograms of every recorded population.

    One row per population that records spikes: left, the raster (x: time in ms, y: cell index); right, the
    histogram of per-cell firing rates (x: rate in Hz, y: number of cells) with their mean in the title.

    Parameters
    ----------
    results
        A run directory (or one being written: its ``meta`` and recordings are read).
    phase
        Draw this phase only (default: every phase, overlaid).
    max_cells
        Cells shown per raster (the first ones by index).

    Returns
    -------
    Figure
    """
    names = [n for n, r in results.model.recording.items() if "spikes" in r.variables]
    phases = [phase] if phase is not None else results.phases
    fig = Figure(figsize=(11, 2.2 + 2.0 * len(names)), layout="constrained")
    grid = fig.add_gridspec(len(names), 2, width_ratios=[3, 1])
    colours = ["tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange", "tab:brown"]
    for row, name in enumerate(names):
        ax_r = fig.add_subplot(grid[row, 0])
        ax_h = fig.add_subplot(grid[row, 1])
        colour = colours[row % len(colours)]
        all_rates = []
        for ph in phases:
            idx, t = results.spikes(name, ph)
            keep = idx < max_cells
            ax_r.scatter(t[keep], idx[keep], s=1.5, c=colour, marker="|", linewidths=0.6, rasterized=True)
            all_rates.append(results.rates(name, ph))
        rates = np.concatenate(all_rates)
        n_shown = min(max_cells, len(results.spiketrains(name, phases[0])))
        ax_r.set_ylabel(f"{name}\ncell (first {n_shown})")
        ax_r.set_xlim(0, float(results.meta.get("duration_ms", ax_r.get_xlim()[1])))
        if row == len(names) - 1:
            ax_r.set_xlabel("time (ms)")
        ax_h.hist(rates, bins=30, color=colour, alpha=0.8)
        ax_h.set_xlabel("rate (Hz)" if row == len(names) - 1 else "")
        ax_h.set_ylabel("cells")
        ax_h.set_title(f"mean {rates.mean():.2f} Hz", fontsize=9)
    backend = results.meta.get("backend", "?")
    fig.suptitle(f"{results.meta.get('model', '')} on {backend} (seed {results.meta.get('seed', '?')})")
    return fig
