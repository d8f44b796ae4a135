"""Run a model on a backend and write its run directory: instantiate, build, run every phase, write."""

from __future__ import annotations

import os
import platform
import re
import socket
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .. import backends
from ..cpu import cpu_now, cpu_since
from ..errors import BackendNotInstalledError, ModelWarning, RunDirectoryError
from ..models.instantiate import instantiate
from ..models.schema import Model
from ..rundir import WEIGHTS, Results, load, write_run
from ..rundir.guard import claim
from ..rundir.lock import TargetLock
from ..rundir.reuse import backend_options, identity
from ..rundir.weights import table_from_arrays, write_table
from .figure_process import FigureProcess

PACKAGES = (
    "spikebridge",
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
    """The versions a run's meta.json records: Python, spikebridge, each installed backend's packages, then the rest.

    Returns
    -------
    dict
        ``{"python": "3.12.3", "spikebridge": ..., "nest-simulator": ..., "brian2": ..., "numpy": ...}``: the
        simulator packages of every variant of every installed backend (:func:`spikebridge.backends.packages`)
        and :data:`PACKAGES`; ``None`` for a package that is not installed.
    """
    out: dict[str, str | None] = {"python": platform.python_version()}
    simulators: list[str] = []
    for base in backends.available():
        try:
            variants = backends.backend_class(base).variants
        except BackendNotInstalledError:
            continue
        for variant in variants:
            simulators.extend(backends.packages(base if variant is None else f"{base}:{variant}"))
    for name in (*PACKAGES[:1], *dict.fromkeys(simulators), *PACKAGES[1:]):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def default_out(model: Model, backend: str) -> Path:
    """``runs/MODEL/BACKEND_seedN_STAMP``; refuses a model name that would put it anywhere but under runs/."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    runs = Path("runs")
    name = model.name
    leaf = re.sub(r"[^A-Za-z0-9._+-]", "-", f"{backend}_seed{model.simulation.seed}_{stamp}")
    out = runs / name / leaf
    one_folder = bool(name) and name not in (".", "..") and not any(c in name for c in ("/", "\\", "\0"))
    if not one_folder or Path(os.path.normpath(out)).parts != (runs.name, name, leaf):
        raise RunDirectoryError(f"model name {name!r} cannot name a folder under runs/; give --out")
    return out


def run(
    model: Model,
    backend: str | None = None,
    out: str | Path | None = None,
    *,
    options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    progress: bool = True,
    figure: bool | FigureProcess = True,
    base: str | os.PathLike[str] | None = None,
    restore: str | Path | None = None,
) -> Results:
    """Simulate ``model`` on ``backend`` (default: the model's) and return the written run directory.

    Before anything is simulated, :class:`~spikebridge.errors.RunDirectoryError` refuses a target that exists
    (without ``overwrite``) or is anything but a run directory (with it), an unwritable folder, and a target
    another run is writing to (see :mod:`spikebridge.rundir.guard`).

    Parameters
    ----------
    model
        The model to simulate.
    backend
        The backend (``nest``, ``brian2:cpp``, ...); ``None``: the model's ``simulation.backend``.
    out
        The run directory to write; ``None``: ``runs/MODEL/BACKEND_seedN_STAMP`` (:func:`default_out`).
    options
        Backend options, merged over the model's ``simulation.backend_options``. On a backend other than the
        model's, each model option that backend accepts still applies; the others are left out with a
        :class:`~spikebridge.errors.ModelWarning` naming them
        (:func:`~spikebridge.rundir.reuse.backend_options`).
    overwrite
        Replace an existing run directory at ``out`` (and nothing else).
    progress
        Show a progress bar (simulated ms).
    figure
        Draw the summary figure into ``figures/``; a :class:`~spikebridge.workflows.figure_process.FigureProcess`
        draws it there while the network's arrays are written (``spikebridge run`` starts one with the command).
    base
        The folder of the model's relative data files (``from_file`` connections, ``rate_schedule``
        stimuli); ``None``: ``model.source_folder``, the folder of the file the model was loaded from.
    restore
        A run directory whose final weights and delays replace the drawn ones (its connectivity must match).

    Returns
    -------
    Results
        The run directory written, opened with :func:`~spikebridge.rundir.load`.
    """
    name, opts, left_out = backend_options(model, backend, options)
    if left_out:
        warnings.warn(
            f"backend option(s) {', '.join(sorted(left_out))} of model {model.name!r} are written for "
            f"{model.simulation.backend!r} and {name!r} does not take them; it runs without them",
            ModelWarning,
            stacklevel=2,
        )
    base = Path(os.path.abspath(base)) if base is not None else model.source_folder
    target = Path(out) if out is not None else default_out(model, name)
    # Refused now, not after the simulation: an unwritable folder, another run writing there, or anything at
    # target that --overwrite may not replace. The lock is held until the results are read back.
    with claim(target, overwrite=overwrite, protect=[base] if base is not None else []) as lock:
        return _run(model, name, opts, target, lock, overwrite=overwrite, progress=progress, figure=figure, base=base, restore=restore)


@contextmanager
def phase_timer(name: str, wall: dict[str, float], cpu: dict[str, dict[str, float]]) -> Iterator[None]:
    """Time a phase: its wall clock into ``wall[NAME_s]``, and the CPU time of this process's threads in it, in user
    space and in the kernel (page faults, I/O), into ``cpu[NAME]``. A standalone binary's CPU is its own process's."""
    t0, c0 = time.perf_counter(), cpu_now()
    yield
    cpu[name] = cpu_since(c0)
    wall[f"{name}_s"] = time.perf_counter() - t0


def _run(
    model: Model,
    name: str,
    opts: dict[str, Any],
    target: Path,
    lock: TargetLock,
    *,
    overwrite: bool,
    progress: bool,
    figure: bool | FigureProcess,
    base: Path | None,
    restore: str | Path | None,
) -> Results:
    """The body of :func:`run`, with ``target`` claimed."""
    timings: dict[str, float] = {}
    cpu: dict[str, dict[str, float]] = {}
    with phase_timer("instantiate", timings, cpu):
        network = instantiate(model, base)
        restored_from = None
        checkpoint: Results | None = None
        drawn: str | None = None  # the restored checkpoint's drawn network; unrestored, this run's own
        if restore is not None:
            from ..rundir.checkpoint import drawn_network_sha256
            from ..rundir.checkpoint import restore as restore_weights

            checkpoint = load(restore)
            drawn = drawn_network_sha256(checkpoint.meta, checkpoint.path)
            network = restore_weights(network, checkpoint)
            restored_from = {
                "path": str(checkpoint.path),
                "backend": checkpoint.meta.get("backend"),
                "network_sha256": checkpoint.meta.get("network_sha256"),
            }
    ident = identity(model, name, opts, base=base, restore=checkpoint)
    sim = backends.create(name, opts)
    try:
        with phase_timer("build", timings, cpu):
            sim.build(network)
        with (
            phase_timer("run", timings, cpu),
            tqdm(total=network.duration, unit="ms", desc=f"{model.name} on {name}", disable=not progress, leave=False) as bar,
        ):

            def advance(ms: float) -> None:
                bar.update(ms)

            for phase in network.phases:
                bar.set_postfix_str(phase.name)
                sim.run(phase, advance if progress else None)  # no progress shown: no chunks to show it
            sim.complete()  # a standalone binary simulates here, so collect_s is only reading its results
        with phase_timer("collect", timings, cpu):
            block = sim.recordings()
            finals = {p: sim.connections(p) for p in network.projections}
            snapshots = sim.weight_snapshots()
        info = sim.info()
    finally:
        sim.end()
    meta = {
        "model": model.name,
        **ident,  # format, model_sha256, backend, backend_options, files_sha256, restored_sha256: see rundir.reuse
        "model_folder": str(base) if base is not None else None,
        "network_sha256": (digest := network.digest()),
        # the network before a checkpoint's weights replaced its own: what two backends restoring their own
        # checkpoints of one drawn network still share
        "drawn_network_sha256": drawn if checkpoint is not None else digest,
        # the one input not in the arrays: the simulator draws it, seeded from the model's seed
        "simulator_drawn_inputs": sorted(network.inputs),
        "seed": model.simulation.seed,
        "restored_from": restored_from,
        "weight_snapshots_ms": sorted(snapshots),
        "backend_info": info,
        "dt_ms": network.dt,
        "duration_ms": network.duration,
        "phases": [{"name": p.name, "duration_ms": float(p.duration), "plasticity": p.plasticity} for p in network.phases],
        "cells": network.n_cells,
        "synapses": network.n_synapses,
        "versions": package_versions(),
        "timings": timings,
        "cpu_s": cpu,
        "host": {"hostname": socket.gethostname(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "command": sys.argv,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }

    side = figure if isinstance(figure, FigureProcess) else None
    drawing = [False]

    def start_figure(tmp: Path) -> Callable[[], None] | None:  # model.toml and the recordings are in tmp: all it reads
        drawing[0] = side is not None and side.start(tmp, meta)
        return side.stop if side is not None and drawing[0] else None

    def add_files(tmp: Path) -> dict[str, float]:
        if snapshots:
            arrays = {t: {p: (c.pre, c.post, c.weight, c.delay) for p, c in conns.items()} for t, conns in sorted(snapshots.items())}
            write_table(table_from_arrays(arrays), tmp / WEIGHTS)
        if not figure:
            return {}
        t0 = time.perf_counter()
        if drawing[0] and side is not None and side.wait() is not None:
            return {"figure_s": time.perf_counter() - t0}  # the time the command waited for it
        from ..plotting.figures import save_figure
        from ..plotting.summary import plot_summary

        save_figure(plot_summary(Results.partial(tmp, meta)), tmp / "figures" / "summary")
        return {"figure_s": time.perf_counter() - t0}

    path = write_run(
        target, model, block, network.arrays(), finals, meta, extra=add_files, early=start_figure, overwrite=overwrite, lock=lock
    )
    results = load(path)
    results.block  # noqa: B018  read under the lock, so what the caller prints is this run's even if another replaces it next
    return results
