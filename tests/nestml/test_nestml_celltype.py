"""NESTML neurons as a population's ``cell_type`` (issue 14): a ``[models.NAME]`` neuron mixed with PyNN's standard cells
in one model file, run on NEST (NESTML's C++) and Brian2 (spikebridge's translation) with the same spikes; bad ports,
parameters and NESTML text refused in one line (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spikebridge.errors import ModelError
from spikebridge.models import validate

LIBRARY = Path(sys.prefix) / "models" / "neurons"
DT = 0.1

MIXED = """\
name = "mixed_nestml"

[models.lif]
file = "lif.nestml"

[populations.inputs]
cell_type = "SpikeSourcePoisson"
size = 20
parameters = { rate = 20.0 }

[populations.nml]
cell_type = "lif"
size = 4
parameters = { tau_m = { distribution = "uniform", low = 8.0, high = 12.0 }, I_e = 200.0 }
initial = { V_m = { distribution = "uniform", low = -70.0, high = -60.0 } }

[populations.out]
cell_type = "IF_curr_exp"
size = 3

[projections.in_nml]
pre = "inputs"
post = "nml"
connector = { rule = "all_to_all" }
weight = 150.0
delay = 1.0

[projections.in_nml_inh]
pre = "inputs"
post = "nml"
receptor = "inhibitory"
connector = { rule = "fixed_indegree", n = 5 }
weight = 100.0
delay = 1.0

[projections.nml_out]
pre = "nml"
post = "out"
connector = { rule = "all_to_all" }
weight = 1.5
delay = 1.5

[recording.nml]
variables = ["spikes", "v"]

[recording.out]
variables = ["spikes"]

