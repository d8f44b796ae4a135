"""The pairing-frequency protocol (Sjöström, Turrigiano & Nelson 2001; Pfister & Gerstner 2006, Fig. 5) for any
plastic synapse type, bundled NESTML rules included.

``pairings`` pre/post pairs at each frequency, with the post spike ``Δt`` after (``+``) or before (``-``) the pre
spike as the rule sees it (Δt = t_post + d - t_pre, dendritic delay ``d``). Every (Δt, frequency) is one
independent pre/post pair of one network, built once per backend; the post cells fire where the protocol puts them
(:func:`spikebridge.workflows.rules.timing_protocol`'s drive). ``dw`` is the final minus the initial weight (uS);
``reference`` the rule replayed in numpy on the same spike times (:mod:`spikebridge.analysis.custom_rules`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.custom_rules import REPLAYS
from ..analysis.stdp import Params
from .rules import Protocol, _grid, _model, run_protocol

DELTAS = (10.0, -10.0)
RATES = (1.0, 10.0, 20.0, 40.0, 50.0)
PAIRINGS = 60
W0 = 0.0005
"""Initial weight (uS): 0.5 nS, far inside the bounds, too small to move a post spike."""
CURRENT_DRIVE = 500.0
"""nA onto a current-based cell: crosses threshold within the step it lands, as the conductance drive does."""


def frequency_protocol(
    rule: str, parameters: Mapping[str, float] | None = None, deltas: Iterable[float] = DELTAS, rates: Iterable[float] = RATES,
    pairings: int = PAIRINGS, w0: float = W0, p: Params = Params(),
) -> Protocol:
    """One pair per (Δt, rate): ``pairings`` pairings at ``rate`` Hz, post ``Δt`` ms after the pre spike (rule time).

    Parameters
    ----------
    rule
        A synapse type: a bundled NESTML rule (``triplet_stdp``, ``saturating_stdp``) or ``stdp``'s weight
        dependences are not taken here (see :mod:`spikebridge.workflows.rules`).
    parameters
        The rule's parameters (NESTML names, NEST units), over its defaults.
    deltas, rates, pairings, w0
        The protocol (ms, Hz, count, uS).
    p
        ``dt``, ``delay``, ``start`` and ``seed`` of the network (ms).
    """
    pre, post, x, curve = [], [], [], []
    for delta in deltas:
        for rate in rates:
            t_pre = p.start + 1000.0 / rate * np.arange(pairings)
            pre.append(_grid(t_pre, p.dt))
            post.append(_grid(t_pre + delta - p.delay, p.dt))
            x.append(float(rate))
            curve.append(f"Δt = {delta:+g} ms")
    w = np.full(len(x), w0)
    synapse = {"type": rule, "parameters": dict(parameters or {})}
    params = replace(p, w_min=0.0, w_max=2 * w0)
    model = _model("frequency", pre, post, w, [rule], params)
    model["projections"][rule]["synapse"] = synapse
    return Protocol("frequency", pre, post, w, np.asarray(x), curve, model)


def reference(protocol: Protocol, rule: str, parameters: Mapping[str, float] | None = None, p: Params = Params()) -> np.ndarray:
    """Δw (uS) of each pair by the rule's numpy replay (NEST's weights are nS: the replay runs in nS)."""
    replay: Callable[..., float] = REPLAYS[rule]
    params = dict(parameters or {})
    return np.array([
        replay(a, b, 1000.0 * w, params, p.delay) / 1000.0 - w for a, b, w in zip(protocol.pre, protocol.post, protocol.w0, strict=True)
    ])


def measure(
    backend_names: Iterable[str], rule: str = "triplet_stdp", parameters: Mapping[str, float] | None = None,
    progress: Callable[[str], None] | None = None, **protocol_args: Any,
) -> pd.DataFrame:
    """Δw of every (Δt, rate) on every backend, beside the numpy reference; one row per backend and pair.

    Returns
    -------
    pandas.DataFrame
        Columns ``backend, rule, curve, rate, w0, dw, reference, exact`` (weights uS, rates Hz); ``exact``:
        every post spike landed where the protocol put it.
    """
    protocol = frequency_protocol(rule, parameters, **protocol_args)
    expected = reference(protocol, rule, parameters)
    frames = []
    for backend in backend_names:
        got = run_protocol(backend, protocol, [rule])
        exact = [len(a) == len(b) and bool(np.all(np.abs(a - b) < 1e-6)) for a, b in zip(got["post"], protocol.post, strict=True)]
        frames.append(pd.DataFrame({
            "backend": backend, "rule": rule, "curve": protocol.curve, "rate": protocol.x, "w0": protocol.w0,
            "dw": got[rule] - protocol.w0, "reference": expected, "exact": exact, "pairings": protocol_args.get("pairings", PAIRINGS),
        }))
        if progress is not None:
            progress(backend)
    return pd.concat(frames, ignore_index=True)


def agreement(table: pd.DataFrame) -> pd.DataFrame:
    """Per backend: the largest relative difference of Δw from the first backend's and from the reference."""
    first = str(table["backend"].iloc[0])
    base = table[table["backend"] == first].set_index(["curve", "rate"])["dw"]
    frame = table.join(base.rename("dw_first"), on=["curve", "rate"])
    scale = frame["reference"].abs().max()
    frame[f"vs_{first}"] = (frame["dw"] - frame["dw_first"]).abs() / scale
    frame["vs_reference"] = (frame["dw"] - frame["reference"]).abs() / scale
    return frame.groupby("backend", sort=False)[[f"vs_{first}", "vs_reference"]].max()


