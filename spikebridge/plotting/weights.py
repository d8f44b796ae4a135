"""Figures of synaptic weights: E/I weight matrices, per-layer weight histograms,
weight evolution. Write them with :func:`spikebridge.plotting.figures.save_figure`.

All functions take the weight table and :class:`ProjectionInfo` described in
:mod:`spikebridge.analysis.weights`, create their own figure through
:mod:`matplotlib.pyplot` (so it shows in notebooks; close it with
``plt.close(fig)`` in loops) and never call ``plt.show``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import colors
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from mpl_toolkits.axes_grid1 import make_axes_locatable

from spikebridge.analysis.weights import (
    PERCENTILES,
    ProjectionInfo,
    bimodality,
    panel_weights,
    snapshot_times,
)

__all__ = [
    "PROJECTION_TITLES",
    "HistStyle",
    "WeightPanel",
    "WeightPanels",
    "draw_weight_panels",
    "hist_weights",
    "plot_weight_evolution",
    "plot_weight_matrices",
    "weight_panels",
]

#: Column headers of :func:`hist_weights` for the usual projection labels.
PROJECTION_TITLES: dict[str, str] = {
    "FF": "Feedforward",
    "E2E": "Lateral",
    "FB": "Feedback",
    "E2I": "E \u2192 I",
    "I2E": "I \u2192 E",
    "I2I": "I \u2192 I",
}

_MATRIX_PANELS: tuple[tuple[str, str, str, str], ...] = (
    # key, TeX title, pre population, post population
    ("W_EE", r"$W_{EE}$", "E", "E"),
    ("W_EI", r"$W_{EI}$", "I", "E"),
    ("W_IE", r"$W_{IE}$", "E", "I"),
    ("W_II", r"$W_{II}$", "I", "I"),
)


# ---------------------------------------------------------------------------
# weight matrices
# ---------------------------------------------------------------------------


def _matrix_norm(w: np.ndarray, pos_cmap: str, neg_cmap: str, div_cmap: str) -> tuple[str, colors.Normalize]:
    """Colormap and norm: diverging centred at 0 when ``w`` has both signs."""
    finite = w[np.isfinite(w)]
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 0.0
    if lo < 0.0 < hi:
        return div_cmap, colors.TwoSlopeNorm(vmin=lo, vcenter=0.0, vmax=hi)
    if hi > 0.0:
        return pos_cmap, colors.Normalize(vmin=0.0, vmax=hi)
    if lo < 0.0:
        return neg_cmap, colors.Normalize(vmin=lo, vmax=0.0)
    return "Greys", colors.Normalize(vmin=0.0, vmax=1.0)


def plot_weight_matrices(
    mats: Mapping[str, np.ndarray],
    *,
    title: str | None = "Weight matrices",
    units: str = "uS",
    pops: tuple[str, str] = ("E", "I"),
    pos_cmap: str = "Reds",
    neg_cmap: str = "Blues_r",
    div_cmap: str = "RdBu_r",
    interpolation: str = "nearest",
    figsize: tuple[float, float] = (8.0, 7.5),
) -> Figure:
    """Plot the four E/I weight matrices as one block matrix.

    Layout (``GridSpec(4, 4)``, as in NEST's weight-matrix example):
    ``W_EE`` in ``gs[:-1, :-1]``, ``W_EI`` (I -> E) in ``gs[:-1, -1]``,
    ``W_IE`` (E -> I) in ``gs[-1, :-1]``, ``W_II`` in ``gs[-1, -1]``. With the
    post x pre orientation of :func:`~spikebridge.analysis.weights.weight_matrices`
    the panels line up as the whole network's matrix: rows are postsynaptic
    neurons (E then I), columns presynaptic neurons (E then I); so the axis
    labels ("presynaptic index" / "postsynaptic index") sit on the outer
    edges (bottom row / left column) and every panel has its own colour bar.

    Parameters
    ----------
    mats
        ``{"W_EE": (n_E, n_E), "W_EI": (n_E, n_I), "W_IE": (n_I, n_E),
        "W_II": (n_I, n_I)}`` as returned by ``weight_matrices``.
    title
        Figure suptitle (``None``: none).
    units
        Weight units for the colour-bar labels (``"uS"`` or ``"nA"``).
    pops
        Display names of the excitatory and inhibitory populations.
    pos_cmap, neg_cmap, div_cmap
        Colormaps for matrices with only non-negative weights (0 at the light
        end), only non-positive weights, and both signs (diverging, centred at
        0 with :class:`~matplotlib.colors.TwoSlopeNorm`).
    interpolation
        ``imshow`` interpolation; ``"nearest"`` shows every synapse.
    figsize
        Figure size (inches).

    Returns
    -------
    Figure
        The figure; its four image axes are ``fig.axes[0:8:2]`` (each followed
        by its colour bar axes).
    """
    missing = [k for k, *_ in _MATRIX_PANELS if k not in mats]
    if missing:
        raise KeyError(f"weight matrices missing: {missing}")
    e_name, i_name = pops
    pop_name = {"E": e_name, "I": i_name}
    fig = plt.figure(figsize=figsize)
    gs = GridSpec(4, 4, figure=fig, wspace=0.9, hspace=0.9)
    slots = {"W_EE": gs[:-1, :-1], "W_EI": gs[:-1, -1], "W_IE": gs[-1, :-1], "W_II": gs[-1, -1]}
    for key, tex, pre, post in _MATRIX_PANELS:
        w = np.asarray(mats[key], dtype=float)
        if w.ndim != 2:
            raise ValueError(f"{key} must be 2-D (n_post, n_pre), got shape {w.shape}")
        ax = fig.add_subplot(slots[key])
        cmap, norm = _matrix_norm(w, pos_cmap, neg_cmap, div_cmap)
        im = ax.imshow(w, cmap=cmap, norm=norm, aspect="auto", interpolation=interpolation, origin="upper")
        ax.set_title(f"{tex}  ({pop_name[pre]} \u2192 {pop_name[post]})", fontsize=10)
        # the panels form one block matrix: label its outer edges only
        if post == "I":  # bottom row
            ax.set_xlabel(f"presynaptic index ({pop_name[pre]})", fontsize=9)
        if pre == "E":  # left column
            ax.set_ylabel(f"postsynaptic index ({pop_name[post]})", fontsize=9)
        ax.tick_params(labelsize=7)
        divider = make_axes_locatable(ax)
        cax = divider.append_axes("right", size=0.12, pad=0.06)
        cbar = fig.colorbar(im, cax=cax)
        cbar.ax.tick_params(labelsize=7)
        cbar.set_label(f"weight ({units})", fontsize=7)
        if not np.any(w != 0.0):
            ax.text(0.5, 0.5, "no connections", ha="center", va="center", transform=ax.transAxes, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=13)
    fig.subplots_adjust(left=0.09, right=0.93, bottom=0.08, top=0.9 if title else 0.95)
    return fig


# ---------------------------------------------------------------------------
# weight histograms per layer x projection
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HistStyle:
    """How :func:`hist_weights` draws its grid (the data drawn are chosen by its other arguments).

    Parameters
    ----------
    density
        Plot probability densities (y label "density", 1/weight units) instead of counts.
    sharex, sharey
        Share the x / y axes across all panels.
    figsize
        Figure size (inches); default ``(3.2 * n_cols + 0.6, 2.4 * n_rows + 0.6)``.
    hist_kwargs
        Extra keyword arguments for the "after" ``ax.hist`` call.
    text_kwargs
        Overrides of the summary box's ``ax.text`` keyword arguments (default: top centre, small font,
        white rounded box).
    tol
        Width of the band counted as "at a bound" in the summary box, as a fraction of ``w_max - w_min``
        (see :func:`~spikebridge.analysis.weights.bimodality`).
    row_ylim
        Upper y limit of each row's panels (``None`` for a row leaves matplotlib's), so that rows of several
        figures read alike.
    """

    density: bool = True
    sharex: bool = True
    sharey: bool = False
    figsize: tuple[float, float] | None = None
    hist_kwargs: Mapping[str, Any] | None = None
    text_kwargs: Mapping[str, Any] | None = None
    tol: float = 0.1
    row_ylim: Sequence[float | None] | None = None


@dataclass(frozen=True)
class WeightPanel:
    """The weights of one histogram panel: the projections of one class onto (or from) one population.

    Attributes
    ----------
    members
        The projections pooled in the panel.
    after, before
        Their non-NaN weights (weight units, or fractions of each projection's ``w_max`` when normalised) at
        the drawn snapshot and at the "before" snapshot (empty when there is none), pooled over trials.
    w_min, w_max
        Bounds of the panel: the lowest ``w_min`` and highest ``w_max`` of its projections; ``None`` where
        some projection has none.
    edges
        Bin edges, shared by "after" and "before".
    """

    members: tuple[ProjectionInfo, ...]
    after: np.ndarray
    before: np.ndarray
    w_min: float | None
    w_max: float | None
    edges: np.ndarray

    @property
    def empty(self) -> bool:
        """No weight at either snapshot: the panel is switched off."""
        return self.after.size == 0 and self.before.size == 0


@dataclass(frozen=True)
class WeightPanels:
    """Everything :func:`draw_weight_panels` draws: a grid of :class:`WeightPanel`, rows x columns.

    Attributes
    ----------
    rows
        Row populations, in order of first appearance among the projections.
    columns
        Column labels (projection classes), as asked for.
    panels
        ``panels[r][c]``: the panel of row ``r`` and column ``c``.
    rows_by
        ``"post"`` (rows are postsynaptic populations) or ``"pre"``.
    t_after
        Snapshot time (ms) drawn filled.
    t_before
        Snapshot time (ms) drawn as an outline; ``None`` without "before" weights.
    trials
        How many weight tables (trials, e.g. seeds) each panel pools.
    normalised
        Whether weights are fractions of their projection's ``w_max``.
    """

    rows: list[str]
    columns: list[str]
    panels: list[list[WeightPanel]]
    rows_by: str
    t_after: float
    t_before: float | None
    trials: int = 1
    normalised: bool = False


def _panel_bounds(infos: Sequence[ProjectionInfo]) -> tuple[float | None, float | None]:
    lows = [i.w_min for i in infos]
    highs = [i.w_max for i in infos]
    w_min = None if any(v is None for v in lows) else min(v for v in lows if v is not None)
    w_max = None if any(v is None for v in highs) else max(v for v in highs if v is not None)
    return w_min, w_max


def _bin_edges(samples: Iterable[np.ndarray], bounds: Iterable[float | None], bins: int) -> np.ndarray:
    values = [float(v) for v in bounds if v is not None]
    for s in samples:
        if s.size:
            values += [float(s.min()), float(s.max())]
    lo, hi = min(values), max(values)
    if hi <= lo:  # all weights equal: a small symmetric window
        half = max(abs(lo) * 0.05, 1e-12)
        lo, hi = lo - half, hi + half
    return np.linspace(lo, hi, bins + 1)


def _pooled(tables: Sequence[pd.DataFrame], members: Sequence[ProjectionInfo], t: float | None, first: bool, normalise: bool) -> np.ndarray:
    """The members' weights in every table at ``t`` (``None``: each table's last snapshot, or first with ``first``)."""
    parts = []
    for table in tables:
        at = t if t is not None else float(snapshot_times(table)[0 if first else -1])
        for info in members:
            w = panel_weights(table, [info], at)
            if normalise:
                if info.w_max is None or info.w_max == 0:
                    raise ValueError(f"projection {info.name!r} has no nonzero w_max: its weights cannot be normalised")
                w = w / info.w_max
            parts.append(w)
    return np.concatenate(parts) if parts else np.empty(0)


def weight_panels(
    table: pd.DataFrame | Sequence[pd.DataFrame],
    projections: Sequence[str],
    infos: Mapping[str, ProjectionInfo] | Iterable[ProjectionInfo],
    *,
    rows_by: str = "post",
    t: float | None = None,
    before: pd.DataFrame | Sequence[pd.DataFrame] | None = None,
    before_t: float | None = None,
    bins: int = 80,
    normalise: bool = False,
) -> WeightPanels:
    """The weights of each panel of :func:`hist_weights`, pooled and binned; draws nothing.

    Panel ``(r, c)`` pools every projection whose ``label`` (or name when the label is ``None``) is
    ``projections[c]`` and whose post population (or pre population with ``rows_by="pre"``) is the row's, in
    every table given: several tables (trials, e.g. seeds of one model) are pooled as the seed's figure pools
    its trials.

    Parameters
    ----------
    table
        Weight table (see :mod:`spikebridge.analysis.weights`), or one per trial.
    projections
        Column labels, e.g. ``["FF", "E2E", "FB"]``.
    infos
        Projection descriptions (``{name: ProjectionInfo}`` or an iterable).
    rows_by
        ``"post"`` (rows are postsynaptic populations) or ``"pre"``.
    t
        Snapshot time (ms) of ``table``; ``None``: the last one.
    before
        Optional weight table before training, or one per trial.
    before_t
        Snapshot of ``before`` (ms); ``None``: its first one.
    bins
        Number of bins per panel, over the panel's bounds and the range of both samples.
    normalise
        Divide each projection's weights by its ``w_max``: panels then read in fractions of the bound (0-1), as
        the seed's figure does with its weights in [0, 1].

    Returns
    -------
    WeightPanels

    Raises
    ------
    ValueError
        For an unknown ``rows_by``, no column labels, no projection with one of the labels, no table, or
        ``normalise`` with a projection that has no ``w_max``.
    """
    if rows_by not in ("post", "pre"):
        raise ValueError(f"rows_by must be 'post' or 'pre', got {rows_by!r}")
    if not projections:
        raise ValueError("projections (column labels) must not be empty")
    tables = [table] if isinstance(table, pd.DataFrame) else list(table)
    befores = [] if before is None else [before] if isinstance(before, pd.DataFrame) else list(before)
    if not tables:
        raise ValueError("no weight table given")
    info_list = list(infos.values()) if isinstance(infos, Mapping) else list(infos)
    wanted = set(projections)
    used = [i for i in info_list if (i.label or i.name) in wanted]
    rows = list(dict.fromkeys(getattr(i, rows_by) for i in used))
    if not rows:
        raise ValueError(f"no projection has a label in {list(projections)}")
    t_after = float(snapshot_times(tables[0])[-1]) if t is None else float(t)
    t_before = None
    if befores:
        t_before = float(snapshot_times(befores[0])[0]) if before_t is None else float(before_t)
    panels = []
    for row in rows:
        panel_row = []
        for label in projections:
            members = tuple(i for i in used if getattr(i, rows_by) == row and (i.label or i.name) == label)
            after_w = _pooled(tables, members, t, False, normalise)
            before_w = _pooled(befores, members, before_t, True, normalise)
            if after_w.size == 0 and before_w.size == 0:
                panel_row.append(WeightPanel(members, after_w, before_w, None, None, np.empty(0)))
                continue
            w_min, w_max = _panel_bounds(members)
            if normalise:
                w_min = None if w_min is None else min(i.w_min / i.w_max for i in members if i.w_min is not None and i.w_max)
                w_max = 1.0
            edges = _bin_edges([after_w, before_w], [w_min, w_max], bins)
            panel_row.append(WeightPanel(members, after_w, before_w, w_min, w_max, edges))
        panels.append(panel_row)
    return WeightPanels(rows, list(projections), panels, rows_by, t_after, t_before, len(tables), normalise)


BIMODAL_AT_BOUNDS = 0.7
"""The least fraction of weights within the bound bands (``tol`` of the range from each bound) for a panel to be
called bimodal; a uniform distribution has 2 * tol there (20 % with the default band)."""


def bimodal(after: Mapping[str, float], before: Mapping[str, float] | None, at_bounds: float = BIMODAL_AT_BOUNDS) -> bool:
    """Whether a panel's weights have turned bimodal: at least ``at_bounds`` of them near a bound, and Sarle's b
    above 5/9 (a uniform distribution's) and, where the panel has a pre-training sample, above that sample's b
    too (uniform initial weights sit at 5/9 already).

    Parameters
    ----------
    after, before
        :func:`~spikebridge.analysis.weights.bimodality` of the panel's weights, after and before training.
    at_bounds
        The least ``frac_bounds`` (near the bounds :func:`~spikebridge.analysis.weights.bimodality` was given, or
        the sample's minimum and maximum where it was given none); where ``frac_bounds`` is missing or NaN only b
        counts.

    Returns
    -------
    bool
        The verdict; False where b is undefined.

    Examples
    --------
    >>> split = {"coef": 0.70, "frac_bounds": 0.8}
    >>> bimodal(split, {"coef": 0.56}), bimodal(split, {"coef": 0.75}), bimodal({"coef": 0.57, "frac_bounds": 0.25}, None)
    (True, False, False)
    """
    b = after["coef"]
    if not np.isfinite(b) or b <= 5 / 9:
        return False
    if np.isfinite(after.get("frac_bounds", np.nan)) and after["frac_bounds"] < at_bounds:
        return False
    return before is None or not np.isfinite(before["coef"]) or b > before["coef"]


def _format_summary(stats: Mapping[str, float], bounds_known: bool, before: Mapping[str, float] | None = None) -> str:
    lines = [f"n = {int(stats['n'])}"]
    if np.isfinite(stats["frac_low"]):
        where = "at bounds" if bounds_known else "at data min/max"
        lines.append(
            f"{where} {100 * stats['frac_bounds']:.0f}%\n(low {100 * stats['frac_low']:.0f}%, high {100 * stats['frac_high']:.0f}%)"
        )
    if np.isfinite(stats["coef"]):
        line = f"b = {stats['coef']:.2f}"
        if before is not None and np.isfinite(before["coef"]):
            line += f" (before {before['coef']:.2f})"
        lines.append(line + (": bimodal" if bimodal(stats, before) else ""))
    return "\n".join(lines)


def _pair_label(infos: Sequence[ProjectionInfo]) -> str:
    pairs = list(dict.fromkeys((i.pre, i.post) for i in infos))
    return ", ".join(f"{a} \u2194 {b}" if a == b else f"{a} \u2192 {b}" for a, b in pairs)


def _draw_panel(ax: Axes, panel: WeightPanel, colour: str, style: HistStyle) -> None:
    """The "after" weights filled, the "before" ones outlined, the bounds dotted."""
    if panel.after.size:
        kw: dict[str, Any] = {"histtype": "stepfilled", "alpha": 0.55, "color": colour, "edgecolor": colour}
        kw.update(style.hist_kwargs or {})
        ax.hist(panel.after, bins=panel.edges.tolist(), density=style.density, **kw)
    if panel.before.size:
        ax.hist(panel.before, bins=panel.edges.tolist(), density=style.density, histtype="step", color="0.15", lw=1.0, ls="--")
    for bound in (panel.w_min, panel.w_max):
        if bound is not None:
            ax.axvline(bound, color="0.45", lw=0.8, ls=":")


def _annotate_bimodality(ax: Axes, panel: WeightPanel, style: HistStyle) -> None:
    """The :func:`~spikebridge.analysis.weights.bimodality` summary of the panel's weights in a box on top."""
    stats = bimodality(panel.after if panel.after.size else panel.before, panel.w_min, panel.w_max, tol=style.tol)
    before = bimodality(panel.before, panel.w_min, panel.w_max, tol=style.tol) if panel.after.size and panel.before.size else None
    tk: dict[str, Any] = {
        "x": 0.5,
        "y": 0.96,
        "transform": ax.transAxes,
        "ha": "center",
        "va": "top",
        "fontsize": 7,
        "bbox": {"boxstyle": "round,pad=0.3", "facecolor": "white", "edgecolor": "0.7", "alpha": 0.85},
    }
    tk.update(style.text_kwargs or {})
    x, y = tk.pop("x"), tk.pop("y")
    ax.text(x, y, _format_summary(stats, panel.w_min is not None and panel.w_max is not None, before), **tk)


def _format_panel_axes(ax: Axes, panel: WeightPanel) -> None:
    ax.set_title(_pair_label(panel.members), fontsize=9)
    ax.tick_params(labelsize=7)
    # weights of order 1e-4 uS would otherwise print as long, overlapping decimals
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3), useMathText=True)
    ax.xaxis.get_offset_text().set_fontsize(7)
    ax.margins(y=0.45)  # headroom for the summary box