[simulation]
dt = 0.1
duration = 500.0
seed = 3
"""


def write(folder: Path, text: str = MIXED, neuron: str | None = None) -> Path:
    (folder / "lif.nestml").write_text(neuron if neuron is not None else (LIBRARY / "iaf_psc_exp_neuron.nestml").read_text())
    path = folder / "mixed.toml"
    path.write_text(text)
    return path


def raw(**changes: Any) -> dict[str, Any]:
    """A small model dict with a NESTML population ``nml`` (inline text); ``changes`` replace top-level tables."""
    doc: dict[str, Any] = {
        "name": "m",
        "models": {"lif": {"text": (LIBRARY / "iaf_psc_exp_neuron.nestml").read_text()}},
        "populations": {
            "src": {"cell_type": "SpikeSourcePoisson", "size": 2, "parameters": {"rate": 5.0}},
            "nml": {"cell_type": "lif", "size": 2, "parameters": {"tau_m": "15 ms", "C_m": 200.0}, "initial": {"V_m": -65.0}},
        },
        "projections": {"ab": {"pre": "src", "post": "nml", "connector": {"rule": "all_to_all"}, "weight": 100.0}},
        "simulation": {"dt": DT, "duration": 10.0},
    }
    doc.update(changes)
    return doc


def test_a_nestml_neuron_is_a_cell_type_with_nestml_names_in_nest_units() -> None:
    model = validate(raw())
    pop = model.populations["nml"]
    assert pop.nestml is not None and "model iaf_psc_exp_neuron:" in pop.nestml, "a resolved model carries the text it runs"
    assert pop.parameters["tau_m"].value == 15.0 and pop.parameters["C_m"].value == 200.0 and pop.initial["V_m"].value == -65.0
    assert model.projections["ab"].port == "exc_spikes", "excitatory goes to the port declared excitatory"
    inhibitory = raw()
    inhibitory["projections"]["ab"]["receptor"] = "inhibitory"
    assert validate(inhibitory).projections["ab"].port == "inh_spikes"


def test_a_one_port_neuron_takes_weights_of_either_sign_on_its_port() -> None:
    from spikebridge.models import instantiate

    doc = raw(models={"lif": {"text": (LIBRARY / "iaf_psc_delta_neuron.nestml").read_text()}})
    doc["populations"]["nml"]["parameters"] = {"tau_m": 15.0}
    doc["projections"]["inh"] = {**doc["projections"]["ab"], "receptor": "inhibitory", "weight": -0.5}
    net = instantiate(validate(doc))
    assert net.projections["ab"].port == net.projections["inh"].port == "spikes"
    assert net.projections["inh"].weight.max() == -0.5, "the sign says which way, as NEST's iaf_psc_delta"


def test_declared_initial_state_reads_internals_that_read_the_initial_v_m() -> None:
    """wb_cond_multisyn_neuron's gating variables start at their steady state at V_m = -65 mV (NEST's generated model
    starts Act_n near 1 and Inact_h near 0, so spikebridge sets them there from this)."""
    from spikebridge.models.nestml_cells import declared_state

    state = declared_state((LIBRARY / "wb_cond_multisyn_neuron.nestml").read_text(), "wb_cond_multisyn_neuron.nestml")
    v = -65.0
    alpha_n, beta_n = -0.05 * (v + 34.0) / (np.exp(-0.1 * (v + 34.0)) - 1.0), 0.625 * np.exp(-(v + 44.0) / 80.0)
    alpha_h, beta_h = 0.35 * np.exp(-(v + 58.0) / 20.0), 5.0 / (np.exp(-0.1 * (v + 28.0)) + 1.0)
    assert state["V_m"] == v and state["V_m_old"] == v, "V_m_old = E_L, a parameter"
    assert state["Act_n"] == pytest.approx(alpha_n / (alpha_n + beta_n), rel=1e-12)
    assert state["Inact_h"] == pytest.approx(alpha_h / (alpha_h + beta_h), rel=1e-12)
    assert 0.08 < state["Act_n"] < 0.09


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda d: d["projections"]["ab"].update(port="dendrite"), "projections.ab.port", "no spike input port 'dendrite'"),
        (lambda d: d["populations"]["nml"]["parameters"].update(tau_x=1.0), "populations.nml.parameters.tau_x", "not a parameter"),
        (lambda d: d["populations"]["nml"]["initial"].update(v=-65.0), "populations.nml.initial.v", "not a state variable"),
        (lambda d: d["populations"]["nml"].update(cell_type="lifx"), "populations.nml.cell_type", "unknown cell type 'lifx'"),
        (lambda d: d["projections"]["ab"].update(synapse={"type": "triplet_stdp"}), "projections.ab.synapse.type", "only static synapses"),
        (lambda d: d.update(recording={"nml": {"variables": ["gsyn_exc"]}}), "recording.nml.variables", "'gsyn_exc' cannot be recorded"),
        (lambda d: d.update(stimuli={"i": {"kind": "dc", "target": "nml", "amplitude": 0.1}}), "stimuli.i.target", "not supported yet"),
        (lambda d: d["projections"]["ab"].update(weight=-1.0), "projections.ab.weight", "must be >= 0"),
    ],
)
def test_what_a_nestml_population_cannot_take_is_named_in_one_line(change: Any, field: str, words: str) -> None:
    from spikebridge.models import instantiate

    doc = raw()
    change(doc)
    with pytest.raises(ModelError) as err:
        instantiate(validate(doc))
    message = str(err.value)
    assert field in message and words in message and "\n" not in message, message


def test_a_nestml_error_in_a_neuron_names_the_file_the_model_and_the_line(tmp_path: Path) -> None:
    broken = (LIBRARY / "iaf_psc_exp_neuron.nestml").read_text().replace("V_m' = -(V_m - E_L) / tau_m", "V_m' = -(V_m - E_Lx) / tau_m")
    done = subprocess.run(
        [sys.executable, "-m", "spikebridge.cli", "check", str(write(tmp_path, neuron=broken))], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert "lif.nestml" in line and "models.iaf_psc_exp_neuron" in line and "line " in line and "E_Lx" in line, line


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (
            'receptor = "inhibitory"\n',
            'receptor = "inhibitory"\nport = "gaba"\n',
            "projections.in_nml_inh.port: iaf_psc_exp_neuron has no spike input port 'gaba'",
        ),
        ("I_e = 200.0", "I_ex = 200.0", "populations.nml.parameters.I_ex: not a parameter of the NESTML neuron iaf_psc_exp_neuron"),
    ],
)
def test_bad_ports_and_parameters_exit_2_from_the_cli(tmp_path: Path, old: str, new: str, words: str) -> None:
    path = write(tmp_path, MIXED.replace(old, new, 1))
    done = subprocess.run([sys.executable, "-m", "spikebridge.cli", "check", str(path)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(f"spikebridge: error: {path}: {words}"), done.stderr


@pytest.mark.validation
@pytest.mark.compile
@pytest.mark.usefixtures("nestml_toolchain")
def test_a_mixed_network_spikes_the_same_on_nest_and_brian2(tmp_path: Path) -> None:
    """Poisson inputs -> NESTML iaf_psc_exp_neuron (tau_m and V_m drawn per cell; excitatory and inhibitory ports) ->
    PyNN IF_curr_exp: the same spike times on NEST and Brian2 (within one step), the same membrane potential."""
    import spikebridge

    model = spikebridge.load_model(str(write(tmp_path)))
    runs = {backend: spikebridge.run(model, backend=backend, out=str(tmp_path / backend)) for backend in ("nest", "brian2")}
    nest, brian2 = runs["nest"], runs["brian2"]
    for population in ("nml", "out"):
        i_nest, t_nest = nest.spikes(population)
        i_b2, t_b2 = brian2.spikes(population)
        assert len(t_nest) >= 3, f"{population} should fire under this drive"
        assert len(t_nest) == len(t_b2), f"{population}: NEST fired {len(t_nest)} times, Brian2 {len(t_b2)}"
        a, b = np.lexsort((t_nest, i_nest)), np.lexsort((t_b2, i_b2))
        assert np.array_equal(i_nest[a], i_b2[b])
        assert np.max(np.abs(t_nest[a] - t_b2[b])) <= DT + 1e-9, f"{population}: spike times differ by more than one step"
    v_nest, v_b2 = (next(s for s in r.block.segments[0].analogsignals if s.annotations.get("population") == "nml") for r in (nest, brian2))
    assert v_nest.shape == v_b2.shape and str(v_nest.units) == str(v_b2.units) == "1.0 mV"
    assert np.max(np.abs(np.asarray(v_nest) - np.asarray(v_b2))) < 1e-6
    assert np.ptp(np.asarray(v_nest)[0]) > 1.0, "initial V_m drawn per cell"
    info = brian2.meta["backend_info"]["integration"]
    assert "NESTML iaf_psc_exp_neuron" in info["lif"], info


RELAXING = """\
model relaxing_neuron:
    state:
        V_m mV = -70 mV
        V_0 mV = V_init    # reads an internal that reads the initial V_m
    equations:
        V_m' = (V_0 - V_m) / tau_m
    parameters:
        tau_m ms = 10 ms
    internals:
        V_init mV = V_m + 10 mV
    input:
        spikes <- spike
    output:
        spike
    update:
        integrate_odes()
    onCondition(V_m > 100 mV):
        emit_spike()