def trains_protocol(
    rules: Iterable[str], rates: Iterable[float] = (2.0, 5.0, 10.0, 20.0, 40.0), pairs: int = 4, duration: float = 3000.0,
    w0: float = W0, parameters: Mapping[str, Mapping[str, float]] | None = None, p: Params = Params(),
) -> tuple[dict[str, Any], list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Independent Poisson pre and post trains (``pairs`` per post rate, pre at ``p.rate_pre``) for several rules at once;
    weights ``w0`` in nA (current-based post cells; the rules see pA).

    Each rule gets its own post population driven to the same spike times (NEST pairs each NESTML synapse with its own
    neuron model), so one network, built once per backend, measures every rule on identical trains.

    Returns
    -------
    tuple
        The raw model, the pre and post trains (ms, post as the rule sees them), and each pair's post rate (Hz).
    """
    from .rules import DEAD_TIME, POST_CELL, renewal_train

    rng = np.random.default_rng(p.seed)
    pre, post, x = [], [], []
    stop = p.start + duration
    for rate in rates:
        for _ in range(pairs):
            pre.append(renewal_train(rng, p.rate_pre, p.start, stop, DEAD_TIME, p.dt))
            post.append(renewal_train(rng, rate, p.start, stop, DEAD_TIME, p.dt))
            x.append(float(rate))
    n = len(x)
    flush = _grid(np.array([stop + 1000.0]), p.dt)[0]  # NEST applies pending post-spike updates at the next pre spike
    populations: dict[str, Any] = {
        "pre": {"cell_type": "SpikeSourceArray", "size": n, "spike_times": [[*map(float, t), flush] for t in pre]},
        "drive": {"cell_type": "SpikeSourceArray", "size": n,
                  "spike_times": [list(map(float, _grid(np.asarray(t) - 2 * p.dt, p.dt))) for t in post]},
    }  # fmt: skip
    projections: dict[str, Any] = {}
    for rule in rules:
        # current-based cells: NESTML's iaf_psc_exp_neuron integrates exactly, as NEST's own does (its conductance-based
        # neuron, integrated by GSL, can fire a step later than the built-in cell where a drive only just suffices)
        populations[f"post_{rule}"] = {"cell_type": "IF_curr_exp", "size": n, "parameters": POST_CELL}
        projections[rule] = {
            "pre": "pre", "post": f"post_{rule}", "connector": {"rule": "one_to_one"}, "weight": w0, "delay": p.delay,
            "synapse": {"type": rule, "parameters": dict((parameters or {}).get(rule, {}))},
        }  # fmt: skip
        projections[f"drive_{rule}"] = {"pre": "drive", "post": f"post_{rule}", "connector": {"rule": "one_to_one"},
                                        "weight": CURRENT_DRIVE, "delay": p.dt}  # fmt: skip
    model = {
        "name": "rules_trains",
        "populations": populations,
        "projections": projections,
        "recording": {f"post_{rule}": {"variables": ["spikes"]} for rule in rules},
        "simulation": {"dt": p.dt, "duration": flush + 10 * p.dt, "seed": p.seed},
    }
    return model, pre, [np.asarray(t) for t in post], np.asarray(x)


def measure_trains(
    backend_names: Iterable[str], rules: Iterable[str], parameters: Mapping[str, Mapping[str, float]] | None = None,
    w0: float = W0, **protocol_args: Any,
) -> pd.DataFrame:
    """Δw of every pair and rule of :func:`trains_protocol` on every backend, beside the numpy replay (uS).

    Returns
    -------
    pandas.DataFrame
        Columns ``backend, rule, pair, rate, dw, reference, exact``.
    """
    from .rules import simulated, spike_trains

    rules = list(rules)
    model, pre, post, x = trains_protocol(rules, w0=w0, parameters=parameters, **protocol_args)
    p = Params()
    frames = []
    for backend in backend_names:
        with simulated(backend, model) as sim:
            segment = sim.recordings().segments[0]
            # the flushing pre spike is part of what the rule sees on the simulators; a post spike it causes is not
            flush = float(model["populations"]["pre"]["spike_times"][0][-1])
            for rule in rules:
                spikes = [t[t < flush] for t in spike_trains(segment, f"post_{rule}", len(x))]
                exact = [len(a) == len(b) and bool(np.all(np.abs(a - b) < 1e-6)) for a, b in zip(spikes, post, strict=True)]
                replay = REPLAYS[rule]
                params = dict((parameters or {}).get(rule, {}))
                reference = [
                    replay(np.append(a, flush), b, 1000.0 * w0, params, p.delay) / 1000.0 - w0 for a, b in zip(pre, post, strict=True)
                ]
                frames.append(pd.DataFrame({
                    "backend": backend, "rule": rule, "pair": np.arange(len(x)), "rate": x,
                    "dw": sim.connections(rule).weight - w0, "reference": reference, "exact": exact,
                }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)
