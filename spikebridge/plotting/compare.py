"""Figures of a comparison: overlaid distributions per backend, distances against the seed baseline, per-cell
spike counts across backends, and the angle between weight-change vectors over training time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..analysis.validation.measures import MIN_SAMPLE, by_name
from ..analysis.validation.scores import DISTANCES

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b")
LABELS = {"rate": "firing rate (Hz)", "cv_isi": "CV of ISIs", "correlation": "spike-count correlation", "weight": "final weight"}
DISTANCE_LABELS = {"ks": "KS statistic", "abs_d": "|Cohen's d|", "wasserstein": "Wasserstein distance"}
VERDICT_COLOUR = {"pass": "#2ca02c", "fail": "#d62728", "inconclusive": "0.4"}


def _verdict_of(verdicts: pd.DataFrame, target: str, measure: str) -> str:
    """The verdict shown on a panel: fail if any backend fails, pass if all pass, else inconclusive."""
    if verdicts.empty:
        return "inconclusive"
    rows = verdicts[(verdicts.target == target) & (verdicts.measure == measure)]
    if rows.empty:
        return "inconclusive"
    return "fail" if (rows.verdict == "fail").any() else ("pass" if (rows.verdict == "pass").all() else "inconclusive")


def plot_distributions(
    samples: Mapping[str, Mapping[int, Mapping[tuple[str, str], np.ndarray]]],
    verdicts: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    units: Mapping[tuple[str, str], str] | None = None,
    min_sample: int = MIN_SAMPLE,
) -> Figure:
    """One panel per (target, measure): each backend's sample, pooled over seeds, as a density step histogram.

    Measures with fewer than ``min_sample`` values in some run (a one-cell population's rate) are left out, as
    they are from the verdicts. x: the measure in its units (rate in Hz, CV and correlation without units,
    weight in ``units``), between the 0.5th and 99.5th percentiles of the pooled values; y: probability density.
    A panel whose values are all one number says so instead of drawing a histogram. Titles carry the verdict.

    Parameters
    ----------
    samples
        ``backend -> seed -> (target, measure) -> values`` (the measures of
        :mod:`spikebridge.analysis.validation.measures`).
    verdicts
        The verdict table (columns ``target``, ``measure``, ``verdict``); empty: every panel "inconclusive".
    labels
        Backend names as shown (default: the names).
    units
        Units by (target, measure), for the weight panels' x labels.
    min_sample
        Fewest finite values a measure needs in every run to be drawn.

    Returns
    -------
    Figure
        Rows: targets; columns: their measures.
    """

    def enough(key: tuple[str, str]) -> bool:
        return all(np.isfinite(s.get(key, np.empty(0))).sum() >= min_sample for runs in samples.values() for s in runs.values())

    keys = sorted(
        {k for runs in samples.values() for s in runs.values() for k in s if enough(k)}, key=lambda k: (by_name(k[1]).target, k[0], k[1])
    )
    targets = list(dict.fromkeys(k[0] for k in keys))
    ncols = max(sum(1 for k in keys if k[0] == t) for t in targets) if targets else 1
    fig, axes = plt.subplots(len(targets) or 1, ncols, figsize=(4.2 * ncols, 2.9 * max(len(targets), 1)), squeeze=False)
    for ax in axes.flat:
        ax.set_visible(False)
    for row, target in enumerate(targets):
        for col, key in enumerate(k for k in keys if k[0] == target):
            ax = axes[row, col]
            ax.set_visible(True)
            pooled = {b: np.concatenate([s[key] for s in runs.values() if key in s]) for b, runs in samples.items()}
            pooled = {b: v[np.isfinite(v)] for b, v in pooled.items()}
            values = np.concatenate(list(pooled.values()))
            lo, hi = np.percentile(values, [0.5, 99.5])
            if values.min() == values.max():  # a histogram of one value (all rates 0) has no width to read
                note = "\n".join(f"{(labels or {}).get(b, b)}: all {len(v)} values = {values[0]:g}" for b, v in pooled.items())
                ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="center", va="center", fontsize=9, color="0.3")
                ax.set_xticks([])
                ax.set_yticks([])
            else:
                bins = np.linspace(lo, hi if hi > lo else values.max(), 40)
                for i, (backend, v) in enumerate(pooled.items()):
                    name = (labels or {}).get(backend, backend)
                    ax.hist(
                        v, bins=bins, density=True, histtype="step", lw=1.8, color=COLOURS[i % len(COLOURS)], label=f"{name} (n={len(v)})"
                    )
                ax.set_ylabel("density")
                ax.legend(fontsize=7, frameon=False)
            verdict = _verdict_of(verdicts, target, key[1])
            ax.set_title(f"{target}: {key[1]}  [{verdict}]", fontsize=10, color=VERDICT_COLOUR[verdict], fontweight="bold")
            unit = (units or {}).get(key, by_name(key[1]).unit)
            ax.set_xlabel(LABELS.get(key[1], key[1]) + (f" ({unit})" if unit and key[1] == "weight" else ""))
    fig.suptitle("Distributions per backend, all seeds pooled (verdict in brackets)", fontsize=11)
    fig.tight_layout()
    return fig


def plot_baseline(scores: pd.DataFrame, labels: Mapping[str, str] | None = None, verdicts: pd.DataFrame | None = None) -> Figure:
    """Each score divided by the largest seed-to-seed value of the reference, one panel per distance.

    Grey dots are the baseline pairs (at most 1 by construction), coloured diamonds the cross-backend values per
    seed, a bar their mean. A measure fails where a bar rises above the dashed line at 1. An inconclusive measure
    (per ``verdicts``) is named in its slot instead: its distances, 0 within 0, would look like a pass. x: one slot
    per (target, measure); y: distance / baseline maximum (no units).

    Parameters
    ----------
    scores
        Every score: columns ``target``, ``measure``, ``other`` (backend), ``kind`` (``baseline`` or ``cross``)
        and one column per distance of :data:`~spikebridge.analysis.validation.scores.DISTANCES`.
    labels
        Backend names as shown (default: the names).
    verdicts
        The verdict table (columns ``target``, ``measure``, ``verdict``), to name inconclusive measures.

    Returns
    -------
    Figure
        One row per distance, shared x axis.
    """
    keys = list(dict.fromkeys(zip(scores.target, scores.measure, strict=True))) if not scores.empty else []
    others = list(dict.fromkeys(scores.other)) if not scores.empty else []
    fig, axes = plt.subplots(len(DISTANCES), 1, figsize=(max(6.0, 1.1 * len(keys) + 2), 2.4 * len(DISTANCES)), sharex=True, squeeze=False)
    for ax, name in zip(axes[:, 0], DISTANCES, strict=True):
        for x, (target, measure) in enumerate(keys):
            judged = verdicts[(verdicts.target == target) & (verdicts.measure == measure)] if verdicts is not None else None
            if judged is not None and not judged.empty and (judged.verdict == "inconclusive").all():
                ax.text(x, 0.5, "inconclusive", ha="center", va="center", rotation=90, fontsize=8, color=VERDICT_COLOUR["inconclusive"])
                continue
            rows = scores[(scores.target == target) & (scores.measure == measure)]
            for j, other in enumerate(others):
                sub = rows[rows.other == other]
                base = sub[sub.kind == "baseline"][name].to_numpy()
                cross = sub[sub.kind == "cross"][name].to_numpy()
                scale = base.max() if len(base) and base.max() > 0 else 1.0
                offset = (j - (len(others) - 1) / 2) * 0.25
                if j == 0:
                    ax.scatter(
                        np.full(len(base), x - 0.3),
                        base / scale,
                        s=12,
                        color="0.6",
                        zorder=2,
                        label="reference seed pairs" if x == 0 else None,
                    )
                colour = COLOURS[(j + 1) % len(COLOURS)]
                ax.scatter(
                    np.full(len(cross), x + offset),
                    cross / scale,
                    marker="D",
                    s=18,
                    color=colour,
                    zorder=3,
                    label=f"{(labels or {}).get(other, other)} vs reference" if x == 0 else None,
                )
                if len(cross):
                    ax.hlines(cross.mean() / scale, x + offset - 0.1, x + offset + 0.1, color=colour, lw=2.5, zorder=4)
        ax.axhline(1.0, color="k", ls="--", lw=1)
        ax.set_xlim(-0.6, len(keys) - 0.4)  # one slot per measure, however few
        ax.set_ylabel(f"{DISTANCE_LABELS[name]}\n/ baseline max", fontsize=9)
        ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1], 1.1))  # the line at 1 stays in view
        ax.grid(axis="y", alpha=0.3)
    axes[-1, 0].set_xticks(range(len(keys)), [f"{t}\n{m}" for t, m in keys], fontsize=8)
    handles, names = axes[0, 0].get_legend_handles_labels()
    axes[0, 0].set_title("Cross-backend distances (mean = bar) against the reference's seed-to-seed spread", fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    if names:  # none where every measure is inconclusive
        fig.legend(handles, names, fontsize=8, loc="lower center", ncol=len(names), frameon=False)
    return fig


def plot_counts(
    counts: Mapping[str, Mapping[int, Mapping[str, np.ndarray]]], reference: str, seed: int, labels: Mapping[str, str] | None = None
) -> Figure:
    """Exact mode: per-cell spike counts of each backend against the reference, same network and input (one seed).

    One panel per backend (rows) and population (columns): a dot per cell, x its spike count on the reference,
    y on the other backend (spikes), the identity line, and Pearson r in the title.

    Parameters
    ----------
    counts
        ``backend -> seed -> population -> spike count per cell``.
    reference
        The reference backend (x axes).
    seed
        The seed drawn.
    labels
        Backend names as shown (default: the names).

    Returns
    -------
    Figure
    """
    others = [b for b in counts if b != reference]
    pops = sorted(counts[reference][seed])
    fig, axes = plt.subplots(len(others) or 1, len(pops) or 1, figsize=(3.6 * max(len(pops), 1), 3.4 * max(len(others), 1)), squeeze=False)
    for i, other in enumerate(others):
        for j, pop in enumerate(pops):
            ax = axes[i, j]
            a, b = counts[reference][seed][pop], counts[other][seed][pop]
            ax.scatter(a, b, s=3, alpha=0.3, color=COLOURS[(i + 1) % len(COLOURS)], rasterized=True)
            top = max(a.max(initial=0), b.max(initial=0)) * 1.05 + 1
            ax.plot([0, top], [0, top], color="k", lw=0.8)
            r = np.corrcoef(a, b)[0, 1] if np.std(a) > 0 and np.std(b) > 0 else np.nan
            ax.set_title(f"{pop}, seed {seed}: r = {r:.2f}", fontsize=10)
            ax.set_xlabel(f"spike count, {(labels or {}).get(reference, reference)}")
            ax.set_ylabel(f"spike count, {(labels or {}).get(other, other)}")
            ax.set_xlim(0, top)
            ax.set_ylim(0, top)
            ax.set_aspect("equal")
    fig.tight_layout()
    return fig


def plot_angles(angles: pd.DataFrame, labels: Mapping[str, str] | None = None, seeds: Sequence[int] | None = None) -> Figure:
    """Angle between the weight-change vectors of two backends (same seed) against training time.

    x: training time (s); y: angle between w(t) - w(0) on the reference and on the other backend (degrees,
    0 to 90); one line per backend, projection and seed.

    Parameters
    ----------
    angles
        Columns ``other`` (backend), ``projection``, ``seed``, ``t_ms`` (ms) and ``angle_deg`` (degrees).
    labels
        Backend names as shown (default: the names).
    seeds
        Draw only these seeds (default: all).

    Returns
    -------
    Figure
    """
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    for i, ((other, projection), group) in enumerate(angles.groupby(["other", "projection"], sort=False)):
        for k, (seed, g) in enumerate(group.groupby("seed")):
            if seeds is not None and seed not in seeds:
                continue
            ax.plot(
                g.t_ms / 1000.0,
                g.angle_deg,
                marker="o",
                ms=3,
                color=COLOURS[(i + 1) % len(COLOURS)],
                alpha=0.8,
                label=f"{projection}: {(labels or {}).get(str(other), str(other))} vs reference" if k == 0 else None,
            )
    ax.set_xlabel("training time (s)")
    ax.set_ylabel("angle between Δw vectors (deg)")
    ax.set_ylim(0, 90)
    ax.axhline(0, color="k", lw=0.8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    ax.set_title("0 deg: both backends change every weight in the same proportions (one line per seed)", fontsize=9)
    fig.tight_layout()
    return fig
