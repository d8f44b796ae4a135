"""NESTML models in model files: bundled rules and ``[models]`` entries are read with pynestml's front end; a
NESTML error is one line naming the file, the model and the line (exit 2 from the CLI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spikebridge.errors import ModelError
from spikebridge.models import nestml, validate

TRIPLET = nestml.bundled()["triplet_stdp"].read_text()


def model(synapse: dict, models: dict | None = None, post: str = "IF_cond_exp") -> dict:
    raw = {
        "name": "m",
        "populations": {
            "a": {"cell_type": "SpikeSourcePoisson", "size": 2, "parameters": {"rate": 5.0}},
            "b": {"cell_type": post, "size": 2},
        },
        "projections": {"ab": {"pre": "a", "post": "b", "connector": {"rule": "all_to_all"}, "weight": 0.001, "synapse": synapse}},
        "simulation": {"dt": 0.1, "duration": 10.0},
    }
    if models is not None:
        raw["models"] = models
    return raw


def check(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "rule.nestml").write_text(text)
    toml = tmp_path / "m.toml"
    toml.write_text(
        'name = "m"\n[populations.a]\ncell_type = "SpikeSourcePoisson"\nsize = 2\nparameters = {rate = 5.0}\n'
        '[populations.b]\ncell_type = "IF_cond_exp"\nsize = 2\n'
        '[projections.ab]\npre = "a"\npost = "b"\nconnector = {rule = "all_to_all"}\nweight = 0.001\nsynapse = {type = "mine"}\n'
        '[models.mine]\nfile = "rule.nestml"\n[simulation]\ndt = 0.1\nduration = 10.0\n'
    )
    return subprocess.run([sys.executable, "-m", "spikebridge.cli", "check", str(toml)], capture_output=True, text=True, timeout=120)


def test_bundled_rules_are_read_with_their_defaults_in_nest_units() -> None:
    rule = nestml.read(TRIPLET, "triplet_stdp.nestml")
    assert rule.name == "triplet_stdp_synapse" and rule.weight == ("w", 1.0)
    assert rule.parameters["tau_plus"] == 16.8 and rule.parameters["A3_plus"] == 6.2e-3
    assert (rule.pre_port, rule.post_port) == ("pre_spikes", "post_spikes")
    assert rule.post_owned == ("o1", "o2"), "the post traces, which NESTML moves into the post neuron"
    assert rule.propagators["__P__r1__r1"] == "exp(-__h/tau_plus)"
    assert set(nestml.bundled()) >= {"triplet_stdp", "saturating_stdp"}


def test_units_are_converted_to_nest_units() -> None:
    text = TRIPLET.replace("r1' = -r1 / tau_plus", "r1' = -r1 / (0.0168 s)")
    assert nestml.read(text, "x").propagators["__P__r1__r1"] == "1.0*exp(-0.0595238095238095*__h)", "NEST's unit of time is the ms"


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        # NESTML 9.0 would give NEST tau_plus = 16800 ms: it converts the literal, then multiplies by the factor again
        ("tau_plus ms = 16.8 ms", "tau_plus ms = 0.0168 s", "converts a default given in another unit twice"),
        # NESTML 9.0's C++ printer strips the exponent's trailing zero: 1e-10 would be 1e-1 on NEST
        ("r1 += 1\n", "r1 += 1e-10\n", "as 1.00000000e-1"),
    ],
)
def test_numbers_nestml_would_get_wrong_on_nest_are_refused(old: str, new: str, words: str) -> None:
    assert old in TRIPLET
    with pytest.raises(ModelError, match=words):
        nestml.read(TRIPLET.replace(old, new), "x")


def test_a_model_file_takes_a_bundled_rule_and_its_parameters() -> None:
    m = validate(model({"type": "triplet_stdp", "parameters": {"A3_plus": 0.01}}))
    syn = m.projections["ab"].synapse
    assert syn.nestml == TRIPLET and syn.parameters == {"A3_plus": 0.01}


def test_a_model_file_takes_inline_nestml_text() -> None:
    m = validate(model({"type": "mine"}, {"mine": {"text": TRIPLET}}))
    assert m.projections["ab"].synapse.nestml == TRIPLET


@pytest.mark.parametrize(
    ("synapse", "post", "field", "words"),
    [
        ({"type": "hebbian"}, "IF_cond_exp", "projections.ab.synapse.type", "triplet_stdp"),
        ({"type": "triplet_stdp", "parameters": {"tau_z": 1.0}}, "IF_cond_exp", "projections.ab.synapse.parameters.tau_z", "tau_plus"),
        ({"type": "triplet_stdp"}, "Izhikevich", "projections.ab.synapse.type", "IF_cond_exp"),
        ({"type": "static", "parameters": {"tau_plus": 1.0}}, "IF_cond_exp", "projections.ab.synapse.parameters", "NESTML"),
    ],
)
def test_bad_synapse_types_and_parameters_name_the_field(synapse: dict, post: str, field: str, words: str) -> None:
    with pytest.raises(ModelError) as err:
        validate(model(synapse, post=post))
    assert err.value.path == field and words in str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("r1 += 1", "r1 += += 1", 51, "parsing"),  # syntax error
        ("A3_minus * r2))", "A3_minus * r3))", 50, "'r3'"),  # undefined symbol
        ("tau_plus ms = 16.8 ms", "tau_plus ms = 16.8 mV", 20, "'mV'"),  # unit mismatch
    ],
)
def test_nestml_errors_exit_2_naming_file_model_and_line(tmp_path: Path, old: str, new: str, line: int, words: str) -> None:
    assert old in TRIPLET
    done = check(tmp_path, TRIPLET.replace(old, new))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "rule.nestml" in message and "models.triplet_stdp_synapse" in message and f"line {line}:" in message and words in message


def test_a_missing_nestml_file_is_named(tmp_path: Path) -> None:
    done = check(tmp_path, TRIPLET)
    assert done.returncode == 0, done.stderr
    (tmp_path / "rule.nestml").unlink()
    toml = tmp_path / "m.toml"
    done = subprocess.run([sys.executable, "-m", "spikebridge.cli", "check", str(toml)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "models.mine.file" in done.stderr and "rule.nestml" in done.stderr


def test_rules_takes_bundled_nestml_rules_but_not_mixed_with_weight_dependences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from spikebridge.cli import app

    assert app.main(["rules", "--rules", "triplet_stdp,additive", "--out", str(tmp_path)]) == 2
    assert "separate runs" in capsys.readouterr().err
    assert app.main(["rules", "--rules", "bcm_nope", "--out", str(tmp_path)]) == 2
    assert "triplet_stdp" in capsys.readouterr().err


def run_lines(lines: tuple[str, ...], values: dict[str, float]) -> dict[str, float]:
    """Execute straight-line abstract code in Python (clip, int, min, max as Brian2 has them)."""
    env = {"clip": lambda x, lo, hi: min(max(x, lo), hi), "int": int, "inf": float("inf"), **values}
    for line in lines:
        if line != nestml.EMIT:
            target, _, rhs = line.partition(" = ")
            env[target] = eval(rhs, {"__builtins__": {}}, env)  # noqa: S307 (our own generated code)
    return env


@pytest.mark.parametrize(("r1", "expected"), [(0.6, 0.0), (0.1, 1.0), (0.3, 1.3)])
def test_if_elif_else_take_exactly_the_branch_nestml_takes(r1: float, expected: float) -> None:
    old = "        r1 += 1\n"
    new = "        if r1 > 0.5:\n            r1 = 0.0\n        elif r1 < 0.2:\n            r1 = 1.0\n        else:\n            r1 += 1\n"
    rule = nestml.read(TRIPLET.replace(old, new), "x")
    out = run_lines(rule.on_pre, {**rule.parameters, **rule.state, "w": 1.0, "r1": r1})
    assert out["r1"] == pytest.approx(expected)


def test_a_rule_that_many_projections_name_is_parsed_once_and_keeps_each_source(monkeypatch: pytest.MonkeyPatch) -> None:
    text = nestml.bundled()["saturating_stdp"].read_text() + "\n# a text no other test reads, so the cache is cold\n"
    calls: list[str] = []
    parse = nestml.parse
    monkeypatch.setattr(nestml, "parse", lambda t, source: calls.append(source) or parse(t, source))
    a = nestml.read(text, "projections.a.synapse")
    b = nestml.read(text, "projections.b.synapse")
    assert calls == ["projections.a.synapse"]
    assert (a.source, b.source) == ("projections.a.synapse", "projections.b.synapse")
    assert a.propagators == b.propagators and a.parameters == b.parameters


def test_weight_bounds_of_a_nestml_rule_are_in_the_run_s_weight_units() -> None:
    from types import SimpleNamespace

    from spikebridge.analysis.weights import projection_infos
    from spikebridge.models import load_model

    infos = projection_infos(SimpleNamespace(model=load_model("binding")))
    # saturating_stdp's w_max is in nS (NEST's unit) onto IF_cond_exp cells: 30 nS is 0.03 uS; weights onto standard
    # cells are magnitudes, so the rule without a lower bound parameter is bounded by 0
    assert (infos["ff_01"].w_min, infos["ff_01"].w_max, infos["ff_01"].label) == (0.0, pytest.approx(0.03), "FF")
    assert infos["fb_21"].w_max == pytest.approx(0.02) and infos["e2e_1"].label == "E2E"
    assert (infos["ei_1"].w_min, infos["ei_1"].w_max) == (None, None)  # static


def frozen_model(synapse: dict, phases: list[dict]) -> dict:
    raw = model(synapse)
    raw["populations"]["a"] = {"cell_type": "SpikeSourcePoisson", "size": 20, "parameters": {"rate": 40.0}}
    raw["populations"]["b"]["size"] = 3
    raw["recording"] = {"b": {"variables": ["spikes"]}}
    raw["projections"]["ab"]["weight"] = 0.004
    raw["projections"]["ab"]["delay"] = 1.5
    del raw["simulation"]["duration"]
    raw["simulation"]["phases"] = phases
    return raw


@pytest.mark.usefixtures("nestml_toolchain")
def test_a_run_that_never_learns_transmits_a_nestml_synapse_as_a_static_one_on_nest() -> None:
    from spikebridge import backends
    from spikebridge.backends.nest import connections as nest_connections
    from spikebridge.errors import BackendError
    from spikebridge.models import instantiate

    frozen = [{"name": "test", "duration": 300.0, "plasticity": False}]
    spikes, weights = {}, {}
    for kind, synapse in (("nestml", {"type": "saturating_stdp", "parameters": {"rho": 5.0}}), ("static", {"type": "static"})):
        net = instantiate(validate(frozen_model(synapse, frozen)))
        sim = backends.create("nest")
        sim.build(net)
        sim.run(net.phases[0])
        spikes[kind] = [np.asarray(st.magnitude) for st in sim.recordings().segments[0].spiketrains]
        weights[kind] = nest_connections.read(sim.projections["ab"]).weight  # NEST's own readback
        drawn = net.projections["ab"].weight
    assert sum(len(s) for s in spikes["static"]) > 10, "the post cells fire"
    assert all(np.array_equal(a, b) for a, b in zip(spikes["nestml"], spikes["static"], strict=True))
    np.testing.assert_allclose(np.sort(weights["nestml"]), np.sort(drawn), rtol=1e-12)

    learns_then_not = [{"name": "train", "duration": 50.0, "plasticity": True}, *frozen]
    net = instantiate(validate(frozen_model({"type": "saturating_stdp"}, learns_then_not)))
    sim = backends.create("nest")
    sim.build(net)
    sim.run(net.phases[0])
    with pytest.raises(BackendError, match="projections.ab: a NESTML synapse cannot be frozen on NEST in a run that also learns"):
        sim.run(net.phases[1])
