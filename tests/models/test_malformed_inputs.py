"""Malformed model files through ``spikebridge check``: exit 2 and exactly one stderr line naming the file and field.

Every physically meaningless value, non-finite number, oversized model, unsafe name and broken file is refused
before anything is simulated (most when the model is resolved, the rest while its network is drawn).
"""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomli_w

from spikebridge.cli import main

from .test_schema_errors import CASES as SCHEMA_CASES

NAN, INF = float("nan"), float("inf")

BASE: dict[str, Any] = {
    "name": "tiny",
    "populations": {
        "src": {"cell_type": "SpikeSourcePoisson", "size": 5, "parameters": {"rate": 20.0}},
        "arr": {"cell_type": "SpikeSourceArray", "size": 2, "spike_times": [[1.0, 2.0]]},
        "exc": {"cell_type": "IF_cond_exp", "size": 4, "parameters": {"tau_m": 20.0}, "initial": {"v": -65.0}},
        "cur": {"cell_type": "IF_curr_exp", "size": 3},
        "eif": {"cell_type": "EIF_cond_exp_isfa_ista", "size": 2},
    },
    "projections": {
        "p": {"pre": "src", "post": "exc", "connector": {"rule": "all_to_all"}, "weight": 0.002, "delay": 1.0},
        "q": {
            "pre": "arr",
            "post": "exc",
            "connector": {"rule": "all_to_all"},
            "weight": 0.001,
            "synapse": {
                "type": "stdp",
                "timing": {"tau_plus": 20.0, "tau_minus": 20.0, "A_plus": 0.01, "A_minus": 0.01},
                "weight_dependence": {"rule": "additive", "w_min": 0.0, "w_max": 0.01},
            },
        },
    },
    "recording": {"exc": {"variables": ["spikes"]}},
    "simulation": {"dt": 0.1, "duration": 50.0, "seed": 1},
}

POISSON = {"kind": "poisson", "target": "src", "rate": 10.0}
STEP = {"kind": "step", "target": "cur", "times": [10.0, 20.0], "amplitudes": [0.5, 0.0]}
SPIKES = {"kind": "spike_array", "target": "arr", "spike_times": [[1.0, 3.0]]}


def setting(**changes: Any) -> dict[str, Any]:
    """BASE with fields set (None: removed): keys are paths with '__' for '.'."""
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        node = data
        parts = key.split("__")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    return data


def toml(data: dict[str, Any]) -> Callable[[Path], Path]:
    def write(tmp: Path) -> Path:
        f = tmp / "model.toml"
        f.write_text(tomli_w.dumps(data))
        return f

    return write


def text(content: str | bytes, suffix: str = ".yaml") -> Callable[[Path], Path]:
    def write(tmp: Path) -> Path:
        f = tmp / f"model{suffix}"
        if isinstance(content, bytes):
            f.write_bytes(content)
        else:
            f.write_text(content, encoding="utf-8")
        return f

    return write


def with_file(make: Callable[[Path], dict[str, Any]]) -> Callable[[Path], Path]:
    """A model that needs a data file next to it: ``make(tmp)`` writes the file and returns the model."""

    def write(tmp: Path) -> Path:
        return toml(make(tmp))(tmp)

    return write


def _conn_file(tmp: Path) -> dict[str, Any]:
    (tmp / "conns.csv").write_text("0,0,0.001,1.0\n1,1,nan,1.0\n")
    return setting(projections__p__connector={"rule": "from_file", "file": "conns.csv"})


def _schedule(tmp: Path) -> dict[str, Any]:
    np.savez(tmp / "sched.npz", times=np.array([0.0, 10.0]), rates=np.full((1, 5), -3.0))
    return setting(stimuli={"s": {"kind": "rate_schedule", "target": "src", "file": "sched.npz"}})


YAML_HEAD = "name: tiny\nsimulation: {duration: 10}\n"

