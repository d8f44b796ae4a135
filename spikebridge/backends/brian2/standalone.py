"""Brian2 devices: runtime (Cython), ``cpp_standalone`` and brian2cuda's ``cuda_standalone``, with a compiled-code
cache for the standalone ones.

A standalone project is generated once all phases have been run (``build_on_run=False``) and built when results
are first read. Its directory is keyed by the network's *structure* (populations, cell types, projections and their
synapse rules, recording, phases' plasticity flags, methods, device options; not values, sizes of connection lists
or the seed). Values travel in Brian2's static-array files, which are read by the binary at start-up; Brian2
rewrites a source file only when its text changes and ``make`` recompiles only what changed. So a rerun of the same
model recompiles nothing, a new seed recompiles ``objects.cpp`` and ``main.cpp`` (array lengths are compiled in),
a changed rule parameter ``main.cpp``. A spike source pads its spike arrays to a power of two with spikes after the
run's end (:class:`~spikebridge.backends.brian2.cells.SourceGroup`), so new input trains of a similar size (the
repetitions of a test, the epochs of a training) reuse the binary. Each run writes its results to its own subdirectory, so processes can
share a project; building is serialised by a file lock.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ...errors import BackendError, SimulatorError
from ...models.network import Network


def default_cache_root() -> Path:
    """``$XDG_CACHE_HOME/spikebridge/brian2`` (default ``~/.cache/spikebridge/brian2``): compiled projects."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "spikebridge" / "brian2"


def import_brian2cuda() -> Any:
    """The ``brian2cuda`` module, or ``BackendError`` saying which extra to install."""
    try:
        import brian2cuda
    except ImportError as err:
        raise BackendError(
            f"backend 'brian2:cuda' needs brian2cuda, which cannot be imported ({err}); "
            "install the 'cuda' extra: pip install 'spikebridge[cuda]' (brian2cuda==1.0b1)"
        ) from None
    return brian2cuda


def curand_dirs() -> tuple[list[str], list[str]]:
    """Include and library folders of cuRAND from the ``nvidia-curand`` wheel, where a pip-installed CUDA toolkit
    (nvcc without cuRAND) needs them; empty where none is installed.

    The wheel ships ``libcurand.so.10`` but no ``libcurand.so``, which brian2cuda's ``-lcurand`` looks for: a
    link to it is made in spikebridge's cache, listed before the wheel's folder (which stays the run path).
    """
    try:
        import nvidia  # namespace package of NVIDIA's wheels
    except ImportError:
        return [], []
    include, lib = [], []
    for root in getattr(nvidia, "__path__", []):
        for header in sorted(Path(root).glob("*/include/curand.h")):
            include.append(str(header.parent))
            folder = header.parent.parent / "lib"
            versioned = sorted(folder.glob("libcurand.so.*"))
            if not (folder / "libcurand.so").exists() and versioned:
                links = default_cache_root().parent / "curand" / folder.parent.name
                links.mkdir(parents=True, exist_ok=True)
                link = links / "libcurand.so"
                if not link.exists():
                    tmp = links / f".libcurand.so.{os.getpid()}"
                    tmp.unlink(missing_ok=True)
                    tmp.symlink_to(versioned[0])
                    os.replace(tmp, link)
                lib.append(str(links))
            if folder.is_dir():
                lib.append(str(folder))
    return include, lib


def deterministic_gsl_code() -> None:
    """Make Brian2's GSL code generator list its variables in a fixed order (idempotent).

    ``GSLCodeGenerator.find_used_variables`` collects identifiers from sets, so the order of the declarations in a
    GSL state updater's source follows Python's per-process string hashing. Each new process then rewrote both
    state updaters of Vogels-Abbott and ``make`` recompiled them: 3.6 s of a cached 12 s run. Sorting the names
    fixes the text; the order of declarations means nothing to the compiler.
    """
    from brian2.codegen.generators.GSL_generator import GSLCodeGenerator

    original = GSLCodeGenerator.find_used_variables
    if getattr(original, "_spikebridge_sorted", False):
        return

    def find_used_variables(self: Any, statements: Any, other_variables: Any) -> dict[str, Any]:
        return dict(sorted(original(self, statements, other_variables).items()))

    find_used_variables._spikebridge_sorted = True  # type: ignore[attr-defined]
    GSLCodeGenerator.find_used_variables = find_used_variables


