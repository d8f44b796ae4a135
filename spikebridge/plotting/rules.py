"""The rule diagram: Δw of every rule (rows) under every protocol (columns), one marker per backend, analytic line."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..analysis.stdp import PROTOCOLS, RULES, Params, analytic_rate

RULE_TITLES = {
    "additive": "additive",
    "multiplicative": "multiplicative",
    "additive_potentiation_multiplicative_depression": "additive LTP,\nmultiplicative LTD",
    "gutig": "Gütig (μ± = {mu:g})",
}
PROTOCOL_TITLES = {
    "timing": "spike timing: {n} pairings at 1 Hz",
    "rate": "rate: pre {r:g} Hz, post 1-50 Hz, {T:g} s (mean ± s.e.m.)",
    "weight": "weight dependence: one pairing at Δt = ±{d:g} ms",
}
X_LABELS = {"timing": "Δt = t_post − t_pre (ms)", "rate": "postsynaptic rate (Hz)", "weight": "initial weight w₀ / w_max"}
# nested markers: large open circle, open square inside it, small filled dot inside that, so coinciding values read as
# such; the backends in their order in the table (the reference first), whatever their names
STYLES = [("tab:blue", "o", 9.0, "none"), ("tab:orange", "s", 5.5, "none"), ("black", ".", 4.0, "full")]
EXTRA_STYLES = [("tab:red", "D", 4.0, "none"), ("tab:purple", "v", 4.0, "none"), ("tab:brown", "P", 4.0, "none")]
CURVE_LINES = {"LTP": "-", "LTD": "--"}


def _style(backend: str, order: list[str]) -> tuple[str, str, float, str]:
    """Colour, marker, marker size and fill of ``backend`` by its position in ``order``."""
    k = order.index(backend)
    return STYLES[k] if k < len(STYLES) else EXTRA_STYLES[(k - len(STYLES)) % len(EXTRA_STYLES)]


def rule_diagram(table: pd.DataFrame, p: Params | None = None) -> Figure:
    """Draw the tidy table of :func:`spikebridge.workflows.rules.measure_all`; Δw and w₀ in units of w_max − w_min.

    Rows: rules; columns: protocols (x: Δt in ms, postsynaptic rate in Hz, or w₀ / w_max; y: Δw / w_max).
    Markers: measured, one style per backend (mean ± s.e.m. over pairs for the rate protocol); black line:
    analytic expectation (dashed: LTD).

    Parameters
    ----------
    table
        Columns ``backend``, ``rule``, ``protocol``, ``curve``, ``x``, ``dw``, ``sem`` and ``analytic`` (uS).
    p
        The rule and protocol parameters the table was measured with (default: the defaults).

    Returns
    -------
    Figure
    """
    p = Params() if p is None else p
    rules = [r for r in RULES if r in set(table["rule"])]
    protocols = [q for q in PROTOCOLS if q in set(table["protocol"])]
    order = list(dict.fromkeys(table["backend"]))
    span = p.w_max - p.w_min
    fig, axes = plt.subplots(len(rules), len(protocols), figsize=(4.6 * len(protocols), 2.9 * len(rules) + 0.8), squeeze=False,
                             sharex="col", layout="constrained")
    for i, rule in enumerate(rules):
        for j, protocol in enumerate(protocols):
            ax = axes[i, j]
            part = table[(table["rule"] == rule) & (table["protocol"] == protocol)]
            for curve, sub in part.groupby("curve", sort=False):
                line = CURVE_LINES.get(str(curve)[:3], "-")
                first = sub[sub["backend"] == order[0]].sort_values("x")
                x_line = (first["x"] - p.w_min) / span if protocol == "weight" else first["x"]
                if protocol == "rate":
                    fine = np.linspace(float(first["x"].min()), float(first["x"].max()), 60)
                    ax.plot(fine, analytic_rate(rule, fine, p) / span, color="black", lw=1.3, ls=line, zorder=1)
                elif protocol == "timing":
                    for side in (first[first["x"] < 0], first[first["x"] > 0]):
                        ax.plot(side["x"], side["analytic"] / span, color="black", lw=1.3, ls=line, zorder=1)
                else:
                    ax.plot(x_line, first["analytic"] / span, color="black", lw=1.3, ls=line, zorder=1)
                for backend in order:
                    got = sub[sub["backend"] == backend].sort_values("x")
                    colour, marker, size, fill = _style(backend, order)
                    x = (got["x"] - p.w_min) / span if protocol == "weight" else got["x"]
                    ax.errorbar(x, got["dw"] / span, yerr=got["sem"] / span if protocol == "rate" else None, ls="none",
                                marker=marker, ms=size, color=colour, mfc=colour if fill == "full" else "none", mew=1.2,
                                elinewidth=0.9, capsize=0, zorder=2)
                if protocol == "weight":
                    # both curves fall with w0: text right of the point above LTP, left of it below LTD clears them
                    ltp = str(curve).startswith("LTP")
                    mid = first.iloc[len(first) // 2]
                    ax.annotate(
                        str(curve),
                        xy=((mid["x"] - p.w_min) / span, mid["analytic"] / span),
                        xytext=(0, 8 if ltp else -8),
                        textcoords="offset points",
                        ha="left" if ltp else "right",
                        va="bottom" if ltp else "top",
                        fontsize=8.5,
                        color="0.2",
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
                        zorder=3,
                    )
            ax.axhline(0.0, color="0.75", lw=0.6, zorder=0)
            if protocol == "timing":
                ax.axvline(0.0, color="0.75", lw=0.6, zorder=0)
            ax.grid(alpha=0.25)
            ax.margins(y=0.25 if protocol == "weight" else 0.12)
            if i == 0:
                ax.set_title(
                    PROTOCOL_TITLES[protocol].format(n=p.pairings, r=p.rate_pre, T=p.rate_duration / 1000, d=p.weight_delta), fontsize=10
                )
            if i == len(rules) - 1:
                ax.set_xlabel(X_LABELS[protocol])
            if j == 0:
                ax.set_ylabel(f"{RULE_TITLES[rule].format(mu=p.mu_plus)}\n\nΔw / w_max", fontsize=10)
            else:
                ax.set_ylabel("Δw / w_max")
    handles = []
    for b in order:
        colour, marker, size, fill = _style(b, order)
        handles.append(
            Line2D([], [], ls="none", marker=marker, color=colour, ms=size, mfc=colour if fill == "full" else "none", mew=1.2, label=b)
        )
    handles.append(Line2D([], [], color="black", lw=1.3, label="analytic"))
    if "weight" in protocols:
        handles.append(Line2D([], [], color="black", lw=1.3, ls="--", label="analytic, LTD"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False, fontsize=10)
    fig.suptitle(
        f"Pair STDP (all-to-all), τ+ = {p.tau_plus:g} ms, τ− = {p.tau_minus:g} ms, A+ = {p.A_plus:g}, A− = {p.A_minus:g}, "
        f"w₀ = {p.w0_fraction:g} w_max, w_max = {p.w_max * 1000:g} nS",
        fontsize=11,
    )
    return fig


def frequency_diagram(table: pd.DataFrame) -> Figure:
    """Δw against pairing frequency, one panel per rule, one line per Δt (the numpy reference), markers per backend.

    Parameters
    ----------
    table
        :func:`spikebridge.workflows.frequency.measure`'s table, for one or more rules (Δw in uS, drawn in nS).
    """
    rules = list(dict.fromkeys(table["rule"]))
    order = list(dict.fromkeys(table["backend"]))
    fig, axes = plt.subplots(1, len(rules), figsize=(5.2 * len(rules), 4.0), squeeze=False, layout="constrained")
    for ax, rule in zip(axes[0], rules, strict=True):
        sub = table[table["rule"] == rule]
        for k, (curve, rows) in enumerate(sub.groupby("curve", sort=False)):
            ref = rows[rows["backend"] == order[0]].sort_values("rate")
            ax.plot(ref["rate"], 1e3 * ref["reference"], color="0.4", ls=["-", "--", ":", "-."][k % 4], lw=1.2, label=f"{curve}: reference")
            for backend in order:
                colour, marker, size, fill = _style(backend, order)
                got = rows[rows["backend"] == backend].sort_values("rate")
                ax.plot(got["rate"], 1e3 * got["dw"], ls="none", marker=marker, ms=size, color=colour, fillstyle=fill)
        ax.axhline(0.0, color="0.8", lw=0.8, zorder=0)
        ax.set(title=rule, xlabel="pairing frequency (Hz)", ylabel="Δw (nS or pA)")
    handles = []
    for backend in order:
        colour, marker, size, fill = _style(backend, order)
        handles.append(Line2D([], [], ls="none", marker=marker, ms=size, color=colour, fillstyle=fill, label=backend))  # type: ignore[arg-type]
    axes[0][-1].legend(handles=[*axes[0][-1].get_legend_handles_labels()[0], *handles], fontsize=8, frameon=False)
    pairings = int(table.get("pairings", pd.Series([60])).iloc[0])
    fig.suptitle(f"NESTML rules: {pairings} pairings per frequency, the same spike trains on every backend", fontsize=11)
    return fig


def draw_rule(ax: Axes, sub: pd.DataFrame, order: list[str], fontsize: float | None = None) -> None:
    """One rule's diagram of :func:`comparison_row` on ``ax``: the numpy replay per curve, the rate-based rule dashed,
    markers per backend (``order``)."""
    shades = ["0.15", "0.45", "0.65"]
    for k, (curve, rows) in enumerate(sub.groupby("curve", sort=False)):
        ref = rows[rows["backend"] == order[0]].sort_values("x")
        label = None if curve == "Δw" else str(curve)
        ax.plot(ref["x"], 1e3 * ref["reference"], color=shades[k % 3], lw=1.3, label=label)
        if ref["analytic"].notna().all():
            ax.plot(ref["x"], 1e3 * ref["analytic"], color=shades[k % 3], lw=0.9, ls="--")
        for backend in order:
            colour, marker, size, fill = _style(backend, order)
            got = rows[rows["backend"] == backend].sort_values("x")
            ax.plot(got["x"], 1e3 * got["dw"], ls="none", marker=marker, ms=size - 1, color=colour, fillstyle=fill)
    ax.axhline(0.0, color="0.85", lw=0.8, zorder=0)
    ax.axvline(0.0, color="0.85", lw=0.8, zorder=0)
    ax.set_title(str(sub["title"].iloc[0]), fontsize=fontsize)
    ax.set_xlabel(str(sub["xlabel"].iloc[0]), fontsize=fontsize)
    if any(c != "Δw" for c in sub["curve"]):
        ax.legend(fontsize=6 if fontsize else 7, frameon=False)


def comparison_row(table: pd.DataFrame) -> Figure:
    """The learning-rule comparison's row: Δw of each rule against its own control variable, one panel per rule,
    the numpy replay as a line per curve, the rate-based rule dashed where it has a closed form, markers per backend.

    Parameters
    ----------
    table
        :func:`spikebridge.workflows.diagrams.measure`'s table (Δw in nA, drawn in pA: the rules' unit).
    """
    rules = list(dict.fromkeys(table["rule"]))
    order = list(dict.fromkeys(table["backend"]))
    fig, axes = plt.subplots(1, len(rules), figsize=(3.6 * len(rules), 3.6), squeeze=False, layout="constrained")
    for ax, rule in zip(axes[0], rules, strict=True):
        draw_rule(ax, table[table["rule"] == rule], order)
        if ax is axes[0][0]:
            ax.set_ylabel("Δw (pA)")
    handles = [Line2D([], [], color="0.15", lw=1.3, label="rule, replayed in numpy"),
               Line2D([], [], color="0.15", lw=0.9, ls="--", label="rate-based rule")]
    for backend in order:
        colour, marker, size, fill = _style(backend, order)
        handles.append(Line2D([], [], ls="none", marker=marker, ms=size - 1, color=colour, fillstyle=fill, label=backend))  # type: ignore[arg-type]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle("NESTML rules against the variable each depends on: the same spike trains on every backend", fontsize=11)
    return fig
