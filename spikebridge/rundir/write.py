"""Writing a run directory atomically: everything under a hidden temporary name, swapped into place when complete.

The files are written into ``.NAME.partial-PID-RANDOM`` beside the target, their SHA-256 go into meta.json
(written last), and the finished directory is swapped with the old one in one ``renameat2(RENAME_EXCHANGE)``,
so at every instant the target is either the old complete run or the new one. The old one, now under the
temporary name, is then removed.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import neo
import numpy as np

from ..backends.base import Connections
from ..cpu import cpu_now, cpu_since
from ..errors import RunDirectoryError
from ..models.io import dumps_toml
from ..models.schema import Model
from . import swap
from .checksums import HashingWriter, digest_files
from .connections import compact, write_connections
from .guard import MARKER, check_target, claim, locate, partial_name
from .layout import CONNECTIONS, FORMAT, META, MODEL, NETWORK, RECORDINGS
from .lock import TargetLock
from .recordings import write_recordings


def write_run(
    path: Path,
    model: Model,
    block: neo.Block,
    network_arrays: Mapping[str, np.ndarray],
    connections: Mapping[str, Connections],
    meta: Mapping[str, Any],
    extra: Callable[[Path], Mapping[str, float] | None] | None = None,
    overwrite: bool = False,
    lock: TargetLock | None = None,
    early: Callable[[Path], Callable[[], None] | None] | None = None,
) -> Path:
    """Write a complete run directory at ``path`` atomically; ``extra(tmp_dir)`` may add files (figures).

    meta.json gets ``meta`` with ``format`` (:data:`~spikebridge.rundir.layout.FORMAT`), the write time (wall clock
    in ``timings.write_s``, the flush to disk included; CPU in ``cpu_s.write``), the SHA-256 of every other file and
    ``complete``.

    ``lock`` is the caller's :func:`~spikebridge.rundir.guard.claim` on ``path`` (taken before simulating);
    without one, the claim is made here. ``overwrite`` replaces an existing run directory, and nothing else.

    Parameters
    ----------
    path
        The run directory to write.
    model
        The resolved model (written as model.toml).
    block
        The recordings, one segment per phase (spike times in ms; see :mod:`spikebridge.rundir.recordings`).
    network_arrays
        Every array the instantiation drew, by name (network.npz).
    connections
        Each projection's final weights (uS or nA) and delays (ms) (connections.npz).
    meta
        The run's metadata (seed, backend, options, versions, timings).
    extra
        Called with the temporary directory before it is sealed, to add files (weight snapshots, the summary
        figure). It may return named timings of work that is not writing data (``{"figure_s": 0.9}``): they go into
        meta.json's timings beside ``write_s``, which leaves them out.
    overwrite
        Replace a run directory already at ``path``.
    early
        Called with the temporary directory once model.toml and the recordings are in it, before the network's
        arrays are written: another process may start drawing from them (the summary figure). It may return a
        function that stops that work, called if the write fails before the temporary directory is removed.
    lock
        The caller's claim on ``path``, if it holds one.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    if lock is None:
        with claim(path, overwrite=overwrite) as held:
            return write_run(path, model, block, network_arrays, connections, meta, extra, overwrite, held, early)
    target = locate(path)
    if lock.target != target:
        raise ValueError(f"the lock is on {lock.target}, not on {path}")
    started, cpu = time.perf_counter(), cpu_now()
    tmp = partial_name(target)
    tmp.mkdir()
    cancel: Callable[[], None] | None = None
    try:
        (tmp / MARKER).write_text("spikebridge run directory\n", encoding="utf-8")  # first: a partial is recognisable as ours
        (tmp / MODEL).write_text(dumps_toml(model), encoding="utf-8")
        write_recordings(block, tmp / RECORDINGS)
        if early is not None:
            cancel = early(tmp)
        arrays: dict[str, Any] = {k.replace("/", "__"): compact(v) for k, v in network_arrays.items()}
        with open(tmp / NETWORK, "wb") as fh:  # hashed as written: a large network is not read back to digest it
            hashed = HashingWriter(fh)
            np.savez(hashed, **arrays)
        write_connections(tmp / CONNECTIONS, connections, network_arrays)
        apart = dict((extra(tmp) if extra is not None else None) or {})
        # timed with the write: at scale the flush is most of it (3.6 GB of network.npz at disk speed)
        _sync_tree(tmp)
        timings = {**meta.get("timings", {}), **apart, "write_s": time.perf_counter() - started - sum(apart.values())}
        spent = {**meta.get("cpu_s", {}), "write": cpu_since(cpu)}  # the figure's too, where this process draws it
        digests = digest_files(tmp, {NETWORK: hashed.hexdigest})  # of the final files, so any later change to one of them is detected
        (tmp / META).write_text(
            json.dumps(
                {**meta, "format": FORMAT, "timings": timings, "cpu_s": spent, "sha256": digests, "complete": True}, indent=2, default=str
            ),
            encoding="utf-8",
        )
        _fsync(tmp / META)
        _fsync(tmp, os.O_RDONLY | os.O_DIRECTORY)
        _install(tmp, target, overwrite)
    except BaseException:
        if cancel is not None:  # nothing may write into tmp once it is being removed
            cancel()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _fsync(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_tree(root: Path) -> None:
    """Flush every file and folder below ``root`` to disk, so that a power cut after the swap loses nothing."""
    for folder, _, files in os.walk(root):
        for name in files:
            _fsync(Path(folder) / name)
        _fsync(Path(folder), os.O_RDONLY | os.O_DIRECTORY)


def _install(tmp: Path, target: Path, overwrite: bool) -> None:
    """Put the complete directory ``tmp`` at ``target``: swapped with an old run directory, or renamed."""
    check_target(target, overwrite)  # again: the simulation took a while, and the target may have changed meanwhile
    if os.path.lexists(target):
        try:
            swap.exchange(tmp, target)
        except swap.Unsupported:
            _replace_recoverably(tmp, target)
        else:
            shutil.rmtree(tmp, ignore_errors=True)  # the old run; if this fails, the next writer removes it
    else:
        try:
            swap.rename_noreplace(tmp, target)
        except swap.Unsupported:
            os.rename(tmp, target)  # we hold the lock; only a foreign process could have created target meanwhile
        except FileExistsError:
            raise RunDirectoryError(f"{target} appeared while this run was being written; it was left as it is") from None
    _fsync(target.parent, os.O_RDONLY | os.O_DIRECTORY)


def _replace_recoverably(tmp: Path, target: Path) -> None:
    """Replace without ``RENAME_EXCHANGE``: old run aside, new one in, old one removed.

    For an instant nothing is at ``target``; if this process dies then, the next writer of ``target`` moves
    ``.NAME.old-PID-*`` back (:func:`~spikebridge.rundir.guard.remove_stale`).
    """
    old = partial_name(target, "old")
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
