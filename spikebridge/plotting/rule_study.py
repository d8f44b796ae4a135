"""The learning-rule comparison's figure (Milstein-Lab/EIANN's layout): a row of rule diagrams, then the dendritic
state, the test accuracy and the angle to backprop over training, each a mean ± s.d. band over seeds, one colour per
network, the legend below."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .rules import draw_rule

COLOURS = {
    "backprop": "black",
    "lds": "tab:red",
    "btsp_dendritic": "tab:purple",
    "hebb_wn_supervised": "tab:blue",
    "bcm_supervised": "tab:green",
    "temporal_contrast_supervised": "tab:orange",
}
PANELS = (("dendritic_state", "Dendritic state |d| (Hz)"), ("accuracy", "Test accuracy (%)"), ("angle", "Angle to backprop (°)"))


def study_figure(curves: pd.DataFrame, labels: dict[str, str], diagrams: pd.DataFrame | None = None, backend: str | None = None) -> Figure:
    """The figure of a rule study.

    Parameters
    ----------
    curves
        One row per (rule, seed, backend, samples) with columns ``accuracy``, ``dendritic_state``, ``angle``
        (:func:`spikebridge.workflows.rule_study.study.curves`).
    labels
        Rule -> its name in the legend.
    diagrams
        :func:`spikebridge.workflows.diagrams.measure`'s table for the diagram row (``None``: no row).
    backend
        The backend whose spiking runs are drawn (``None``: the first in ``curves``); backprop is drawn whatever it is.
    """
    spiking = curves[curves["rule"] != "backprop"]
    backend = backend or (str(spiking["backend"].iloc[0]) if len(spiking) else None)
    fig = plt.figure(figsize=(11.0, 6.4 if diagrams is not None else 3.8), layout="constrained")
    if diagrams is not None:
        top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 1.35])  # type: ignore[misc]
        rules = list(dict.fromkeys(diagrams["rule"]))
        order = list(dict.fromkeys(diagrams["backend"]))
        axes = top.subplots(1, len(rules))
        for ax, rule in zip(np.atleast_1d(axes), rules, strict=True):
            draw_rule(ax, diagrams[diagrams["rule"] == rule], order, fontsize=8)
            ax.tick_params(labelsize=7)
        np.atleast_1d(axes)[0].set_ylabel("Δw (pA)", fontsize=8)
        top.suptitle(f"The rules (spikebridge rules --comparison) on {', '.join(order)} (markers) and in numpy (lines)", fontsize=9)
    else:
        bottom = fig
    axes = bottom.subplots(1, 3)
    for (column, ylabel), ax in zip(PANELS, axes, strict=True):
        drawn_means: list[np.ndarray] = []
        for rule in COLOURS:
            rows = curves[(curves["rule"] == rule) & ((curves["backend"] == backend) | (rule == "backprop"))]
            if rows.empty or rows[column].isna().all():
                continue
            scale = 100.0 if column == "accuracy" else 1.0
            stats = rows.groupby("samples")[column].agg(["mean", "std", "count"]).sort_index()
            x = stats.index.to_numpy(dtype=float)
            mean, sd = scale * stats["mean"].to_numpy(), scale * stats["std"].fillna(0.0).to_numpy()
            drawn_means.append(mean)
            ax.plot(x, mean, color=COLOURS[rule], lw=1.4, label=labels.get(rule, rule))
            ax.fill_between(x, mean - sd, mean + sd, color=COLOURS[rule], alpha=0.2, lw=0)
        ax.set_xlabel("Training samples")
        ax.set_ylabel(ylabel)
        if column == "dendritic_state" and _spans_decades(drawn_means):
            ax.set_yscale("log")
        if column == "accuracy":
            ax.axhline(10.0, color="0.6", lw=0.8, ls=":", label="chance")
            ax.set_ylim(0, 100)
        if column == "angle":
            ax.axhline(90.0, color="0.6", lw=0.8, ls=":")
            ax.set_ylim(0, 180)
            ax.set_yticks([0, 45, 90, 135, 180])
    drawn = curves[(curves["backend"] == backend) | (curves["rule"] == "backprop")]
    seeds = drawn.groupby("rule")["seed"].nunique()
    lo, hi = int(seeds.min()), int(seeds.max())
    n_seeds = "1 seed" if hi == 1 else f"{lo if lo == hi else f'{lo}-{hi}'} seeds"
    handles, names = axes[1].get_legend_handles_labels()
    bottom.legend(handles, names, loc="outside lower center", ncol=len(names), fontsize=8, frameon=False)
    bottom.suptitle(
        f"The digits task, spiking networks on {backend} (mean ± s.d. over {n_seeds}); "
        "backprop: the rate network with Dale's law",
        fontsize=9,
    )
    return fig


def _spans_decades(means: list[np.ndarray], ratio: float = 20.0) -> bool:
    """Whether the drawn curves' positive values span more than ``ratio`` (one rule's |d| of hundreds of Hz would
    flatten the others' few Hz on a linear axis)."""
    values = np.concatenate(means) if means else np.empty(0)
    values = values[np.isfinite(values) & (values > 0)]
    return bool(len(values) > 0 and values.max() > ratio * values.min())
