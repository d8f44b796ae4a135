"""The NEST backend, on the real simulator."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import spikebridge
from spikebridge import backends
from spikebridge.errors import BackendError
from spikebridge.models import instantiate, load_model, validate
from spikebridge.models.schema import Phase

from ..models.test_schema_errors import BASE

STDP_RAW: dict[str, Any] = {
    "name": "stdp_small",
    "populations": {
        "inputs": {"cell_type": "SpikeSourcePoisson", "size": 50, "parameters": {"rate": 30.0}},
        "post": {"cell_type": "IF_cond_exp", "size": 2, "parameters": {"tau_refrac": 2.0}},
    },
    "projections": {
        "ff": {
            "pre": "inputs",
            "post": "post",
            "connector": {"rule": "all_to_all"},
            "weight": {"distribution": "uniform", "low": 0.002, "high": 0.006},
            "delay": {"distribution": "uniform", "low": 0.5, "high": 3.0},
            "synapse": {
                "type": "stdp",
                "timing": {"tau_plus": 20.0, "tau_minus": 20.0, "A_plus": 0.05, "A_minus": 0.05},
                "weight_dependence": {"rule": "additive", "w_min": 0.0, "w_max": 0.01},
            },
        }
    },
    "recording": {"post": {"variables": ["spikes"]}},
    "simulation": {"dt": 0.1, "phases": [{"name": "train", "duration": 500.0}, {"name": "test", "duration": 500.0, "plasticity": False}], "seed": 3},
}


def run_network(raw: dict[str, Any]) -> tuple[Any, Any]:
    net = instantiate(validate(raw))
    sim = backends.create("nest")
    sim.build(net)
    return net, sim


def test_registry_finds_nest_by_entry_point_and_rejects_unknown() -> None:
    assert "nest" in backends.available()
    with pytest.raises(BackendError, match=r"unknown backend 'nrn'.*known backends: .*nest"):
        backends.create("nrn")
    with pytest.raises(BackendError, match="no variant"):
        backends.create("nest:gpu")
    with pytest.raises(BackendError, match="unknown nest backend option"):
        backends.create("nest", {"treads": 2})


def test_bulk_loaded_connections_match_the_arrays_and_pynn_api() -> None:
    raw = copy.deepcopy(BASE)
    raw["projections"]["exc_exc"]["delay"] = {"distribution": "uniform", "low": 0.1, "high": 4.0}
    raw["projections"]["inh"] = {"pre": "exc", "post": "exc", "receptor": "inhibitory", "connector": {"rule": "fixed_indegree", "n": 3}, "weight": 0.05}
    net, sim = run_network(raw)
    try:
        for name in ("exc_exc", "src_exc", "inh"):
            got = sim.connections(name)
            want = net.projections[name]
            np.testing.assert_array_equal(got.pre, want.pre_idx)
            np.testing.assert_array_equal(got.post, want.post_idx)
            np.testing.assert_allclose(got.weight, want.weight, rtol=1e-12)
            np.testing.assert_allclose(got.delay, want.delay, rtol=1e-12)
        # PyNN's own projection API still sees the bulk-loaded synapses, in PyNN units and signs
        w = np.array(sim.projections["inh"].get("weight", format="list", with_address=False))
        np.testing.assert_allclose(np.sort(w), np.sort(net.projections["inh"].weight))
        assert len(sim.projections["exc_exc"]) == len(net.projections["exc_exc"])
    finally:
        sim.end()


def test_frozen_phase_keeps_weights_and_plastic_phase_changes_them() -> None:
    net, sim = run_network(STDP_RAW)
    try:
        w0 = sim.connections("ff").weight
        sim.run(net.phases[0])
        w1 = sim.connections("ff").weight
        sim.run(net.phases[1])
        w2 = sim.connections("ff").weight
        block = sim.recordings()
    finally:
        sim.end()
    assert np.abs(w1 - w0).max() > 1e-4, "STDP did not change any weight during the plastic phase"
    np.testing.assert_array_equal(w2, w1)
    assert w1.min() >= 0.0 and w1.max() <= 0.01 + 1e-12
    assert [s.name for s in block.segments] == ["train", "test"]
    spikes = [sum(len(st) for st in seg.spiketrains) for seg in block.segments]
    assert all(n > 0 for n in spikes), spikes


def test_same_model_and_seed_give_identical_spikes(tmp_path: Any) -> None:
    m = load_model("vogels_abbott_coba", ["simulation.duration=300", "populations.exc.size=800", "populations.inh.size=200", "projections.exc_exc.connector.p=0.08", "projections.exc_inh.connector.p=0.08", "projections.inh_exc.connector.p=0.08", "projections.inh_inh.connector.p=0.08"])
    a = spikebridge.run(m, "nest", tmp_path / "a", progress=False, figure=False)
    b = spikebridge.run(m, "nest", tmp_path / "b", progress=False, figure=False)
    ia, ta = a.spikes("exc")
    ib, tb = b.spikes("exc")
    assert len(ta) > 100
    np.testing.assert_array_equal(ia, ib)
    np.testing.assert_array_equal(ta, tb)
    assert a.meta["network_sha256"] == b.meta["network_sha256"]


def test_current_source_drives_cells() -> None:
    raw = copy.deepcopy(BASE)
    raw["projections"] = {}
    raw["stimuli"] = {"step": {"kind": "step", "target": "exc", "cells": [0, 1], "times": [20.0, 60.0], "amplitudes": [2.0, 0.0]}}
    net, sim = run_network(raw)
    try:
        sim.run(Phase(name="run", duration=100.0))
        seg = sim.recordings().segments[0]
    finally:
        sim.end()
    counts = {int(st.annotations["source_index"]): st for st in seg.spiketrains}
    assert len(counts[0]) > 0 and len(counts[1]) > 0 and len(counts[2]) == 0
    assert float(counts[0].min()) > 20.0 and float(counts[0].max()) < 61.0


def test_axonal_stdp_is_refused_on_nest() -> None:
    raw = copy.deepcopy(STDP_RAW)
    raw["projections"]["ff"]["synapse"]["delay_semantics"] = "axonal"
    with pytest.raises(BackendError, match="dendritic delays only"):
        run_network(raw)


@pytest.mark.slow
def test_full_vogels_abbott_coba_rates_in_published_range(tmp_path: Any) -> None:
    """The 4000-cell network for 1 s: sustained asynchronous activity at 5-25 Hz (Brette et al. 2007)."""
    from spikebridge.analysis.activity import firing_stats
    from spikebridge.rundir.layout import RECORDINGS
    from spikebridge.rundir.recordings import read_recordings

    res = spikebridge.run(load_model("vogels_abbott_coba"), "nest", tmp_path / "coba", progress=False, figure=False)
    stats = firing_stats(spikebridge.load(res.path))
    assert stats.loc["exc", "cells"] == 3200 and stats.loc["inh", "cells"] == 800
    assert 5.0 <= stats.loc["exc", "rate_mean"] <= 25.0, stats
    assert 5.0 <= stats.loc["inh", "rate_mean"] <= 25.0, stats
    assert stats.loc["exc", "cv_isi_mean"] > 0.5  # irregular firing, not a synchronous burst
    # activity is sustained after the 50 ms kick: the last 200 ms still hold spikes from many cells
    idx, t = res.spikes("exc")
    assert len(np.unique(idx[t > 800.0])) > 500
    block = read_recordings(res.path / RECORDINGS)
    assert len(block.segments[0].spiketrains) == 4000


def test_membrane_signals_have_exact_sample_times_across_phases() -> None:
    raw = copy.deepcopy(BASE)
    raw["stimuli"] = {"dc": {"kind": "dc", "target": "exc", "amplitude": 0.3}}
    raw["recording"] = {"exc": {"variables": ["v", "gsyn_exc"], "cells": [1, 3]}}

    def signals(phases: list[dict[str, Any]]) -> list[Any]:
        raw["simulation"] = {"dt": 0.1, "phases": phases, "seed": 1}
        net, sim = run_network(raw)
        try:
            for phase in net.phases:
                sim.run(phase)
            return [next(s for s in seg.analogsignals if s.name == "v") for seg in sim.recordings().segments]
        finally:
            sim.end()

    a, b = signals([{"name": "a", "duration": 5.0}, {"name": "b", "duration": 5.0}])
    (whole,) = signals([{"name": "all", "duration": 10.0}])
    assert a.shape == (51, 2) and b.shape == (51, 2) and whole.shape == (101, 2)  # t_start .. t_stop, every dt
    assert float(a.t_start) == 0.0 and float(b.t_start) == 5.0
    np.testing.assert_array_equal(a.magnitude[0], [-65.0, -65.0])  # the model's initial value
    np.testing.assert_array_equal(a.magnitude[-1], b.magnitude[0])  # continuity at the phase boundary
    # two phases hold exactly the samples of one run of the same length: none repeated, dropped or shifted
    np.testing.assert_array_equal(np.vstack([a.magnitude, b.magnitude[1:]]), whole.magnitude)
    # charging under the DC current, which reaches the cell after one connection delay (two steps)
    steps = np.diff(whole.magnitude[:, 0])
    assert np.all(steps[:2] == 0) and np.all(steps[2:] > 0)
    np.testing.assert_array_equal(a.array_annotations["channel_index"], [1, 3])


def test_threads_give_the_same_network_and_spikes(tmp_path: Any) -> None:
    m = load_model("ei_weight_matrix", ["simulation.duration=200"])
    one = spikebridge.run(m, "nest", tmp_path / "t1", progress=False, figure=False)
    two = spikebridge.run(m, "nest", tmp_path / "t2", options={"threads": 2}, progress=False, figure=False)
    assert two.meta["backend_info"]["options"]["threads"] == 2
    for name in m.projections:
        a, b = one.connections(name), two.connections(name)
        np.testing.assert_array_equal(a.pre, b.pre)
        np.testing.assert_array_equal(a.post, b.post)
        np.testing.assert_array_equal(a.weight, b.weight)
    for pop in ("E", "I"):
        for x, y in zip(one.spikes(pop), two.spikes(pop), strict=True):
            np.testing.assert_array_equal(x, y)
