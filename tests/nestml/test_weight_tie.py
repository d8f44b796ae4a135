"""A weight tie (``projections.X.tie``): a static projection whose weights follow another's, transposed (EIANN's
symmetric feedback, B = scale * W^T), copied at t = 0 and every interval; the same on NEST and Brian2; bad ties
refused in one line naming the field."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from spikebridge.errors import ModelError
from spikebridge.models import instantiate, nestml, validate

NEURON = nestml.DENDRITIC_NEURON.read_text()
SCALE = 0.5
INTERVAL = 100.0


def tied(tie: dict[str, Any] | None = None) -> dict[str, Any]:
    """Dendritic cells ``low`` (4, driven) -> ``high`` (3) through LDS, whose dendritic state rises with a top-down
    input while the gate is open (500-1000 ms); ``back`` carries ``high``'s spikes onto ``low``'s top-down port through
    SCALE times the transposed LDS weights, so ``low``'s dendritic state (and, through kappa, its spikes) follows them."""
    gate = [[0, i, 1.0] for i in range(4)] + [[1, i, -1.0] for i in range(4)]
    return {
        "name": "weight_tie",
        "models": {"dend": {"text": NEURON}},
        "populations": {
            "src": {"cell_type": "SpikeSourcePoisson", "size": 10, "parameters": {"rate": 20.0}},
            "td": {"cell_type": "SpikeSourcePoisson", "size": 5, "parameters": {"rate": 30.0}},
            "gate": {"cell_type": "SpikeSourceArray", "size": 2},
            "low": {"cell_type": "dend", "size": 4, "parameters": {"I_e": 300.0, "kappa": 2.0}},
            "high": {"cell_type": "dend", "size": 3, "parameters": {"I_e": 250.0}},
        },
        "stimuli": {"gate": {"kind": "spike_array", "target": "gate", "spike_times": [[500.0], [1000.0]]}},
        "projections": {
            "in": {"pre": "src", "post": "low", "connector": {"rule": "all_to_all"}, "weight": 2.0, "delay": 0.1},
            "ff": {
                "pre": "low",
                "post": "high",
                "connector": {"rule": "all_to_all"},
                "weight": {"distribution": "uniform", "low": 1.0, "high": 3.0},
                "delay": 0.1,
                "synapse": {"type": "lds", "parameters": {"eta": 0.002, "w_max": 100.0}},
            },
            "td": {"pre": "td", "post": "high", "port": "top_down", "connector": {"rule": "all_to_all"}, "weight": 1.0, "delay": 0.1},
            "back": {
                "pre": "high",
                "post": "low",
                "port": "top_down",
                "connector": {"rule": "all_to_all"},
                "weight": 0.0,
                "delay": 0.1,
                "tie": tie if tie is not None else {"source": "ff", "scale": SCALE, "interval": INTERVAL},
            },
            "gate_low": {
                "pre": "gate",
                "post": "low",
                "port": "gate_spikes",
                "connector": {"rule": "from_list", "connections": gate},
                "weight": 1.0,
                "delay": 0.1,
            },
            "gate_high": {
                "pre": "gate",
                "post": "high",
                "port": "gate_spikes",
                "connector": {"rule": "from_list", "connections": [c for c in gate if c[1] < 3]},
                "weight": 1.0,
                "delay": 0.1,
            },
        },
        "recording": {"low": {"variables": ["spikes"]}, "high": {"variables": ["spikes"]}},
        "record_weights": {"projections": ["ff", "back"], "interval": INTERVAL},
        "simulation": {"dt": 0.1, "duration": 1500.0, "seed": 3},
    }


def test_a_tied_projection_starts_at_scale_times_its_sources_transposed_weights() -> None:
    net = instantiate(validate(tied()))
    ff, back = net.projections["ff"], net.projections["back"]
    assert back.tie is not None and back.tie.interval == INTERVAL
    w = np.zeros((4, 3))
    w[ff.pre_idx, ff.post_idx] = ff.weight
    np.testing.assert_array_equal(back.weight, SCALE * w[back.post_idx, back.pre_idx])


@pytest.mark.parametrize(
    ("tie", "field", "says"),
    [
        ({"source": "nope", "scale": 1.0, "interval": 100.0}, "projections.back.tie.source", "no projection named 'nope'"),
        ({"source": "in", "scale": 1.0, "interval": 100.0}, "projections.back.tie.source", "a tie is transposed"),
        ({"source": "ff", "scale": 1.0, "interval": 0.05}, "projections.back.tie.interval", "whole number of time steps"),
        ({"source": "ff", "scale": -1.0, "interval": 100.0}, "projections.back.tie.scale", "greater than 0"),
    ],
)
def test_a_bad_tie_is_refused_in_one_line_naming_the_field(tie: dict[str, Any], field: str, says: str) -> None:
    with pytest.raises(ModelError) as err:
        validate(tied(tie))
    text = str(err.value)
    assert field in text and says in text and "\n" not in text, text


def test_a_tie_that_is_not_a_whole_transpose_is_refused_when_drawn() -> None:
    doc = tied()
    doc["projections"]["back"]["connector"] = {"rule": "from_list", "connections": [[0, 0, 0.0], [1, 1, 0.0]]}
    with pytest.raises(ModelError, match=r"projections\.back\.tie: a tie is a whole transpose: each of 'ff''s 12 connections"):
        instantiate(validate(doc))


def test_a_plastic_tied_projection_is_refused() -> None:
    doc = tied()
    doc["projections"]["back"]["synapse"] = {"type": "lds"}
    with pytest.raises(ModelError, match=r"projections\.back\.tie: a tied projection is static"):
        validate(doc)


