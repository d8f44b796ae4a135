"""Figures of a run's activity; every figure is saved as PNG and PDF."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..rundir import Results

__all__ = ["plot_layered", "plot_summary"]

LAYERED_FROM = 5
"""From this many spiking populations on, :func:`plot_summary` draws :func:`plot_layered` (one raster, box plots)."""


def plot_layered(results: Results, phase: str | None = None, window: float = 200.0, fraction: float = 0.1) -> Figure:
    """All populations in one raster, top to bottom in model order, beside a box plot of their per-cell rates.

    The figure of layered models such as the cortical microcircuit (Potjans & Diesmann 2014, Fig. 6): left, the
    last ``window`` ms of ``phase`` with ``fraction`` of every population's cells (their first ones, so the share
    of each population is kept), populations separated by lines and named on the y axis; right, per-cell rates
    (Hz) of each population over the whole phase as box plots, mean marked.

    Parameters
    ----------
    results
        A run directory (or one being written).
    phase
        The phase drawn (default: the last).
    window
        Raster length (ms), at the end of the phase.
    fraction
        Share of each population's cells in the raster.

    Returns
    -------
    Figure
    """
    names = [n for n, r in results.model.recording.items() if "spikes" in r.variables]
    ph = phase if phase is not None else results.phases[-1]
    fig = Figure(figsize=(11, 1.2 + 0.55 * len(names)), layout="constrained")
    ax_r, ax_b = fig.subplots(1, 2, width_ratios=[2, 1])
    colours = ["tab:blue", "tab:red"]  # alternating, as excitatory/inhibitory pairs in layered models
    top, ticks, rates = 0, [], []
    t_end = float(results.segment(ph).spiketrains.t_stop.rescale("ms").magnitude)
    for k, name in enumerate(names):
        idx, t = results.spikes(name, ph)
        n_cells = len(results.recorded_cells(name))
        shown = max(1, round(n_cells * fraction))
        keep = (idx < shown) & (t >= t_end - window)
        ax_r.scatter(t[keep], top + shown - 1 - idx[keep], s=4, c=colours[k % 2], marker="|", linewidths=0.8, rasterized=True)
        ticks.append(top + shown / 2)
        top += shown
        ax_r.axhline(top, color="0.7", lw=0.5)
        rates.append(results.rates(name, ph))
    ax_r.set_yticks(ticks, names)
    ax_r.set_ylim(top, 0)
    ax_r.set_xlim(t_end - window, t_end)
    ax_r.set_xlabel("time (ms)")
    ax_r.set_title(f"{fraction:.0%} of each population, last {window:g} ms", fontsize=9)
    ax_b.boxplot(rates, orientation="horizontal", showmeans=True, showfliers=False, tick_labels=names)
    ax_b.set_ylim(len(names) + 0.5, 0.5)
    ax_b.set_xlabel("rate (Hz)")
    ax_b.set_title("per-cell rates (mean ▲)", fontsize=9)
    backend = results.meta.get("backend", "?")
    fig.suptitle(f"{results.meta.get('model', '')} on {backend} (seed {results.meta.get('seed', '?')}, phase {ph})")
    return fig


def plot_summary(results: Results, phase: str | None = None, max_cells: int = 200) -> Figure:
    """Raster (up to ``max_cells`` per population) and per-cell rate histograms of every recorded population.

    A model that records no spikes gets the traces of what it records (up to 5 cells per panel) instead; a model
    with :data:`LAYERED_FROM` or more spiking populations gets :func:`plot_layered` instead.

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
    if len(names) >= LAYERED_FROM:
        return plot_layered(results, phase)
    phases = [phase] if phase is not None else results.phases
    if not names:
        return _plot_signals(results, phases)
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
        n_shown = min(max_cells, len(results.recorded_cells(name)))
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


def _plot_signals(results: Results, phases: list[str], cells: int = 5) -> Figure:
    """One panel per recorded (population, variable): the first ``cells`` cells' traces over every phase."""
    panels = [(n, v) for n, r in results.model.recording.items() for v in r.variables if v != "spikes"]
    fig = Figure(figsize=(11, 2.2 + 2.0 * max(len(panels), 1)), layout="constrained")
    axes = fig.subplots(max(len(panels), 1), 1, squeeze=False)[:, 0]
    for ax, (name, variable) in zip(axes, panels):
        for ph in phases:
            signal = results.signals(name, variable, ph)
            ax.plot(signal.times.rescale("ms").magnitude, signal.magnitude[:, :cells], lw=0.8)
        ax.set_ylabel(f"{name}\n{variable} ({signal.units.dimensionality.string})")
    axes[-1].set_xlabel("time (ms)")
    if not panels:
        axes[0].text(0.5, 0.5, "nothing recorded", ha="center", va="center", transform=axes[0].transAxes)
    fig.suptitle(f"{results.meta.get('model', '')} on {results.meta.get('backend', '?')} (seed {results.meta.get('seed', '?')})")
    return fig
