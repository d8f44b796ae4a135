"""Fuzzing ``spikebridge check`` with mutated bundled models: exit 0, or exit 2 with one line; never a traceback.

The bundled models are shrunk first (a few cells, 20 ms) so each example is quick; the mutations then delete
fields, swap types, write extreme numbers (NaN, inf, 0, negative, huge), random strings and nested garbage. A
mutation that makes a model huge must be refused by the memory estimate, not drawn.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import tomli_w
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikebridge.cli import main
from spikebridge.models.io import bundled_models, read_raw

from .test_malformed_inputs import BASE as MALFORMED_BASE
from .test_schema_errors import BASE as SCHEMA_BASE


def _shrink(doc: dict[str, Any]) -> dict[str, Any]:
    """A bundled model made tiny: at most 3 cells per axis, fixed degrees of 2, 20 ms, weights snapshot at the end."""
    doc = copy.deepcopy(doc)
    for pop in doc.get("populations", {}).values():
        if "size" in pop:
            pop["size"] = min(pop["size"], 3)
        if "shape" in pop:
            pop["shape"] = [min(s, 3) for s in pop["shape"]]
        if "spike_times" in pop:
            pop["spike_times"] = pop["spike_times"][:1]
    for prj in doc.get("projections", {}).values():
        if "n" in prj.get("connector", {}):
            prj["connector"]["n"] = min(prj["connector"]["n"], 2)
    doc["stimuli"] = {k: s for k, s in doc.get("stimuli", {}).items() if s.get("kind") != "rate_schedule"}
    for stim in doc["stimuli"].values():
        stim.pop("cells", None)
    for rec in doc.get("recording", {}).values():
        rec["cells"] = "all"
    sim = doc.setdefault("simulation", {})
    if "phases" in sim:
        for phase in sim["phases"]:
            phase["duration"] = 10.0
    else:
        sim["duration"] = 20.0
    if "record_weights" in doc:
        doc["record_weights"]["interval"] = "end"
    return doc


SEEDS: dict[str, dict[str, Any]] = {name: _shrink(read_raw(path)) for name, path in bundled_models().items()}
SEEDS["schema_errors_base"] = copy.deepcopy(SCHEMA_BASE)
SEEDS["malformed_base"] = copy.deepcopy(MALFORMED_BASE)

EXTREMES = [
    math.nan, math.inf, -math.inf, 0, 0.0, -0.0, -1, -1.0, 1e-300, -1e-300, 1e308, -1e308, 10**30, -(10**30), 2**63,
    10**400, 1e9, -20.0,
]
TEXTS = [
    "", " ", "abc", "20 ms", "-20 ms", "1e400 ms", "nan ms", "inf Hz", "0 nF", "4 nS", "1 parsec", "1 ms**999", "1 1/0",
    "1 __import__('os')", "../../x", ".hidden", "a\nb", "\x00", "ünïcödé",
]

leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | st.sampled_from(EXTREMES) | st.sampled_from(TEXTS)
garbage = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6
)


def _spots(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key-or-index) in a document, depth first."""
    out: list[tuple[Any, Any]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        out.append((node, key))
        out.extend(_spots(value))
    return out


def _swap(value: Any) -> Any:
    """The same value under another type."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, str):
        return len(value)
    return str(value)


@st.composite
def documents(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    doc = copy.deepcopy(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 3))):
        spots = _spots(doc)
        if not spots:
            break
        numbers = [(p, k) for p, k in spots if isinstance(p[k], (int, float)) and not isinstance(p[k], bool)]
        if numbers and draw(st.booleans()):  # half the mutations hit a number: those reach the physical checks
            parent, key = draw(st.sampled_from(numbers))
            parent[key] = draw(st.sampled_from(EXTREMES) | st.floats() | st.integers(-(10**6), 10**6))
            continue
        parent, key = draw(st.sampled_from(spots))
        op = draw(st.sampled_from(["delete", "extreme", "number", "swap", "text", "garbage", "add"]))
        if op == "delete":
            del parent[key]
        elif op == "extreme":
            parent[key] = draw(st.sampled_from(EXTREMES))
        elif op == "number":
            parent[key] = draw(st.floats() | st.integers())
        elif op == "swap":
            parent[key] = _swap(parent[key])
        elif op == "text":
            parent[key] = draw(st.sampled_from(TEXTS) | st.text(max_size=12))
        elif op == "garbage":
            parent[key] = draw(garbage)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(garbage)
        else:
            parent.append(draw(garbage))
    return doc, draw(st.sampled_from([".yaml", ".toml"]))


def _write(doc: dict[str, Any], suffix: str, folder: Path) -> Path:
    f = folder / f"fuzz{suffix}"
    try:
        text = tomli_w.dumps(doc) if suffix == ".toml" else yaml.safe_dump(doc, allow_unicode=True)
    except (TypeError, ValueError):  # TOML has no null and no mixed key types: write YAML instead
        f = folder / "fuzz.yaml"
        text = yaml.safe_dump(doc, allow_unicode=True)
    f.write_text(text, encoding="utf-8")
    return f


FUZZ_MEMORY = 256 * 2**20
"""Memory the fuzzed checks may plan for: a mutation that makes a model big (but not huge) is refused, not drawn."""


def _check(f: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        mock.patch("spikebridge.models.memory.available_bytes", return_value=FUZZ_MEMORY),
    ):
        code = main(["check", str(f)])
    return code, err.getvalue()


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_shrunk_seed_models_are_valid(name: str, tmp_path: Path) -> None:
    code, err = _check(_write(SEEDS[name], ".toml", tmp_path))
    assert code == 0, err


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=documents())
def test_check_of_a_mutated_model_exits_0_or_2_with_one_line(case: tuple[dict[str, Any], str], tmp_path: Path) -> None:
    doc, suffix = case
    f = _write(doc, suffix, tmp_path)
    code, err = _check(f)
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith(f"spikebridge: error: {f}"), err


@pytest.mark.parametrize(
    ("simulation", "field"),
    [
        ({"backend": "nan"}, "simulation.backend"),
        ({"backend": "brian2:gpu"}, "simulation.backend"),
        ({"backend": "nest", "backend_options": {"threads": "abc"}}, "simulation.backend_options"),
    ],
)
def test_a_bad_backend_in_the_file_names_the_file_and_field(simulation: dict[str, Any], field: str, tmp_path: Path) -> None:
    doc = copy.deepcopy(SEEDS[sorted(SEEDS)[0]])
    doc["simulation"].update(simulation)
    f = _write(doc, ".toml", tmp_path)
    code, err = _check(f)
    assert code == 2
    assert err.startswith(f"spikebridge: error: {f}: {field}: "), err