def _label_grid(axes: np.ndarray, grid: WeightPanels, visible: np.ndarray, units: str, y_label: str) -> None:
    """Column headers, row labels, and axis labels on the outermost visible panels."""
    for c, label in enumerate(grid.columns):
        header = f"{PROJECTION_TITLES.get(label, label)} ({label})" if label in PROJECTION_TITLES else label
        axes[0, c].annotate(
            header,
            xy=(0.5, 1.0),
            xycoords="axes fraction",
            xytext=(0, 17),  # above the panel's own title line
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=10,
            fontweight="bold",
            annotation_clip=False,
        )
        shown = np.flatnonzero(visible[:, c])
        if shown.size:
            bottom = axes[shown[-1], c]
            bottom.tick_params(labelbottom=True)
            bottom.set_xlabel(units if "/" in units else f"Weight ({units})", fontsize=8)
    for r, row in enumerate(grid.rows):
        shown = np.flatnonzero(visible[r])
        if shown.size:
            axes[r, shown[0]].tick_params(labelleft=True)
            axes[r, shown[0]].set_ylabel(y_label, fontsize=8)
        axes[r, 0].annotate(
            str(row),
            xy=(0.0, 0.5),
            xycoords="axes fraction",
            xytext=(-46, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            rotation=90,
            fontsize=11,
            fontweight="bold",
            annotation_clip=False,
        )


def draw_weight_panels(
    grid: WeightPanels,
    *,
    units: str = "uS",
    title: str | None = None,
    style: HistStyle | None = None,
    legend: tuple[str, str] | None = None,
) -> np.ndarray:
    """Draw the histograms of :func:`weight_panels` on a grid of rows x projection classes.

    Each panel shows the "after" weights filled and the "before" weights (if any) as a dashed outline on shared
    bin edges, its bounds as dotted lines, and a box with the
    :func:`~spikebridge.analysis.weights.bimodality` summary of the "after" weights (bounds from the
    projections' ``w_min``/``w_max``, or the data range when a bound is unknown). Empty panels are switched
    off. x: weight (``units``); y: probability density (1/``units``) or count.

    Parameters
    ----------
    grid
        The panels, from :func:`weight_panels`.
    units
        Weight units for the x label ("uS" or "nA").
    title
        Suptitle; ``None``: one naming the snapshot time; ``""``: none.
    style
        Densities or counts, shared axes, size, extra keyword arguments (default :class:`HistStyle`).
    legend
        The legend's words for the filled and the outlined weights; ``None``: "after" and "before" with their
        snapshot times (weights of one run).

    Returns
    -------
    np.ndarray of Axes, shape (n_rows, n_cols)
        ``axes[r, c]``; ``axes[0, 0].figure`` is the figure.
    """
    style = style or HistStyle()
    n_rows, n_cols = len(grid.rows), len(grid.columns)
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        sharex=style.sharex,
        sharey=style.sharey,
        squeeze=False,
        figsize=style.figsize or (3.2 * n_cols + 0.6, 2.4 * n_rows + 0.6),
        layout="constrained",
    )
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    visible = np.zeros((n_rows, n_cols), dtype=bool)
    for r in range(n_rows):
        for c in range(n_cols):
            ax: Axes = axes[r, c]
            panel = grid.panels[r][c]
            if panel.empty:
                ax.axis("off")
                continue
            visible[r, c] = True
            _draw_panel(ax, panel, colours[c % len(colours)], style)
            _annotate_bimodality(ax, panel, style)
            _format_panel_axes(ax, panel)
            top = style.row_ylim[r] if style.row_ylim is not None and r < len(style.row_ylim) else None
            if top is not None:
                ax.margins(y=0)
                ax.set_ylim(0, top)
    _label_grid(axes, grid, visible, units, "density" if style.density else "count")
    if grid.trials > 1:
        fig.text(0.99, 0.005, f"{grid.trials} trials pooled", ha="right", va="bottom", fontsize=7, color="0.4")
    if grid.t_before is not None:
        filled, outlined = legend or (f"after (t = {grid.t_after:g} ms)", f"before (t = {grid.t_before:g} ms)")
        handles = [
            Patch(facecolor="0.6", alpha=0.55, label=filled),
            Line2D([], [], color="0.15", ls="--", lw=1.0, label=outlined),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    if title is None:
        title = f"Weight distributions at t = {grid.t_after:g} ms"
        title += f" ({'posts' if grid.rows_by == 'post' else 'pres'}ynaptic populations as rows)"
    if title:
        fig.suptitle(title, fontsize=11)
    return axes


def hist_weights(
    table: pd.DataFrame,
    projections: Sequence[str],
    infos: Mapping[str, ProjectionInfo] | Iterable[ProjectionInfo],
    *,
    rows_by: str = "post",
    t: float | None = None,
    before: pd.DataFrame | None = None,
    before_t: float | None = None,
    bins: int = 80,
    units: str = "uS",
    title: str | None = None,
    style: HistStyle | None = None,
) -> np.ndarray:
    """Weight histograms on a grid of layers (rows) x projection classes (columns).

    Panel ``(r, c)`` pools every projection whose ``label`` (or name when the
    label is ``None``) is ``projections[c]`` and whose post population (or pre
    population with ``rows_by="pre"``) is the row's population, e.g. rows
    ``L1, L2`` and columns ``FF, E2E, FB`` give *Feedforward L0 -> L1*,
    *Lateral L1 <-> L1*, *Feedback L2 -> L1* on the ``L1`` row. Panels without
    any weight are switched off. Each panel is annotated with the
    :func:`~spikebridge.analysis.weights.bimodality` summary of the weights at
    ``t`` (bounds from the projections' ``w_min``/``w_max``, dotted lines, or
    the data range when a bound is unknown). x: weight (``units``); y:
    probability density (1/``units``) or count.

    :func:`weight_panels` followed by :func:`draw_weight_panels`.

    Parameters
    ----------
    table
        Weight table (see :mod:`spikebridge.analysis.weights`).
    projections
        Column labels, e.g. ``["FF", "E2E", "FB"]``.
    infos
        Projection descriptions (``{name: ProjectionInfo}`` or an iterable).
    rows_by
        ``"post"`` (rows are postsynaptic populations) or ``"pre"``.
    t
        Snapshot time (ms) of ``table``; ``None``: the last one.
    before
        Optional weight table before training, overlaid as an outline.
    before_t
        Snapshot of ``before`` (ms); ``None``: its first one.
    bins
        Number of bins per panel; "before" and "after" share the bin edges.
    units
        Weight units for the x label ("uS" or "nA").
    title
        Suptitle; default names the snapshot time(s).
    style
        Densities or counts, shared axes, figure size, extra keyword arguments of the histograms and the
        summary box, bound band width (default :class:`HistStyle`).

    Returns
    -------
    np.ndarray of Axes, shape (n_rows, n_cols)
        ``axes[r, c]``; ``axes[0, 0].figure`` is the figure.
    """
    grid = weight_panels(table, projections, infos, rows_by=rows_by, t=t, before=before, before_t=before_t, bins=bins)
    return draw_weight_panels(grid, units=units, title=title, style=style)


# ---------------------------------------------------------------------------
# weight evolution
# ---------------------------------------------------------------------------


def plot_weight_evolution(
    evo: pd.DataFrame,
    *,
    infos: Mapping[str, ProjectionInfo] | Iterable[ProjectionInfo] | None = None,
    units: str = "uS",
    ncols: int = 3,
    sharey: bool = False,
    figsize: tuple[float, float] | None = None,
    title: str | None = "Weight evolution",
) -> Figure:
    """Mean weight with 25-75 % and 5-95 % percentile bands, one panel per projection.

    x: time (ms); y: weight (``units``); the median is a dashed line.

    Parameters
    ----------
    evo
        Output of :func:`~spikebridge.analysis.weights.weight_evolution`.
    infos
        Optional projection descriptions; panel titles then name the
        populations, e.g. ``"ff01  (L0 \u2192 L1)"``.
    units
        Weight units for the y label.
    ncols
        Maximum number of panel columns.
    sharey
        Share the y axis between projections.
    figsize
        Figure size (inches); default from the number of panels.
    title
        Suptitle (``None``: none).

    Returns
    -------
    Figure
    """
    need = {"projection", "t", "mean", "p50", *(f"p{p}" for p in PERCENTILES)}
    if missing := need - set(evo.columns):
        raise KeyError(f"evolution table lacks columns {sorted(missing)}")
    names = list(dict.fromkeys(evo["projection"]))
    if not names:
        raise ValueError("evolution table is empty")
    n_cols = max(1, min(ncols, len(names)))
    n_rows = -(-len(names) // n_cols)
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        sharex=True,
        sharey=sharey,
        squeeze=False,
        figsize=figsize or (3.6 * n_cols + 0.4, 2.6 * n_rows + 0.6),
        layout="constrained",
    )
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    by_name: dict[str, ProjectionInfo] = {}
    if infos is not None:
        by_name = {i.name: i for i in (infos.values() if isinstance(infos, Mapping) else infos)}
    for k, name in enumerate(names):
        ax: Axes = axes.flat[k]
        d = evo[evo["projection"] == name].sort_values("t")
        tt = d["t"].to_numpy(float)
        colour = colours[k % len(colours)]
        ax.fill_between(tt, d["p5"], d["p95"], color=colour, alpha=0.15, lw=0, label="5\u201395 %")
        ax.fill_between(tt, d["p25"], d["p75"], color=colour, alpha=0.35, lw=0, label="25\u201375 %")
        marker = "o" if len(tt) <= 30 else None
        ax.plot(tt, d["mean"], color=colour, lw=1.8, marker=marker, ms=3, label="mean")
        ax.plot(tt, d["p50"], color="0.2", lw=0.9, ls="--", label="median")
        info = by_name.get(str(name))
        ax.set_title(f"{name}  ({_pair_label([info])})" if info else str(name), fontsize=10)
        ax.set_ylabel(f"weight ({units})", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3, lw=0.5)
        if k == 0:
            ax.legend(fontsize=7, loc="best", framealpha=0.85)
    for k in range(len(names), n_rows * n_cols):
        axes.flat[k].axis("off")
    for c in range(n_cols):
        col = [axes[r, c] for r in range(n_rows) if r * n_cols + c < len(names)]
        if col:
            col[-1].tick_params(labelbottom=True)
            col[-1].set_xlabel("time (ms)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
