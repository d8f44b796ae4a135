"""What ``--overwrite`` may replace, decided before anything is simulated; and what crashed writers left behind.

``--overwrite`` replaces only a spikebridge run directory, complete or partial: a folder holding the marker file
``.spikebridge-run`` (every run directory written since checksums exist has one, from its first instant) or a
``meta.json`` with spikebridge's keys, and nothing but run-directory files at its top level. Everything else is
refused, naming what is there: a file, a user's folder, the current working directory or one of its parents,
the model file's folder.

A writer works in ``.NAME.partial-PID-RANDOM`` beside the target. Where ``renameat2`` cannot exchange, the old
directory is moved to ``.NAME.old-PID-RANDOM`` for the instant of the swap. Whoever next holds the target's lock
removes these when process PID is gone, and moves an orphaned ``.old`` back if the target itself is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import RunDirectoryError
from .layout import CONNECTIONS, META, MODEL, NETWORK, RECORDINGS, WEIGHTS
from .lock import TargetLock, hold
from .outputs import OUTPUTS
from .outputs import listed as later_outputs
from .recordings import LEGACY

MARKER = ".spikebridge-run"
FIGURES = "figures"
INFERENCE = "inference"  # where `spikebridge infer RUN_DIR` writes by default
KNOWN = frozenset({META, MODEL, RECORDINGS, LEGACY, NETWORK, CONNECTIONS, WEIGHTS, FIGURES, INFERENCE, MARKER, OUTPUTS})
RUN_KEYS = frozenset({"model", "backend", "seed", "network_sha256"})


def locate(path: str | os.PathLike[str]) -> Path:
    """Where ``path`` is: its folder with links resolved, and its own name (a link itself is not followed).

    ``.`` and ``..`` are resolved completely. Resolve after the folder exists: before, ``missing/..`` would be
    simplified on paper, where the system refuses it.
    """
    path = Path(path)
    if path.name in ("", ".", ".."):
        return Path(os.path.realpath(path))
    return Path(os.path.realpath(path.parent)) / path.name


def partial_name(target: Path, kind: str = "partial") -> Path:
    """A fresh hidden sibling of ``target`` owned by this process: ``.NAME.partial-PID-RANDOM``."""
    return target.with_name(f".{target.name}.{kind}-{os.getpid()}-{os.urandom(4).hex()}")


def _leftovers(target: Path) -> Iterator[tuple[Path, str, int]]:
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(partial|old)-(\d+)-[0-9a-f]+")
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        if m := pattern.fullmatch(entry.name):
            yield entry, m.group(1), int(m.group(2))


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (unknown counts as alive, so its files are kept)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: someone else's live process
        return True
    return True


def remove_stale(target: Path) -> list[Path]:
    """Clean up after dead writers of ``target``; call while holding its lock. Returns what was removed or restored."""
    done = []
    for path, kind, pid in _leftovers(target):
        if pid_alive(pid):
            continue
        if kind == "old" and not os.path.lexists(target):
            os.rename(path, target)  # killed between moving the old run away and moving the new one in
        else:
            shutil.rmtree(path, ignore_errors=True)
        done.append(path)
    return done


def _meta_keys(path: Path) -> set[str]:
    try:
        meta = json.loads((path / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return set(meta) if isinstance(meta, dict) else set()


def _files(path: Path) -> set[str]:
    """Relative paths of the files the run recorded (meta.json's SHA-256 list) or spikebridge added later."""
    try:
        digests = json.loads((path / META).read_text(encoding="utf-8")).get("sha256", {})
        recorded = {str(name) for name in digests}
    except (OSError, ValueError, AttributeError, TypeError):
        recorded = set()
    return recorded | later_outputs(path)


def _listed(path: Path) -> set[str]:
    return {name.split("/")[0] for name in _files(path)}


def _foreign_below(target: Path, entries: set[str]) -> set[str]:
    """Files in ``figures/`` and ``inference/`` that neither the run nor a later spikebridge command wrote."""
    known = _files(target)
    foreign = set()
    for folder in (FIGURES, INFERENCE):
        if folder in entries and (target / folder).is_dir():
            for p in (target / folder).rglob("*"):
                name = p.relative_to(target).as_posix()
                if (p.is_file() or p.is_symlink()) and name not in known:
                    foreign.add(name)
    return foreign


def _names(entries: Iterable[str], limit: int = 3) -> str:
    names = sorted(entries)
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _refuse_protected(target: Path, protect: Iterable[Path]) -> None:
    real = os.path.realpath(target)
    for what, place in [("the current working directory", Path.cwd()), *(("the model file's folder", p) for p in protect)]:
        there = os.path.realpath(place)
        if there == real:
            raise RunDirectoryError(f"{target} is {what}; --overwrite never replaces it")
        if there.startswith(real.rstrip(os.sep) + os.sep):
            raise RunDirectoryError(f"{target} contains {what} ({there}); --overwrite never replaces it")


def check_target(target: Path, overwrite: bool, protect: Iterable[Path] = ()) -> None:
    """Refuse with :class:`RunDirectoryError` unless writing ``target`` loses nothing but a replaceable run directory."""
    if not os.path.lexists(target):
        return
    if not overwrite:
        raise RunDirectoryError(f"{target} already exists; choose another --out or pass --overwrite")
    refuse = "--overwrite only replaces spikebridge run directories, so it was left as it is"
    if target.is_symlink():
        raise RunDirectoryError(f"{target} is a symbolic link; give the run directory's real path ({refuse})")
    _refuse_protected(target, protect)
    if not target.is_dir():
        kind = "a regular file" if target.is_file() else "not a folder"
        raise RunDirectoryError(f"{target} is {kind}, not a spikebridge run directory; {refuse}")
    try:
        entries = {p.name for p in target.iterdir()}
    except OSError as err:
        raise RunDirectoryError(f"cannot read {target}: {err.strerror}") from None
    if not entries:
        return
    if MARKER not in entries and not RUN_KEYS <= _meta_keys(target):
        raise RunDirectoryError(f"{target} is not a spikebridge run directory (it holds {_names(entries)}); {refuse}")
    foreign = (entries - KNOWN - _listed(target)) | _foreign_below(target, entries)
    if foreign:
        raise RunDirectoryError(f"{target} holds {_names(foreign)}, which is not part of a spikebridge run directory; {refuse}")
    if not os.access(target, os.W_OK | os.X_OK):
        raise RunDirectoryError(f"cannot replace {target}: no permission to remove its files")


@contextmanager
def claim(target: str | os.PathLike[str], *, overwrite: bool, protect: Iterable[Path] = ()) -> Iterator[TargetLock]:
    """Check that ``target`` may be written, lock it and clean up dead writers' leftovers; for the ``with`` block.

    Everything a run could be refused for is decided here, before it simulates: the folder must be writable,
    no other run may be writing there, and an existing ``target`` must be replaceable (see :func:`check_target`).
    """
    given = Path(target)
    folder = given.parent if given.name not in ("", ".", "..") else Path(os.path.realpath(given)).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise RunDirectoryError(f"cannot write {given}: {folder} is not a folder") from None
    except OSError as err:
        raise RunDirectoryError(f"cannot create {folder}: {err.strerror}") from None
    path = locate(given)
    if path.parent == path:
        raise RunDirectoryError(f"{path} cannot be a run directory")
    protect = [Path(p) for p in protect]
    check_target(path, overwrite, protect)
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise RunDirectoryError(f"cannot write in {path.parent}: permission denied")
    with hold(path) as lock:
        remove_stale(path)
        check_target(path, overwrite, protect)  # again: a dead writer's leftovers may have changed it
        yield lock
