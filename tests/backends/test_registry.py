"""The backend registry: entry points loaded with ``ep.load()``, duplicates warned about, classes registered from code,
and the questions callers ask instead of parsing names (check, accepts, packages, exercised)."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from spikebridge import backends
from spikebridge.backends.base import Backend, BackendClass
from spikebridge.backends.mock import MockBackend
from spikebridge.errors import BackendError, BackendNotInstalledError


def test_entry_points_give_the_backend_classes() -> None:
    from spikebridge.backends.brian2 import Brian2Backend
    from spikebridge.backends.nest import NestBackend

    assert {"nest", "brian2"} <= set(backends.available())
    assert backends.backend_class("nest") is NestBackend and backends.backend_class("brian2:cpp") is Brian2Backend
    for cls in (NestBackend, Brian2Backend, MockBackend):
        assert isinstance(cls, BackendClass)
        assert None in cls.variants and set(cls.exercised) <= set(cls.variants)


def test_reading_a_backend_class_starts_no_simulator() -> None:
    import subprocess

    code = (
        "import sys; from spikebridge import backends; backends.check('nest', {'threads': 2}); "
        "backends.check('brian2:cpp', {'threads': 2}); print(sorted(m for m in ('nest', 'brian2') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_unknown_names_are_refused_with_the_known_ones() -> None:
    with pytest.raises(BackendError, match=r"^unknown backend 'nrn'; known backends: .*nest"):
        backends.create("nrn")
    with pytest.raises(BackendError, match=r"^backend 'nest' has no variant 'gpu'; use 'nest'$"):
        backends.check("nest:gpu")
    with pytest.raises(BackendError, match=r"^backend 'brian2' has no variant 'gpu'; use 'brian2', 'brian2:cpp' or 'brian2:cuda'$"):
        backends.create("brian2:gpu")


def test_duplicate_entry_points_warn_and_keep_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [
        EntryPoint("nest", "spikebridge.backends.nest:NestBackend", backends.GROUP),
        EntryPoint("nest", "elsewhere.backend:Nest", backends.GROUP),
    ]
    monkeypatch.setattr(backends, "entry_points", lambda group: eps if group == backends.GROUP else [])
    with pytest.warns(RuntimeWarning, match=r"found 2 entry points for backend name 'nest'.*using spikebridge\.backends\.nest:NestBackend"):
        cls = backends.backend_class("nest")
    assert cls.__name__ == "NestBackend"


def test_an_entry_point_that_cannot_be_imported_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [EntryPoint("gone", "spikebridge_no_such_module:Backend", backends.GROUP)]
    monkeypatch.setattr(backends, "entry_points", lambda group: eps if group == backends.GROUP else [])
    assert "gone" in backends.available()
    with pytest.raises(BackendNotInstalledError, match=r"^backend 'gone' is registered but cannot be imported"):
        backends.check("gone")


def test_register_and_unregister_from_code() -> None:
    assert "mock" not in backends.available(), "the mock is never registered by default"
    backends.register("mock", MockBackend)
    try:
        assert "mock" in backends.available()
        sim = backends.create("mock", {"threads": 3})
        assert isinstance(sim, Backend) and sim.options.threads == 3  # type: ignore[attr-defined]
        assert "mock" not in backends.exercised(), "the mock exercises no variant by default"
        with pytest.warns(RuntimeWarning, match="registered twice"):
            backends.register("mock", type("OtherMock", (MockBackend,), {}))
    finally:
        backends.unregister("mock")
    assert "mock" not in backends.available()
    with pytest.raises(BackendError, match="must be the class's name"):
        backends.register("other", MockBackend)


def test_what_callers_ask_instead_of_parsing_names() -> None:
    assert backends.exercised()[:3] == ["nest", "brian2", "brian2:cpp"]  # the model's default backend first
    assert backends.accepts("nest", "threads") and backends.accepts("brian2:cpp", "threads")
    assert not backends.accepts("brian2", "threads") and not backends.accepts("brian2:cuda", "threads")
    assert not backends.accepts("nest", "compile_jobs") and backends.accepts("brian2:cpp", "compile_jobs")
    assert backends.packages("nest") == ("nest-simulator", "PyNN")
    assert backends.packages("brian2") == ("brian2", "PyNN")
    assert backends.packages("brian2:cuda") == ("brian2", "PyNN", "brian2cuda")


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("nest", {"chunk": 0}, "nest option 'chunk' must be > 0, got 0"),
        ("nest", {"chunk": "x"}, "nest option 'chunk' must be a number > 0, got 'x'"),
        ("nest", {"threads": 2.5}, "nest option 'threads' must be an integer >= 1, got 2.5"),
        ("nest", {"threads": True}, "nest option 'threads' must be an integer >= 1, got True"),
        ("brian2", {"compile_jobs": 0}, "brian2 option 'compile_jobs' must be >= 1, got 0"),
        ("brian2:cuda", {"compute_capability": -1}, "brian2 option 'compute_capability' must be > 0, got -1"),
        ("brian2", {"method": {"IF_cond_xp": "rk4"}}, "brian2 option 'method' names unknown cell type(s) ['IF_cond_xp']"),
    ],
)
def test_bad_options_are_one_line_naming_the_option(name: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(BackendError) as err:
        backends.check(name, options)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_validated_options_are_typed() -> None:
    assert backends.check("nest", {"threads": "4", "chunk": 50}).model_dump() == {"threads": 4, "chunk": 50.0, "verbosity": "error"}
    checked = backends.check("brian2:cpp", {"method": "rk4", "build_dir": "/tmp/x"})
    assert checked.methods()["IF_cond_exp"] == "rk4"  # type: ignore[attr-defined]
