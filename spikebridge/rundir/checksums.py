"""SHA-256 of every file of a run directory, recorded in meta.json and verified when the directory is loaded."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from ..errors import CorruptRunError
from .layout import META

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of one file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def digest_files(root: Path) -> dict[str, str]:
    """``{relative POSIX path: hex SHA-256}`` of every regular file below ``root`` except meta.json itself."""
    root = Path(root)
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink() and p.relative_to(root).as_posix() != META
    }


def verify(root: Path, recorded: Mapping[str, str]) -> None:
    """Raise :class:`RunDirectoryError` naming the first file that is missing or whose bytes changed."""
    root = Path(root)
    for name, expected in recorded.items():
        path = root / name
        if not path.is_file():
            raise CorruptRunError(f"{root} is corrupt: {name} is missing (listed in {META})")
        if sha256_file(path) != expected:
            raise CorruptRunError(f"{root} is corrupt: {name} does not match its SHA-256 in {META} (truncated or changed)")
