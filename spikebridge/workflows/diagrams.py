"""The learning-rule comparison's row of diagrams: each bundled rule's Δw against the variable it depends on.

The comparison figure (Milstein-Lab/EIANN) opens with five diagrams drawn from the rate-based rules: the linear
error-driven rule against the error, BTSP against the input sample, Hebb + weight normalisation and BCM (θ moving)
against the post-synaptic activity, temporal-contrast Hebb against the change of activity. Here each is measured on
spiking networks: deterministic pre and post trains (regular, on the dt grid) put the rule's control variable where
the protocol wants it, every point is one independent pre/post pair of one network (all five rules in one network,
built once per backend), and ``reference`` is the rule replayed in numpy on the same spike times
(:mod:`spikebridge.analysis.custom_rules`); ``analytic`` is the rate-based rule's value where it has a closed form.

Weights are the projection's (nA: the post cells are current-based; the rules see pA).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.custom_rules import DELTA, HEBB_NORMALISED, REPLAYS, TEMPORAL_CONTRAST
from .frequency import CURRENT_DRIVE
from .rules import DEAD_TIME, FLUSH, POST_CELL, _grid

DT = 0.1
DELAY = 0.1
ROW = ("delta_rule", "btsp", "hebb_normalised", "bcm", "temporal_contrast_hebb")
"""The comparison figure's order: error-driven, plateau-driven, then the activity-dependent rules."""
PARAMETERS: dict[str, dict[str, float]] = {
    "delta_rule": {"tau_y": 500.0},
    "hebb_normalised": {"tau_x": 500.0, "tau_y": 500.0},
    "bcm": {"tau_x": 200.0, "tau_y": 200.0, "tau_theta": 5000.0, "y0": 30.0},
}
"""Parameters the diagrams set over the bundled defaults: rate traces long beside the trains' intervals, so that a
trace read at a spike is close to the rate (a regular train's trace just before its own spike is
ν (T/τ) e^(-T/τ) / (1 - e^(-T/τ)), T = 1/ν: 0.58 ν for T = τ); BCM's θ slow beside the test period."""


@dataclass(frozen=True)
class Diagram:
    """One rule's protocol: the trains, initial weight and control variable of each of its pre/post pairs.

    Parameters
    ----------
    rule, title, xlabel
        The bundled rule, the panel's title and its abscissa's label.
    pre, post
        Each pair's pre and post spike times (ms; post as the cell fires).
    w0
        Each pair's initial weight (nA).
    x, curve
        Each pair's control variable and the curve it belongs to.
    flush
        Whether the rule changes w at post spikes: NEST applies those at the next pre spike, so a late pre spike is
        added, far enough for every trace to have decayed.
    analytic
        The rate-based rule's Δw (nA) at each point, where it has a closed form.
    parameters
        The rule's parameters over its defaults.
    """

    rule: str
    title: str
    xlabel: str
    pre: list[np.ndarray]
    post: list[np.ndarray]
    w0: np.ndarray
    x: np.ndarray
    curve: list[str]
    flush: bool
    analytic: np.ndarray | None = field(default=None, repr=False)
    parameters: dict[str, float] = field(default_factory=dict)


def regular(rate: float, start: float, stop: float, phase: float = 0.0) -> np.ndarray:
    """A regular train at ``rate`` Hz in [start + phase, stop) on the dt grid (empty at 0 Hz)."""
    if rate <= 0.0:
        return np.empty(0)
    return _grid(np.arange(start + phase, stop - 1e-9, 1000.0 / rate), DT)


