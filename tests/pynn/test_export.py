"""``spikebridge export-model``: a PyNN script's network as a model file that validates, and a clear refusal of
what the schema cannot express."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from spikebridge.cli import app
from spikebridge.models import instantiate
from spikebridge.models.io import load_model

SCRIPT = """\
import numpy as np
import pyNN.nest as sim   # unchanged: export-model stands in for every simulator module
from pyNN.random import RandomDistribution
from net_parameters import TAU_M   # the script's own module, beside it

sim.setup(timestep=0.1, rng_seed=424242)
exc = sim.Population(40, sim.IF_cond_exp(tau_m=TAU_M, v_thresh=-52.0), label="exc")
exc.set(v_thresh=-50.0, cm=RandomDistribution("normal", (0.2, 0.01)))   # after creation: what the model holds
exc.initialize(v=RandomDistribution("uniform", (-65.0, -55.0)))
inh = sim.Population(10, sim.IF_cond_exp(), label="inh")
spare = sim.Population(3, sim.IF_cond_exp(), label="population3")   # the label the next one would fall back to
sim.Population(3, sim.IF_cond_exp(), label="not an identifier")
noise = sim.Population(20, sim.SpikeSourcePoisson(rate=25.0, duration=200.0), label="noise")
cue = sim.Population(2, sim.SpikeSourceArray(spike_times=[[5.0, 15.0], [7.5]]), label="cue")
sim.Projection(noise, exc, sim.FixedProbabilityConnector(0.2), sim.StaticSynapse(weight=0.002, delay=1.0), label="noise_exc")
sim.Projection(exc, exc, sim.FixedProbabilityConnector(0.1, allow_self_connections=False),
               sim.StaticSynapse(weight=RandomDistribution("normal", (0.004, 0.001)), delay=0.5))
exc_inh = sim.Projection(exc, inh, sim.FixedNumberPreConnector(5), sim.StaticSynapse(weight=0.003, delay=0.8), label="exc_inh")
exc_inh.set(weight=0.0035)
sim.Projection(inh, exc, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.05, delay=0.8), receptor_type="inhibitory",
               label="inh_exc")
sim.Projection(cue, inh, sim.FromListConnector([(0, 1, 0.01, 1.5), (1, 3, 0.02, 2.0)], column_names=["weight", "delay"]),
               label="cue_inh")
sim.Projection(cue, spare, sim.FromListConnector([(0, 2, 1.5, 0.01)], column_names=["delay", "weight"]), label="by_name")
sim.Projection(cue, spare, sim.FromListConnector([(1, 0, 2.5)], column_names=["delay"]), sim.StaticSynapse(weight=0.02),
               label="delays_only")
stdp = sim.STDPMechanism(
    timing_dependence=sim.SpikePairRule(tau_plus=16.8, tau_minus=33.7, A_plus=0.005, A_minus=0.006),
    weight_dependence=sim.MultiplicativeWeightDependence(w_min=0.0, w_max=0.01),
    weight=0.004, delay=1.0)
sim.Projection(cue, exc, sim.AllToAllConnector(), stdp, label="plastic")
sim.DCSource(amplitude=0.3, start=20.0, stop=80.0).inject_into(exc[0:5])
sim.StepCurrentSource(times=[10.0, 50.0], amplitudes=[0.1, 0.0]).inject_into(inh)
exc.record(["spikes", "v"])
inh.record("spikes")
spare.record("v", sampling_interval=1.0)
while sim.get_current_time() < 300.0:   # ends: the time the script has asked for
    sim.run(100.0)
