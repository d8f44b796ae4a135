"""Learning-rule curves: Δw of pair-based STDP measured by three protocols on any backend, with their expectations.

Every protocol is one network, built once per backend, holding many independent pairs: pre cell ``c`` (a spike
source) reaches post cell ``c`` through one plastic synapse *per rule* (the rules see identical spike trains), and
post cell ``c`` is made to spike at imposed times by a strong static input of its own (spike ``2 dt`` earlier,
delay ``dt``: the post cell fires in the step its drive lands). Plastic weights are tiny (``w_max`` = 1 nS), so
they never move a post spike. A last pre spike 1 s after the protocol makes NEST apply its pending
facilitation (NEST facilitates lazily, at the next pre spike).

Protocols (``x`` of each curve):

- ``timing``: 60 pairings at 1 Hz at one spike-timing difference Δt = t_post + d - t_pre (ms) per pair, from
  ``w0 = w_max / 2``;
- ``rate``: independent pre (fixed rate) and post (1-50 Hz) trains of ``T`` ms, drawn in numpy from a seed, many
  pairs per rate; ``x`` is the post rate (Hz), ``dw`` the mean over the pairs (``sem`` its standard error);
- ``weight``: one pairing at Δt = +10 ms (``curve`` "LTP") or -10 ms ("LTD") from initial weights ``w0``
  spanning [w_min, w_max]; ``x`` is ``w0`` (uS).

The rule (NEST's ``stdp_synapse``, which the Brian2 backend reproduces, see ``backends/brian2/stdp.py``) pairs
all-to-all through traces. With x = (w - w_min)/(w_max - w_min), at each post spike (seen at t_post + d)
x <- min(x + A+ f+(x) K+, 1) and at each pre spike x <- max(x - A- f-(x) K-, 0), K± = Σ exp(-|Δt|/τ±) over the
other cell's earlier spikes (spikes coinciding at the synapse are not paired); f+ = (1-x)^μ+, f- = x^μ- with
(μ+, μ-) = (0, 0) additive, (1, 1) multiplicative, (0, 1) additive potentiation / multiplicative depression,
free for Gütig.

Each row of the tables carries two expectations: ``analytic`` (closed forms, see the ``analytic_*`` functions)
and ``reference`` (the rule above replayed event by event in numpy on the protocol's intended spike times).
Weights are in uS, times in ms, rates in Hz.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import backends
from ..errors import BackendError, BackendNotInstalledError, SpikebridgeError
from ..models import instantiate, validate

RULES = ("additive", "multiplicative", "additive_potentiation_multiplicative_depression", "gutig")
PROTOCOLS = ("timing", "rate", "weight")


def default_backends() -> tuple[str, ...]:
    """The backends measured by default: every registered backend's ``exercised`` variants, the model's default
    backend first (today nest, brian2, brian2:cpp); see :func:`spikebridge.backends.exercised`."""
    return tuple(backends.exercised())


BACKENDS = default_backends()
EXPONENTS = {"additive": (0.0, 0.0), "multiplicative": (1.0, 1.0), "additive_potentiation_multiplicative_depression": (0.0, 1.0)}
COLUMNS = ["backend", "rule", "protocol", "curve", "x", "dw", "sem", "analytic", "reference", "n"]
POST_CELL = {"tau_refrac": 5.0, "tau_syn_E": 0.5}  # refractory outlasts the drive's conductance: one spike per drive
DRIVE_WEIGHT = 5.0  # uS: crosses threshold within the step it lands
DEAD_TIME = 6.0  # ms between drawn spikes of one cell: the post cell is out of refractoriness before its next drive
FLUSH = 1000.0  # ms from the protocol's last spike to the flushing pre spike: exp(-FLUSH/tau) is below 1e-12


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
        return self.w_min + self.w0_fraction * (self.w_max - self.w_min)

    def exponents(self, rule: str) -> tuple[float, float]:
        return (self.mu_plus, self.mu_minus) if rule == "gutig" else EXPONENTS[rule]

    def synapse(self, rule: str) -> dict[str, Any]:
        dep: dict[str, Any] = {"rule": rule, "w_min": self.w_min, "w_max": self.w_max}
        if rule == "gutig":
            dep |= {"mu_plus": self.mu_plus, "mu_minus": self.mu_minus}
        timing = {"tau_plus": self.tau_plus, "tau_minus": self.tau_minus, "A_plus": self.A_plus, "A_minus": self.A_minus}
        return {"type": "stdp", "timing": timing, "weight_dependence": dep}


@dataclass(frozen=True)
class Protocol:
    """One protocol's network: imposed spike times per pair, initial weight per pair, what each pair measures."""

    name: str
    pre: list[np.ndarray]
    post: list[np.ndarray]
    w0: np.ndarray
    x: np.ndarray
    curve: list[str]
    model: dict[str, Any] = field(repr=False)


