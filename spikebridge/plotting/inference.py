"""Figures of weight inference on a run: true vs inferred weights, scores over time and under noise.

Every function takes an outcome of :func:`~spikebridge.workflows.inference.infer_run`
(anything with its ``estimates``, ``w_true`` and ``scores``) or its tidy ``scores`` table
(columns ``method``, ``noise`` (fraction), ``time`` (ms), ``pearson``,
``sign_alignment``), creates its own figure through :mod:`matplotlib.pyplot`
and returns it without showing it; write it with
:func:`spikebridge.plotting.figures.save_figure` (``close=True`` releases it).
Times are drawn in seconds of simulated time, noise levels in percent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from spikebridge.analysis import inference as inf

__all__ = [
    "COLORS",
    "LABELS",
    "InferenceResult",
    "inference_figures",
    "plot_noise",
    "plot_over_time",
    "plot_over_time_by_noise",
    "plot_scatter",
]


class InferenceResult(Protocol):
    """What the figures read of an outcome (:class:`~spikebridge.workflows.inference.InferenceOutcome` has it).

    Attributes
    ----------
    scores
        Tidy scores: ``method``, ``noise`` (fraction), ``time`` (ms), ``pearson``, ``sign_alignment``.
    estimates
        ``(method, noise) -> running estimate``, dims ``("time", "post", "pre")``, ``time`` in ms.
    w_true
        True weights, ``(n_post, n_pre)``.
    """

    @property
    def scores(self) -> pd.DataFrame:
        """Tidy scores over time (see the class)."""
        ...

    @property
    def estimates(self) -> Mapping[tuple[str, float], xr.DataArray]:
        """Running estimates by method and noise level (see the class)."""
        ...

    @property
    def w_true(self) -> np.ndarray:
        """True weights (see the class)."""
        ...

#: Display name of each method.
LABELS: dict[str, str] = {"akrout": "Akrout", "rdd": "RDD", "stdwi": "STDWI"}
#: One colour per method, the same in every figure.
COLORS: dict[str, str] = {"akrout": "tab:blue", "rdd": "tab:orange", "stdwi": "tab:green"}
_AGREE, _DISAGREE = "tab:green", "tab:red"
_SCORES = (("pearson", "Pearson r"), ("sign_alignment", "sign alignment"))


def _label(method: str) -> str:
    return LABELS.get(method, method)


def _color(method: str, k: int) -> str:
    return COLORS.get(method, f"C{k + 3}")


def _methods(scores: pd.DataFrame) -> list[str]:
    order = {m: k for k, m in enumerate(LABELS)}
    return sorted(scores["method"].unique(), key=lambda m: (order.get(m, len(order)), m))


def _closest(values: Iterable[float], wanted: float) -> float:
    levels = np.asarray(sorted(set(values)), dtype=float)
    return float(levels[np.argmin(np.abs(levels - wanted))])


def plot_scatter(outcome: InferenceResult, noise: float = 0.0, *, title: str | None = None,
                 units: str = "nA") -> Figure:
    """True vs final inferred weight, one panel per method.

    Each method estimates on its own scale, so the estimate is drawn divided
    by its standard deviation over all pairs (not centred, so the quadrants
    show the signs); Pearson r and sign alignment are scale-free. Points
    whose sign is right are green, the others red.

    x: true weight (``units``); y: final estimate over its standard deviation
    (no units).

    Parameters
    ----------
    outcome : InferenceResult
        Output of :func:`~spikebridge.workflows.inference.infer_run`.
    noise : float
        Noise level (fraction) to draw; the closest one run is used.
    title : str, optional
        Figure title (suffix).
    units : str
        Units of the true weights (nA for current-based cells).

    Returns
    -------
    matplotlib.figure.Figure
    """
    level = _closest([n for _, n in outcome.estimates], noise)
    methods = _methods(pd.DataFrame({"method": [m for m, n in outcome.estimates if n == level]}))
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 4.4), squeeze=False,
                             layout="constrained")
    w = outcome.w_true.ravel()
    for ax, method in zip(axes[0], methods, strict=True):
        est = outcome.estimates[(method, level)]
        final = np.asarray(est.isel(time=-1).transpose("post", "pre"), dtype=float)
        r = inf.pearson(final, outcome.w_true)
        sign = inf.sign_alignment(final, outcome.w_true)
        e = final.ravel()
        sd = e.std()
        # Scaled, not centred: the zero of the estimate decides its sign.
        z = e / sd if sd > 0 else e
        agree = np.sign(e) == np.sign(w)
        ax.scatter(w[agree], z[agree], s=9, alpha=0.6, color=_AGREE, linewidths=0)
        ax.scatter(w[~agree], z[~agree], s=9, alpha=0.8, color=_DISAGREE, linewidths=0)
        ax.axhline(0.0, color="0.6", lw=0.8, zorder=0)
        ax.axvline(0.0, color="0.6", lw=0.8, zorder=0)
        t_s = float(est["time"][-1]) / 1000.0
        ax.set_title(f"{_label(method)}: r = {r:.3f}, sign alignment = {sign:.3f}", fontsize=10)
        ax.set_xlabel(f"true weight ({units})")
        ax.set_ylabel("inferred weight (estimate / its SD)")
    handles = [Line2D([], [], ls="", marker="o", color=_AGREE, label="sign right"),
               Line2D([], [], ls="", marker="o", color=_DISAGREE, label="sign wrong")]
    axes[0, -1].legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    head = f"True vs inferred weights after {t_s:g} s, noise {level:.0%}"
    fig.suptitle(f"{head}: {title}" if title else head)
    return fig


def plot_over_time(scores: pd.DataFrame, noise: float = 0.0, *, title: str | None = None) -> Figure:
    """Pearson r and sign alignment vs simulated time, one line per method.

    Parameters
    ----------
    scores : pandas.DataFrame
        :attr:`InferenceOutcome.scores` (``time`` in ms).
    noise : float
        Noise level (fraction) to draw; the closest one present is used.
    title : str, optional
        Figure title (suffix).

    Returns
    -------
    matplotlib.figure.Figure
    """
    level = _closest(scores["noise"], noise)
    sub = scores[np.isclose(scores["noise"], level)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for ax, (col, name) in zip(axes, _SCORES, strict=True):
        for k, method in enumerate(_methods(sub)):
            part = sub[sub["method"] == method].sort_values("time")
            final = part[col].iloc[-1]
            ax.plot(part["time"] / 1000.0, part[col], color=_color(method, k), lw=1.6,
                    label=f"{_label(method)} (final {final:.3f})")
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel(name)
        ax.set_title(f"{name} vs simulated time")
        ax.set_ylim(0.0 if col == "sign_alignment" else min(0.0, float(np.nanmin(sub[col])) - 0.05), 1.0)
        ax.set_xlim(left=0.0)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=9)
    head = f"Weight inference over time, noise {level:.0%}"
    fig.suptitle(f"{head}: {title}" if title else head)
    return fig


def plot_noise(scores: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Final Pearson r and sign alignment vs noise level, one line per method.

    Parameters
    ----------
    scores : pandas.DataFrame
        :attr:`InferenceOutcome.scores`, with several noise levels.
    title : str, optional
        Figure title (suffix).

    Returns
    -------
    matplotlib.figure.Figure
    """
    last = scores.loc[scores.groupby(["method", "noise"])["time"].idxmax()]
    t_s = float(last["time"].max()) / 1000.0
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    levels = np.sort(last["noise"].unique())
    for ax, (col, name) in zip(axes, _SCORES, strict=True):
        for k, method in enumerate(_methods(last)):
            part = last[last["method"] == method].sort_values("noise")
            ax.plot(100 * part["noise"], part[col], marker="o", color=_color(method, k), lw=1.6,
                    label=_label(method))
        ax.set_xticks(100 * levels)
        ax.set_xlabel("spike noise (% of spikes deleted and re-inserted at random)")
        ax.set_ylabel(f"final {name}")
        ax.set_title(f"{name} after {t_s:g} s vs noise")
        lo = float(np.nanmin(last[col]))
        ax.set_ylim(max(0.0, lo - 0.1) if lo > 0 else lo - 0.05, 1.0)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize=9)
    head = "Robustness to spike noise"
    fig.suptitle(f"{head}: {title}" if title else head)
    return fig


