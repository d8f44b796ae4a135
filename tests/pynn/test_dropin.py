"""The drop-in modules run one PyNN script on NEST and Brian2: the same drawn network, NEST's STDP, standalone.

Each test is a small PyNN script, written once and run on several modules, as a user would run theirs.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import numpy as np
import pytest

NEST = "spikebridge.pynn.nest"
BRIAN2 = "spikebridge.pynn.brian2"
CPP = "spikebridge.pynn.brian2_cpp"


def _sim(name: str) -> ModuleType:
    return importlib.import_module(name)


def drawn_network(sim: ModuleType) -> tuple[np.ndarray, np.ndarray]:
    """Two projections drawn from one NumpyRNG: random connectivity, weights and delays, through a view and an assembly."""
    sim.setup(timestep=0.1, min_delay=0.1, max_delay=10.0)
    rng = sim.NumpyRNG(seed=20261203)
    a = sim.Population(30, sim.IF_cond_exp(), label="a")
    b = sim.Population(20, sim.IF_cond_exp(), label="b")
    weight = sim.RandomDistribution("uniform", (0.001, 0.01), rng=rng)
    delay = sim.RandomDistribution("uniform", (0.5, 3.0), rng=rng)
    p1 = sim.Projection(a, b, sim.FixedProbabilityConnector(0.3, rng=rng), sim.StaticSynapse(weight=weight, delay=delay))
    p2 = sim.Projection(a[5:25] + b, b[::2], sim.FixedNumberPreConnector(4, rng=rng), sim.StaticSynapse(weight=weight, delay=delay))
    lists = [np.array(sorted(p.get(["weight", "delay"], format="list"))) for p in (p1, p2)]
    sim.end()
    return lists[0], lists[1]


@pytest.mark.parametrize("other", [BRIAN2, pytest.param(CPP, marks=pytest.mark.compile)])
def test_a_numpy_rng_draws_the_same_network_on_nest_and_brian2(other: str) -> None:
    nest_lists = drawn_network(_sim(NEST))
    other_lists = drawn_network(_sim(other))
    for on_nest, on_other in zip(nest_lists, other_lists):
        assert len(on_nest) >= 40
        np.testing.assert_array_equal(on_nest[:, :2], on_other[:, :2])  # the same pairs
        np.testing.assert_allclose(on_nest[:, 2:], on_other[:, 2:], rtol=1e-12)  # weights, delays on the grid


def pairing(sim: ModuleType, fraction: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Three spike sources onto two cells driven to spike around them; plastic weights at the end, post spike times.

    A last, lone pre spike makes NEST apply its pending facilitation, so both simulators' final weights are
    comparable (NEST updates a weight only at pre spikes).
    """
    sim.setup(timestep=0.1, min_delay=0.1)
    pre_times = np.arange(10.0, 500.0, 25.0)
    drive_times = pre_times + np.tile([4.0, -6.0, 9.0, -2.5], 5)
    pre = sim.Population(3, sim.SpikeSourceArray(spike_times=[np.append(pre_times + k, 700.0) for k in (0.0, 1.0, 3.0)]))
    drive = sim.Population(1, sim.SpikeSourceArray(spike_times=drive_times))
    post = sim.Population(2, sim.IF_cond_exp(tau_refrac=2.0))
    sim.Projection(drive, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.05, delay=0.5), receptor_type="excitatory")
    rule = sim.STDPMechanism(
        timing_dependence=sim.SpikePairRule(tau_plus=16.8, tau_minus=33.7, A_plus=0.01, A_minus=0.012),
        weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=0.01),
        weight=0.005,
        delay=1.5,
        dendritic_delay_fraction=fraction,
    )
    prj = sim.Projection(pre, post, sim.AllToAllConnector(), rule, receptor_type="excitatory")
    post.record("spikes")
    sim.run(720.0)
    weights = np.array(sorted(prj.get(["weight"], format="list")))[:, 2]
    spikes = np.concatenate([np.asarray(s) for s in post.get_data().segments[0].spiketrains])
    sim.end()
    return weights, spikes


