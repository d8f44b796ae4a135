"""The pair-based STDP window, measured by a pairing protocol on NEST, Brian2 runtime and Brian2 C++ standalone.

One network holds many independent pairs: pre cell ``c`` (a spike source) reaches post cell ``c`` through a plastic
synapse of tiny weight; post cell ``c`` is made to spike at a set time by a strong static input of its own. Every
(weight dependence, delay) configuration is one projection over its own block of cells, and every pair has its own
spike-time difference. A last pre spike, long after the pairing, makes NEST apply its pending facilitation.

NEST's meaning of a delay ``d`` (dendritic): the rule sees the pre spike at its stamp and the post spike ``d``
later, so the window is a function of Δt = t_post + d - t_pre, and pairs with Δt = 0 are not paired.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pytest

from spikebridge import backends
from spikebridge.models import instantiate, validate

pytestmark = pytest.mark.validation

DT = 0.1
T_PRE = 60.0
T_FLUSH = T_PRE + 1000.0
DURATION = T_FLUSH + 40.0
DELTAS = np.round(np.arange(-50.0, 50.0 + 1e-9, 2.5), 10)
DELAYS = (0.1, 1.0, 5.0)
DEPENDENCES = ("additive", "multiplicative")
CONFIGS = [(dep, d) for dep in DEPENDENCES for d in DELAYS]
W_MAX = 0.001  # uS: far too small to move the post cells' spike times
W0 = 0.5 * W_MAX
TIMING = {"tau_plus": 16.8, "tau_minus": 33.7, "A_plus": 0.01, "A_minus": 0.012}
BACKENDS = ("nest", "brian2", "brian2:cpp")
CPP = pytest.param("brian2:cpp", marks=pytest.mark.compile)


def pairing_model(semantics: str = "dendritic") -> dict[str, Any]:
    n_pairs = len(DELTAS)
    size = n_pairs * len(CONFIGS)
    pre_times: list[list[float]] = []
    drive_times: list[list[float]] = []
    projections: dict[str, Any] = {}
    for k, (dep, d) in enumerate(CONFIGS):
        for delta in DELTAS:
            # Δt = t_post + d - t_pre; the drive lands one step after its spike, the cell spikes in that step
            t_post = T_PRE + delta - (d if semantics == "dendritic" else -d)
            pre_times.append([T_PRE, T_FLUSH])
            drive_times.append([round(t_post - 2 * DT, 10)])
        rows = [[k * n_pairs + n, k * n_pairs + n] for n in range(n_pairs)]
        projections[f"{dep}_{str(d).replace('.', 'p')}"] = {
            "pre": "pre",
            "post": "post",
            "connector": {"rule": "from_list", "connections": rows},
            "weight": W0,
            "delay": d,
            "synapse": {
                "type": "stdp",
                "timing": TIMING,
                "weight_dependence": {"rule": dep, "w_min": 0.0, "w_max": W_MAX},
                "delay_semantics": semantics,
            },
        }
    projections["drive"] = {"pre": "drive", "post": "post", "connector": {"rule": "one_to_one"}, "weight": 5.0, "delay": DT}
    return {
        "name": "stdp_window",
        "populations": {
            "pre": {"cell_type": "SpikeSourceArray", "size": size, "spike_times": pre_times},
            "drive": {"cell_type": "SpikeSourceArray", "size": size, "spike_times": drive_times},
            "post": {"cell_type": "IF_cond_exp", "size": size, "parameters": {"tau_refrac": 200.0}},
        },
        "projections": projections,
        "recording": {"pre": {"variables": ["spikes"]}, "post": {"variables": ["spikes"]}},
        "simulation": {"dt": DT, "duration": DURATION, "seed": 7},
    }


def first_spikes(segment: Any, population: str, size: int) -> np.ndarray:
    out = np.full(size, np.nan)
    for st in segment.spiketrains:
        if st.annotations["population"] == population and len(st):
            out[int(st.annotations["source_index"])] = float(st.magnitude[0])
    return out


@cache
def measure(backend: str, semantics: str = "dendritic") -> dict[str, Any]:
    """Weight changes of every pair and the recorded pre/post spike times, on one backend."""
    net = instantiate(validate(pairing_model(semantics)))
    sim = backends.create(backend)
    try:
        sim.build(net)
        for phase in net.phases:
            sim.run(phase)
        segment = sim.recordings().segments[0]
        size = net.populations["post"].size
        result: dict[str, Any] = {"pre": first_spikes(segment, "pre", size), "post": first_spikes(segment, "post", size)}
        for k, name in enumerate(p for p in net.projections if p != "drive"):
            conns = sim.connections(name)
            result[name] = conns.weight - W0
            assert np.array_equal(conns.pre, np.arange(len(DELTAS)) + k * len(DELTAS))
    finally:
        sim.end()
    return result


def analytic(dep: str, dt: np.ndarray) -> np.ndarray:
    """NEST's stdp_synapse for one pair at Δt = t_post + d - t_pre, from w = W0."""
    up = TIMING["A_plus"] * np.exp(-dt / TIMING["tau_plus"])
    down = TIMING["A_minus"] * np.exp(dt / TIMING["tau_minus"])
    if dep == "additive":
        return np.where(dt > 0, W_MAX * up, np.where(dt < 0, -W_MAX * down, 0.0))
    return np.where(dt > 0, (W_MAX - W0) * up, np.where(dt < 0, -W0 * down, 0.0))