def check_names(rules: Iterable[str], backend_names: Iterable[str] = ()) -> None:
    """Refuse an unknown rule or backend with one line naming it and what is known."""
    for rule in rules:
        if rule not in RULES:
            raise SpikebridgeError(f"unknown rule {rule!r}; known rules: {', '.join(RULES)}")
    for name in backend_names:
        try:
            backends.backend_class(name)  # the name and its variant; a backend not installed fails when it runs
        except BackendNotInstalledError:
            continue
        except BackendError:
            raise SpikebridgeError(f"unknown backend {name!r}; known backends: {', '.join(BACKENDS)}") from None


def _grid(t: np.ndarray, dt: float) -> np.ndarray:
    return np.round(np.rint(np.asarray(t, dtype=np.float64) / dt) * dt, 10)


def _model(name: str, protocol_pre: list[np.ndarray], protocol_post: list[np.ndarray], w0: np.ndarray, rules: Iterable[str], p: Params) -> dict[str, Any]:
    """Pre cells fire at ``protocol_pre`` (plus a flushing spike), post cells at ``protocol_post``."""
    n = len(protocol_pre)
    end = max(max((float(t[-1]) for t in protocol_pre if len(t)), default=0.0), max((float(t[-1]) for t in protocol_post if len(t)), default=0.0))
    flush = _grid(np.array([end + FLUSH]), p.dt)[0]
    pre = [[*map(float, t), flush] for t in protocol_pre]
    drive = [list(map(float, _grid(np.asarray(t) - 2 * p.dt, p.dt))) for t in protocol_post]
    rows = [[c, c, float(w0[c]), p.delay] for c in range(n)]
    projections: dict[str, Any] = {
        rule: {"pre": "pre", "post": "post", "connector": {"rule": "from_list", "connections": rows}, "weight": p.w0,
               "synapse": p.synapse(rule)}
        for rule in rules
    }
    projections["drive"] = {"pre": "drive", "post": "post", "connector": {"rule": "one_to_one"}, "weight": DRIVE_WEIGHT, "delay": p.dt}
    return {
        "name": f"rules_{name}",
        "populations": {
            "pre": {"cell_type": "SpikeSourceArray", "size": n, "spike_times": pre},
            "drive": {"cell_type": "SpikeSourceArray", "size": n, "spike_times": drive},
            "post": {"cell_type": "IF_cond_exp", "size": n, "parameters": POST_CELL},
        },
        "projections": projections,
        "recording": {"post": {"variables": ["spikes"]}},
        "simulation": {"dt": p.dt, "duration": flush + 10 * p.dt, "seed": p.seed},
    }


def timing_protocol(rules: Iterable[str], p: Params = Params()) -> Protocol:
    """``p.pairings`` pairings every ``p.pairing_interval`` ms at each Δt of ``p.deltas`` (rule time, dendritic)."""
    deltas = np.asarray(p.deltas, dtype=np.float64)
    t_pre = p.start + p.pairing_interval * np.arange(p.pairings)
    pre = [_grid(t_pre, p.dt) for _ in deltas]
    post = [_grid(t_pre + delta - p.delay, p.dt) for delta in deltas]
    w0 = np.full(len(deltas), p.w0)
    return Protocol("timing", pre, post, w0, deltas, ["60 pairings" if p.pairings == 60 else f"{p.pairings} pairings"] * len(deltas),
                    _model("timing", pre, post, w0, rules, p))