def test_stdp_with_pynns_default_delay_fraction_is_nests_on_brian2() -> None:
    nest_w, nest_spikes = pairing(_sim(NEST))
    brian2_w, brian2_spikes = pairing(_sim(BRIAN2))
    assert len(nest_spikes) == len(brian2_spikes) >= 15
    # Brian2 stamps a spike with the start of its step, NEST with the end: the same steps
    np.testing.assert_allclose(brian2_spikes + 0.1, nest_spikes, atol=1e-9)
    assert np.ptp(nest_w) > 5e-4  # the rule did something, differently per synapse
    np.testing.assert_allclose(brian2_w, nest_w, rtol=1e-9)


def test_weights_recorded_during_a_run_form_the_same_table_on_nest_and_brian2() -> None:
    def script(sim: ModuleType) -> Any:
        sim.setup(timestep=0.1)
        pre = sim.Population(4, sim.SpikeSourceArray(spike_times=[np.arange(5.0 + 3 * k, 300.0, 20.0) for k in range(4)]))
        post = sim.Population(3, sim.IF_cond_exp())
        rule = sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(A_plus=0.01, A_minus=0.012),
            weight_dependence=sim.AdditiveWeightDependence(w_max=0.05),
            weight=0.03,
            delay=1.0,
        )
        prj = sim.Projection(pre, post, sim.AllToAllConnector(), rule, label="plastic")
        prj.record_weights(40.0)
        sim.run(100.0)
        sim.run(100.0)
        table = prj.weight_table()
        sim.end()
        return table

    on_nest, on_brian2 = script(_sim(NEST)), script(_sim(BRIAN2))
    assert on_nest.index.equals(on_brian2.index) and on_nest.columns.equals(on_brian2.columns)
    assert list(on_nest.columns.get_level_values("t").unique()) == [0.0, 40.0, 80.0, 120.0, 160.0]
    weights = on_brian2.xs("w", axis=1, level="var").to_numpy()
    np.testing.assert_allclose(weights[:, 0], 0.03)
    assert np.ptp(weights[:, -1]) > 1e-4  # weights changed, differently per synapse
    np.testing.assert_allclose(on_nest.xs("delay", axis=1, level="var"), 1.0)


@pytest.mark.parametrize("name", [NEST, BRIAN2, CPP])
def test_the_drop_ins_export_their_own_classes_under_pynns_names(name: str) -> None:
    sim = _sim(name)
    assert sim.Population.__module__.startswith("spikebridge.pynn")
    assert sim.Projection.__module__.startswith("spikebridge.pynn")
    assert sim.OneToOneConnector.__module__ == "spikebridge.pynn.connectors"
    assert sim.connect is not None and sim.create is not None
    if name != NEST:
        assert sim.STDPMechanism.__module__ == "spikebridge.pynn.synapses"
        assert sim.PopulationView.__module__ == "spikebridge.pynn.populations"


def test_stock_brian2_refuses_what_the_drop_in_runs_and_bad_fractions_are_refused() -> None:
    import pyNN.brian2

    sim = _sim(BRIAN2)
    with pytest.raises(ValueError, match="dendritic_delay_fraction"):
        pyNN.brian2.STDPMechanism(timing_dependence=pyNN.brian2.SpikePairRule(), weight_dependence=pyNN.brian2.AdditiveWeightDependence())
    with pytest.raises(ValueError, match=r"dendritic_delay_fraction=0.5: .* takes 1 .* or 0"):
        sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(), weight_dependence=sim.AdditiveWeightDependence(), dendritic_delay_fraction=0.5
        )


