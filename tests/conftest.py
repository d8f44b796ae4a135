"""Fixtures shared across test folders: a tiny real run directory, made once per session.

Test tiers (markers declared in pyproject.toml): ``make check`` runs ``-m "not slow and not validation and not gpu and
not compile"``, ``make test`` runs everything. A parametrized test marks its standalone case alone:
``pytest.param("brian2:cpp", marks=pytest.mark.compile)``.

Brian2's default integration is NEST's (GSL RKF45 for conductance-based cells), whose generated C++ takes about 30 s
per group to compile. Tests run Brian2's GSL-integrated cell types with forward Euler instead (a supported setting,
option ``method``), except tests marked ``matched_integration``, which claim the matched numerics themselves.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from spikebridge.backends.brian2 import options as brian2_options

TINY_RUN = ["run", "ei_weight_matrix", "--set", "simulation.duration=50", "--backend", "nest", "--quiet", "--no-figure"]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``spikebridge run ei_weight_matrix --set simulation.duration=50 --backend nest`` (in a subprocess, ~3 s)."""
    path = tmp_path_factory.mktemp("tiny_run") / "ei"
    done = subprocess.run(
        [sys.executable, "-m", "spikebridge.cli", *TINY_RUN, "--out", str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture(autouse=True)
def euler_unless_matched_integration(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forward Euler where Brian2 would use GSL, unless the test is marked ``matched_integration``."""
    if request.node.get_closest_marker("matched_integration") is not None:
        return
    euler = {
        cell: dataclasses.replace(m, method="euler") if m.method.startswith("gsl") else m for cell, m in brian2_options.MATCHED.items()
    }
    monkeypatch.setattr(brian2_options, "MATCHED", euler)


HEAVIEST_FIRST = (  # by their summed test durations in a cold run of the suite (`pytest --durations=60`), heaviest first
    "tests/pynn/test_dropin.py",
    "tests/backends/test_brian2.py",
    "tests/nestml/test_rules_nestml.py",
    "tests/nestml/test_dendritic_rules.py",
    "tests/backends/test_conformance.py",
    "tests/nestml/test_compare_nestml.py",
    "tests/nestml/test_weight_tie.py",
    "tests/nestml/test_cuda_nestml.py",
    "tests/nestml/test_nestml_neurons.py",
    "tests/nestml/test_nestml_celltype.py",
    "tests/pynn/test_cuda_example.py",
    "tests/validation/test_single_cells.py",
    "tests/validation/test_compare.py",
    "tests/validation/test_stdp_window.py",
    "tests/validation/test_rules.py",
    "tests/test_weights_run.py",
    "tests/models/test_fuzz_models.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The heaviest test files first, the rest in collection order.

    ``make test`` hands whole files to its workers in collection order; the heaviest last would leave one worker
    running them alone at the end.
    """
    rank = {path: k for k, path in enumerate(HEAVIEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture(scope="session")
def nestml_toolchain() -> None:
    """Skip, saying why, where NESTML models cannot be compiled for NEST (``make install`` installs the Debian
    packages where it can: libboost-dev, libltdl-dev)."""
    from spikebridge.backends.nest import nestml
    from spikebridge.errors import ExecutionError

    try:
        nestml.check_toolchain()
    except ExecutionError as err:
        pytest.skip(str(err))