def renewal_train(rng: np.random.Generator, rate: float, start: float, stop: float, dead_time: float, dt: float) -> np.ndarray:
    """A stationary Poisson train with dead time (ms) at ``rate`` (Hz) in [start, stop), on the dt grid.

    Inter-spike intervals are ``dead_time`` plus an exponential, so the rate is exact; the train starts one
    second early and is cut, so it is stationary over the window.
    """
    mean_isi = 1000.0 / rate
    if mean_isi <= dead_time:
        raise SpikebridgeError(f"rate {rate} Hz is not reachable with a dead time of {dead_time} ms")
    t0 = start - 1000.0
    n = int((stop - t0) / mean_isi * 1.5) + 20
    times = t0 + np.cumsum(dead_time + rng.exponential(mean_isi - dead_time, n))
    while times[-1] < stop:
        times = np.concatenate([times, times[-1] + np.cumsum(dead_time + rng.exponential(mean_isi - dead_time, n))])
    times = _grid(times[(times >= start) & (times < stop)], dt)
    return times[np.concatenate([[True], np.diff(times) > dead_time - 2 * dt])] if len(times) else times


def rate_protocol(rules: Iterable[str], p: Params = Params()) -> Protocol:
    """``p.rate_repeats`` pairs per post rate: independent trains over ``p.rate_duration`` ms from ``p.seed``."""
    rng = np.random.default_rng(p.seed)
    pre: list[np.ndarray] = []
    post: list[np.ndarray] = []
    x: list[float] = []
    stop = p.start + p.rate_duration
    for rate in p.rates_post:
        for _ in range(p.rate_repeats):
            pre.append(renewal_train(rng, p.rate_pre, p.start, stop, DEAD_TIME, p.dt))
            post.append(renewal_train(rng, rate, p.start, stop, DEAD_TIME, p.dt))
            x.append(float(rate))
    w0 = np.full(len(x), p.w0)
    return Protocol("rate", pre, post, w0, np.asarray(x), [f"pre {p.rate_pre:g} Hz"] * len(x), _model("rate", pre, post, w0, rules, p))


def weight_protocol(rules: Iterable[str], p: Params = Params()) -> Protocol:
    """One pairing at Δt = ±``p.weight_delta`` ms from each of ``p.weight_steps`` initial weights in [w_min, w_max]."""
    w0 = np.tile(np.linspace(p.w_min, p.w_max, p.weight_steps), 2)
    signs = np.repeat([1.0, -1.0], p.weight_steps)
    t_pre = np.array([p.start])
    pre = [_grid(t_pre, p.dt) for _ in w0]
    post = [_grid(t_pre + s * p.weight_delta - p.delay, p.dt) for s in signs]
    curve = [f"LTP (Δt = +{p.weight_delta:g} ms)" if s > 0 else f"LTD (Δt = -{p.weight_delta:g} ms)" for s in signs]
    return Protocol("weight", pre, post, w0, w0.copy(), curve, _model("weight", pre, post, w0, rules, p))


PROTOCOL_BUILDERS: dict[str, Callable[[Iterable[str], Params], Protocol]] = {
    "timing": timing_protocol,
    "rate": rate_protocol,
    "weight": weight_protocol,
}


def spike_trains(segment: Any, population: str, size: int) -> list[np.ndarray]:
    """Recorded spike times (ms) per cell of one population of a Neo segment."""
    out = [np.empty(0) for _ in range(size)]
    for st in segment.spiketrains:
        if st.annotations["population"] == population:
            out[int(st.annotations["source_index"])] = np.asarray(st.magnitude, dtype=np.float64)
    return out