@pytest.mark.compile
def test_the_tied_weights_follow_the_source_every_interval_the_same_on_nest_and_brian2() -> None:
    """At every interval the tied weights become SCALE x the source's transposed weights (read at the same time as
    its snapshots), and stay so until the next: the final tied weights are SCALE x the source's at 1400 ms, not its
    initial ones. NEST stops and sets them; Brian2 copies them in a ``run_regularly`` of the source's synapses. The
    two run the same network spike for spike."""
    from spikebridge import backends

    net = instantiate(validate(tied()))
    back = net.projections["back"]
    spikes, finals, snapshots = {}, {}, {}
    for name in ("nest", "brian2"):
        sim = backends.create(name)
        sim.build(net)
        sim.run(net.phases[0])
        finals[name] = sim.connections("back")
        snapshots[name] = sim.weight_snapshots()
        spikes[name] = [np.asarray(st.magnitude) for st in sim.recordings().segments[0].spiketrains]
        sim.end()
    for name, snaps in snapshots.items():
        ff_last = snaps[1400.0]["ff"]
        w = np.zeros((4, 3))
        w[ff_last.pre, ff_last.post] = ff_last.weight
        expected = SCALE * w[finals[name].post, finals[name].pre]
        np.testing.assert_allclose(finals[name].weight, expected, rtol=1e-12, err_msg=name)
        assert np.abs(finals[name].weight - back.weight).max() > 1e-3, f"{name}: the source learnt, so the tied weights moved"
        # between ties the tied weights hold: a snapshot at 600 ms shows those in use until then, copied at 500 ms
        ff_500, back_600 = snaps[500.0]["ff"], snaps[600.0]["back"]
        w[ff_500.pre, ff_500.post] = ff_500.weight
        np.testing.assert_allclose(back_600.weight, SCALE * w[back_600.post, back_600.pre], rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(finals["brian2"].weight, finals["nest"].weight, rtol=0.0, atol=1e-9)
    assert len(spikes["nest"]) == len(spikes["brian2"]) == 7
    for k, (ours, theirs) in enumerate(zip(spikes["brian2"], spikes["nest"], strict=True)):
        np.testing.assert_allclose(ours, theirs, atol=1e-9, err_msg=f"cell {k}")


def pynn_cells() -> dict[str, Any]:
    """The same loop on PyNN's IF_cond_exp: ``a`` -> ``b`` through additive STDP, ``back`` tied to it; both driven."""
    stdp = {
        "type": "stdp",
        "timing": {"tau_plus": 20.0, "tau_minus": 20.0, "A_plus": 0.05, "A_minus": 0.06},
        "weight_dependence": {"rule": "additive", "w_min": 0.0, "w_max": 0.02},
    }
    return {
        "name": "weight_tie_pynn",
        "populations": {
            "src": {"cell_type": "SpikeSourcePoisson", "size": 20, "parameters": {"rate": 30.0}},
            "a": {"cell_type": "IF_cond_exp", "size": 5},
            "b": {"cell_type": "IF_cond_exp", "size": 3},
        },
        "projections": {
            "in_a": {"pre": "src", "post": "a", "connector": {"rule": "all_to_all"}, "weight": 0.004, "delay": 0.1},
            "in_b": {"pre": "src", "post": "b", "connector": {"rule": "all_to_all"}, "weight": 0.003, "delay": 0.1},
            "ff": {
                "pre": "a",
                "post": "b",
                "connector": {"rule": "all_to_all"},
                "weight": {"distribution": "uniform", "low": 0.005, "high": 0.015},
                "delay": 0.1,
                "synapse": stdp,
            },
            "back": {
                "pre": "b",
                "post": "a",
                "connector": {"rule": "all_to_all"},
                "weight": 0.0,
                "delay": 0.1,
                "tie": {"source": "ff", "scale": 0.5, "interval": 50.0},
            },
        },
        "recording": {"a": {"variables": ["spikes"]}, "b": {"variables": ["spikes"]}},
        "record_weights": {"projections": ["ff", "back"], "interval": 50.0},
        "simulation": {"dt": 0.1, "duration": 500.0, "seed": 4},
    }


@pytest.mark.compile
@pytest.mark.parametrize("backend", ["nest", "brian2"])
def test_a_tie_onto_pynn_cells_copies_the_source_every_interval(backend: str) -> None:
    """Onto a PyNN cell type the tie works alike: each snapshot of the tied weights is 0.5 x the source's one
    interval earlier (the copy in use until then), transposed, and the source learnt meanwhile."""
    from spikebridge import backends

    net = instantiate(validate(pynn_cells()))
    sim = backends.create(backend)
    sim.build(net)
    sim.run(net.phases[0])
    snaps = sim.weight_snapshots()
    spikes = sum(len(st) for st in sim.recordings().segments[0].spiketrains)
    sim.end()
    assert spikes > 20, "both layers fire"
    times = sorted(snaps)
    assert times[0] == 0.0 and times[-1] == 500.0 and len(times) == 11
    changed = 0.0
    for before, t in zip(times[:-1], times[1:], strict=True):
        ff, back = snaps[before]["ff"], snaps[t]["back"]
        w = np.zeros((5, 3))
        w[ff.pre, ff.post] = ff.weight
        np.testing.assert_allclose(back.weight, 0.5 * w[back.post, back.pre], rtol=1e-9, err_msg=f"{backend} at {t} ms")
        changed = max(changed, float(np.abs(snaps[t]["ff"].weight - snaps[before]["ff"].weight).max()))
    assert changed > 1e-4, f"{backend}: STDP changed the source"