"""


@pytest.mark.validation
@pytest.mark.compile
@pytest.mark.usefixtures("nestml_toolchain")
def test_a_state_initialiser_that_reads_an_internal_starts_where_nestml_declares_on_both(tmp_path: Path) -> None:
    """V_0 = V_m + 10 mV = -60 mV: V_m relaxes from -70 towards -60 on NEST (whose generated C++ computes the internal
    before V_m is set; spikebridge sets V_0) and on Brian2, as exp(-t / tau_m)."""
    import spikebridge

    doc = raw(models={"relaxing": {"text": RELAXING}})
    doc["populations"]["nml"] = {"cell_type": "relaxing", "size": 1}
    doc["projections"]["ab"]["weight"] = 0.0
    doc["recording"] = {"nml": {"variables": ["v"]}}
    model = validate(doc)
    expected = None
    for backend in ("nest", "brian2"):
        result = spikebridge.run(model, backend=backend, out=str(tmp_path / backend))
        v = next(s for s in result.block.segments[0].analogsignals if s.annotations.get("population") == "nml")
        t = np.asarray(v.times.rescale("ms"))
        expected = -60.0 - 10.0 * np.exp(-t / 10.0)
        assert np.max(np.abs(np.asarray(v)[:, 0] - expected)) < 1e-6, f"{backend}: V_m does not relax from -70 to -60 mV"
    assert expected is not None