def run_protocol(backend: str, protocol: Protocol, rules: Iterable[str]) -> dict[str, Any]:
    """Build the protocol's network once on ``backend``, run it; final weights per rule and recorded post spikes."""
    net = instantiate(validate(protocol.model))
    sim = backends.create(backend)
    try:
        sim.build(net)
        for phase in net.phases:
            sim.run(phase)
        size = net.populations["post"].size
        out: dict[str, Any] = {"post": spike_trains(sim.recordings().segments[0], "post", size)}
        for rule in rules:
            conns = sim.connections(rule)
            if not np.array_equal(conns.pre, np.arange(size)):
                raise AssertionError(f"{backend}: {rule} connections are not one per pair")
            out[rule] = conns.weight
    finally:
        sim.end()
    return out


def replay(pre: np.ndarray, post: np.ndarray, rule: str, w0: float, p: Params) -> float:
    """The final weight after NEST's all-to-all pair rule sees pre spikes ``pre`` and post spikes ``post`` (ms).

    Post spikes reach the synapse ``p.delay`` later (dendritic delay); at equal times facilitation comes first;
    traces count strictly earlier spikes only, so coinciding spikes are not paired.
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
    """dt Σ_{k≥1} e^{-k dt/τ} = dt / (e^{dt/τ} - 1) ≈ τ - dt/2: the window's area on the dt grid, Δt = 0 unpaired."""
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
    """
    r_pre, r_post, T = p.rate_pre * 1e-3, np.asarray(rates_post, dtype=np.float64) * 1e-3, p.rate_duration
    area = p.A_plus * p.tau_plus - p.A_minus * p.tau_minus
    area2 = (p.A_plus**2 * p.tau_plus + p.A_minus**2 * p.tau_minus) / 2
    var = r_pre * r_post * T * area2 + (r_pre**2 * r_post + r_pre * r_post**2) * T * area**2
    return (p.w_max - p.w_min) * np.sqrt(var)


def analytic_weight(rule: str, w0: np.ndarray, sign: np.ndarray, p: Params = Params()) -> np.ndarray:
    """Δw (uS) of one pairing at Δt = sign·``p.weight_delta`` from weight ``w0`` (uS): the dependence itself,

    Δw = (w_max - w_min)·[min(x + A+ e^{-δ/τ+} (1-x)^μ+, 1) - x] (LTP) or [max(x - A- e^{-δ/τ-} x^μ-, 0) - x] (LTD).
    """
    mu_p, mu_m = p.exponents(rule)
    span = p.w_max - p.w_min
    x = (np.asarray(w0, dtype=np.float64) - p.w_min) / span
    up = np.minimum(x + p.A_plus * np.exp(-p.weight_delta / p.tau_plus) * _f_plus(x, mu_p), 1.0)
    down = np.maximum(x - p.A_minus * np.exp(-p.weight_delta / p.tau_minus) * _f_minus(x, mu_m), 0.0)
    return span * (np.where(np.asarray(sign) > 0, up, down) - x)


def expectations(protocol: Protocol, rules: Iterable[str], p: Params = Params()) -> pd.DataFrame:
    """Per pair and rule: ``analytic`` and ``reference`` (numpy replay on the imposed spike times) Δw (uS)."""
    frames = []
    for rule in rules:
        match protocol.name:
            case "timing":
                analytic = analytic_timing(rule, protocol.x, p)
            case "rate":
                analytic = analytic_rate(rule, protocol.x, p)
            case _:
                sign = np.where(np.array([c.startswith("LTP") for c in protocol.curve]), 1.0, -1.0)
                analytic = analytic_weight(rule, protocol.w0, sign, p)
        reference = [replay(a, b, rule, float(w), p) - float(w) for a, b, w in zip(protocol.pre, protocol.post, protocol.w0, strict=True)]
        frames.append(pd.DataFrame({"rule": rule, "pair": np.arange(len(protocol.x)), "curve": protocol.curve, "x": protocol.x,
                                    "analytic": analytic, "reference": reference}))
    return pd.concat(frames, ignore_index=True)


def measure(backend: str, protocol: Protocol, rules: Iterable[str], p: Params = Params(),
            expected: pd.DataFrame | None = None) -> pd.DataFrame:
    """One backend's Δw (uS) per rule and curve point of one protocol, tidy (columns :data:`COLUMNS`).

    ``dw`` is the mean over the point's pairs and ``sem`` its standard error (0 with one pair); ``exact`` says
    whether every post spike of the point's pairs landed where the protocol put it.
    """
    rules = list(rules)
    got = run_protocol(backend, protocol, rules)
    exp = expectations(protocol, rules, p) if expected is None else expected
    exact = np.array([len(a) == len(b) and bool(np.all(np.abs(a - b) < 1e-6)) for a, b in zip(got["post"], protocol.post, strict=True)])
    frame = exp.assign(backend=backend, protocol=protocol.name, dw=np.concatenate([got[r] - protocol.w0 for r in rules]),
                       exact=np.tile(exact, len(rules)))
    keys = ["backend", "rule", "protocol", "curve", "x"]
    out = frame.groupby(keys, sort=False).agg(
        dw=("dw", "mean"), sem=("dw", "sem"), analytic=("analytic", "mean"), reference=("reference", "mean"),
        n=("dw", "size"), exact=("exact", "all"),
    ).reset_index()
    out["sem"] = out["sem"].fillna(0.0)
    return out[[*COLUMNS, "exact"]]


def measure_all(backend_names: Iterable[str], rules: Iterable[str] = RULES, protocols: Iterable[str] = PROTOCOLS,
                p: Params = Params(), progress: Callable[[str, str], None] | None = None) -> pd.DataFrame:
    """Every protocol on every backend (each network built once per backend); expectations computed once.

    ``progress(backend, protocol)`` is called after each measurement.
    """
    rules, backend_names, protocols = list(rules), list(backend_names), list(protocols)
    check_names(rules, backend_names)
    for name in protocols:
        if name not in PROTOCOL_BUILDERS:
            raise SpikebridgeError(f"unknown protocol {name!r}; known protocols: {', '.join(PROTOCOLS)}")
    frames = []
    for name in protocols:
        protocol = PROTOCOL_BUILDERS[name](rules, p)
        expected = expectations(protocol, rules, p)
        for backend in backend_names:
            frames.append(measure(backend, protocol, rules, p, expected))
            if progress is not None:
                progress(backend, name)
    return pd.concat(frames, ignore_index=True)


def deviations(table: pd.DataFrame, p: Params = Params()) -> pd.DataFrame:
    """Largest deviations per rule, protocol and backend, relative to the largest |analytic Δw| of the rule and protocol.

    ``vs_<first backend>``: from the first backend in the table (same pairs, same trains); ``vs_reference``: from
    the numpy replay; ``vs_analytic``: from the closed form; ``z_analytic`` (rate protocol): the largest
    |dw - analytic| in standard errors of the mean predicted by :func:`rate_sem`.
    """
    first = str(table["backend"].iloc[0])
    keys = ["rule", "protocol", "curve", "x"]
    base = table[table["backend"] == first].set_index(keys)["dw"]
    frame = table.join(base.rename("dw_first"), on=keys)
    scale = frame.groupby(["rule", "protocol"])["analytic"].transform(lambda s: s.abs().max())
    frame[f"vs_{first}"] = (frame["dw"] - frame["dw_first"]).abs() / scale
    frame["vs_reference"] = (frame["dw"] - frame["reference"]).abs() / scale
    frame["vs_analytic"] = (frame["dw"] - frame["analytic"]).abs() / scale
    rate = (frame["protocol"] == "rate").to_numpy()
    frame["z_analytic"] = np.nan
    sem = rate_sem(frame.loc[rate, "x"].to_numpy(), p) / np.sqrt(frame.loc[rate, "n"].to_numpy())
    frame.loc[rate, "z_analytic"] = (frame.loc[rate, "dw"] - frame.loc[rate, "analytic"]).abs().to_numpy() / sem
    cols = [f"vs_{first}", "vs_reference", "vs_analytic", "z_analytic"]
    return frame.groupby(["rule", "protocol", "backend"], sort=False)[cols].max()