@pytest.mark.compile
def test_standalone_runs_reads_between_runs_and_resets_as_the_runtime_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs, a read, a run, reset() and a change, with STDP and current sources (per-run tables on standalone)."""

    def script(sim: ModuleType) -> dict[str, Any]:
        sim.setup(timestep=0.1, rng_seed=7)
        src = sim.Population(5, sim.SpikeSourceArray(spike_times=[np.arange(5.0 + k, 400.0, 10.0) for k in range(5)]))
        cells = sim.Population(4, sim.IF_curr_exp(tau_m=np.array([10.0, 12.0, 14.0, 16.0])))
        cells[0:2].set(tau_m=20.0)
        rule = sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(tau_plus=16.8, tau_minus=33.7, A_plus=0.05, A_minus=0.02),
            weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=1.5),
            weight=0.6,
            delay=1.0,
        )
        prj = sim.Projection(src, cells, sim.AllToAllConnector(), rule, label="in")
        sim.DCSource(amplitude=0.3, start=20.0, stop=120.0).inject_into(cells[1:3])
        step = sim.StepCurrentSource(times=[10.0, 20.0, 130.0], amplitudes=[0.4, -0.2, 0.8])
        step.inject_into(cells[2:4])
        # before anything ran, values read back are those given, even where no binary has run yet
        np.testing.assert_array_equal(cells.get("tau_m"), [20.0, 20.0, 14.0, 16.0])
        np.testing.assert_array_equal(prj.get("weight", format="array"), np.full((5, 4), 0.6))
        prj.record_weights(50.0)
        cells.record(["spikes", "v"])
        sim.run(100.0)
        step.amplitudes = [0.0, 0.3, 0.6]  # changed mid-simulation: 0.6 from t = 130 ms
        sim.run(100.0)  # two runs, one continuous segment
        first = cells.get_data().segments[0]  # standalone: the binary runs here
        table = prj.weight_table()
        w_read = prj.get("weight", format="array")
        sim.run(50.0)  # after a read: standalone rebuilds and simulates again from t = 0 at the next read
        sim.reset()  # back to the state of the first run: weights, membranes, spikes in flight, currents' schedule
        cells[2:4].set(tau_m=8.0)
        cells.initialize(v=[-65.0, -65.0, -65.0, -60.0])  # set between a reset and a run: what the next reset restores
        late = sim.Population(1, sim.IF_curr_exp(), label="late")  # first runs in this segment: restored too
        sim.Projection(src, late, sim.AllToAllConnector(), sim.StaticSynapse(weight=3.0, delay=4.0))
        late.record("v")
        sim.run(150.0)
        sim.reset()
        sim.run(150.0)
        segments = cells.get_data().segments
        out = {"table": table, "w_read": w_read, "w_end": prj.get("weight", format="array")}
        out["late"] = [np.asarray(s.analogsignals[0]) for s in late.get_data().segments]
        out["v"] = [np.asarray(s.analogsignals[0]) for s in (first, *segments)]
        out["spikes"] = [[np.asarray(t) for t in s.spiketrains] for s in (first, *segments)]
        out["cells"] = cells
        return out

    runtime = script(_sim(BRIAN2))
    with pytest.warns(RuntimeWarning, match="rebuilds the project and simulates again from t = 0"):
        standalone = script(_sim(CPP))
    assert [v.shape for v in runtime["v"]] == [(2001, 4), (2501, 4), (1501, 4), (1501, 4)]  # PyNN includes the sample at the end
    assert list(runtime["table"].columns.get_level_values("t").unique()) == [0.0, 50.0, 100.0, 150.0]
    assert sum(len(t) for t in runtime["spikes"][1]) > 10
    # reset restored the network: the unchanged cells repeat the first segment, the changed ones do not
    np.testing.assert_allclose(runtime["v"][2][:, :2], runtime["v"][1][:1501, :2], rtol=0, atol=1e-12)
    assert np.abs(runtime["v"][2][:, 2:] - runtime["v"][1][:1501, 2:]).max() > 1.0
    # the second reset restored what was set after the first: the last two segments are one
    assert runtime["v"][3][0, 3] == -60.0
    np.testing.assert_allclose(runtime["v"][3], runtime["v"][2], rtol=0, atol=1e-12)
    assert len(runtime["late"]) == 2 and runtime["late"][0].max() > -60.0
    np.testing.assert_allclose(runtime["late"][1], runtime["late"][0], rtol=0, atol=1e-12)
    assert not np.allclose(runtime["w_read"], 0.6)  # the rule changed the weights
    for on_runtime, on_standalone in zip(runtime["v"], standalone["v"]):
        np.testing.assert_allclose(on_standalone, on_runtime, rtol=0, atol=1e-9)
    for on_runtime, on_standalone in zip(runtime["spikes"], standalone["spikes"]):
        for a, b in zip(on_runtime, on_standalone):
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-9)
    for on_runtime, on_standalone in zip(runtime["late"], standalone["late"]):
        np.testing.assert_allclose(on_standalone, on_runtime, rtol=0, atol=1e-9)
    for key in ("w_read", "w_end"):
        np.testing.assert_allclose(standalone[key], runtime[key], rtol=1e-9)
    np.testing.assert_allclose(standalone["table"].to_numpy(), runtime["table"].to_numpy(), rtol=1e-9)
    from spikebridge.pynn import device

    cpp = _sim(CPP)
    cpp.run(5.0, callbacks=[lambda t: t + 1.0])  # callbacks that read nothing, after a read: no refusal
    with pytest.raises(NotImplementedError, match=r"brian2_cpp cannot read results in a run\(\) callback: it simulates after"):
        cpp.run(10.0, callbacks=[lambda t: (standalone["cells"].get_data(), t + 1.0)[1]])  # data: not a projection's list
    standalone["cells"].get_data()  # a read after the run: a build
    builds = device.active().builds
    monkeypatch.setattr(device, "MAX_BUILDS", builds)
    with pytest.raises(NotImplementedError, match=rf"brian2_cpp cannot advance time .* from t = 0 {builds} times.*spikebridge.pynn.brian2"):
        cpp.run(10.0)


def test_brian2_cuda_refuses_reset_naming_the_modules_that_can() -> None:
    cuda = _sim("spikebridge.pynn.brian2_cuda")
    cuda.setup(timestep=0.1)
    cells = cuda.Population(2, cuda.IF_curr_exp(i_offset=0.5))
    cells.record("v")
    cuda.run(10.0)  # recorded into the project; nothing compiles before data are read
    with pytest.raises(NotImplementedError, match=r"brian2_cuda cannot reset\(\).*GPU memory.*spikebridge.pynn.brian2_cpp"):
        cuda.reset()
    prj = cuda.Projection(cells, cells, cuda.AllToAllConnector(), cuda.StaticSynapse(weight=0.1))
    with pytest.raises(NotImplementedError, match=r"brian2_cuda cannot read a projection in a run\(\) callback.*GPU memory"):
        cuda.run(10.0, callbacks=[lambda t: (prj.get("weight", format="list"), t + 5.0)[1]])


@pytest.mark.compile
def test_weights_read_in_run_callbacks_on_cpp_standalone_are_the_runtimes() -> None:
    """PyNN's simple_STDP.py pattern: a callback reads the weights every 10 ms and keeps them. On cpp_standalone the
    callbacks are called first and one run simulates: monitors sample the reads before the end, C++ in main()
    saves the one at the end, and the values are filled in once the binary has run."""

    def script(sim: ModuleType) -> tuple[np.ndarray, Any]:
        sim.setup(timestep=0.1, rng_seed=3)
        src = sim.Population(5, sim.SpikeSourceArray(spike_times=[np.arange(5.0 + k, 100.0, 7.0) for k in range(5)]))
        cells = sim.Population(2, sim.IF_curr_exp())
        rule = sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(tau_plus=16.8, tau_minus=33.7, A_plus=0.05, A_minus=0.02),
            weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=1.5),
            weight=0.8,
            delay=1.0,
        )
        prj = sim.Projection(src, cells, sim.AllToAllConnector(), rule)
        kept: list[Any] = []

        def recorder(t: float) -> float:
            kept.append(prj.get("weight", format="list", with_address=False))
            kept.append(prj.get(["weight", "delay"], format="list"))
            return t + 10.0

        sim.run(100.0, callbacks=[recorder])
        return np.array(kept[::2]), kept[1::2]

    runtime, runtime_rows = script(_sim(BRIAN2))
    standalone, standalone_rows = script(_sim(CPP))
    assert runtime.shape == (11, 10) and np.ptp(runtime[-1]) > 0.1, "the rule changed the weights"
    np.testing.assert_allclose(standalone, runtime, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.array(standalone_rows), np.array(runtime_rows), rtol=0, atol=1e-12)
    assert len(standalone_rows[3]) == 10 and len(standalone_rows[3][0]) == 4  # (pre, post, weight, delay)
    cpp = _sim(CPP)
    cpp.setup(timestep=0.1)
    cells = cpp.Population(2, cpp.IF_curr_exp(i_offset=1.0))
    prj = cpp.Projection(cells, cells, cpp.AllToAllConnector(), cpp.StaticSynapse(weight=0.1))
    with pytest.raises(NotImplementedError, match=r"use the values of projection .* inside the run\(\) callback that read it"):
        cpp.run(10.0, callbacks=[lambda t: t + float(np.mean(prj.get("weight", format="list", with_address=False)))])


@pytest.mark.parametrize("name", [NEST, BRIAN2, CPP])
def test_what_pynn_rejects_is_rejected_with_pynns_own_exceptions(name: str) -> None:
    from pyNN import errors

    sim = _sim(name)
    sim.setup(timestep=0.1)
    cells = sim.Population(3, sim.IF_cond_exp())
    sources = sim.Population(2, sim.SpikeSourceArray(spike_times=[[1.0], [2.0]]))
    with pytest.raises(errors.NonExistentParameterError, match="tau_x"):
        sim.Population(2, sim.IF_cond_exp(tau_x=3.0))
    with pytest.raises(errors.InvalidParameterValueError):
        cells.set(tau_m="ten")
    with pytest.raises(errors.RecordingError):
        sources.record("v")
    with pytest.raises(errors.ConnectionError, match="receptor"):
        sim.Projection(sources, cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01), receptor_type="dopamine")
    with pytest.raises(errors.InvalidDimensionsError):
        cells.set(tau_m=np.array([10.0, 20.0]))
    with pytest.raises(TypeError, match="inject current into a spike source"):
        sim.DCSource(amplitude=0.1).inject_into(sources)
    sim.end()


def test_node_ids_are_read_in_one_call_and_are_nests_own() -> None:
    import nest

    from spikebridge.pynn.nest import node_ids

    assert nest.NodeCollection.tolist is node_ids  # what stock pyNN.nest calls for every post-synaptic cell
    nest.ResetKernel()
    a, b = nest.Create("iaf_psc_alpha", 50), nest.Create("parrot_neuron", 7)
    rng = np.random.default_rng(1)
    for nodes in (a, a[3:40:3], a[np.sort(rng.choice(50, 13, replace=False))], a + b, (a + b)[[0, 49, 50, 56]], b[2], a[0:0]):
        expected = [] if len(nodes) == 0 else [nodes.get("global_id")] if len(nodes) == 1 else list(nodes.get("global_id"))
        assert node_ids(nodes) == expected
        assert all(type(i) is int for i in node_ids(nodes))


def poisson_network(sim: ModuleType, **setup: Any) -> dict[str, Any]:
    """Poisson sources (random rates) onto conductance cells, random connectivity and weights, no NumpyRNG given;
    the first 10 sources slow down between two runs."""
    sim.setup(timestep=0.1, min_delay=0.5, **setup)
    rate = sim.RandomDistribution("uniform", (20.0, 60.0))
    src = sim.Population(30, sim.SpikeSourcePoisson(rate=rate, start=5.0, duration=400.0), label="src")
    cells = sim.Population(10, sim.IF_cond_exp(tau_m=15.0), label="cells")
    weight = sim.RandomDistribution("uniform", (0.004, 0.012))
    prj = sim.Projection(src, cells, sim.FixedProbabilityConnector(0.4), sim.StaticSynapse(weight=weight, delay=1.0))
    src.record("spikes")
    cells.record("spikes")
    sim.run(200.0)
    rates = src.get("rate")
    src[0:10].set(rate=5.0)
    sim.run(200.0)
    out = {
        "rates": rates,
        "rates_after": src[0:10].get("rate"),
        "connections": np.array(sorted(prj.get(["weight", "delay"], format="list"))),
    }
    for name, population in (("inputs", src), ("outputs", cells)):
        out[name] = [np.asarray(t.magnitude) for t in population.get_data().segments[0].spiketrains]
    sim.end()
    return out


@pytest.mark.compile
def test_same_network_draws_one_network_and_one_input_on_every_backend() -> None:
    drawn = {name: poisson_network(_sim(name), same_network=True, rng_seed=5) for name in (NEST, BRIAN2, CPP)}
    nest = drawn[NEST]
    assert nest["rates_after"] == 5.0 and 20.0 <= nest["rates"].min() and nest["rates"].max() <= 60.0
    inputs = nest["inputs"]
    assert sum(len(t) for t in inputs) > 300 and min(t.min() for t in inputs if len(t)) > 5.0
    slowed = np.mean([np.sum(t > 200.6) for t in inputs[:10]]), np.mean([np.sum(t > 200.6) for t in inputs[10:]])
    assert slowed[0] < 0.3 * slowed[1], "the rate set between runs applies"
    for name in (BRIAN2, CPP):
        np.testing.assert_array_equal(drawn[name]["rates"], nest["rates"])
        np.testing.assert_allclose(drawn[name]["connections"], nest["connections"], rtol=0, atol=1e-12)
        for a, b in zip(drawn[name]["inputs"], inputs, strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    # the same input through the same network: the simulators' numerics alone part the outputs (Brian2 one step early)
    for a, b in zip(drawn[BRIAN2]["outputs"], drawn[CPP]["outputs"], strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    counts = np.array([[len(t) for t in drawn[name]["outputs"]] for name in (NEST, BRIAN2)])
    assert counts.sum() > 50 and np.abs(counts[0] - counts[1]).max() <= 1, counts
    # without it, stock PyNN's draws: NEST's and Brian2's own Poisson generators, unseeded weights
    stock = {name: poisson_network(_sim(name), rng_seed=5) for name in (NEST, BRIAN2)}
    assert [len(t) for t in stock[NEST]["inputs"]] != [len(t) for t in stock[BRIAN2]["inputs"]]
    assert not np.allclose(stock[NEST]["connections"][:, 2], stock[BRIAN2]["connections"][:, 2])
    # another seed, another network
    assert len(poisson_network(_sim(NEST), same_network=True, rng_seed=6)["connections"]) != len(nest["connections"])
    with pytest.raises(ValueError, match=r"same_network=True\) needs rng_seed"):
        _sim(NEST).setup(same_network=True)
    sim = _sim(BRIAN2)
    sim.setup(same_network=True, rng_seed=1)
    sim.Population(1, sim.SpikeSourcePoisson(rate=10.0))
    sim.run(1.0)
    with pytest.raises(NotImplementedError, match=r"spikebridge.pynn.brian2 cannot reset\(\) after setup\(same_network=True\)"):
        sim.reset()
    sim.setup()  # off again: PyNN's own Poisson source
    assert type(sim.Population(1, sim.SpikeSourcePoisson(rate=10.0)).celltype).__name__ == "SpikeSourcePoisson"
