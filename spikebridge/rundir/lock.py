"""One writer per run directory: an exclusive ``flock`` on ``.NAME.lock`` beside the target.

A second writer is refused at once (it does not wait). The kernel releases the lock when its holder dies, so a
killed run never blocks the next one. The lock file is removed on release; since another process may have
opened the old file just before, a holder checks after locking that its file is still the one at the path.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import RunDirectoryError


def lock_path(target: Path) -> Path:
    """The lock file of ``target``: ``.NAME.lock`` in the same folder."""
    return target.with_name(f".{target.name}.lock")


@dataclass(frozen=True)
class TargetLock:
    """Proof that this process holds the lock of ``target``."""

    target: Path
    fd: int


def _holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (process {pid})" if pid.isdigit() else ""


def _lock(fd: int) -> None:
    """``flock`` the file; where the filesystem has none (Lustre without ``-o flock``: ENOSYS), POSIX ``lockf``."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        if err.errno not in (errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOLCK):
            raise
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _acquire(target: Path) -> int:
    path = lock_path(target)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as err:
            raise RunDirectoryError(f"cannot write in {target.parent}: {err.strerror}") from None
        try:
            _lock(fd)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise RunDirectoryError(
                    f"another spikebridge run is writing to {target}{_holder(path)}; wait for it or choose another --out"
                ) from None
            raise RunDirectoryError(f"cannot lock {path}: {err.strerror}") from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)  # the previous holder removed this file after we opened it: lock the new one


@contextmanager
def hold(target: Path) -> Iterator[TargetLock]:
    """Hold the lock of ``target`` (whose folder must exist) for the ``with`` block."""
    target = Path(target)
    fd = _acquire(target)
    try:
        yield TargetLock(target, fd)
    finally:
        Path(lock_path(target)).unlink(missing_ok=True)  # while still locked, so nobody holds a removed file
        os.close(fd)
