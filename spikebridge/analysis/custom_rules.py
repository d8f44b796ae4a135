"""Reference replays of the bundled NESTML rules, written from their papers' equations (not from the NESTML files).

Each replay takes a pre and a post spike train (ms) and the initial weight, and returns the final weight, with the
event conventions of NEST's NESTML synapses: the rule sees a post spike ``delay`` ms after the cell fired
(dendritic delay) and a pre spike when it was sent; a post spike seen at the same time as a pre spike is handled
first; each trace is read as it was just before the spike that reads it. The simulators' results are checked
against these (``tests/validation/test_nestml_rules.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

TRIPLET = {
    "tau_plus": 16.8, "tau_x": 101.0, "tau_minus": 33.7, "tau_y": 125.0,
    "A2_plus": 5e-10, "A3_plus": 6.2e-3, "A2_minus": 7e-3, "A3_minus": 2.3e-4, "Wmin": 0.0, "Wmax": 100.0,
}  # fmt: skip
"""Pfister & Gerstner (2006), Table 4: all-to-all, full triplet model, visual cortex."""

SATURATING = {"tau_C": 5.0, "tau_D": 5.0, "alpha_C": 0.5, "alpha_D": 0.5, "rho": 0.1, "mu": 0.05, "w_max": 1.0}
"""The defaults of the bundled ``saturating_stdp`` rule."""


def _events(pre: np.ndarray, post: np.ndarray, delay: float) -> list[tuple[float, int]]:
    """(time, kind) in the order the rule sees them: kind 0 = post (first at equal times), 1 = pre."""
    events = [(float(t) + delay, 0) for t in post] + [(float(t), 1) for t in pre]
    return sorted(events)


def _clip(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)


Traces = dict[str, float]
Handler = Callable[[Traces, float], float]


def _replay(
    pre: np.ndarray, post: np.ndarray, w0: float, delay: float, taus: Mapping[str, float], on_post: Handler, on_pre: Handler
) -> float:
    """Run a rule's handlers over the events: every trace (named by ``taus``, starting at 0) decays exponentially
    between events; a handler updates the traces in place and returns the new weight."""
    traces = dict.fromkeys(taus, 0.0)
    w, last = w0, 0.0
    for t, kind in _events(pre, post, delay):
        for name, tau in taus.items():
            traces[name] *= np.exp(-(t - last) / tau)
        last = t
        w = (on_post if kind == 0 else on_pre)(traces, w)
    return float(w)


def triplet(pre: np.ndarray, post: np.ndarray, w0: float, params: Mapping[str, float] = TRIPLET, delay: float = 0.1) -> float:
    """The final weight under Pfister & Gerstner's all-to-all triplet rule.

    Pre traces ``r1`` (τ+), ``r2`` (τx) and post traces ``o1`` (τ-), ``o2`` (τy) jump by 1 at each spike. At a post
    spike ``w += r1 (A2+ + A3+ o2)``, at a pre spike ``w -= o1 (A2- + A3- r2)``, the traces read before their own
    spike's jump; ``w`` is kept in ``[Wmin, Wmax]``.

    Examples
    --------
    >>> triplet(np.array([10.0]), np.array([19.9]), 1.0) > 1.0  # one pair, Δt = +10 ms: w grows by exp(-10/16.8) A2+
    True
    """
    p = {**TRIPLET, **params}

    def post_spike(s: Traces, w: float) -> float:
        w = min(p["Wmax"], w + s["r1"] * (p["A2_plus"] + p["A3_plus"] * s["o2"]))
        s["o1"] += 1.0
        s["o2"] += 1.0
        return w

    def pre_spike(s: Traces, w: float) -> float:
        w = max(p["Wmin"], w - s["o1"] * (p["A2_minus"] + p["A3_minus"] * s["r2"]))
        s["r1"] += 1.0
        s["r2"] += 1.0
        return w

    taus = {"r1": p["tau_plus"], "r2": p["tau_x"], "o1": p["tau_minus"], "o2": p["tau_y"]}
    return _replay(pre, post, w0, delay, taus, post_spike, pre_spike)


def saturating(pre: np.ndarray, post: np.ndarray, w0: float, params: Mapping[str, float] = SATURATING, delay: float = 0.1) -> float:
    """The final weight under the binding model's saturating rule (see ``saturating_stdp.nestml``).

    ``C`` (pre) and ``D`` (post) decay with τC, τD and saturate at 1: at a pre spike ``C += αC (1 - C)`` and
    ``w -= ρ w^μ D``; at a post spike ``D += αD (1 - D)`` and ``w += ρ (w_max - w)^μ C``; ``w`` in ``[0, w_max]``.

    Examples
    --------
    >>> saturating(np.array([10.0]), np.array([12.0]), 0.5) > 0.5  # pre before post: potentiation
    True
    """
    p = {**SATURATING, **params}

    def post_spike(s: Traces, w: float) -> float:
        s["D"] = _clip(s["D"] + p["alpha_D"] * (1 - s["D"]), 0.0, 1.0)
        return _clip(w + p["rho"] * (p["w_max"] - w) ** p["mu"] * s["C"], 0.0, p["w_max"])

    def pre_spike(s: Traces, w: float) -> float:
        s["C"] = _clip(s["C"] + p["alpha_C"] * (1 - s["C"]), 0.0, 1.0)
        return _clip(w - p["rho"] * w ** p["mu"] * s["D"], 0.0, p["w_max"])

    return _replay(pre, post, w0, delay, {"C": p["tau_C"], "D": p["tau_D"]}, post_spike, pre_spike)


TEMPORAL_CONTRAST = {"tau_fast": 50.0, "tau_slow": 500.0, "eta": 0.001, "w_min": 0.0, "w_max": 10.0}
BCM = {"tau_x": 50.0, "tau_y": 50.0, "tau_theta": 2000.0, "y0": 10.0, "eta": 1e-5, "w_min": 0.0, "w_max": 10.0}
HEBB_NORMALISED = {"tau_x": 50.0, "tau_y": 50.0, "eta": 1e-4, "alpha": 0.05, "w_min": 0.0, "w_max": 100.0}
DELTA = {"tau_y": 100.0, "y_target": 20.0, "eta": 0.001, "w_min": 0.0, "w_max": 10.0}
BTSP = {"tau_e": 1660.0, "tau_p": 440.0, "alpha_e": 0.1, "eta": 0.5, "eta_after": 0.05, "k": 0.5, "w_max": 10.0}


def temporal_contrast_hebb(
    pre: np.ndarray, post: np.ndarray, w0: float, params: Mapping[str, float] = TEMPORAL_CONTRAST, delay: float = 0.1
) -> float:
    """Δw = η (y_fast - y_slow) at each pre spike; y_fast, y_slow: post rates (Hz) over τ_fast, τ_slow.

    Examples
    --------
    >>> rising = np.arange(100.0, 1000.0, 10.0)  # the post cell starts firing at 100 Hz: the contrast is positive
    >>> temporal_contrast_hebb(np.array([150.0]), rising, 1.0) > 1.0
    True
    """
    p = {**TEMPORAL_CONTRAST, **params}

    def post_spike(s: Traces, w: float) -> float:
        s["fast"] += 1000.0 / p["tau_fast"]
        s["slow"] += 1000.0 / p["tau_slow"]
        return w

    def pre_spike(s: Traces, w: float) -> float:
        return _clip(w + p["eta"] * (s["fast"] - s["slow"]), p["w_min"], p["w_max"])

    return _replay(pre, post, w0, delay, {"fast": p["tau_fast"], "slow": p["tau_slow"]}, post_spike, pre_spike)


def bcm(pre: np.ndarray, post: np.ndarray, w0: float, params: Mapping[str, float] = BCM, delay: float = 0.1) -> float:
    """Δw = η x (y - θ) at each post spike (x, y: pre and post rates in Hz before it), θ ≈ <y²>/y0 over τ_θ.

    Examples
    --------
    >>> fast = np.arange(10.0, 200.0, 20.0)  # 50 Hz on both sides: above theta while it is still low, potentiation
    >>> bcm(fast, fast + 5.0, 1.0) > 1.0
    True
    >>> long = np.arange(10.0, 2000.0, 20.0)  # then theta (tracking <y^2>/y0 = 250 Hz) overtakes y: depression
    >>> bcm(long, long + 5.0, 1.0)
    0.0
    """
    p = {**BCM, **params}

    def post_spike(s: Traces, w: float) -> float:
        w = _clip(w + p["eta"] * s["x"] * (s["y"] - s["theta"]), p["w_min"], p["w_max"])
        s["y"] += 1000.0 / p["tau_y"]
        s["theta"] += s["y"] / p["y0"] * 1000.0 / p["tau_theta"]
        return w

    def pre_spike(s: Traces, w: float) -> float:
        s["x"] += 1000.0 / p["tau_x"]
        return w

    return _replay(pre, post, w0, delay, {"x": p["tau_x"], "y": p["tau_y"], "theta": p["tau_theta"]}, post_spike, pre_spike)


def hebb_normalised(
    pre: np.ndarray, post: np.ndarray, w0: float, params: Mapping[str, float] = HEBB_NORMALISED, delay: float = 0.1
) -> float:
    """Oja's rule: Δw = η (x - α y w) at each post spike (x, y: pre and post rates in Hz before it).

    Examples
    --------
    >>> train = np.arange(10.0, 2000.0, 50.0)  # 20 Hz on both sides: w moves towards x / (α y) = 1 / α
    >>> 1.0 < hebb_normalised(train, train + 5.0, 1.0) < 1 / HEBB_NORMALISED["alpha"]
    True
    """
    p = {**HEBB_NORMALISED, **params}

    def post_spike(s: Traces, w: float) -> float:
        w = _clip(w + p["eta"] * (s["x"] - p["alpha"] * s["y"] * w), p["w_min"], p["w_max"])
        s["y"] += 1000.0 / p["tau_y"]
        return w

    def pre_spike(s: Traces, w: float) -> float:
        s["x"] += 1000.0 / p["tau_x"]
        return w

    return _replay(pre, post, w0, delay, {"x": p["tau_x"], "y": p["tau_y"]}, post_spike, pre_spike)


def btsp(pre: np.ndarray, post: np.ndarray, w0: float, params: Mapping[str, float] = BTSP, delay: float = 0.1) -> float:
    """Plateau-gated BTSP: at a plateau (post spike) Δw = η ((w_max - w) e - k w e²); at a pre spike after plateaus
    Δw = η_after p ((w_max - w) - k w); e: the saturating pre trace (τ_e), p: the plateau trace (τ_p).

    Examples
    --------
    >>> btsp(np.arange(0.0, 1000.0, 100.0), np.array([1500.0]), 1.0) > 1.0  # inputs active before a plateau
    True
    """
    p = {**BTSP, **params}

    def post_spike(s: Traces, w: float) -> float:
        w = _clip(w + p["eta"] * ((p["w_max"] - w) * s["e"] - w * p["k"] * s["e"] * s["e"]), 0.0, p["w_max"])
        s["plateau"] += 1.0
        return w

    def pre_spike(s: Traces, w: float) -> float:
        w = _clip(w + p["eta_after"] * s["plateau"] * ((p["w_max"] - w) - p["k"] * w), 0.0, p["w_max"])
        s["e"] = _clip(s["e"] + p["alpha_e"] * (1 - s["e"]), 0.0, 1.0)
        return w

    return _replay(pre, post, w0, delay, {"e": p["tau_e"], "plateau": p["tau_p"]}, post_spike, pre_spike)


def delta_rule(pre: np.ndarray, post: np.ndarray, w0: float, params: Mapping[str, float] = DELTA, delay: float = 0.1) -> float:
    """The delta rule: Δw = η (y_target - y) at each pre spike; y: the post rate (Hz) over τ_y.

    Examples
    --------
    >>> pre = np.arange(1000.0, 2000.0, 50.0)  # 20 pre spikes; a silent post cell: the error is y_target
    >>> round(delta_rule(pre, np.array([]), 1.0) - 1.0, 12) == round(20 * DELTA["eta"] * DELTA["y_target"], 12)
    True
    """
    p = {**DELTA, **params}

    def post_spike(s: Traces, w: float) -> float:
        s["y"] += 1000.0 / p["tau_y"]
        return w

    def pre_spike(s: Traces, w: float) -> float:
        return _clip(w + p["eta"] * (p["y_target"] - s["y"]), p["w_min"], p["w_max"])

    return _replay(pre, post, w0, delay, {"y": p["tau_y"]}, post_spike, pre_spike)


REPLAYS = {
    "triplet_stdp": triplet,
    "saturating_stdp": saturating,
    "temporal_contrast_hebb": temporal_contrast_hebb,
    "bcm": bcm,
    "hebb_normalised": hebb_normalised,
    "btsp": btsp,
    "delta_rule": delta_rule,
}
"""Reference replay per bundled rule."""
