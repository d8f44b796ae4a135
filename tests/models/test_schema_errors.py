"""Malformed models: each gives one ModelError naming the field path and what was expected."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from spikebridge.errors import ModelError
from spikebridge.models import validate
from spikebridge.models.io import apply_overrides, load_model

BASE: dict[str, Any] = {
    "name": "tiny",
    "populations": {
        "src": {"cell_type": "SpikeSourcePoisson", "size": 10, "parameters": {"rate": 20.0}},
        "exc": {"cell_type": "IF_cond_exp", "size": 8, "parameters": {"tau_m": 20.0}, "initial": {"v": -65.0}},
        "grid": {"cell_type": "IF_curr_exp", "shape": [4, 4]},
    },
    "projections": {
        "exc_exc": {
            "pre": "exc",
            "post": "exc",
            "connector": {"rule": "fixed_probability", "p": 0.2},
            "weight": {"distribution": "normal", "mean": 0.004, "sd": 0.001, "bounds": [0.0, 0.01]},
            "delay": 1.0,
        },
        "src_exc": {"pre": "src", "post": "exc", "connector": {"rule": "all_to_all"}, "weight": 0.002},
    },
    "recording": {"exc": {"variables": ["spikes", "v"]}},
    "simulation": {"dt": 0.1, "duration": 100.0, "seed": 1},
}


def broken(**changes: Any) -> dict[str, Any]:
    return apply_overrides(copy.deepcopy(BASE), [f"{k.replace('__', '.')}={v}" for k, v in changes.items()])


def with_raw(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    keys = path.split(".")
    node = data
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    return data


CASES = [
    # (description, raw model, expected path, words expected in the message)
    (
        "weight mean not a number",
        with_raw("projections.exc_exc.weight.mean", "abc"),
        "projections.exc_exc.weight.mean",
        "expected a number",
    ),
    ("unknown top-level field", with_raw("populatons", {}), "populatons", "unknown field"),
    ("unknown population field", with_raw("populations.exc.sise", 3), "populations.exc.sise", "unknown field"),
    ("unknown cell type", with_raw("populations.exc.cell_type", "IF_cond_xp"), "populations.exc.cell_type", "IF_cond_exp"),
    ("negative size", with_raw("populations.exc.size", -3), "populations.exc.size", "greater than 0"),
    ("size and shape", with_raw("populations.exc.shape", [2, 4]), "populations.exc", "exactly one of 'size' or 'shape'"),
    (
        "unknown parameter",
        with_raw("populations.exc.parameters", {"tau_mm": 20.0}),
        "populations.exc.parameters.tau_mm",
        "not a parameter of IF_cond_exp",
    ),
    ("unknown state variable", with_raw("populations.exc.initial", {"u": 1.0}), "populations.exc.initial.u", "not a state variable"),
    (
        "wrong unit dimension",
        with_raw("populations.exc.parameters", {"tau_m": "20 mV"}),
        "populations.exc.parameters.tau_m",
        "expected a quantity in ms",
    ),
    ("unknown unit", with_raw("projections.exc_exc.delay", "1 parsec-ish"), "projections.exc_exc.delay", "unknown unit"),
    ("missing population reference", with_raw("projections.exc_exc.pre", "exd"), "projections.exc_exc.pre", "no population named 'exd'"),
    (
        "projection onto a spike source",
        with_raw("projections.src_exc.post", "src"),
        "projections.src_exc.post",
        "cannot receive connections",
    ),
    (
        "probability above one",
        with_raw("projections.exc_exc.connector.p", 1.5),
        "projections.exc_exc.connector.p",
        "less than or equal to 1",
    ),
    (
        "rule field missing",
        with_raw("projections.exc_exc.connector", {"rule": "fixed_indegree"}),
        "projections.exc_exc.connector.n",
        "required for rule 'fixed_indegree'",
    ),
    ("unknown rule", with_raw("projections.exc_exc.connector", {"rule": "random"}), "projections.exc_exc.connector.rule", "expected"),
    (
        "distribution without its parameter",
        with_raw("projections.exc_exc.weight", {"distribution": "uniform", "low": 0.0}),
        "projections.exc_exc.weight.high",
        "required for a uniform",
    ),
    (
        "stdp without timing",
        with_raw("projections.exc_exc.synapse", {"type": "stdp"}),
        "projections.exc_exc.synapse.timing",
        "required for an stdp synapse",
    ),
    (
        "recording an unrecordable variable",
        with_raw("recording.exc", {"variables": ["u"]}),
        "recording.exc.variables",
        "cannot be recorded",
    ),
    ("recording a missing population", with_raw("recording.inh", {"variables": ["spikes"]}), "recording.inh", "no population named 'inh'"),
    ("no duration", with_raw("simulation", {"dt": 0.1}), "simulation", "'duration'"),
    ("negative dt", with_raw("simulation.dt", -0.1), "simulation.dt", "positive time step"),
    ("boolean for a number", with_raw("simulation.duration", True), "simulation.duration", "expected a number"),
    ("seed out of range", with_raw("simulation.seed", -1), "simulation.seed", "greater than or equal to 0"),
    (
        "poisson stimulus onto neurons",
        with_raw("stimuli", {"s": {"kind": "poisson", "target": "exc", "rate": 5.0}}),
        "stimuli.s.target",
        "spike-source population",
    ),
    (
        "distance patch without grid",
        with_raw("projections.exc_exc.connector", {"rule": "distance_patch", "radius": 2.0, "p": 0.5}),
        "projections.exc_exc.connector",
        "grid 'shape'",
    ),
    (
        "sampling interval below dt",
        with_raw("recording.exc", {"variables": ["v"], "sampling_interval": 0.01}),
        "recording.exc.sampling_interval",
        "at least dt",
    ),
]


def test_base_model_is_valid() -> None:
    model = validate(BASE, "base")
    assert model.projections["exc_exc"].weight.mean == 0.004


@pytest.mark.parametrize(("what", "raw", "path", "words"), CASES, ids=[c[0] for c in CASES])
def test_malformed_model_names_field(what: str, raw: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(ModelError) as info:
        validate(raw, "model.toml")
    err = info.value
    assert err.path == path, f"{what}: {err}"
    assert words in err.message, f"{what}: {err}"
    assert str(err).startswith(f"model.toml: {path}: ")


def test_at_least_fifteen_distinct_malformed_inputs() -> None:
    assert len({c[2] for c in CASES}) >= 15


def test_units_are_converted_to_pynn_units() -> None:
    raw = with_raw("projections.exc_exc.weight", "4 nS")
    raw["populations"]["exc"]["parameters"] = {"tau_m": "0.02 s", "cm": "200 pF"}
    model = validate(raw)
    assert model.projections["exc_exc"].weight.value == pytest.approx(0.004)
    assert model.populations["exc"].parameters["tau_m"].value == pytest.approx(20.0)
    assert model.populations["exc"].parameters["cm"].value == pytest.approx(0.2)


def test_negative_conductance_draws_are_refused() -> None:
    from spikebridge.models import instantiate

    raw = with_raw("projections.exc_exc.weight", {"distribution": "normal", "mean": 0.0, "sd": 0.01})
    with pytest.raises(ModelError, match=r"projections\.exc_exc\.weight: drew negative conductances"):
        instantiate(validate(raw))


def test_set_override_and_bad_override() -> None:
    model = load_model("ei_weight_matrix", ["simulation.duration=20", "populations.E.size=50"])
    assert model.populations["E"].size == 50
    with pytest.raises(ModelError, match="expected PATH=VALUE"):
        load_model("ei_weight_matrix", ["simulation.duration"])


def test_unparseable_file(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("name = 'x'\n[populations\n")
    with pytest.raises(ModelError) as info:
        load_model(f)
    assert str(f) in str(info.value) and "cannot parse" in str(info.value)


def test_cli_check_exits_2_without_traceback(tmp_path: Path) -> None:
    f = tmp_path / "broken.yaml"
    f.write_text(
        "name: broken\npopulations:\n  exc: {cell_type: IF_cond_exp, size: 4}\n"
        "projections:\n  exc_exc: {pre: exc, post: exc, connector: {rule: all_to_all}, weight: {distribution: normal, mean: abc, sd: 1}}\n"
        "simulation: {duration: 10}\n"
    )
    proc = subprocess.run([sys.executable, "-m", "spikebridge.cli", "check", str(f)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert f"{f}: projections.exc_exc.weight.mean: expected a number" in proc.stderr


def test_cli_unknown_backend_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "spikebridge.cli", "run", "ei_weight_matrix", "--backend", "neuron", "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "unknown backend 'neuron'" in proc.stderr and "nest" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "r").exists()
