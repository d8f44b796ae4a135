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
