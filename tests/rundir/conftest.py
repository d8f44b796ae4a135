"""A small complete run directory (seed 1, with figures), written once per session, and helpers to copy it."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

import spikebridge
from spikebridge.models import load_model

OLD_SEED = 1
CLI = [sys.executable, "-m", "spikebridge.cli"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "PYNEST_QUIET": "1"}


def cli_run(out: Path, *extra: str, seed: int = 2, duration: float = 50) -> list[str]:
    """The command line of a small overwriting run of the bundled ei_weight_matrix on NEST."""
    return [
        *CLI,
        "run",
        "ei_weight_matrix",
        "--set",
        f"simulation.duration={duration:g}",
        "--seed",
        str(seed),
        "--out",
        str(out),
        "--quiet",
        "--no-figure",
        *extra,
    ]


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file below ``path`` (or ``path`` itself) with its bytes, to prove that something was left untouched."""
    if path.is_file():
        return {"": path.read_bytes()}
    return {p.relative_to(path).as_posix(): p.read_bytes() if p.is_file() else b"<dir>" for p in sorted(path.rglob("*"))}


def copy_run(src: Path, dst: Path) -> Path:
    """A byte-identical copy of a run directory at ``dst`` (replacing whatever is there)."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return dst


@pytest.fixture(scope="session")
def old_run(tmp_path_factory: pytest.TempPathFactory) -> spikebridge.Results:
    out = tmp_path_factory.mktemp("old") / "run"
    model = load_model("ei_weight_matrix", ["simulation.duration=50", f"simulation.seed={OLD_SEED}"])
    return spikebridge.run(model, "nest", out, progress=False)