def code_versions() -> dict[str, str | None]:
    """The installed versions of the packages that write standalone code (``None`` where not installed): part of
    every compiled project's cache key."""
    versions: dict[str, str | None] = {}
    for package in ("brian2", "brian2cuda"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return versions


def structure_key(network: Network, variant: str | None, settings: dict[str, Any]) -> str:
    """A digest of everything that shapes the generated code, and of nothing that only changes values."""
    from .cells import sharing

    versions = code_versions()
    structure = {
        "variant": variant,
        "versions": versions,
        "settings": settings,
        "dt": network.dt,
        "populations": [
            [p.name, p.cell_type, p.size, sorted(p.parameters), sorted(p.initial), p.record.model_dump() if p.record else None]
            for p in network.populations.values()
        ],
        "projections": [
            [p.name, p.pre, p.post, p.receptor, p.synapse.type, p.synapse.delay_semantics,
             p.synapse.weight_dependence.rule if p.synapse.weight_dependence else None,
             # a tie's scale and interval are in its code
             [p.tie.source, p.tie.scale, p.tie.interval] if p.tie is not None else None]
            for p in network.projections.values()
        ],
        "nestml": {  # a NESTML population's code is its text's
            name: hashlib.sha256(pop.nestml.encode()).hexdigest() for name, pop in network.model.populations.items() if pop.nestml
        },
        "ports": [p.port for p in network.projections.values()],
        "phases": [p.plasticity for p in network.phases],
        "currents": sorted(network.currents),
        # which populations share a group depends on their parameters' values (cells.sharing)
        "shared_groups": sharing(network, variant),
    }
    text = json.dumps(structure, sort_keys=True, default=str)
    return f"{network.model.name[:40]}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


class Project:
    """One standalone project directory; built (compiled) under a lock, run into a private results folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.results: str | None = None
        self.timings: dict[str, float] = {}

    def lock(self) -> Any:
        """The project's file lock: one process at a time generates or compiles in the directory."""
        from brian2.utils.filelock import FileLock

        return FileLock(str(self.directory) + ".lock")

    def build(self, run: bool = True, make: bool = True) -> None:
        """Generate and, with ``make``, compile (under the project's lock); then, with ``run``, run the binary into a
        private results folder."""
        import brian2

        if run and not make:
            raise ValueError("a project is run only once compiled (make=True)")
        self.directory.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        with self.lock():
            try:
                brian2.device.build(directory=str(self.directory), compile=make, run=False, with_output=False, clean=False)
            except RuntimeError as err:
                doing = "compiling" if make else "generating"
                raise SimulatorError(f"{doing} the Brian2 standalone project in {self.directory} failed: {err}") from None
        self.timings["build_s"] = time.perf_counter() - t0
        self.timings["make_s"] = float((brian2.device.timers.get("compile") or {}).get("make") or 0.0)
        if not run:
            return
        self.results = f"results/{os.getpid()}-{uuid.uuid4().hex[:8]}"
        t0 = time.perf_counter()
        try:
            brian2.device.run(directory=str(self.directory), results_directory=self.results, with_output=False)
        except RuntimeError as err:
            raise SimulatorError(f"running the Brian2 standalone binary in {self.directory} failed: {err}") from None
        self.timings["binary_s"] = time.perf_counter() - t0

    def clean_results(self) -> None:
        """Delete this run's results folder."""
        if self.results is not None:
            shutil.rmtree(self.directory / self.results, ignore_errors=True)