def config_slice(k: int) -> slice:
    return slice(k * len(DELTAS), (k + 1) * len(DELTAS))


@pytest.mark.compile  # measures every backend, brian2:cpp included
def test_post_spikes_land_where_the_protocol_puts_them() -> None:
    for backend in BACKENDS:
        got = measure(backend)
        np.testing.assert_allclose(got["pre"], T_PRE, atol=1e-9)
        for k, (_, d) in enumerate(CONFIGS):
            np.testing.assert_allclose(got["post"][config_slice(k)], T_PRE + DELTAS - d, atol=1e-9, err_msg=backend)


@pytest.mark.parametrize("backend", ["brian2", CPP])
def test_window_matches_nest(backend: str) -> None:
    nest, brian = measure("nest"), measure(backend)
    scale = W_MAX * max(TIMING["A_plus"], TIMING["A_minus"])
    compared = 0
    for k, (dep, d) in enumerate(CONFIGS):
        name = f"{dep}_{str(d).replace('.', 'p')}"
        part = config_slice(k)
        # where the recorded spikes disagree by a step the pairs differ: compare only the others, and demand few
        same = (np.abs(nest["pre"][part] - brian["pre"][part]) < 1e-9) & (np.abs(nest["post"][part] - brian["post"][part]) < 1e-9)
        close = (np.abs(nest["post"][part] - brian["post"][part]) <= DT + 1e-9)
        assert close.all(), f"{name}: post spike times differ by more than one step"
        assert same.sum() >= len(DELTAS) - 1, f"{name}: spike times differ for {np.flatnonzero(~same)}"
        a, b = nest[name][same], brian[name][same]
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-9 * scale, err_msg=f"{backend} {name}")
        compared += int(same.sum())
    assert compared >= len(CONFIGS) * (len(DELTAS) - 1)


@pytest.mark.parametrize("backend", ["nest", "brian2", CPP])
def test_window_matches_the_analytic_rule(backend: str) -> None:
    got = measure(backend)
    for k, (dep, d) in enumerate(CONFIGS):
        name = f"{dep}_{str(d).replace('.', 'p')}"
        part = config_slice(k)
        dt = np.round(got["post"][part] + d - got["pre"][part], 9)
        expected = analytic(dep, dt)
        np.testing.assert_allclose(got[name], expected, rtol=1e-6, atol=1e-12, err_msg=f"{backend} {name}")
        assert (got[name][dt > 0] > 0).all() and (got[name][dt < 0] < 0).all()
    # the window is NEST's, not PyNN-Brian2's axonal one: Δt counts the delay on the post side
    five = config_slice(CONFIGS.index(("additive", 5.0)))
    assert got["additive_5p0"][DELTAS == 0.0] == pytest.approx(0.0, abs=1e-15)
    assert got["additive_5p0"][DELTAS == 2.5][0] == pytest.approx(W_MAX * TIMING["A_plus"] * np.exp(-2.5 / TIMING["tau_plus"]), rel=1e-6)
    assert np.isfinite(got["post"][five]).all()


def test_axonal_window_on_brian2() -> None:
    """Axonal delays: the rule sees the pre spike when it arrives, t_pre + d, and the post spike at t_post.

    On the runtime only: brian2:cpp generates the same pathways (its dendritic window is checked above)."""
    backend = "brian2"
    got = measure(backend, "axonal")
    for k, (dep, d) in enumerate(CONFIGS):
        name = f"{dep}_{str(d).replace('.', 'p')}"
        part = config_slice(k)
        dt = np.round(got["post"][part] - (got["pre"][part] + d), 9)
        np.testing.assert_allclose(dt, DELTAS, atol=1e-9)
        np.testing.assert_allclose(got[name], analytic(dep, dt), rtol=1e-6, atol=1e-12, err_msg=f"{backend} {name}")
