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
x <- min(x + A+ f+(x) K+, 1) and at each pre spike x <- max(x - A- f-(x) K-, 0), ``K± = Σ exp(-|Δt|/τ±)`` over the
other cell's earlier spikes (spikes coinciding at the synapse are not paired); f+ = (1-x)^μ+, f- = x^μ- with
(μ+, μ-) = (0, 0) additive, (1, 1) multiplicative, (0, 1) additive potentiation / multiplicative depression,
free for Gütig.

Each row of the tables carries two expectations: ``analytic`` (closed forms, see the ``analytic_*`` functions)
and ``reference`` (the rule above replayed event by event in numpy on the protocol's intended spike times).
Weights are in uS, times in ms, rates in Hz.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import backends
from ..analysis.stdp import (  # the rules and their expectations, pure: re-exported for the protocols below
    PROTOCOLS,
    RULES,
    Params,
    analytic_rate,
    analytic_timing,
    analytic_weight,
    rate_sem,
    replay,
)
from ..errors import BackendError, BackendNotInstalledError, SpikebridgeError
from ..models import instantiate, validate


def default_backends() -> tuple[str, ...]:
    """The backends measured by default: every registered backend's ``exercised`` variants, the model's default
    backend first (today nest, brian2, brian2:cpp); see :func:`spikebridge.backends.exercised`."""
    return tuple(backends.exercised())


BACKENDS = default_backends()
COLUMNS = ["backend", "rule", "protocol", "curve", "x", "dw", "sem", "analytic", "reference", "n"]
POST_CELL = {"tau_refrac": 5.0, "tau_syn_E": 0.5}  # refractory outlasts the drive's conductance: one spike per drive
DRIVE_WEIGHT = 5.0  # uS: crosses threshold within the step it lands
DEAD_TIME = 6.0  # ms between drawn spikes of one cell: the post cell is out of refractoriness before its next drive
FLUSH = 1000.0  # ms from the protocol's last spike to the flushing pre spike: exp(-FLUSH/tau) is below 1e-12


@dataclass(frozen=True)
class Protocol:
    """One protocol's network: imposed spike times per pair, initial weight per pair, what each pair measures.

    Parameters
    ----------
    name
        ``timing``, ``rate`` or ``weight``.
    pre, post
        The spike times (ms) the protocol imposes on each pair's pre and post cell (post: as the rule sees them).
    w0
        Each pair's initial weight (uS).
    x
        Each pair's abscissa: Δt (ms) for ``timing``, the post rate (Hz) for ``rate``, ``w0`` (uS) for ``weight``.
    curve
        Each pair's curve label (``"60 pairings"``, ``"pre 10 Hz"``, ``"LTP (Δt = +10 ms)"``).
    model
        The raw model that imposes the trains (one projection per rule).
    """

    name: str
    pre: list[np.ndarray]
    post: list[np.ndarray]
    w0: np.ndarray
    x: np.ndarray
    curve: list[str]
    model: dict[str, Any] = field(repr=False)


def check_names(rules: Iterable[str], backend_names: Iterable[str] = (), nestml_rules: Iterable[str] = ()) -> None:
    """Refuse an unknown rule or backend with one line naming it and what is known (``nestml_rules``: also known)."""
    known = [*RULES, *nestml_rules]
    for rule in rules:
        if rule not in known:
            raise SpikebridgeError(f"unknown rule {rule!r}; known rules: {', '.join(known)}")
    for name in backend_names:
        try:
            backends.backend_class(name)  # the name and its variant; a backend not installed fails when it runs
        except BackendNotInstalledError:
            continue
        except BackendError:
            raise SpikebridgeError(f"unknown backend {name!r}; known backends: {', '.join(BACKENDS)}") from None


def _grid(t: np.ndarray, dt: float) -> np.ndarray:
    return np.round(np.rint(np.asarray(t, dtype=np.float64) / dt) * dt, 10)


def _model(
    name: str, protocol_pre: list[np.ndarray], protocol_post: list[np.ndarray], w0: np.ndarray, rules: Iterable[str], p: Params
) -> dict[str, Any]:
    """Pre cells fire at ``protocol_pre`` (plus a flushing spike), post cells at ``protocol_post``."""
    n = len(protocol_pre)
    end = max(
        max((float(t[-1]) for t in protocol_pre if len(t)), default=0.0), max((float(t[-1]) for t in protocol_post if len(t)), default=0.0)
    )
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

    Parameters
    ----------
    rng
        The random generator the intervals are drawn from.
    rate
        The mean rate (Hz); its mean interval must exceed ``dead_time``.
    start, stop
        The window (ms).
    dead_time
        The shortest interval (ms).
    dt
        The time grid the spike times are rounded to (ms).

    Returns
    -------
    numpy.ndarray
        Sorted spike times (ms) in [start, stop).

    Raises
    ------
    SpikebridgeError
        ``rate`` cannot be reached with that dead time.

    Examples
    --------
    >>> t = renewal_train(np.random.default_rng(0), 20.0, 0.0, 10_000.0, dead_time=2.0, dt=0.1)
    >>> bool(150 < len(t) < 250), bool(np.diff(t).min() >= 2.0 - 2 * 0.1)
    (True, True)
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


@contextmanager
def simulated(backend: str, model: dict[str, Any]) -> Iterator[Any]:
    """The backend ``backend`` with the raw ``model``'s network built and every phase run; ended on leaving."""
    net = instantiate(validate(model))
    sim = backends.create(backend)
    try:
        sim.build(net)
        for phase in net.phases:
            sim.run(phase)
        yield sim
    finally:
        sim.end()


def run_protocol(backend: str, protocol: Protocol, rules: Iterable[str]) -> dict[str, Any]:
    """Build the protocol's network once on ``backend``, run it; final weights per rule and recorded post spikes."""
    size = len(protocol.pre)
    with simulated(backend, protocol.model) as sim:
        out: dict[str, Any] = {"post": spike_trains(sim.recordings().segments[0], "post", size)}
        for rule in rules:
            conns = sim.connections(rule)
            if not np.array_equal(conns.pre, np.arange(size)):
                raise AssertionError(f"{backend}: {rule} connections are not one per pair")
            out[rule] = conns.weight
    return out


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

    Parameters
    ----------
    backend
        The backend name.
    protocol
        The protocol (:data:`PROTOCOL_BUILDERS`).
    rules
        The rules to measure (the protocol's model holds one projection per rule).
    p
        Rule and protocol parameters (ms, uS, Hz).
    expected
        :func:`expectations` of this protocol, when already computed (for several backends).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS` and ``exact``, one row per rule and curve point.
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

    Parameters
    ----------
    backend_names
        The backends to measure, e.g. ``["nest", "brian2"]``.
    rules
        The plasticity rules (default: all four, :data:`spikebridge.analysis.stdp.RULES`).
    protocols
        Some of ``timing``, ``rate`` and ``weight`` (default: all three).
    p
        Rule and protocol parameters (ms, uS, Hz).
    progress
        Called as ``progress(backend, protocol)`` after each measurement.

    Returns
    -------
    pandas.DataFrame
        One row per rule, protocol, curve, ``x`` and backend: the measured ``dw`` (uS) beside its ``analytic``
        and ``reference`` expectations (see the module's description).

    Raises
    ------
    SpikebridgeError
        An unknown rule, backend or protocol.
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
    """Largest deviations per rule, protocol and backend, relative to the rule and protocol's largest ``|analytic Δw|``.

    ``vs_<first backend>``: from the first backend in the table (same pairs, same trains); ``vs_reference``: from
    the numpy replay; ``vs_analytic``: from the closed form; ``z_analytic`` (rate protocol): the largest
    ``|dw - analytic|`` in standard errors of the mean predicted by :func:`rate_sem`.

    Parameters
    ----------
    table
        The measured weight changes, one row per rule, protocol, curve, ``x`` and backend (columns ``dw``,
        ``reference``, ``analytic`` and, for the rate protocol, ``n``; weights in uS).
    p
        The rule and protocol parameters the table was measured with (ms, uS, Hz).

    Returns
    -------
    pandas.DataFrame
        Indexed by (rule, protocol, backend); the four deviation columns (dimensionless).
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
