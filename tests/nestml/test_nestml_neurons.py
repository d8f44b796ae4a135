"""NESTML neurons translated to Brian2 (:mod:`spikebridge.backends.brian2.nestml_neuron`) fire at the same steps as
NEST running the C++ NESTML generates, under the same Poisson drive (issue 14; the whole library is
``benchmarks/nestml_library.py``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spikebridge.backends.brian2.nestml_neuron import describe
from spikebridge.errors import ModelError

pytestmark = pytest.mark.usefixtures("nestml_toolchain")

LIBRARY = Path(sys.prefix) / "models" / "neurons"
DT, DURATION, DELAY = 0.1, 1000.0, 1.0
NEURONS = {  # name -> (excitatory port, inhibitory port, weight in the ports' NEST unit)
    "iaf_psc_exp_neuron": ("exc_spikes", "inh_spikes", 300.0),
    "iaf_psc_delta_neuron": ("spikes", "spikes", 1.0),
    "iaf_cond_exp_neuron": ("exc_spikes", "inh_spikes", 30.0),
}
CELLS, N_EXC, N_INH, RATE = 3, 200, 50, 5.0


def text(name: str) -> str:
    return (LIBRARY / f"{name}.nestml").read_text()


@pytest.fixture(scope="module")
def module() -> Any:
    """One NEST module holding every neuron of these tests (cached after the first build, ~40 s)."""
    from spikebridge.backends.nest import nestml

    return nestml.build({name: text(name) for name in NEURONS}, progress=False)


@pytest.fixture(scope="module")
def trains() -> list[tuple[np.ndarray, np.ndarray]]:
    """Per cell: the steps (1-based, sorted, with repeats) of its excitatory and its inhibitory spikes."""
    rng = np.random.default_rng(14)
    steps = int(DURATION / DT)

    def pooled(n: int) -> np.ndarray:
        return np.sort(np.concatenate([np.flatnonzero(rng.random(steps) < RATE * DT / 1000.0) + 1 for _ in range(n)]))

    return [(pooled(N_EXC), pooled(N_INH)) for _ in range(CELLS)]


def nest_spikes(module: Any, name: str, trains: list[tuple[np.ndarray, np.ndarray]], weight: float) -> list[np.ndarray]:
    import nest

    from spikebridge.backends.nest import nestml

    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": DT})
    nestml.install(module)
    cells = nest.Create(module.node_models[name], CELLS)
    recorder = nest.Create("spike_recorder")
    nest.Connect(cells, recorder)
    for cell, (exc, inh) in zip(cells, trains):
        for steps, sign in ((exc, 1.0), (inh, -1.0)):  # a negative weight goes to the inhibitory port, as its magnitude
            times, counts = np.unique(steps, return_counts=True)
            gen = nest.Create("spike_generator", params={"spike_times": np.round(times * DT, 10), "spike_multiplicities": counts})
            nest.Connect(gen, cell, syn_spec={"weight": sign * weight, "delay": DELAY})
    nest.Simulate(DURATION)
    events = recorder.get("events")
    return [np.sort(events["times"][events["senders"] == cell.global_id]) for cell in cells]


def brian2_spikes(name: str, trains: list[tuple[np.ndarray, np.ndarray]], weight: float) -> list[np.ndarray]:
    import brian2

    from spikebridge.backends.brian2.nestml_neuron import neuron_group

    # the runtime device, whichever standalone device an earlier test of this process left active
    brian2.prefs.reset_to_defaults()
    brian2.set_device("runtime")
    brian2.prefs.codegen.target = "cython"
    brian2.start_scope()
    exc_port, inh_port, _ = NEURONS[name]
    group = neuron_group(text(name), name, CELLS, DT)
    objects: list[Any] = [group]
    for port, which, sign in ((exc_port, 0, 1.0), (inh_port, 1, 1.0 if inh_port != exc_port else -1.0)):
        # one generator index per spike, so that no (index, time) repeats; each adds its weight to its cell's port
        steps = np.concatenate([pair[which] for pair in trains])
        cells = np.concatenate([np.full(len(pair[which]), c) for c, pair in enumerate(trains)])
        generator = brian2.SpikeGeneratorGroup(len(steps), np.arange(len(steps)), steps * DT * brian2.ms, dt=DT * brian2.ms)
        syn = brian2.Synapses(generator, group, "w : 1", on_pre=group.nestml.on_pre(port, "w"),
                              delay=(DELAY - DT) * brian2.ms, dt=DT * brian2.ms)  # NEST delivers at its stamp + d
        syn.connect(i=np.arange(len(steps)), j=cells)
        syn.w = sign * weight
        objects += [generator, syn]
    monitor = brian2.SpikeMonitor(group)
    brian2.Network(*objects, monitor).run(DURATION * brian2.ms)
    i, t = np.asarray(monitor.i), np.asarray(monitor.t / brian2.ms) + DT  # NEST stamps a spike with its step's end
    return [np.sort(t[i == c]) for c in range(CELLS)]


@pytest.mark.validation
@pytest.mark.compile
@pytest.mark.parametrize("name", list(NEURONS))
def test_spike_times_match_nest_within_one_step(module: Any, trains: list[tuple[np.ndarray, np.ndarray]], name: str) -> None:
    weight = NEURONS[name][2]
    expected = nest_spikes(module, name, trains, weight)
    got = brian2_spikes(name, trains, weight)
    assert sum(map(len, expected)) >= 5, f"{name} should fire under this drive: {[len(s) for s in expected]}"
    for cell, (a, b) in enumerate(zip(expected, got)):
        assert len(a) == len(b), f"cell {cell}: NEST fired {len(a)} times, Brian2 {len(b)}"
        assert np.max(np.abs(a - b), initial=0.0) <= DT + 1e-9, f"cell {cell}: spike times differ by more than one step"


@pytest.mark.validation
def test_a_model_that_does_not_translate_says_why_in_one_line() -> None:
    body = text("iaf_psc_exp_neuron").replace("        refr_t = refr_T    # start of the refractory period",
                                              "        refr_t = refr_T    # start of the refractory period\n"
                                              "        while V_m < 0 mV:\n            V_m += 1 mV")
    with pytest.raises(ModelError) as err:
        describe(body, "mine.nestml", DT)
    message = str(err.value)
    assert "\n" not in message and "line " in message and "loops are not supported" in message, message
    assert message.startswith("mine.nestml: models.iaf_psc_exp_neuron:"), message
