"""Linux ``renameat2``: swap two paths in one step, or rename without replacing, through libc (ctypes).

``os.rename`` cannot replace a non-empty directory, and renaming the old one away first leaves an instant with
nothing at the destination. ``RENAME_EXCHANGE`` swaps both names atomically, so a reader always finds one
complete directory.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2


class Unsupported(OSError):
    """This kernel, C library or filesystem cannot do the requested ``renameat2``."""


@cache
def _renameat2() -> Callable[..., int] | None:
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # glibc before 2.28, or not Linux
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def _call(src: Path, dst: Path, flags: int) -> None:
    fn = _renameat2()
    if fn is None:
        raise Unsupported(errno.ENOSYS, "renameat2 is not available in this C library")
    if fn(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), flags) == 0:
        return
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        raise Unsupported(err, f"renameat2 flag {flags} is not supported here: {os.strerror(err)}", str(dst))
    raise OSError(err, os.strerror(err), str(src), None, str(dst))


def exchange(a: Path, b: Path) -> None:
    """Swap the names ``a`` and ``b`` (both must exist) atomically; :class:`Unsupported` where impossible."""
    _call(a, b, RENAME_EXCHANGE)


def rename_noreplace(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst``; ``FileExistsError`` if ``dst`` exists (even an empty folder, which rename would replace)."""
    _call(src, dst, RENAME_NOREPLACE)