print("mean rate", exc.mean_spike_count() / 0.3)   # nothing was simulated: any value will do
sim.end()
"""


def test_a_pynn_script_becomes_a_model_file_that_validates_and_draws_the_same_structure(tmp_path: Path) -> None:
    script = tmp_path / "net.py"
    script.write_text(SCRIPT)
    (tmp_path / "net_parameters.py").write_text("TAU_M = 15.0\n")
    out = tmp_path / "net.toml"
    assert app.main(["export-model", "--out", str(out), str(script)]) == 0
    model = load_model(out)
    sizes = {"exc": 40, "inh": 10, "population3": 3, "population3_2": 3, "noise": 20, "cue": 2}
    assert {name: p.size for name, p in model.populations.items()} == sizes
    assert model.populations["exc"].parameters["tau_m"].value == 15.0
    assert model.populations["exc"].parameters["v_thresh"].value == -50.0
    assert model.populations["exc"].parameters["cm"].distribution == "normal"
    assert model.populations["exc"].initial["v"].distribution == "uniform"
    assert model.populations["exc"].initial["v"].low == -65.0 and model.populations["exc"].initial["v"].high == -55.0
    assert model.populations["noise"].parameters["rate"].value == 25.0
    assert model.populations["cue"].spike_times == [[5.0, 15.0], [7.5]]
    prj = model.projections
    assert set(prj) == {"noise_exc", "exc_exc", "exc_inh", "inh_exc", "cue_inh", "by_name", "delays_only", "plastic"}
    assert prj["exc_inh"].weight.value == 0.0035
    assert prj["by_name"].connector.connections == [[0.0, 2.0, 0.01, 1.5]]  # the schema's order: weight, then delay
    assert prj["delays_only"].connector.connections == [[1.0, 0.0, 0.02, 2.5]]
    assert prj["exc_exc"].connector.rule == "fixed_probability" and prj["exc_exc"].connector.p == 0.1
    assert prj["exc_exc"].connector.allow_self_connections is False
    assert prj["exc_exc"].weight.distribution == "normal" and prj["exc_exc"].weight.mean == 0.004
    assert prj["exc_inh"].connector.rule == "fixed_indegree" and prj["exc_inh"].connector.n == 5
    assert prj["inh_exc"].receptor == "inhibitory" and prj["inh_exc"].weight.value == 0.05
    assert prj["cue_inh"].connector.connections == [[0.0, 1.0, 0.01, 1.5], [1.0, 3.0, 0.02, 2.0]]
    plastic = prj["plastic"].synapse
    assert plastic.type == "stdp" and plastic.delay_semantics == "dendritic"
    assert (plastic.timing.tau_plus, plastic.timing.A_minus) == (16.8, 0.006)
    assert plastic.weight_dependence.rule == "multiplicative" and plastic.weight_dependence.w_max == 0.01
    dc, step = sorted(model.stimuli.values(), key=lambda s: s.kind)
    assert (dc.kind, dc.target, dc.cells, dc.amplitude, dc.start, dc.stop) == ("dc", "exc", [0, 1, 2, 3, 4], 0.3, 20.0, 80.0)
    assert (step.kind, step.target, step.cells, step.times, step.amplitudes) == ("step", "inh", None, [10.0, 50.0], [0.1, 0.0])
    assert model.recording["exc"].variables == ["spikes", "v"] and model.recording["inh"].variables == ["spikes"]
    assert model.recording["exc"].sampling_interval is None and model.recording["population3"].sampling_interval == 1.0
    assert model.simulation.seed == 424242 and model.simulation.dt == 0.1
    network = instantiate(model)
    assert network.duration == 300.0
    sizes = {name: len(p.pre_idx) for name, p in network.projections.items()}
    assert sizes["inh_exc"] == 400 and sizes["exc_inh"] == 50 and sizes["cue_inh"] == 2 and sizes["plastic"] == 80
    assert 0.05 < sizes["exc_exc"] / (40 * 39) < 0.15


def test_what_the_schema_cannot_express_is_named_and_nothing_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "view.py"
    script.write_text(
        textwrap.dedent(
            """\
            import pyNN.nest as sim
            sim.setup()
            cells = sim.Population(10, sim.IF_curr_exp(), label="cells")
            sim.Projection(cells[0:5], cells, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1), label="from_view")
            sim.NoisyCurrentSource(mean=0.1, stdev=0.05).inject_into(cells)
            sim.Projection(cells, cells, sim.FixedProbabilityConnector(0.5, allow_self_connections="NoMutual"), label="no_mutual")
            cells[2:4].set(tau_m=12.0)
            sim.run(10.0)
            sim.reset()
            sim.run(10.0)
            """
        )
    )
    out = tmp_path / "view.toml"
    assert app.main(["export-model", "--out", str(out), str(script)]) == 2
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and str(script) in message
    assert "projection 'from_view': from or to a view" in message and "NoisyCurrentSource" in message
    assert "allow_self_connections='NoMutual'" in message and "set() on a view of population 'cells'" in message
    assert "reset() (1x; a model file simulates one segment" in message
    assert not out.exists()
    broken = tmp_path / "broken.py"
    broken.write_text("import pyNN.nest as sim\nsim.setup()\nsim.Population(2, sim.IF_curr_exp(tau_x=1.0))\n")
    assert app.main(["export-model", "--out", str(out), str(broken)]) == 2
    assert "failed before its first run(): NonExistentParameterError" in capsys.readouterr().err
    out.write_text("kept")
    assert app.main(["export-model", "--out", str(out), str(script)]) == 2
    assert out.read_text() == "kept" and "--overwrite" in capsys.readouterr().err
