"""What only the NEST backend does, on the real simulator; the contract every backend meets is in
``test_conformance.py``."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import spikebridge
from spikebridge import backends
from spikebridge.errors import BackendError
from spikebridge.models import instantiate, load_model, validate

from ..models.test_schema_errors import BASE
from .networks import STDP_RAW

__all__ = ["STDP_RAW"]  # tests/test_weights_run.py takes it from here


def run_network(raw: dict[str, Any]) -> tuple[Any, Any]:
    net = instantiate(validate(raw))
    sim = backends.create("nest")
    sim.build(net)
    return net, sim


def test_bulk_loaded_connections_are_seen_by_pynn_projection_api() -> None:
    """Connections loaded in bulk (``connections.ArrayConnector``) are PyNN's: Projection.get and len see them, in
    PyNN units and signs, and NEST's own readback of every static projection is the loaded arrays, which the
    backend reports without reading them back."""
    from spikebridge.backends.nest import connections

    raw = copy.deepcopy(BASE)
    raw["projections"]["exc_exc"]["delay"] = {"distribution": "uniform", "low": 0.1, "high": 4.0}
    raw["projections"]["inh"] = {
        "pre": "exc",
        "post": "exc",
        "receptor": "inhibitory",
        "connector": {"rule": "fixed_indegree", "n": 3},
        "weight": 0.05,
    }
    net, sim = run_network(raw)
    try:
        for name in ("exc_exc", "src_exc", "inh"):  # before any run, too
            loaded, read = net.projections[name], connections.read(sim.projections[name])
            np.testing.assert_array_equal(read.pre, loaded.pre_idx)
            np.testing.assert_array_equal(read.post, loaded.post_idx)
            np.testing.assert_allclose(read.weight, loaded.weight, rtol=1e-15)
            np.testing.assert_allclose(read.delay, loaded.delay, rtol=1e-15)
            reported = sim.connections(name)
            np.testing.assert_array_equal(reported.weight, loaded.weight)
            np.testing.assert_array_equal(reported.delay, read.delay)
        w = np.array(sim.projections["inh"].get("weight", format="list", with_address=False))
        np.testing.assert_allclose(np.sort(w), np.sort(net.projections["inh"].weight))
        assert len(sim.projections["exc_exc"]) == len(net.projections["exc_exc"])
        # each projection through a synapse model of its own, unlabelled (two of them join the same cells)
        models = [sim.projections[n].nest_synapse_model for n in ("exc_exc", "src_exc", "inh")]
        assert len(set(models)) == 3 and all(m.startswith("static_synapse__") for m in models), models
        assert all(sim.projections[n].nest_synapse_label is None for n in ("exc_exc", "src_exc", "inh"))
    finally:
        sim.end()


def test_progress_chunks_and_snapshots_do_not_change_a_run(tmp_path: Any) -> None:
    """A run shown in 7 ms chunks (NEST prepared once per stretch between weight snapshots, nest.Run per chunk) gives
    the spikes, snapshots and final weights of the same run in one piece per stretch."""
    from .networks import stdp_with_snapshots

    m = validate(stdp_with_snapshots())
    whole = spikebridge.run(m, "nest", tmp_path / "whole", progress=False, figure=False)
    chunked = spikebridge.run(m, "nest", tmp_path / "chunked", options={"chunk": 7.0}, progress=True, figure=False)
    snaps = whole.weights("ff")
    assert snaps.shape[1] == 2 * 11  # w and delay at 0, 100, ..., 1000 ms
    assert snaps.equals(chunked.weights("ff"))
    assert not np.array_equal(snaps.iloc[:, 0], snaps.iloc[:, -2])  # the weights learned
    for phase in ("train", "test"):
        for x, y in zip(whole.spikes("post", phase), chunked.spikes("post", phase), strict=True):
            np.testing.assert_array_equal(x, y)
    assert len(whole.spikes("post", "train")[0]) > 0


def test_integration_names_pynn_nest_models() -> None:
    """info() names the NEST model of each cell type as pyNN.nest maps it (``nest_name``), and how NEST integrates it."""
    net, sim = run_network(copy.deepcopy(BASE))
    try:
        info = sim.info()
    finally:
        sim.end()
    assert info["integration"] == {
        "IF_cond_exp": "iaf_cond_exp: GSL adaptive RKF45 (gsl_odeiv_step_rkf45)",
        "IF_curr_exp": "iaf_psc_exp: exact integration (propagator matrix)",
    }
    import nest

    assert info["versions"]["nest-simulator"] == nest.__version__


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


def test_dc_current_reaches_cells_after_one_connection_delay() -> None:
    """NEST routes a current source through a connection of delay dt (pyNN.nest's min_delay): the membrane stays put
    for two steps, then charges. (Brian2 applies it from the first step; sample times: test_conformance.)"""
    raw = copy.deepcopy(BASE)
    raw["stimuli"] = {"dc": {"kind": "dc", "target": "exc", "amplitude": 0.3}}
    raw["recording"] = {"exc": {"variables": ["v"], "cells": [1, 3]}}
    raw["simulation"] = {"dt": 0.1, "duration": 10.0, "seed": 1}
    net, sim = run_network(raw)
    try:
        sim.run(net.phases[0])
        (v,) = sim.recordings().segments[0].analogsignals
    finally:
        sim.end()
    steps = np.diff(v.magnitude[:, 0])
    assert np.all(steps[:2] == 0) and np.all(steps[2:] > 0)


def test_drawn_initial_values_reach_nest_cell_by_cell_in_nest_units(monkeypatch: pytest.MonkeyPatch) -> None:
    """Initial values go to NEST's kernel in one call per variable (``nest.populations.Population``), without
    pyNN.nest's path: a drawn membrane potential per cell, a homogeneous one, and a conductance in uS that NEST
    holds in nS (pyNN.nest alone would set 0.002 nS)."""
    import pyNN.nest

    def refuse(self: Any, variable: str, value: Any) -> None:
        raise AssertionError(f"pyNN.nest's path was taken for {variable}")

    monkeypatch.setattr(pyNN.nest.Population, "_set_initial_value_array", refuse)
    raw = copy.deepcopy(BASE)
    raw["populations"]["exc"]["initial"] = {"v": {"distribution": "uniform", "low": -70.0, "high": -52.0}, "gsyn_exc": 0.002}
    raw["populations"]["grid"]["initial"] = {"v": -58.5}
    net, sim = run_network(raw)
    try:
        exc, grid = (sim.populations[name].node_collection for name in ("exc", "grid"))
        drawn = net.populations["exc"].initial["v"]
        assert np.ndim(drawn) == 1 and len(np.unique(drawn)) == len(drawn) > 1
        np.testing.assert_array_equal(exc.get("V_m"), drawn)
        np.testing.assert_allclose(exc.get("g_ex"), np.full(len(drawn), 2.0))
        np.testing.assert_array_equal(exc.get("g_in"), np.zeros(len(drawn)))
        np.testing.assert_array_equal(grid.get("V_m"), np.full(len(grid), -58.5))
    finally:
        sim.end()


def test_spikes_read_from_the_recorder_are_those_pynn_reads() -> None:
    """spikebridge reads NEST's spike recorders itself (PyNN's reader sorts the senders three times): over phases
    that end between time steps of the network's delays, with some cells of a population recorded, it collects
    exactly the spikes PyNN's reader gives."""
    raw = copy.deepcopy(BASE)
    raw["populations"]["src"]["parameters"]["rate"] = 80.0
    raw["projections"]["src_exc"]["weight"] = 0.01
    raw["recording"] = {"exc": {"variables": ["spikes", "v"], "cells": [0, 2, 5, 7]}, "src": {"variables": ["spikes"]}}
    del raw["simulation"]["duration"]
    raw["simulation"]["phases"] = [{"name": n, "duration": d} for n, d in (("a", 40.0), ("b", 35.5), ("c", 60.0))]
    trains = []
    for own in (True, False):
        net, sim = run_network(raw)
        try:
            if not own:
                sim.spike_readers = {}
            for phase in net.phases:
                sim.run(phase)
            segments = sim.recordings().segments
            trains.append([
                [(st.annotations["population"], int(st.annotations["source_index"]), st.magnitude.tolist()) for st in s.spiketrains]
                for s in segments
            ])
        finally:
            sim.end()
    ours, pynn = trains
    assert ours == pynn
    assert {p for seg in ours for p, _, t in seg if t} == {"exc", "src"}, "both populations spike in the check"
    assert {i for seg in ours for p, i, _ in seg if p == "exc"} == {0, 2, 5, 7}
