"""The conformance fixture: one set of test bodies runs on every backend listed in ``BACKENDS``.

As PyNN's ``run_with_simulators`` and Brian2's feature tests do, a backend is added to the suite with one line.
A backend that is not installed as an entry point (the mock) names the class to register. ``lacks`` says what a
backend cannot do, and a test that needs it is skipped there: ``@pytest.mark.needs("currents")``. Tests marked
``@pytest.mark.simulator`` claim real simulator dynamics and skip backends that lack ``simulator``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from spikebridge import backends
from spikebridge.backends.mock import MockBackend


@dataclass(frozen=True)
class Case:
    """One backend of the conformance suite."""

    name: str
    register: Any = None
    """A backend class to register first (for one that no entry point provides)."""
    lacks: frozenset[str] = field(default_factory=frozenset)
    """Capabilities the backend does not have: ``simulator``, ``currents``, ``read_mid_run``."""
    marks: tuple[Any, ...] = ()


BACKENDS = [
    Case("nest"),
    Case("brian2"),
    Case("brian2:cpp", lacks=frozenset({"currents", "read_mid_run"}), marks=(pytest.mark.compile,)),
    Case("mock", register=MockBackend, lacks=frozenset({"simulator", "currents"})),
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "compile: compiles Brian2 standalone code or a NEST extension module (cached)")
    config.addinivalue_line("markers", "simulator: claims real simulator behaviour; skipped on the mock backend")
    config.addinivalue_line("markers", "needs(capability): skipped on conformance backends that lack it")


@pytest.fixture(params=[pytest.param(case, id=case.name, marks=case.marks) for case in BACKENDS])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The name of the backend under test, registered if it has to be; skips what it lacks."""
    case: Case = request.param
    wanted = {"simulator"} if request.node.get_closest_marker("simulator") else set()
    for mark in request.node.iter_markers("needs"):
        wanted |= set(mark.args)
    missing = sorted(wanted & case.lacks)
    if missing:
        pytest.skip(f"{case.name} lacks {', '.join(missing)}")
    if case.register is None:
        yield case.name
        return
    backends.register(backends.split_name(case.name)[0], case.register)
    try:
        yield case.name
    finally:
        backends.unregister(backends.split_name(case.name)[0])