CASES: list[tuple[str, Callable[[Path], Path], str, str]] = [
    # (id, writes the file, the field path named ('' for the file as a whole), words in the message)
    # -- delays: below dt (0, negative, distributions reaching below dt) is refused
    ("delay below dt", toml(setting(projections__p__delay=0.05)), "projections.p.delay", "delay >= dt = 0.1 ms"),
    ("delay zero", toml(setting(projections__p__delay=0.0)), "projections.p.delay", "delay >= dt"),
    ("delay negative", toml(setting(projections__p__delay=-2.0)), "projections.p.delay", "delay >= dt"),
    (
        "delay uniform from 0",
        toml(setting(projections__p__delay={"distribution": "uniform", "low": 0.0, "high": 2.0})),
        "projections.p.delay",
        "reaches down to 0 ms",
    ),
    (
        "delay normal unbounded",
        toml(setting(projections__p__delay={"distribution": "normal", "mean": 1.0, "sd": 0.1})),
        "projections.p.delay",
        "unbounded below",
    ),
    (
        "delay lognormal unbounded",
        toml(setting(projections__p__delay={"distribution": "lognormal", "mu": 0.0, "sigma": 0.1})),
        "projections.p.delay",
        "give bounds",
    ),
    ("delay in ms string below dt", toml(setting(projections__p__delay="20 us")), "projections.p.delay", "delay >= dt"),
    (
        "from_list delay below dt",
        toml(setting(projections__p__connector={"rule": "from_list", "connections": [[0, 0, 0.001, 0.0]]})),
        "projections.p.connector.connections",
        "delays must be >= dt",
    ),
    # -- NaN and infinities, anywhere
    ("weight nan", toml(setting(projections__p__weight=NAN)), "projections.p.weight", "finite"),
    ("weight inf", toml(setting(projections__p__weight=INF)), "projections.p.weight", "finite"),
    ("weight inf quantity", toml(setting(projections__p__weight="inf nS")), "projections.p.weight", "finite"),
    ("weight overflowing quantity", toml(setting(projections__p__weight="1e400 nS")), "projections.p.weight", "finite"),
    ("weight overflowing in rescaling", toml(setting(projections__p__weight="1e308 S")), "projections.p.weight", "finite"),
    (
        "weight mean nan",
        toml(setting(projections__p__weight={"distribution": "normal", "mean": NAN, "sd": 0.001})),
        "projections.p.weight.mean",
        "finite",
    ),
    (
        "weight sd inf",
        toml(setting(projections__p__weight={"distribution": "normal", "mean": 0.001, "sd": INF})),
        "projections.p.weight.sd",
        "finite",
    ),
    (
        "weight bound inf",
        toml(setting(projections__p__weight={"distribution": "uniform", "low": 0.0, "high": 0.1, "bounds": [0.0, INF]})),
        "projections.p.weight.bounds[1]",
        "finite",
    ),
    (
        "lognormal mu nan",
        toml(setting(projections__p__weight={"distribution": "lognormal", "mu": NAN, "sigma": 1.0})),
        "projections.p.weight.mu",
        "finite",
    ),
    (
        "from_list weight nan",
        toml(setting(projections__p__connector={"rule": "from_list", "connections": [[0, 0, NAN]]})),
        "projections.p.connector.connections[0][2]",
        "finite",
    ),
    ("from_file weight nan", with_file(_conn_file), "projections.p.connector.file", "weight must be a finite number"),
    ("duration nan", toml(setting(simulation__duration=NAN)), "simulation.duration", "finite"),
    ("duration inf", toml(setting(simulation__duration=INF)), "simulation.duration", "finite"),
    ("dt nan", toml(setting(simulation__dt=NAN)), "simulation.dt", "finite"),
    ("dt inf", toml(setting(simulation__dt=INF)), "simulation.dt", "finite"),
    ("tau_m nan", toml(setting(populations__exc__parameters={"tau_m": NAN})), "populations.exc.parameters.tau_m", "finite"),
    ("initial v inf", toml(setting(populations__exc__initial={"v": -INF})), "populations.exc.initial.v", "finite"),
    ("step amplitude nan", toml(setting(stimuli={"s": {**STEP, "amplitudes": [NAN, 0.0]}})), "stimuli.s.amplitudes[0]", "finite"),
    ("step time inf", toml(setting(stimuli={"s": {**STEP, "times": [10.0, INF]}})), "stimuli.s.times[1]", "finite"),
    ("source spike time nan", toml(setting(populations__arr__spike_times=[[1.0, NAN]])), "populations.arr.spike_times[0][1]", "finite"),
    ("poisson stimulus rate nan", toml(setting(stimuli={"s": {**POISSON, "rate": NAN}})), "stimuli.s.rate", "finite"),
    (
        "connection probability nan",
        toml(setting(projections__p__connector={"rule": "fixed_probability", "p": NAN})),
        "projections.p.connector.p",
        "finite",
    ),
    ("stdp amplitude nan", toml(setting(projections__q__synapse__timing__A_plus=NAN)), "projections.q.synapse.timing.A_plus", "finite"),
    (
        "stdp w_max inf",
        toml(setting(projections__q__synapse__weight_dependence__w_max=INF)),
        "projections.q.synapse.weight_dependence.w_max",
        "finite",
    ),
    (
        "record_weights interval nan",
        toml(setting(record_weights={"projections": "all", "interval": NAN})),
        "record_weights.interval",
        "finite",
    ),
    # -- physically meaningless values
    (
        "tau_m negative",
        toml(setting(populations__exc__parameters={"tau_m": -20.0})),
        "populations.exc.parameters.tau_m",
        "positive time constant",
    ),
    (
        "tau_m zero",
        toml(setting(populations__exc__parameters={"tau_m": 0.0})),
        "populations.exc.parameters.tau_m",
        "positive time constant",
    ),
    (
        "tau_syn_E zero",
        toml(setting(populations__exc__parameters={"tau_syn_E": "0 ms"})),
        "populations.exc.parameters.tau_syn_E",
        "positive time constant",
    ),
    (
        "tau_refrac negative",
        toml(setting(populations__exc__parameters={"tau_refrac": -1.0})),
        "populations.exc.parameters.tau_refrac",
        "non-negative refractory",
    ),
    (
        "tau_m uniform from negative",
        toml(setting(populations__exc__parameters={"tau_m": {"distribution": "uniform", "low": -5.0, "high": 20.0}})),
        "populations.exc.parameters.tau_m",
        "reaches down to -5",
    ),
    (
        "tau_m normal draws negative",
        toml(setting(populations__exc__parameters={"tau_m": {"distribution": "normal", "mean": 1.0, "sd": 50.0}})),
        "populations.exc.parameters.tau_m",
        "drawn values",
    ),
    ("cm zero", toml(setting(populations__exc__parameters={"cm": 0.0})), "populations.exc.parameters.cm", "positive capacitance"),
    (
        "cm negative quantity",
        toml(setting(populations__exc__parameters={"cm": "-200 pF"})),
        "populations.exc.parameters.cm",
        "positive capacitance",
    ),
    (
        "v_thresh below v_reset",
        toml(setting(populations__exc__parameters={"v_thresh": -70.0})),
        "populations.exc.parameters.v_thresh",
        "above v_reset",
    ),
    (
        "v_thresh equal to v_reset",
        toml(setting(populations__exc__parameters={"v_thresh": -60.0, "v_reset": -60.0})),
        "populations.exc.parameters.v_thresh",
        "above v_reset",
    ),
    (
        "v_reset drawn above v_thresh",
        toml(setting(populations__exc__parameters={"v_reset": {"distribution": "uniform", "low": -70.0, "high": -40.0}})),
        "populations.exc.parameters.v_reset",
        "in every cell",
    ),
    (
        "eif v_spike below v_thresh",
        toml(setting(populations__eif__parameters={"v_spike": -60.0})),
        "populations.eif.parameters.v_spike",
        "above v_thresh",
    ),
    (
        "eif tau_w zero",
        toml(setting(populations__eif__parameters={"tau_w": 0.0})),
        "populations.eif.parameters.tau_w",
        "positive time constant",
    ),
    (
        "eif delta_T negative",
        toml(setting(populations__eif__parameters={"delta_T": -2.0})),
        "populations.eif.parameters.delta_T",
        "non-negative slope",
    ),
    (
        "poisson rate negative",
        toml(setting(populations__src__parameters={"rate": -5.0})),
        "populations.src.parameters.rate",
        "non-negative rate",
    ),
    (
        "poisson rate uniform negative",
        toml(setting(populations__src__parameters={"rate": {"distribution": "uniform", "low": -5.0, "high": 5.0}})),
        "populations.src.parameters.rate",
        "non-negative rate",
    ),
    (
        "poisson start negative",
        toml(setting(populations__src__parameters={"start": -5.0})),
        "populations.src.parameters.start",
        "non-negative time",
    ),
    ("poisson stimulus rate negative", toml(setting(stimuli={"s": {**POISSON, "rate": -1.0}})), "stimuli.s.rate", "non-negative rate"),
    (
        "poisson window rate negative",
        toml(setting(stimuli={"s": {"kind": "poisson", "target": "src", "windows": [{"start": 0.0, "stop": 10.0, "rate": -1.0}]}})),
        "stimuli.s.windows[0].rate",
        "non-negative rate",
    ),
    (
        "poisson window stop before start",
        toml(setting(stimuli={"s": {"kind": "poisson", "target": "src", "windows": [{"start": 10.0, "stop": 5.0, "rate": 1.0}]}})),
        "stimuli.s.windows[0].stop",
        "stop >= start",
    ),
    (
        "stimulus stop before start",
        toml(setting(stimuli={"s": {**POISSON, "start": 20.0, "stop": 10.0}})),
        "stimuli.s.stop",
        "stop >= start",
    ),
    ("rate schedule negative", with_file(_schedule), "stimuli.s.file", "rates must be >= 0"),
    (
        "stdp tau_plus negative",
        toml(setting(projections__q__synapse__timing__tau_plus=-20.0)),
        "projections.q.synapse.timing.tau_plus",
        "positive time constant",
    ),
    (
        "stdp tau_minus zero",
        toml(setting(projections__q__synapse__timing__tau_minus=0.0)),
        "projections.q.synapse.timing.tau_minus",
        "positive time constant",
    ),
    (
        "stdp w_min above w_max",
        toml(setting(projections__q__synapse__weight_dependence={"rule": "additive", "w_min": 0.02, "w_max": 0.01})),
        "projections.q.synapse.weight_dependence",
        "w_min <= w_max",
    ),
    (
        "gutig mu negative",
        toml(
            setting(
                projections__q__synapse__weight_dependence={"rule": "gutig", "w_min": 0.0, "w_max": 0.01, "mu_plus": -1.0, "mu_minus": 0.5}
            )
        ),
        "projections.q.synapse.weight_dependence.mu_plus",
        "non-negative",
    ),
    (
        "distribution bounds reversed",
        toml(setting(projections__p__weight={"distribution": "normal", "mean": 0.001, "sd": 0.001, "bounds": [0.01, 0.0]})),
        "projections.p.weight.bounds",
        "low <= high",
    ),
    (
        "lognormal sigma negative",
        toml(setting(projections__p__weight={"distribution": "lognormal", "mu": -7.0, "sigma": -1.0})),
        "projections.p.weight.sigma",
        "non-negative sigma",
    ),
    ("dt zero", toml(setting(simulation__dt=0.0)), "simulation.dt", "positive time step"),
    ("dt above duration", toml(setting(simulation__dt=100.0)), "simulation.dt", "no longer than simulation.duration = 50 ms"),
    (
        "dt above a phase",
        toml(setting(simulation={"dt": 1.0, "phases": [{"name": "a", "duration": 10.0}, {"name": "b", "duration": 0.5}]})),
        "simulation.dt",
        "simulation.phases[1].duration",
    ),
    ("duration negative", toml(setting(simulation__duration=-10.0)), "simulation.duration", "positive duration"),
    ("step times unsorted", toml(setting(stimuli={"s": {**STEP, "times": [20.0, 10.0]}})), "stimuli.s.times[1]", "increasing"),
    ("step times repeated", toml(setting(stimuli={"s": {**STEP, "times": [10.0, 10.0]}})), "stimuli.s.times[1]", "increasing"),
    ("step time negative", toml(setting(stimuli={"s": {**STEP, "times": [-1.0, 10.0]}})), "stimuli.s.times[0]", ">= 0 ms"),
    (
        "source spike times unsorted",
        toml(setting(populations__arr__spike_times=[[5.0, 2.0]])),
        "populations.arr.spike_times[0][1]",
        "sorted",
    ),
    (
        "stimulus spike times unsorted",
        toml(setting(stimuli={"s": {**SPIKES, "spike_times": [[4.0, 3.0]]}})),
        "stimuli.s.spike_times[0][1]",
        "sorted",
    ),
    ("spike time before 2 dt", toml(setting(populations__arr__spike_times=[[0.1, 2.0]])), "populations.arr.spike_times[0][0]", ">= 0.2 ms"),
    (
        "sampling interval negative",
        toml(setting(recording__exc={"variables": ["v"], "sampling_interval": -1.0})),
        "recording.exc.sampling_interval",
        "positive interval",
    ),
    (
        "dc stimulus amplitude inf quantity",
        toml(setting(stimuli={"s": {"kind": "dc", "target": "cur", "amplitude": "inf nA"}})),
        "stimuli.s.amplitude",
        "finite",
    ),
    (
        "weight draws not finite",
        toml(setting(projections__p__weight={"distribution": "normal", "mean": 1e308, "sd": 1e308})),
        "projections.p.weight",
        "not finite",
    ),
    # -- too big for memory: refused at once, before anything is drawn
    ("a billion cells", toml(setting(populations__cur__size=10**9)), "populations.cur", "GiB"),
    ("a huge grid", toml(setting(populations__cur={"cell_type": "IF_curr_exp", "shape": [100000, 100000]})), "populations.cur", "GiB"),
    ("huge all_to_all", toml(setting(populations__src__size=300000, populations__exc__size=300000)), "projections.p", "GiB"),
    ("duration 1e8 ms recording v", toml(setting(simulation__duration=1e8, recording__exc={"variables": ["v"]})), "recording.exc", "GiB"),
    (
        "duration 1e8 ms of poisson input",
        toml(setting(simulation__duration=1e8, populations__src__size=1000, populations__src__parameters={"rate": 1000.0})),
        "populations.src",
        "GiB",
    ),
    ("enormous delay", toml(setting(projections__p__delay=1e300)), "projections.p.delay", "GiB"),
    (
        "size beyond any float",
        toml(setting(populations__cur__shape=[10**200, 10**200], populations__cur__size=None)),
        "populations.cur",
        "GiB",
    ),
    ("degree beyond any float", toml(setting(projections__p__connector={"rule": "fixed_indegree", "n": 10**400})), "projections.p", "GiB"),
    ("weight snapshots every 1e-300 ms", toml(setting(record_weights={"interval": 1e-300})), "record_weights", "GiB"),
    ("dt of 1e-300 ms", toml(setting(simulation__dt=1e-300)), "simulation.dt", "time steps"),
    (
        "resample below dt",
        toml(setting(stimuli={"s": {**POISSON, "resample_every": 1e-300, "active_fraction": 0.5}})),
        "stimuli.s.resample_every",
        "at least dt",
    ),
    (
        "uniform range overflowing",
        toml(setting(projections__p__weight={"distribution": "uniform", "low": -1e308, "high": 1e308})),
        "projections.p.weight",
        "too wide",
    ),
    # -- unsafe names: a run directory stays under runs/
    ("name escapes runs", toml(setting(name="../../x")), "name", "letters, digits"),
    ("name hidden", toml(setting(name=".hidden")), "name", "not starting with '.'"),
    ("name with slash", toml(setting(name="a/b")), "name", "letters, digits"),
    ("name empty", toml(setting(name="")), "name", "letters, digits"),
    ("name absolute", toml(setting(name="/tmp/x")), "name", "letters, digits"),
    # -- files that are not (valid) model files
    (
        "yaml duplicate population",
        text(YAML_HEAD + "populations:\n  exc: {cell_type: IF_cond_exp, size: 10}\n  exc: {cell_type: IF_cond_exp, size: 99999}\n"),
        "",
        "duplicate key 'exc' at line 5 (first given at line 4)",
    ),
    (
        "yaml duplicate field",
        text(YAML_HEAD + "populations:\n  exc:\n    cell_type: IF_cond_exp\n    size: 10\n    size: 99999\n"),
        "",
        "duplicate key 'size' at line 7",
    ),
    ("binary toml", text(bytes(range(256)) * 4, ".toml"), "", "not a text model file"),
    ("binary yaml", text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), ".yaml"), "", "not a text model file"),
    ("latin-1 text", text("name = 'caf\xe9'\n".encode("latin-1"), ".toml"), "", "not a text model file"),
    (
        "text that is not a model",
        text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin\n"),
        "",
        "expected a table of model fields",
    ),
    ("toml syntax error", text("name = 'x'\n[populations\n", ".toml"), "", "cannot parse as TOML"),
    ("yaml syntax error", text("name: [unclosed\nsecret: value\n"), "", "cannot parse as YAML"),
    ("yaml top-level list", text("- a\n- b\n"), "", "expected a table"),
    ("yaml nested too deep", text("name: " + "[" * 200 + "]" * 200 + "\n"), "", "nested deeper"),
    (
        "yaml alias bomb",
        text(
            YAML_HEAD
            + "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh"))
        ),
        "",
        "expands to",
    ),
    ("yaml python tag", text("name: !!python/object/apply:os.system ['true']\n"), "", "cannot parse as YAML"),
    (
        "key with a newline",
        text(YAML_HEAD + 'populations: {a: {cell_type: IF_cond_exp, size: 1}}\n"pop\\nulations": {}\n'),
        "pop\\nulations",
        "unknown field",
    ),
    # -- errors found while drawing the network name the file too
    (
        "connection file missing",
        toml(setting(projections__p__connector={"rule": "from_file", "file": "nowhere.csv"})),
        "projections.p.connector.file",
        "not found",
    ),
    (
        "too many partners",
        toml(setting(projections__p__connector={"rule": "fixed_indegree", "n": 50})),
        "projections.p.connector",
        "cannot choose 50 distinct partners",
    ),
]