def _pairs(count: int, pre: Callable[[int], np.ndarray], post: Callable[[int], np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    return [pre(k) for k in range(count)], [post(k) for k in range(count)]


def delta_rule(points: int = 9) -> Diagram:
    """The error y_target - y: post cells fire regularly at 0 to 2 y_target Hz from t = 0; 20 pre spikes at 20 Hz
    start after 2.5 s, when the post trace has settled. Rate-based: Δw = η · 20 · (y_target - ν)."""
    params = PARAMETERS["delta_rule"]
    p = {**DELTA, **params}
    rates = np.linspace(0.0, 2 * p["y_target"], points)
    pre, post = _pairs(points, lambda k: regular(20.0, 2500.0, 3500.0, 3.0), lambda k: regular(rates[k], 0.0, 3500.0, 4.0))
    w0 = np.full(points, 0.005)
    analytic = p["eta"] * 20 * (p["y_target"] - rates) / 1000.0
    return Diagram(
        "delta_rule",
        "Linear error-driven (delta rule)",
        "error y_target - y (Hz)",
        pre,
        post,
        w0,
        p["y_target"] - rates,
        ["Δw"] * points,
        flush=False,
        analytic=analytic,
        parameters=dict(params),
    )


def btsp(offsets: Iterable[float] = np.arange(-3.0, 3.01, 0.5), weights: Iterable[float] = (0.001, 0.005, 0.009)) -> Diagram:
    """The input sample: a burst of 5 pre spikes (20 Hz) whose start is ``offset`` s from a plateau (one post
    spike at 4 s), for several initial weights (nA; w_max = 10 pA)."""
    plateau = 4000.0
    pre, post, x, curve, w0 = [], [], [], [], []
    for w in weights:
        for offset in offsets:
            start = plateau + 1000.0 * offset + 2.0
            pre.append(regular(20.0, start, start + 250.0))
            post.append(np.array([plateau]))
            x.append(offset)
            curve.append(f"w0 = {1000 * w:g} pA")
            w0.append(w)
    return Diagram("btsp", "BTSP", "input burst - plateau (s)", pre, post, np.asarray(w0), np.asarray(x), curve, flush=True)


def hebb_normalised(
    rates: Iterable[float] = (0, 5, 10, 15, 20, 25, 30, 40, 50, 60), weights: Iterable[float] = (0.005, 0.02), duration: float = 2000.0
) -> Diagram:
    """The post rate: pre at 20 Hz and post regular at 0-60 Hz for 2 s, for two initial weights (nA): the Hebbian
    term grows with the post rate, the normalising term -α y w bends it down the more, the larger w. Rate-based:
    Δw = η ν (20 - α ν w) T_eff, T_eff = T - τ (1 - e^(-T/τ)) as both traces rise from 0."""
    params = PARAMETERS["hebb_normalised"]
    p = {**HEBB_NORMALISED, **params}
    t_eff = (duration - p["tau_x"] * (1 - np.exp(-duration / p["tau_x"]))) / 1000.0
    pre, post, x, curve, w0, analytic = [], [], [], [], [], []
    for w in weights:
        for rate in rates:
            pre.append(regular(20.0, 200.0, 200.0 + duration, 1.0))
            post.append(regular(float(rate), 200.0, 200.0 + duration, 4.0))
            x.append(float(rate))
            curve.append(f"w0 = {1000 * w:g} pA")
            w0.append(w)
            analytic.append(p["eta"] * t_eff * rate * (20.0 - p["alpha"] * rate * 1000 * w) / 1000.0)
    return Diagram(
        "hebb_normalised",
        "Hebb + weight normalisation (Oja)",
        "post rate (Hz)",
        pre,
        post,
        np.asarray(w0),
        np.asarray(x),
        curve,
        flush=True,
        analytic=np.asarray(analytic),
        parameters=dict(params),
    )


def bcm(rates: Iterable[float] = (0, 5, 10, 15, 20, 25, 30, 40, 50, 60, 70), conditioning: Iterable[float] = (10.0, 30.0)) -> Diagram:
    """The post rate with θ moving: the post cell first fires at a conditioning rate for 10 s with no pre spikes (θ
    rises towards rate² / y0), then at the test rate for 1 s with pre spikes at 20 Hz; a higher conditioning
    rate moves the threshold between depression and potentiation to the right."""
    pre, post, x, curve = [], [], [], []
    start = 10_000.0
    for c in conditioning:
        for rate in rates:
            pre.append(regular(20.0, start, start + 1000.0, 1.0))
            post.append(np.concatenate([regular(c, 0.0, start, 4.0), regular(float(rate), start, start + 1000.0, 4.0)]))
            x.append(float(rate))
            curve.append(f"θ after {c:g} Hz")
    n = len(x)
    return Diagram(
        "bcm",
        "BCM (θ moving)",
        "post rate (Hz)",
        pre,
        post,
        np.full(n, 0.005),
        np.asarray(x),
        curve,
        flush=True,
        parameters=dict(PARAMETERS["bcm"]),
    )


def temporal_contrast_hebb(
    before: float = 20.0, after: Iterable[float] = (0, 5, 10, 15, 20, 25, 30, 35, 40), params: Mapping[str, float] = TEMPORAL_CONTRAST
) -> Diagram:
    """The change of activity Δc: the post cell fires at 20 Hz for 3 s, then at 0-40 Hz; 10 pre spikes (50 Hz)
    from 100 ms after the change see the fast post trace already near the new rate, the slow one still near the
    old one."""
    p = {**TEMPORAL_CONTRAST, **params}
    step = 3000.0
    after = list(after)
    pre_times = regular(50.0, step + 100.0, step + 300.0, 1.0)
    pre, post = _pairs(
        len(after),
        lambda k: pre_times,
        lambda k: np.concatenate([regular(before, 0.0, step, 4.0), regular(after[k], step, step + 400.0, 4.0)]),
    )
    contrast = np.exp(-(pre_times - step) / p["tau_slow"]) - np.exp(-(pre_times - step) / p["tau_fast"])
    delta = np.asarray(after) - before
    analytic = p["eta"] * delta * contrast.sum() / 1000.0
    return Diagram(
        "temporal_contrast_hebb",
        "Temporal-contrast Hebb",
        "Δc = c_new - c_old (Hz)",
        pre,
        post,
        np.full(len(after), 0.005),
        delta,
        ["Δw"] * len(after),
        flush=False,
        analytic=analytic,
    )


DIAGRAMS: dict[str, Callable[[], Diagram]] = {
    "delta_rule": delta_rule, "btsp": btsp, "hebb_normalised": hebb_normalised, "bcm": bcm,
    "temporal_contrast_hebb": temporal_contrast_hebb,
}  # fmt: skip
"""The protocol of each rule of the row."""


def reference(d: Diagram) -> np.ndarray:
    """Δw (nA) of each pair by the rule's numpy replay (which runs in the rule's pA)."""
    replay = REPLAYS[d.rule]
    return np.array([
        replay(np.append(a, f) if f is not None else a, b, 1000.0 * w, d.parameters, DELAY) / 1000.0 - w
        for a, b, w, f in zip(d.pre, d.post, d.w0, [_flush(d)] * len(d.pre), strict=True)
    ])  # fmt: skip


def _end(d: Diagram) -> float:
    return max(float(t[-1]) for t in [*d.pre, *d.post] if len(t))


def _flush(d: Diagram) -> float | None:
    return float(_grid(np.array([_end(d) + FLUSH]), DT)[0]) if d.flush else None


def model(diagrams: Iterable[Diagram], seed: int = 2024) -> dict[str, Any]:
    """One network for every diagram: per rule a pre, a drive (SpikeSourceArray) and a post (IF_curr_exp)
    population of one cell per point; the drive makes each post cell fire where its train says."""
    populations: dict[str, Any] = {}
    projections: dict[str, Any] = {}
    stop = 0.0
    for d in diagrams:
        n, flush = len(d.pre), _flush(d)
        if any(np.any(np.diff(t) < DEAD_TIME) for t in d.post):
            raise ValueError(f"{d.rule}: post spikes closer than {DEAD_TIME} ms (the post cell's refractory period)")
        pre = [[*map(float, t), *([flush] if flush is not None else [])] for t in d.pre]
        populations[f"pre_{d.rule}"] = {"cell_type": "SpikeSourceArray", "size": n, "spike_times": pre}
        populations[f"drive_{d.rule}"] = {
            "cell_type": "SpikeSourceArray",
            "size": n,
            "spike_times": [list(map(float, _grid(np.asarray(t) - 2 * DT, DT))) for t in d.post],
        }
        populations[f"post_{d.rule}"] = {"cell_type": "IF_curr_exp", "size": n, "parameters": POST_CELL}
        projections[d.rule] = {
            "pre": f"pre_{d.rule}",
            "post": f"post_{d.rule}",
            "weight": 0.0,
            "connector": {"rule": "from_list", "connections": [[c, c, float(d.w0[c]), DELAY] for c in range(n)]},
            "synapse": {"type": d.rule, "parameters": dict(d.parameters)},
        }
        projections[f"drive_{d.rule}"] = {
            "pre": f"drive_{d.rule}",
            "post": f"post_{d.rule}",
            "connector": {"rule": "one_to_one"},
            "weight": CURRENT_DRIVE,
            "delay": DT,
        }
        stop = max(stop, flush if flush is not None else _end(d))
    return {
        "name": "rule_diagrams",
        "populations": populations,
        "projections": projections,
        "recording": {name: {"variables": ["spikes"]} for name in populations if name.startswith("post_")},
        "simulation": {"dt": DT, "duration": stop + 10 * DT, "seed": seed},
    }  # fmt: skip


def measure(backend_names: Iterable[str], rules: Iterable[str] = ROW, progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Every diagram's Δw on every backend, beside the replay and the rate-based value; one row per backend and point.

    Returns
    -------
    pandas.DataFrame
        Columns ``backend, rule, title, xlabel, curve, x, w0, dw, reference, analytic, exact`` (weights nA);
        ``exact``: every post spike landed where the protocol put it.
    """
    from .rules import simulated, spike_trains

    diagrams = [DIAGRAMS[r]() for r in rules]
    raw = model(diagrams)
    frames = []
    for backend in backend_names:
        with simulated(backend, raw) as sim:
            segment = sim.recordings().segments[0]
            for d in diagrams:
                flush = _flush(d)
                spikes = [t if flush is None else t[t < flush] for t in spike_trains(segment, f"post_{d.rule}", len(d.pre))]
                exact = [len(a) == len(b) and bool(np.all(np.abs(a - b) < 1e-6)) for a, b in zip(spikes, d.post, strict=True)]
                frames.append(pd.DataFrame({
                    "backend": backend, "rule": d.rule, "title": d.title, "xlabel": d.xlabel, "curve": d.curve, "x": d.x,
                    "w0": d.w0, "dw": sim.connections(d.rule).weight - d.w0, "reference": reference(d),
                    "analytic": d.analytic if d.analytic is not None else np.nan, "exact": exact,
                }))  # fmt: skip
        if progress is not None:
            progress(backend)
    return pd.concat(frames, ignore_index=True)


def agreement(table: pd.DataFrame) -> pd.DataFrame:
    """Per rule and backend: the largest absolute difference of Δw from the replay, relative to the rule's largest
    absolute Δw, and whether every post spike was where the protocol put it."""
    frame = table.copy()
    scale = frame.groupby("rule")["reference"].transform(lambda r: r.abs().max())
    frame["vs_reference"] = (frame["dw"] - frame["reference"]).abs() / scale
    return frame.groupby(["rule", "backend"], sort=False).agg(vs_reference=("vs_reference", "max"), exact=("exact", "all"))
