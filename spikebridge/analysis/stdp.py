"""Pair STDP, all-to-all through traces, as NEST's ``stdp_synapse`` implements it: the rule's parameters, an
event-by-event replay in numpy and the closed-form expectations of the three protocols of
:mod:`spikebridge.workflows.rules`, which measures them on every backend.

With x = (w - w_min)/(w_max - w_min), at each post spike (seen at t_post + d) x <- min(x + A+ f+(x) K+, 1) and at
each pre spike x <- max(x - A- f-(x) K-, 0), ``K± = Σ exp(-|Δt|/τ±)`` over the other cell's earlier spikes (spikes
coinciding at the synapse are not paired); f+ = (1-x)^μ+, f- = x^μ- with (μ+, μ-) = (0, 0) additive, (1, 1)
multiplicative, (0, 1) additive potentiation / multiplicative depression, free for Gütig. Weights are in uS, times
in ms, rates in Hz.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

RULES = ("additive", "multiplicative", "additive_potentiation_multiplicative_depression", "gutig")
PROTOCOLS = ("timing", "rate", "weight")
EXPONENTS = {"additive": (0.0, 0.0), "multiplicative": (1.0, 1.0), "additive_potentiation_multiplicative_depression": (0.0, 1.0)}


@dataclass(frozen=True)
class Params:
    """Rule and protocol parameters shared by every measurement (ms, uS, Hz)."""

    dt: float = 0.1
    tau_plus: float = 16.8
    tau_minus: float = 33.7
    A_plus: float = 0.005
    A_minus: float = 0.004
    w_min: float = 0.0
    w_max: float = 0.001
    mu_plus: float = 0.4  # Gütig's exponents
    mu_minus: float = 0.4
    w0_fraction: float = 0.5
    delay: float = 0.1
    pairings: int = 60
    pairing_interval: float = 1000.0
    deltas: tuple[float, ...] = (-100, -80, -60, -50, -40, -30, -25, -20, -15, -10, -7.5, -5, -2.5, -1,
                                 1, 2.5, 5, 7.5, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100)  # fmt: skip
    rate_pre: float = 10.0
    rates_post: tuple[float, ...] = (1, 2, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50)
    rate_duration: float = 10_000.0
    rate_repeats: int = 16
    weight_delta: float = 10.0
    weight_steps: int = 21
    seed: int = 2024
    start: float = 200.0  # ms before the first protocol spike

    @property
    def w0(self) -> float:
        """The initial weight (uS): ``w_min + w0_fraction * (w_max - w_min)``."""
        return self.w_min + self.w0_fraction * (self.w_max - self.w_min)

    def exponents(self, rule: str) -> tuple[float, float]:
        """The weight dependence's exponents ``(mu_plus, mu_minus)`` of a rule.

        Parameters
        ----------
        rule : str
            One of :data:`RULES`.

        Returns
        -------
        tuple of float
            ``(0, 0)`` additive, ``(1, 1)`` multiplicative, ``(0, 1)`` additive potentiation / multiplicative
            depression, this object's ``(mu_plus, mu_minus)`` for Gütig.
        """
        return (self.mu_plus, self.mu_minus) if rule == "gutig" else EXPONENTS[rule]

    def synapse(self, rule: str) -> dict[str, Any]:
        """The model's ``synapse`` table for a projection that follows ``rule`` with these parameters.

        Parameters
        ----------
        rule : str
            One of :data:`RULES`.

        Returns
        -------
        dict
            ``{"type": "stdp", "timing": {...}, "weight_dependence": {...}}`` (ms, uS).
        """
        dep: dict[str, Any] = {"rule": rule, "w_min": self.w_min, "w_max": self.w_max}
        if rule == "gutig":
            dep |= {"mu_plus": self.mu_plus, "mu_minus": self.mu_minus}
        timing = {"tau_plus": self.tau_plus, "tau_minus": self.tau_minus, "A_plus": self.A_plus, "A_minus": self.A_minus}
        return {"type": "stdp", "timing": timing, "weight_dependence": dep}


def replay(pre: np.ndarray, post: np.ndarray, rule: str, w0: float, p: Params) -> float:
    """The final weight after NEST's all-to-all pair rule sees pre spikes ``pre`` and post spikes ``post`` (ms).

    Post spikes reach the synapse ``p.delay`` later (dendritic delay); at equal times facilitation comes first;
    traces count strictly earlier spikes only, so coinciding spikes are not paired.

    Parameters
    ----------
    pre, post : numpy.ndarray
        Spike times (ms).
    rule : str
        One of :data:`RULES`.
    w0 : float
        The initial weight (uS).
    p : Params
        Rule parameters (``p.delay`` and ``p.dt`` in ms).

    Returns
    -------
    float
        The final weight (uS).
    """
    mu_p, mu_m = p.exponents(rule)
    span = p.w_max - p.w_min
    x = (w0 - p.w_min) / span
    # post before pre at equal times; pre spikes at t therefore never enter a post spike's trace at t
    step = lambda t: int(round(float(t) / p.dt))  # compare times in whole steps, as simulators do
    d = step(p.delay)
    events = sorted([(step(t) + d, 0) for t in post] + [(step(t), 1) for t in pre])
    k_plus = k_minus = 0.0
    t_plus = t_minus = 0.0
    for n, kind in events:
        t = n * p.dt
        if kind == 0:
            x = min(x + p.A_plus * _pow(1.0 - x, mu_p) * k_plus * math.exp((t_plus - t) / p.tau_plus), 1.0)
            k_minus = k_minus * math.exp((t_minus - t) / p.tau_minus) + 1.0
            t_minus = t
        else:
            # a post spike at this very time is already in the trace: take it out (it is not paired)
            trace = (k_minus - (1.0 if t_minus == t else 0.0)) * math.exp((t_minus - t) / p.tau_minus)
            x = max(x - p.A_minus * _pow(x, mu_m) * trace, 0.0)
            k_plus = k_plus * math.exp((t_plus - t) / p.tau_plus) + 1.0
            t_plus = t
    return p.w_min + span * x


def _pow(base: float, exponent: float) -> float:
    return 1.0 if exponent == 0.0 else float(max(base, 0.0) ** exponent)


def _f_plus(x: np.ndarray, mu: float) -> np.ndarray:
    return np.ones_like(x) if mu == 0.0 else np.clip(1.0 - x, 0.0, 1.0) ** mu


def _f_minus(x: np.ndarray, mu: float) -> np.ndarray:
    return np.ones_like(x) if mu == 0.0 else np.clip(x, 0.0, 1.0) ** mu


def analytic_timing(rule: str, deltas: np.ndarray, p: Params = Params()) -> np.ndarray:
    """Δw (uS) after ``p.pairings`` pairings at Δt = ``deltas`` (ms), from ``p.w0``.

    Pairings 1 s apart interact through exp(-1000/τ) ≈ 1e-13, so each pairing is one update from the weight the
    previous ones left: x <- min(x + A+ e^{-Δt/τ+} f+(x), 1) for Δt > 0, x <- max(x - A- e^{Δt/τ-} f-(x), 0) for
    Δt < 0, nothing at Δt = 0. For the additive rule that is n·w_max·A± e^{∓Δt/τ±} (the single-pair window times
    n) while no bound is hit; for the others the 60 updates are iterated.

    Parameters
    ----------
    rule : str
        One of :data:`RULES`.
    deltas : numpy.ndarray
        ``t_post - t_pre`` of each protocol (ms).
    p : Params, optional
        Rule and protocol parameters.

    Returns
    -------
    numpy.ndarray
        Δw (uS), one per ``deltas``.
    """
    mu_p, mu_m = p.exponents(rule)
    dt = np.asarray(deltas, dtype=np.float64)
    x0 = (p.w0 - p.w_min) / (p.w_max - p.w_min)
    x = np.full(dt.shape, x0)
    up, down = p.A_plus * np.exp(-np.abs(dt) / p.tau_plus), p.A_minus * np.exp(-np.abs(dt) / p.tau_minus)
    for _ in range(p.pairings):
        x = np.where(dt > 0, np.minimum(x + up * _f_plus(x, mu_p), 1.0), np.where(dt < 0, np.maximum(x - down * _f_minus(x, mu_m), 0.0), x))
    return (p.w_max - p.w_min) * (x - x0)


def effective_tau(tau: float, dt: float) -> float:
    """``dt Σ_{k≥1} e^{-k dt/τ} = dt / (e^{dt/τ} - 1) ≈ τ - dt/2``: the window's area on the dt grid, Δt = 0 unpaired.

    Parameters
    ----------
    tau : float
        The window's time constant (ms).
    dt : float
        The simulation step (ms).

    Returns
    -------
    float
        The effective time constant (ms).

    Examples
    --------
    >>> round(float(effective_tau(20.0, 0.1)), 4)
    19.95
    """
    return dt / np.expm1(dt / tau)


def analytic_rate(rule: str, rates_post: np.ndarray, p: Params = Params()) -> np.ndarray:
    """Expected Δw (uS) for independent stationary trains at ``p.rate_pre`` and ``rates_post`` (Hz) over T ms.

    Independent trains have a flat cross-correlation, so the expected number of pairs at lag Δt in dt is
    r_pre r_post T dt (rates per ms), whatever their regularity. Pairs accumulate at time t from lags up to t, so

        dx/dt = r_pre r_post [A+ τ+' (1 - e^{-t/τ+}) f+(x) - A- τ-' (1 - e^{-t/τ-}) f-(x)],   τ' = effective_tau(τ)

    For the additive rule this integrates to Δx = r_pre r_post [A+ τ+' (T - τ+(1 - e^{-T/τ+})) - A- τ-' (T -
    τ-(1 - e^{-T/τ-}))]: linear in r_post, with no BCM-like threshold (all-to-all pair STDP has none). For the
    others it is integrated numerically (RK4, 1 ms steps): mean field, exact to first order in A± (the weight's
    correlation with the coming pairs is of order A²).

    Parameters
    ----------
    rule : str
        One of :data:`RULES`.
    rates_post : numpy.ndarray
        Postsynaptic rates (Hz).
    p : Params, optional
        Rule and protocol parameters.

    Returns
    -------
    numpy.ndarray
        Expected Δw (uS), one per rate.
    """
    mu_p, mu_m = p.exponents(rule)
    k = np.asarray(rates_post, dtype=np.float64) * p.rate_pre * 1e-6
    a_p, a_m = p.A_plus * effective_tau(p.tau_plus, p.dt), p.A_minus * effective_tau(p.tau_minus, p.dt)

    def drift(t: float, x: np.ndarray) -> np.ndarray:
        return k * (a_p * -np.expm1(-t / p.tau_plus) * _f_plus(x, mu_p) - a_m * -np.expm1(-t / p.tau_minus) * _f_minus(x, mu_m))

    x0 = (p.w0 - p.w_min) / (p.w_max - p.w_min)
    x = np.full(k.shape, x0)
    h = 1.0
    for step in range(int(round(p.rate_duration / h))):
        t = step * h
        k1 = drift(t, x)
        k2 = drift(t + h / 2, x + h / 2 * k1)
        k3 = drift(t + h / 2, x + h / 2 * k2)
        k4 = drift(t + h, x + h * k3)
        x = np.clip(x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), 0.0, 1.0)
    return (p.w_max - p.w_min) * (x - x0)


def rate_sem(rates_post: np.ndarray, p: Params = Params()) -> np.ndarray:
    """The expected standard deviation (uS) of one pair's additive Δw in the rate protocol (Poisson trains).

    Var = r_pre r_post T ∫W² + (r_pre² r_post + r_pre r_post²) T (∫W)², with ∫W = A+τ+ - A-τ-,
    ∫W² = (A+²τ+ + A-²τ-)/2 (w_max units): the spread the rate protocol's tolerance is scaled by.

    Parameters
    ----------
    rates_post : numpy.ndarray
        Postsynaptic rates (Hz).
    p : Params, optional
        Rule and protocol parameters.

    Returns
    -------
    numpy.ndarray
        Standard deviation of Δw (uS), one per rate.
    """
    r_pre, r_post, T = p.rate_pre * 1e-3, np.asarray(rates_post, dtype=np.float64) * 1e-3, p.rate_duration
    area = p.A_plus * p.tau_plus - p.A_minus * p.tau_minus
    area2 = (p.A_plus**2 * p.tau_plus + p.A_minus**2 * p.tau_minus) / 2
    var = r_pre * r_post * T * area2 + (r_pre**2 * r_post + r_pre * r_post**2) * T * area**2
    return (p.w_max - p.w_min) * np.sqrt(var)


def analytic_weight(rule: str, w0: np.ndarray, sign: np.ndarray, p: Params = Params()) -> np.ndarray:
    """Δw (uS) of one pairing at Δt = sign·``p.weight_delta`` from weight ``w0`` (uS): the dependence itself,

    Δw = (w_max - w_min)·[min(x + A+ e^{-δ/τ+} (1-x)^μ+, 1) - x] (LTP) or [max(x - A- e^{-δ/τ-} x^μ-, 0) - x] (LTD).

    Parameters
    ----------
    rule : str
        One of :data:`RULES`.
    w0 : numpy.ndarray
        Weights before the pairing (uS).
    sign : numpy.ndarray
        ``+1`` for potentiation (post after pre), ``-1`` for depression, one per weight.
    p : Params, optional
        Rule and protocol parameters.

    Returns
    -------
    numpy.ndarray
        Δw (uS), one per weight.
    """
    mu_p, mu_m = p.exponents(rule)
    span = p.w_max - p.w_min
    x = (np.asarray(w0, dtype=np.float64) - p.w_min) / span
    up = np.minimum(x + p.A_plus * np.exp(-p.weight_delta / p.tau_plus) * _f_plus(x, mu_p), 1.0)
    down = np.maximum(x - p.A_minus * np.exp(-p.weight_delta / p.tau_minus) * _f_minus(x, mu_m), 0.0)
    return span * (np.where(np.asarray(sign) > 0, up, down) - x)