def _check(f: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["check", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err.rstrip("\n")


@pytest.mark.parametrize(("what", "write", "path", "words"), CASES, ids=[c[0] for c in CASES])
def test_malformed_file_gives_one_line_exit_2(
    what: str, write: Callable[[Path], Path], path: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = write(tmp_path)
    line = _check(f, capsys)
    prefix = f"spikebridge: error: {f}: " + (f"{path}: " if path else "")
    assert line.startswith(prefix), f"{what}: {line}"
    assert words in line, f"{what}: {line}"


def test_at_least_sixty_distinct_malformed_inputs() -> None:
    assert len({c[0] for c in CASES}) == len(CASES)
    assert len(CASES) + len(SCHEMA_CASES) >= 60 and len(CASES) >= 60


@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
def test_file_contents_are_never_echoed(suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "TOPSECRET-4242"
    for i, content in enumerate(
        [
            f"{secret} = = =\n",
            f"[{secret}\n",
            f"- {secret}\n",
            f"{secret}: [\n",
            f"a: {secret}\n",
            f"{secret}\x00\n",
            f"x: *{secret}\n",
            f"x: !{secret} 1\n",
            f"{secret} = 1\n{secret} = 2\n",
            f"[{secret}]\n[{secret}]\n",
        ]
    ):
        f = tmp_path / f"x{i}{suffix}"
        f.write_text(content)
        line = _check(f, capsys)
        assert secret not in line and str(f) in line, line


@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
def test_a_byte_order_mark_is_accepted(suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    body = tomli_w.dumps(BASE) if suffix == ".toml" else yaml.safe_dump(BASE)
    f = tmp_path / f"bom{suffix}"
    f.write_bytes(b"\xef\xbb\xbf" + body.encode())
    assert main(["check", str(f)]) == 0, capsys.readouterr().err
    assert "valid" in capsys.readouterr().out


def test_yaml_merge_keys_may_still_be_overridden(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "merge.yaml"
    f.write_text(
        "name: merged\npopulations:\n  a: &b {cell_type: IF_cond_exp, size: 3}\n  c: {<<: *b, size: 4}\nsimulation: {duration: 10}\n"
    )
    assert main(["check", str(f)]) == 0, capsys.readouterr().err
    assert "7 cells" in capsys.readouterr().out


@pytest.mark.parametrize(
    "what", ["delay below dt", "binary toml", "a billion cells", "weight nan", "yaml duplicate population", "name escapes runs"]
)
def test_no_traceback_in_a_fresh_process(what: str, tmp_path: Path) -> None:
    _, write, path, words = next(c for c in CASES if c[0] == what)
    f = write(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "spikebridge.cli", "check", str(f)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"spikebridge: error: {f}: {path}") and words in proc.stderr


def test_huge_models_are_refused_within_seconds(tmp_path: Path) -> None:
    import time

    for what in ("a billion cells", "duration 1e8 ms recording v"):
        f = next(c for c in CASES if c[0] == what)[1](tmp_path)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "spikebridge.cli", "check", str(f)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2 and "GiB" in proc.stderr
        assert time.perf_counter() - start < 10.0  # a fresh interpreter with its imports; the check itself takes well under a second


def test_a_huge_radius_is_not_an_overflow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grid = {"cell_type": "IF_cond_exp", "shape": [2, 2]}
    f = toml(
        setting(
            populations__exc=grid,
            populations__src={"cell_type": "SpikeSourcePoisson", "shape": [2, 2]},
            projections__p__connector={"rule": "distance_patch", "radius": 1e300, "p": 1.0},
        )
    )(tmp_path)
    assert main(["check", str(f)]) == 0, capsys.readouterr().err
    assert "24 synapses" in capsys.readouterr().out  # 16 (all within the radius) + 8 of q


def test_memory_estimate_names_what_dominates() -> None:
    from spikebridge.errors import ModelError
    from spikebridge.models import validate
    from spikebridge.models.memory import GIB, check_memory, estimate

    model = validate(setting(populations__src__size=2000, populations__exc__size=2000))
    items = estimate(model)
    assert max(items, key=items.__getitem__) == "projections.p"
    with pytest.raises(ModelError, match=r"^projections\.p: the model needs about [\d.]+ GiB .*more than the 0.001 GiB"):
        check_memory(model, available=0.001 * GIB)
    check_memory(model, available=64 * GIB)


@pytest.mark.parametrize(
    "weight", [{"distribution": "normal", "mean": 0.001, "sd": -0.0}, {"distribution": "lognormal", "mu": -7.0, "sigma": -0.0}]
)
def test_a_negative_zero_spread_is_zero(weight: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the fuzzer: numpy refuses a scale of -0.0."""
    assert main(["check", str(toml(setting(projections__p__weight=weight))(tmp_path))]) == 0, capsys.readouterr().err


def test_the_source_file_names_errors_but_is_not_part_of_the_model() -> None:
    from spikebridge.models import validate

    a, b = validate(BASE, "a.toml"), validate(BASE)
    assert a._source == "a.toml" and b._source is None and a == b
    assert a.model_copy(update={"name": "other"})._source == "a.toml"
