"""PyNN's own NEST extension module (``pynn_extensions``), compiled once into the cache and found by NEST.

``import pyNN.nest`` loads ``pynn_extensions`` (PyNN's stochastic synapses). When NEST cannot find it, PyNN runs CMake
with ``nest-config`` again, on every import. With the nest-simulator wheel, whose ``nest-config`` names the folder the
wheel was built in, that CMake run fails every time: 0.13 s of every command on NEST, a warning, and no stochastic
synapses. :func:`build` compiles the module once (about 12 s) with the ``nest-config`` of
:mod:`spikebridge.backends.nest.nestml`, and :func:`make_findable` puts its folder on libltdl's search path
(``LTDL_LIBRARY_PATH``, which NEST's module loader reads at each ``Install``), so PyNN's
``nest.Install("pynn_extensions")`` succeeds. ``make install`` builds it by calling :func:`main`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ...errors import BackendNotInstalledError, ExecutionError, one_line
from .nestml import (
    CXXFLAGS,
    cache_root,
    check_toolchain,
    first_compiler_error,
    locked,
    nest_config_dir,
    package_version,
    spinner,
    tool_path,
)

NAME = "pynn_extensions"
SEARCH_PATH = "LTDL_LIBRARY_PATH"
FORMAT = 1
"""Part of the cache key, bumped whenever how the module is built changes."""


def source_dir() -> Path:
    """The extension's sources, as ``pyNN.nest`` ships them (found without importing PyNN, which would try to build)."""
    spec = importlib.util.find_spec("pyNN")
    if spec is None or spec.origin is None:
        raise BackendNotInstalledError("PyNN's NEST extensions need PyNN: pip install 'PyNN==0.13.*'")
    return Path(spec.origin).parent / "nest" / "extensions"


def folder() -> Path:
    """The folder of the compiled module for the installed PyNN and NEST and :data:`spikebridge.backends.nest.nestml.CXXFLAGS`."""
    key = f"{FORMAT} {package_version('PyNN')} {package_version('nest-simulator')} {CXXFLAGS}"
    return cache_root().parent / NAME / hashlib.sha256(key.encode()).hexdigest()[:16]


def library() -> Path:
    """The compiled module, ``folder()/pynn_extensions.so`` (present once :func:`build` has run)."""
    return folder() / f"{NAME}.so"


def build(*, progress: bool = True) -> Path:
    """Compile PyNN's NEST extension module into :func:`folder`, unless it is there.

    Parameters
    ----------
    progress
        Say on stderr that it is being compiled.

    Returns
    -------
    Path
        The library.

    Raises
    ------
    ExecutionError
        A tool or header is missing, or CMake or the compiler failed (one line, with the log's path).
    """
    target = library()
    if target.is_file():
        return target
    with locked(target.parent.parent / "locks" / f"{target.parent.name}.lock", progress, "PyNN's NEST extensions"):
        if target.is_file():  # built by another process while this one waited
            return target
        check_toolchain()
        for stale in target.parent.parent.glob(f".tmp-{target.parent.name}-*"):  # left by a process that died
            shutil.rmtree(stale, ignore_errors=True)
        work = target.parent.parent / f".tmp-{target.parent.name}-{os.getpid()}"
        log = target.parent.parent / "logs" / f"{target.parent.name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            with spinner("spikebridge: compiling PyNN's NEST extensions (once, ~12 s)...", progress), open(log, "w") as out:
                config = nest_config_dir() / "bin" / "nest-config"
                cmake = [tool_path("cmake"), f"-Dwith-nest={config}", str(source_dir())]
                for command in (cmake, [tool_path("make"), f"-j{os.cpu_count() or 1}"]):
                    done = subprocess.run(command, cwd=work, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, check=False)
                    if done.returncode != 0:
                        detail = first_compiler_error(log) or f"{Path(command[0]).name} exited with status {done.returncode}"
                        raise ExecutionError(one_line(f"compiling PyNN's NEST extensions failed: {detail}; full log: {log}"))
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{NAME}.{os.getpid()}.so")
            shutil.copy2(work / f"{NAME}.so", tmp)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def make_findable() -> bool:
    """Put the compiled module's folder first on NEST's module search path, if it has been built.

    Call before ``import pyNN.nest`` (NEST itself may be imported already). Idempotent.

    Returns
    -------
    bool
        Whether the module is there to be found.
    """
    if not library().is_file():
        return False
    here = str(folder())
    paths = [p for p in os.environ.get(SEARCH_PATH, "").split(os.pathsep) if p]
    if here not in paths:
        os.environ[SEARCH_PATH] = os.pathsep.join([here, *paths])
    return True


def main() -> int:
    """Build the module (``make install`` runs this); a failure is reported and leaves PyNN as it was."""
    try:
        path = build()
    except (ExecutionError, BackendNotInstalledError, OSError) as err:
        print(f"spikebridge: PyNN's NEST extensions were not built ({err}); PyNN will try, and fail, at each import", file=sys.stderr)
        return 1
    print(f"spikebridge: PyNN's NEST extensions: {path}")
    return 0
