"""Fixtures shared across test folders: a tiny real run directory, made once per session.

Test tiers (markers declared in pyproject.toml): ``make check`` runs ``-m "not slow and not validation and not gpu and
not compile"``, ``make test`` runs everything. A parametrized test marks its standalone case alone:
``pytest.param("brian2:cpp", marks=pytest.mark.compile)``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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
