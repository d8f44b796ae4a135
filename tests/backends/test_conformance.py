"""The backend contract, one set of bodies for every backend of ``conftest.BACKENDS`` (nest, brian2, brian2:cpp and
the mock). Tests marked ``simulator`` claim real dynamics and skip the mock; ``needs(...)`` skips backends that
lack a capability (currents, reading results between phases)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import spikebridge
from spikebridge import backends
from spikebridge.errors import BackendError
from spikebridge.models import instantiate, load_model, validate
from spikebridge.models.schema import Phase

from ..models.test_schema_errors import BASE
from .networks import SMALL_COBA, STDP_RAW, mixed_projections, stdp_three_phases, stdp_with_snapshots, step_current

ULP = float(np.finfo(np.float64).eps)


def build(raw: dict[str, Any], backend: str, options: dict[str, Any] | None = None) -> tuple[Any, Any]:
    net = instantiate(validate(raw))
    sim = backends.create(backend, options)
    sim.build(net)
    return net, sim


def assert_sorted(conns: Any) -> None:
    order = np.lexsort((conns.post, conns.pre))
    np.testing.assert_array_equal(order, np.arange(len(order)))


def test_name_variants_and_options_are_checked(backend: str) -> None:
    base, variant = backends.split_name(backend)
    assert base in backends.available()
    assert variant in backends.backend_class(backend).variants
    checked = backends.check(backend, {"threads": "2"})
    assert checked.threads == 2  # type: ignore[attr-defined]
    with pytest.raises(BackendError, match=rf"^unknown {base} backend option\(s\) \['treads'\]; known: \["):
        backends.create(backend, {"treads": 2})
    with pytest.raises(BackendError, match=rf"^{base} option 'threads' must be an integer >= 1, got 'abc'$"):
        backends.check(backend, {"threads": "abc"})
    with pytest.raises(BackendError, match=rf"^{base} option 'threads' must be >= 1, got 0$"):
        backends.create(backend, {"threads": 0})
    with pytest.raises(BackendError, match=rf"^backend '{base}' has no variant 'gpu9'; use '{base}'"):
        backends.create(f"{base}:gpu9")
    assert backends.packages(backend), "a backend names the distributions it simulates with"


def test_one_phase_gives_connections_and_recordings_of_the_contract_shape(backend: str) -> None:
    """Bulk-loaded connections read back equal to the arrays, sorted; spikes and signals annotated; info() complete."""
    net, sim = build(mixed_projections(), backend)
    try:
        sim.run(net.phases[0])
        got_all = {name: sim.connections(name) for name in net.projections}
        block = sim.recordings()
        info = sim.info()
    finally:
        sim.end()
    for name, want in net.projections.items():
        got = got_all[name]
        assert_sorted(got)
        np.testing.assert_array_equal(got.pre, want.pre_idx)
        np.testing.assert_array_equal(got.post, want.post_idx)
        np.testing.assert_allclose(got.weight, want.weight, rtol=1e-12)
        np.testing.assert_allclose(got.delay, want.delay, rtol=1e-12)
    (segment,) = block.segments
    assert segment.name == net.phases[0].name
    assert segment.annotations["channel_offsets"] == {"exc": 0}
    trains = list(segment.spiketrains)
    assert [(st.annotations["population"], int(st.annotations["source_index"])) for st in trains] == [("exc", i) for i in range(8)]
    assert all(float(st.t_start) == 0.0 and float(st.t_stop) == 100.0 for st in trains)
    (v,) = [s for s in segment.analogsignals if s.name == "v"]
    # one sample per step from t_start to t_stop - dt: the signal spans the phase exactly
    assert v.shape == (1000, 8) and float(v.t_start) == 0.0 and float(v.t_stop.rescale("ms")) == pytest.approx(100.0)
    assert v.annotations["population"] == "exc" and str(v.units.dimensionality) == "mV"
    np.testing.assert_array_equal(v.array_annotations["channel_index"], np.arange(8))
    np.testing.assert_array_equal(v.magnitude[0], np.full(8, -65.0))  # the model's initial value
    assert isinstance(info["simulator"], str) and info["simulator"]
    assert set(backends.packages(backend)) <= set(info["versions"])
    assert info["options"]["threads"] == 1 or "ignored" in str(info["options"]["threads"])
    json.dumps(info)  # goes into meta.json as it is


def test_frozen_phase_keeps_weights_and_plastic_phases_change_them(backend: str) -> None:
    """Runs of the first 1, 2 and 3 phases (plastic, frozen, plastic), read after the last phase run."""
    net = instantiate(validate(stdp_three_phases()))
    w0 = np.asarray(net.projections["ff"].weight)
    w_after: dict[str, np.ndarray] = {}
    blocks = {}
    for phases in (1, 2, 3):
        sim = backends.create(backend)
        sim.build(net)
        try:
            for phase in net.phases[:phases]:
                sim.run(phase)
            w_after[net.phases[phases - 1].name] = sim.connections("ff").weight
            blocks[phases] = sim.recordings()
        finally:
            sim.end()
    assert np.abs(w_after["train"] - w0).max() > 1e-4, "STDP did not change any weight during the plastic phase"
    np.testing.assert_array_equal(w_after["test"], w_after["train"])
    assert np.abs(w_after["more"] - w_after["test"]).max() > 1e-4
    for w in w_after.values():
        assert w.min() >= 0.0 and w.max() <= 0.01 + 1e-12
    assert [s.name for s in blocks[3].segments] == ["train", "test", "more"]
    spikes = [sum(len(st) for st in seg.spiketrains) for seg in blocks[3].segments]
    assert all(n > 0 for n in spikes), spikes
    # a phase's spikes do not depend on whether later phases were run
    for k in (1, 2):
        for early, late in zip(blocks[k].segments, blocks[3].segments[:k], strict=True):
            np.testing.assert_array_equal(np.concatenate([st.magnitude for st in early.spiketrains]),
                                          np.concatenate([st.magnitude for st in late.spiketrains]))


@pytest.mark.needs("read_mid_run")
def test_weights_read_between_phases(backend: str) -> None:
    """Read before the first phase and after each: the frozen phase keeps the weights of the plastic one."""
    net, sim = build(STDP_RAW, backend)
    try:
        w0 = sim.connections("ff").weight
        sim.run(net.phases[0])
        w1 = sim.connections("ff").weight
        sim.run(net.phases[1])
        w2 = sim.connections("ff").weight
        block = sim.recordings()
    finally:
        sim.end()
    np.testing.assert_allclose(w0, np.asarray(net.projections["ff"].weight), rtol=ULP, atol=0)  # NEST: via nS
    assert np.abs(w1 - w0).max() > 1e-4, "STDP did not change any weight during the plastic phase"
    np.testing.assert_array_equal(w2, w1)
    assert w1.min() >= 0.0 and w1.max() <= 0.01 + 1e-12
    assert [s.name for s in block.segments] == ["train", "test"]
    spikes = [sum(len(st) for st in seg.spiketrains) for seg in block.segments]
    assert all(n > 0 for n in spikes), spikes


def test_weight_snapshots_at_every_interval(backend: str) -> None:
    net, sim = build(stdp_with_snapshots(), backend)
    try:
        for phase in net.phases:
            sim.run(phase)
        snapshots = sim.weight_snapshots()
        final = sim.connections("ff")
    finally:
        sim.end()
    assert sorted(snapshots) == [100.0 * k for k in range(11)]  # 0 .. 1000 ms over two phases
    drawn = net.projections["ff"]
    for conns in (snap["ff"] for snap in snapshots.values()):
        assert_sorted(conns)
        np.testing.assert_array_equal(conns.pre, drawn.pre_idx)
        np.testing.assert_array_equal(conns.post, drawn.post_idx)
    w = {t: snap["ff"].weight for t, snap in snapshots.items()}
    # NEST holds weights in nS: the uS -> nS -> uS round trip may move the last bit
    np.testing.assert_allclose(w[0.0], drawn.weight, rtol=ULP, atol=0)
    assert np.abs(w[500.0] - w[0.0]).max() > 1e-4  # learning in the plastic phase
    np.testing.assert_array_equal(w[1000.0], w[500.0])  # frozen in the test phase
    np.testing.assert_array_equal(w[1000.0], final.weight)


@pytest.mark.simulator
def test_same_model_and_seed_give_identical_spikes(backend: str, tmp_path: Path) -> None:
    m = load_model("vogels_abbott_coba", SMALL_COBA)
    a = spikebridge.run(m, backend, tmp_path / "a", progress=False, figure=False)
    b = spikebridge.run(m, backend, tmp_path / "b", progress=False, figure=False)
    ia, ta = a.spikes("exc")
    ib, tb = b.spikes("exc")
    assert len(ta) > 100
    np.testing.assert_array_equal(ia, ib)
    np.testing.assert_array_equal(ta, tb)
    assert a.meta["network_sha256"] == b.meta["network_sha256"]
    assert a.meta["backend_info"]["integration"] == b.meta["backend_info"]["integration"]
    assert "IF_cond_exp" in a.meta["backend_info"]["integration"]


@pytest.mark.simulator
@pytest.mark.needs("currents")
def test_current_source_drives_cells(backend: str) -> None:
    net, sim = build(step_current(), backend)
    try:
        sim.run(Phase(name="run", duration=100.0))
        seg = sim.recordings().segments[0]
    finally:
        sim.end()
    trains = {int(st.annotations["source_index"]): st for st in seg.spiketrains}
    assert len(trains[0]) > 0 and len(trains[1]) > 0 and len(trains[2]) == 0
    assert float(trains[0].min()) > 20.0 and float(trains[0].max()) < 61.0


@pytest.mark.simulator
@pytest.mark.needs("currents")
def test_membrane_signals_have_exact_sample_times_across_phases(backend: str) -> None:
    raw = copy.deepcopy(BASE)
    raw["stimuli"] = {"dc": {"kind": "dc", "target": "exc", "amplitude": 0.3}}
    raw["recording"] = {"exc": {"variables": ["v", "gsyn_exc"], "cells": [1, 3]}}

    def signals(phases: list[dict[str, Any]]) -> list[Any]:
        raw["simulation"] = {"dt": 0.1, "phases": phases, "seed": 1}
        net, sim = build(raw, backend)
        try:
            for phase in net.phases:
                sim.run(phase)
            return [next(s for s in seg.analogsignals if s.name == "v") for seg in sim.recordings().segments]
        finally:
            sim.end()

    a, b = signals([{"name": "a", "duration": 5.0}, {"name": "b", "duration": 5.0}])
    (whole,) = signals([{"name": "all", "duration": 10.0}])
    assert a.shape == (50, 2) and b.shape == (50, 2) and whole.shape == (100, 2)  # t_start .. t_stop - dt, every dt
    assert float(a.t_start) == 0.0 and float(b.t_start) == 5.0
    assert float(a.t_stop.rescale("ms")) == pytest.approx(5.0) and float(b.t_stop.rescale("ms")) == pytest.approx(10.0)
    np.testing.assert_array_equal(a.magnitude[0], [-65.0, -65.0])  # the model's initial value
    # two phases hold exactly the samples of one run of the same length: none repeated, dropped or shifted
    np.testing.assert_array_equal(np.vstack([a.magnitude, b.magnitude]), whole.magnitude)
    # charging under the DC current from its third step on at the latest (when it starts: per backend, test_nest)
    steps = np.diff(whole.magnitude[:, 0])
    assert np.all(steps[:2] >= 0) and np.all(steps[2:] > 0)
    np.testing.assert_array_equal(a.array_annotations["channel_index"], [1, 3])


@pytest.mark.simulator
def test_single_synapse_projection_reads_back(backend: str, tmp_path: Path) -> None:
    """One synapse: simulators answer with scalars where there is one value; the reader keeps arrays."""
    raw = {
        "name": "one",
        "populations": {
            "src": {"cell_type": "SpikeSourceArray", "size": 1, "spike_times": [[10.0]]},
            "post": {"cell_type": "IF_cond_exp", "size": 1},
        },
        "projections": {"p": {"pre": "src", "post": "post", "connector": {"rule": "all_to_all"}, "weight": 0.05, "delay": 1.0}},
        "recording": {"post": {"variables": ["v"]}},
        "simulation": {"dt": 0.1, "duration": 20.0, "seed": 1},
    }
    res = spikebridge.run(validate(raw), backend, tmp_path / backend.replace(":", "-"), progress=False, figure=False)
    c = res.connections("p")
    assert c.pre.shape == (1,) and c.weight[0] == pytest.approx(0.05) and c.delay[0] == pytest.approx(1.0)
    v = res.signals("post", "v").magnitude[:, 0]
    assert np.argmax(v > v[0] + 1e-9) == 111  # the PSP starts at 11.1 ms: spike at 10 ms, 1 ms delay, one step


def test_runner_writes_a_run_directory(backend: str, tmp_path: Path) -> None:
    """The runner takes any backend: recordings, connections and metadata come back from the run directory."""
    res = spikebridge.run(validate(copy.deepcopy(BASE)), backend, tmp_path / "run", progress=False, figure=False)
    again = spikebridge.load(res.path)
    assert again.meta["backend"] == backend
    assert again.meta["backend_info"]["simulator"] == res.meta["backend_info"]["simulator"]
    idx, t = again.spikes("exc")
    assert len(idx) == len(t) and np.all(np.diff(t) >= 0) and (len(idx) == 0 or idx.max() < 8)
    np.testing.assert_array_equal(again.connections("src_exc").pre, res.connections("src_exc").pre)
    assert again.signals("exc", "v").shape == (1000, 8)
