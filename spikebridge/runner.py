"""Run a model on a backend and write its run directory: instantiate, build, run every phase, write."""

from __future__ import annotations

import hashlib
import os
import platform
import socket
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from . import backends
from .models.instantiate import instantiate
from .models.io import dumps_toml
from .models.schema import Model
from .results import Results, load, write_run

PACKAGES = (
    "spikebridge",
    "PyNN",
    "nest-simulator",
    "brian2",
    "brian2cuda",
    "neo",
    "elephant",
    "quantities",
    "numpy",
    "scipy",
    "pandas",
    "pydantic",
    "matplotlib",
)


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def default_out(model: Model, backend: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path("runs") / model.name / f"{backend.replace(':', '-')}_seed{model.simulation.seed}_{stamp}"


def run(
    model: Model,
    backend: str | None = None,
    out: str | Path | None = None,
    *,
    options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    progress: bool = True,
    figure: bool = True,
    base: Path | None = None,
) -> Results:
    """Simulate ``model`` on ``backend`` (default: the model's) and return the written run directory.

    ``options`` are merged over the model's ``simulation.backend_options``.
    """
    name = backend or model.simulation.backend
    opts = {**model.simulation.backend_options, **(options or {})}
    if backend is not None and backend != model.simulation.backend:
        opts = dict(options or {})
    target = Path(out) if out is not None else default_out(model, name)
    if target.exists() and not overwrite:
        from .errors import RunDirectoryError

        raise RunDirectoryError(f"{target} already exists; choose another --out or pass --overwrite")
    sim = backends.create(name, opts)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    network = instantiate(model, base)
    timings["instantiate_s"] = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        sim.build(network)
        timings["build_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        with tqdm(total=network.duration, unit="ms", desc=f"{model.name} on {name}", disable=not progress, leave=False) as bar:
            for phase in network.phases:
                bar.set_postfix_str(phase.name)
                sim.run(phase, bar.update)
        timings["run_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        block = sim.recordings()
        finals = {p: sim.connections(p) for p in network.projections}
        timings["collect_s"] = time.perf_counter() - t0
        info = sim.info()
    finally:
        sim.end()
    model_toml = dumps_toml(model)
    meta = {
        "model": model.name,
        "model_sha256": hashlib.sha256(model_toml.encode()).hexdigest(),
        "network_sha256": network.digest(),
        "seed": model.simulation.seed,
        "backend": name,
        "backend_info": info,
        "dt_ms": network.dt,
        "duration_ms": network.duration,
        "phases": [{"name": p.name, "duration_ms": float(p.duration), "plasticity": p.plasticity} for p in network.phases],
        "cells": network.n_cells,
        "synapses": network.n_synapses,
        "versions": package_versions(),
        "timings": timings,
        "host": {"hostname": socket.gethostname(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "command": sys.argv,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }

    def add_figures(tmp: Path) -> None:
        if not figure:
            return
        from .analysis.plots import plot_summary, save_figure

        partial = Results.__new__(Results)
        partial.path, partial.meta = tmp, meta
        save_figure(plot_summary(partial), tmp / "figures" / "summary")

    path = write_run(target, model, block, network.arrays(), finals, meta, extra=add_figures, overwrite=overwrite)
    return load(path)
