"""Figures of a comparison: overlaid distributions per backend, the permutation test of every measure, per-cell
spike counts across backends, the angle between weight-change vectors over training time, and the verdict's
calibration (false-FAIL rate and power)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..analysis.validation.measures import MIN_SAMPLE, by_name

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b")
LABELS = {
    "rate": "firing rate (Hz)",
    "cv_isi": "CV of ISIs",
    "correlation": "spike-count correlation",
    "lifetime": "activity lifetime (ms)",
    "weight": "final weight",
}
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
                ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
                ax.set_ylim(top=1.35 * ax.get_ylim()[1])  # room for the legend above the bars
                ax.legend(fontsize=7, frameon=False, loc="upper left", ncols=2)
            verdict = _verdict_of(verdicts, target, key[1])
            ax.set_title(f"{target}: {key[1]}  [{verdict}]", fontsize=10, color=VERDICT_COLOUR[verdict], fontweight="bold")
            unit = (units or {}).get(key, by_name(key[1]).unit)
            ax.set_xlabel(LABELS.get(key[1], key[1]) + (f" ({unit})" if unit and key[1] == "weight" else ""))
    fig.suptitle("Distributions per backend, all seeds pooled (verdict in brackets)", fontsize=11)
    fig.tight_layout()
    return fig


def plot_permutation(verdicts: pd.DataFrame, labels: Mapping[str, str] | None = None) -> Figure:
    """The permutation test of every measure: the observed standardised statistic against the value that fails.

    A diamond is a measure's ``z`` (cross-backend minus within-backend distance, in standard deviations of its
    permutation null); the dashed mark above it is the smallest ``z`` that fails at the comparison's alpha (the
    maxT critical value, shared by all measures of a pair of backends). A measure fails where its diamond reaches its
    mark. Inconclusive measures are named in their slot. x: one slot per (target, measure); y: z (no unit).

    Parameters
    ----------
    verdicts
        :func:`spikebridge.analysis.validation.permutation.verdicts`: columns ``other``, ``target``, ``measure``,
        ``z``, ``z_critical``, ``verdict``.
    labels
        Backend names as shown (default: the names).

    Returns
    -------
    Figure
        One panel.
    """
    keys = list(dict.fromkeys(zip(verdicts.target, verdicts.measure, strict=True))) if not verdicts.empty else []
    others = list(dict.fromkeys(verdicts.other)) if not verdicts.empty else []
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(keys) + 2), 3.6))
    for x, (target, measure) in enumerate(keys):
        rows = verdicts[(verdicts.target == target) & (verdicts.measure == measure)]
        for j, other in enumerate(others):
            row = rows[rows.other == other]
            offset = (j - (len(others) - 1) / 2) * 0.25
            if row.empty or "z" not in row or not np.isfinite(row.z.iloc[0]):
                ax.text(
                    x + offset, 0.0, "inconclusive", ha="center", va="bottom", rotation=90, fontsize=8, color=VERDICT_COLOUR["inconclusive"]
                )
                continue
            verdict = str(row.verdict.iloc[0])
            colour = COLOURS[(j + 1) % len(COLOURS)]
            ax.scatter(
                [x + offset],
                [row.z.iloc[0]],
                marker="D",
                s=40,
                color=colour,
                edgecolor=VERDICT_COLOUR[verdict],
                lw=1.5,
                zorder=3,
                label=f"{(labels or {}).get(other, other)} vs reference" if x == 0 else None,
            )
            critical = float(row.z_critical.iloc[0])
            if np.isfinite(critical):
                ax.hlines(
                    critical,
                    x + offset - 0.12,
                    x + offset + 0.12,
                    color="k",
                    ls="--",
                    lw=1.2,
                    zorder=2,
                    label="fails at or above" if x == 0 and j == 0 else "_",
                )
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlim(-0.6, len(keys) - 0.4)
    ax.set_xticks(range(len(keys)), [f"{t}\n{m}" for t, m in keys], fontsize=8)
    ax.set_ylabel("z: cross- minus within-backend\ndistance (s.d. of its null)", fontsize=9)
    ax.set_title("Paired permutation test per measure (edge colour: verdict)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    handles, names = ax.get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    if names:
        fig.legend(handles, names, fontsize=8, loc="lower center", ncol=len(names), frameon=False)
    return fig


def plot_calibration(table: pd.DataFrame, alpha: float) -> Figure:
    """False-FAIL rate and detection power of the verdict, from disjoint seed sets.

    Parameters
    ----------
    table
        One row per judged pair: ``pair`` (label), ``kind`` (``"null"``: nothing is wrong; ``"power"``: a
        perturbation), ``size`` (the perturbation in %, 0 for null pairs), ``sets``, ``fails``.
    alpha
        The verdict's stated false-FAIL rate (a dashed line on the left).

    Returns
    -------
    Figure
        Left: the fraction of sets that failed where nothing is wrong, with 95 % Clopper-Pearson intervals. Right:
        the fraction that failed against the perturbation's size.
    """
    from scipy.stats import binomtest

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, kind in ((left, "null"), (right, "power")):
        rows = table[table.kind == kind].reset_index(drop=True)
        for k, (_, row) in enumerate(rows.iterrows()):
            rate = row.fails / row.sets
            ci = binomtest(int(row.fails), int(row.sets)).proportion_ci(0.95)
            x = float(k) if kind == "null" else float(row["size"])
            ax.errorbar([x], [rate], yerr=[[rate - ci.low], [ci.high - rate]], fmt="o", color=COLOURS[k % len(COLOURS)], capsize=4)
            ax.annotate(f"{int(row.fails)}/{int(row.sets)}", (x, rate), textcoords="offset points", xytext=(8, 4), fontsize=8)
        if kind == "null":
            ax.axhline(alpha, color="k", ls="--", lw=1, label=f"alpha = {alpha:g}")
            ax.set_xticks(range(len(rows)), list(rows.pair), fontsize=8)
            ax.set_xlim(-0.6, max(len(rows) - 0.4, 0.6))
            ax.set_ylabel("fraction of seed sets that FAIL")
            ax.set_title("False-FAIL rate (nothing is wrong)", fontsize=10)
        else:
            ax.axhline(0.8, color="k", ls=":", lw=1, label="80 %")
            ax.set_xlim(0, max([25.0, *(float(v) + 5 for v in rows["size"])]))
            ax.set_xlabel("perturbation of tau_syn_E on one side (%)")
            ax.set_title("Detection power", fontsize=10)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
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
            ax.scatter(a, b, s=8, alpha=0.5, color=COLOURS[(i + 1) % len(COLOURS)], rasterized=True)
            # the axes span the counts (not from 0), so that cells far from zero are not a dot in a corner
            both = np.concatenate([a, b]).astype(float)
            low, top = (float(both.min()), float(both.max())) if both.size else (0.0, 0.0)
            pad = 0.05 * (top - low) + 1
            low, top = max(low - pad, 0.0), top + pad
            ax.plot([low, top], [low, top], color="k", lw=0.8)
            r = np.corrcoef(a, b)[0, 1] if np.std(a) > 0 and np.std(b) > 0 else np.nan
            ax.set_title(f"{pop}, seed {seed}: r = {r:.2f}", fontsize=10)
            ax.set_xlabel(f"spike count, {(labels or {}).get(reference, reference)}")
            ax.set_ylabel(f"spike count, {(labels or {}).get(other, other)}")
            ax.set_xlim(low, top)
            ax.set_ylim(low, top)
            ax.set_aspect("equal")
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.yaxis.set_major_locator(MaxNLocator(4))
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
