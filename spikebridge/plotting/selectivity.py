"""Figures of the feature-selectivity workflow: rate histograms per layer, topographic rate maps, and one
neuron's rates grouped by an image annotation. Inputs are spike records or rates from
:mod:`spikebridge.analysis.selectivity`; each function returns the matplotlib figure or axes it drew on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..analysis.selectivity import infer_rates

CLASSES = ("EXC", "INH")
STATE_COLOURS = ("tab:grey", "tab:red", "tab:blue", "tab:green")
#: Display names of the network states.
STATE_TITLES = {"untrained": "Untrained", "trained": "Trained"}


def _states(records: xr.DataArray | Mapping[str, xr.DataArray]) -> dict[str, xr.DataArray]:
    return dict(records) if isinstance(records, Mapping) else {"": records}


def _edges(values: np.ndarray, top: float, bins: int, exact: bool = False) -> np.ndarray:
    """Bin edges from 0 to ``top``. Unless ``exact``, when rates are spike counts over a fixed window (multiples
    of one quantum, 1 spike / window) coarser than ``bins``, one bin per count, centred on it (the first from 0 to
    half a quantum), so no bar is split or left empty however the rates round."""
    steps = np.diff(np.unique(values[values > 0]))
    quantum = float(values[values > 0].min()) if np.any(values > 0) else 0.0
    counts = quantum > 0 and (len(steps) == 0 or np.allclose(steps / quantum, np.round(steps / quantum), atol=1e-6))
    if not exact and counts and top / quantum < bins:
        return np.maximum((np.arange(0, np.floor(top / quantum) + 2) - 0.5) * quantum, 0.0)
    return np.linspace(0, top, bins + 1)


def hist_rates(
    records: xr.DataArray | Mapping[str, xr.DataArray],
    *,
    duration: float | None = None,
    offset: float = 0.0,
    bins: int = 40,
    xmax: Sequence[float] | None = None,
    figsize: tuple[float, float] | None = None,
    xlabel: str = "Firing rate (Hz)",
) -> Figure:
    """Rate distributions on a grid of layers (rows) x EXC/INH (columns), pooled over images and repetitions.

    x: firing rate (Hz) from 0; y: probability density (no ticks). Several states are overlaid as step
    histograms, their mean rates in the legend.

    Parameters
    ----------
    records
        Spike records (dims ``layer, nrn_cls`` and any of ``img, rep``), or several by state name (e.g.
        ``{"untrained": pre, "trained": post}``).
    duration
        Counting window (ms) per presentation (default: each record's own).
    offset
        Time (ms) after each onset left out.
    bins
        Number of bins (fewer where rates are whole spike counts over the window).
    xmax
        The x limit (Hz) of the EXC and INH columns (default: each panel's largest rate). Given, the panels have
        exactly ``bins`` bins from 0 to it (the seed's figure: 60 bins to 200 and 300 Hz); rates above it fall
        in the last bin.
    figsize
        Figure size (inches).
    xlabel
        Label of the bottom row's x axes.

    Returns
    -------
    Figure
    """
    states = _states(records)
    first = next(iter(states.values()))
    layers = [int(v) for v in first["layer"].values]
    fig, axes = plt.subplots(len(layers), 2, figsize=figsize or (6, 1.6 * len(layers) + 0.6), squeeze=False)
    rates = {name: infer_rates(rec, duration, offset) for name, rec in states.items()}
    for i, layer in enumerate(layers):
        for j, cls in enumerate(CLASSES):
            ax = axes[i, j]
            pooled = {name: r.sel(layer=layer, nrn_cls=cls).values.ravel() for name, r in rates.items()}
            pooled = {name: v[~np.isnan(v)] for name, v in pooled.items()}
            top = xmax[j] if xmax is not None else max((v.max(initial=0) for v in pooled.values()), default=1.0) or 1.0
            edges = _edges(np.concatenate([v for v in pooled.values()] or [np.empty(0)]), top, bins, exact=xmax is not None)
            for k, (name, v) in enumerate(pooled.items()):
                if len(v):
                    ax.hist(
                        np.clip(v, 0, top),
                        bins=edges,
                        density=True,
                        histtype="step",
                        lw=1.4,
                        color=STATE_COLOURS[k % 4],
                        label=f"{name} (mean {v.mean():.1f} Hz)" if name else None,
                    )
            if not any(len(v) for v in pooled.values()):
                ax.text(0.5, 0.5, "no cells", ha="center", va="center", transform=ax.transAxes, color="0.5")
            ax.set_title(f"L{layer} {cls}", fontsize=9)
            ax.set_yticks([])
            if any(name for name in pooled) and any(len(v) for v in pooled.values()):
                ax.legend(fontsize=6, frameon=False)
            if i == len(layers) - 1:
                ax.set_xlabel(xlabel)
    fig.tight_layout()
    return fig


def topographic_rates(
    records: xr.DataArray | Mapping[str, xr.DataArray],
    *,
    duration: float | None = None,
    offset: float = 0.0,
    figsize: tuple[float, float] | None = None,
    plot_ticks: bool = False,
    cmap: str = "viridis",
) -> Figure:
    """Each layer's mean rates (over images and repetitions) as an image on its grid.

    Rows are layers, columns EXC and INH (per state when ``records`` maps state names to records); the input
    layer's channels are averaged. Colour: rate (Hz), one scale per layer and class shared by the states.

    Parameters
    ----------
    records
        Spike records (dims ``layer, nrn_cls`` and any of ``img, rep``), or several by state name.
    duration
        Counting window (ms) per presentation (default: each record's own).
    offset
        Time (ms) after each onset left out.
    figsize
        Figure size (inches).
    plot_ticks
        Keep the grid's axis ticks.
    cmap
        Colour map of the rates.

    Returns
    -------
    Figure
    """
    states = _states(records)
    first = next(iter(states.values()))
    layers = [int(v) for v in first["layer"].values]
    columns = [(name, cls) for name in states for cls in CLASSES]
    fig, axes = plt.subplots(len(layers), len(columns), figsize=figsize or (1.9 * len(columns), 1.8 * len(layers) + 0.4), squeeze=False)
    for i, layer in enumerate(layers):
        maps = {}
        for name, cls in columns:
            rec = states[name].sel(layer=layer, nrn_cls=cls)
            shape = rec.values.ravel()[0].shape
            mean = np.mean([r.rates(duration, offset) for r in rec.values.ravel()], axis=0)
            maps[(name, cls)] = (
                mean.reshape(shape).mean(axis=0) if len(shape) == 3 else (mean.reshape(shape) if len(shape) == 2 and mean.size else None)
            )
        for cls in CLASSES:  # one colour scale per layer and class, shared by the states
            vmax = max((m.max() for (n, c), m in maps.items() if c == cls and m is not None), default=1.0)
            for j, key in enumerate(columns):
                if key[1] != cls:
                    continue
                ax, m = axes[i, j], maps[key]
                if m is None:
                    ax.axis("off")
                    continue
                im = ax.imshow(m, cmap=cmap, vmin=0, vmax=vmax or 1.0)
                ax.set_title(f"{key[0] + ' ' if key[0] else ''}L{layer} {cls}", fontsize=8)
                if not plot_ticks:
                    ax.set_xticks([])
                    ax.set_yticks([])
                fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04).set_label("Hz", fontsize=7)
    fig.tight_layout()
    return fig


def plot_contour_selectivity(
    rates: xr.DataArray,
    nrn_id: int,
    labels: pd.DataFrame,
    *,
    violinplot: bool = False,
    show_xlabels: bool = True,
    rotate_xticklabels: bool = False,
    axes: Axes | None = None,
) -> Axes:
    """One neuron's rates grouped by annotation, as box (or violin) plots with every point on top.

    For every column of ``labels`` but ``image_id``, one group per value (``"left: 0"`` concave, ``"left: 1"``
    convex), each point an image x repetition. x: the groups; y: rate (Hz).

    Parameters
    ----------
    rates
        Rates (Hz) with dims ``img``, ``nrn`` and optionally ``rep`` (one layer and class).
    nrn_id
        The neuron drawn.
    labels
        Image annotations: ``image_id`` and the columns to group by.
    violinplot
        Violins instead of boxes.
    show_xlabels, rotate_xticklabels
        Write the group names under the x axis, rotated by 45 degrees.
    axes
        Draw here (default: a new 3 x 2.5 inch figure).

    Returns
    -------
    Axes
    """
    ax = axes if axes is not None else plt.subplots(figsize=(3, 2.5))[1]
    r = rates.sel(nrn=nrn_id)
    columns = [c for c in labels.columns if c != "image_id"]
    groups, names = [], []
    table = labels.set_index("image_id")
    for col in columns:
        for value in sorted(table[col].unique()):
            ids = table.index[table[col] == value].to_numpy()
            ids = [i for i in ids if i in r["img"].values]
            groups.append(r.sel(img=ids).values.ravel())
            names.append(f"{col}: {value}")
    positions = np.arange(len(groups))
    if violinplot:
        ax.violinplot([g if len(g) else [np.nan] for g in groups], positions=positions, showmeans=True)
    else:
        ax.boxplot(groups, positions=positions, widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)  # jitter only, for legibility
    for p, g in zip(positions, groups, strict=True):
        ax.scatter(p + rng.uniform(-0.15, 0.15, len(g)), g, s=6, color="k", alpha=0.5, linewidths=0)
    ax.set_xticks(positions)
    ax.set_xticklabels(names if show_xlabels else [], rotation=45 if rotate_xticklabels else 0, fontsize=7)
    ax.set_ylabel("Rate (Hz)")
    return ax


def hist_input_rates(rates: np.ndarray, *, bins: int = 60, figsize: tuple[float, float] = (4.0, 2.0)) -> Figure:
    """The input layer's Poisson rates for one image: a density histogram of the channels that fire (rate > 0).

    Parameters
    ----------
    rates
        The encoder's rates (Hz), any shape.
    bins
        Number of bins, from 0 to the largest rate.
    figsize
        Figure size (inches).

    Returns
    -------
    Figure
    """
    fig, ax = plt.subplots(figsize=figsize)
    firing = np.asarray(rates, dtype=float).ravel()
    firing = firing[firing > 0]
    if firing.size:
        ax.hist(firing, bins=np.linspace(0, firing.max(), bins + 1).tolist(), density=True, color=STATE_COLOURS[0])
        ax.set_title(f"L0: {firing.size} of {np.size(rates)} inputs fire (mean {firing.mean():.1f} Hz)", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no input fires", ha="center", va="center", transform=ax.transAxes, color="0.5")
    ax.set_xlabel("Firing rate (Hz)")
    ax.set_ylabel(r"$f\;(r)$")
    fig.tight_layout()
    return fig


def selectivity_figure(
    rates: Mapping[str, xr.DataArray], nrn: int, labels: pd.DataFrame, column: str, layer: int, *, violin: bool = False
) -> Figure:
    """One neuron's rates grouped by one image annotation, one panel per network state (rows), shared axes.

    Each panel is :func:`plot_contour_selectivity` of that state's rates: groups ``"<column>: 0"`` and
    ``"<column>: 1"`` on the x axis, rate (Hz) on the y axis from 0; ``violin`` draws violins instead of boxes.

    Parameters
    ----------
    rates
        Rates (Hz) by state name (e.g. ``{"untrained": ..., "trained": ...}``), each with dims ``img``, ``nrn``
        and optionally ``rep``, of one layer and class.
    nrn
        The neuron drawn.
    labels
        Image annotations: columns ``image_id`` and ``column`` at least.
    column
        The annotation the rates are grouped by.
    layer
        The neuron's layer (for the titles).

    Returns
    -------
    Figure
    """
    fig, axes = plt.subplots(len(rates), 1, figsize=(2.4, 1.8 * len(rates) + 0.4), sharex=True, sharey=True, squeeze=False)
    for ax, (state, r) in zip(axes[:, 0], rates.items(), strict=True):
        plot_contour_selectivity(r, nrn, labels[["image_id", column]], violinplot=violin, axes=ax)
        ax.set_title(f"{STATE_TITLES.get(state, state)}: L{layer} #{nrn}", fontsize=9, fontweight="bold")
    axes[0, 0].set_ylim(bottom=0)
    fig.tight_layout()
    return fig