def plot_over_time_by_noise(scores: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Pearson r (top) and sign alignment (bottom) vs simulated time, one column per noise level.

    Parameters
    ----------
    scores : pandas.DataFrame
        :attr:`InferenceOutcome.scores`.
    title : str, optional
        Figure title (suffix).

    Returns
    -------
    matplotlib.figure.Figure
    """
    levels = np.sort(scores["noise"].unique())
    fig, axes = plt.subplots(2, len(levels), figsize=(3.4 * len(levels) + 0.6, 6.2), squeeze=False,
                             sharex=True, sharey="row", layout="constrained")
    methods = _methods(scores)
    lo = min(0.0, float(np.nanmin(scores["pearson"])) - 0.05)
    for c, level in enumerate(levels):
        sub = scores[scores["noise"] == level]
        for row, (col, name) in enumerate(_SCORES):
            ax = axes[row, c]
            for k, method in enumerate(methods):
                part = sub[sub["method"] == method].sort_values("time")
                ax.plot(part["time"] / 1000.0, part[col], color=_color(method, k), lw=1.4, label=_label(method))
            ax.set_ylim(lo if col == "pearson" else 0.0, 1.0)
            ax.grid(alpha=0.3)
            if row == 0:
                ax.set_title(f"noise {level:.0%}")
            else:
                ax.set_xlabel("simulated time (s)")
            if c == 0:
                ax.set_ylabel(name)
    axes[1, 0].legend(loc="lower right", fontsize=8)
    head = "Weight inference over time at each noise level"
    fig.suptitle(f"{head}: {title}" if title else head)
    return fig


def inference_figures(outcome: InferenceResult, *, title: str | None = None) -> dict[str, Figure]:
    """The figure set of an outcome, by file stem.

    ``scatter`` (:func:`plot_scatter`) and ``over_time`` (:func:`plot_over_time`) at the lowest noise level
    run; with several levels also ``noise`` (:func:`plot_noise`) and ``over_time_by_noise``
    (:func:`plot_over_time_by_noise`).

    Parameters
    ----------
    outcome : InferenceResult
        Output of :func:`~spikebridge.workflows.inference.infer_run`.
    title : str, optional
        Suffix of every figure's title (e.g. the model and backend).

    Returns
    -------
    dict
        ``stem -> matplotlib.figure.Figure``.
    """
    noises = sorted({n for _, n in outcome.estimates})
    figures = {"scatter": plot_scatter(outcome, noise=noises[0], title=title),
               "over_time": plot_over_time(outcome.scores, noise=noises[0], title=title)}
    if len(noises) > 1:
        figures["noise"] = plot_noise(outcome.scores, title=title)
        figures["over_time_by_noise"] = plot_over_time_by_noise(outcome.scores, title=title)
    return figures
