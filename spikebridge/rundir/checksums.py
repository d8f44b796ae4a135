"""SHA-256 of every file of a run directory, recorded in meta.json and verified when the directory is loaded."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

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


class HashingWriter:
    """A write-only, non-seekable file that hashes the bytes it passes on to ``fh`` (SHA-256).

    A writer that cannot seek back (``zipfile`` then streams, with data descriptors) writes every byte once and in
    order, so :attr:`hexdigest` is the file's SHA-256 without reading a large file back.
    """

    def __init__(self, fh: BinaryIO) -> None:
        self._fh = fh
        self._hash = hashlib.sha256()
        self._written = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Hash ``data`` and write it to the file; returns what the file's ``write`` returns."""
        self._hash.update(data)
        self._written += memoryview(data).nbytes
        return self._fh.write(data)

    def read(self, size: int = -1) -> bytes:
        """Refused (``OSError``): the method exists because ``numpy.savez`` takes only objects with ``read`` as files."""
        raise OSError("a hashing writer cannot read")

    def tell(self) -> int:
        """How many bytes were written so far."""
        return self._written

    def seek(self, offset: int, whence: int = 0) -> int:
        """Refused (``OSError``): every byte is hashed once, in order."""
        raise OSError("a hashing writer cannot seek")

    def seekable(self) -> bool:
        """False: ``zipfile`` then streams, with data descriptors."""
        return False

    def flush(self) -> None:
        """Flush the file."""
        self._fh.flush()

    @property
    def hexdigest(self) -> str:
        """The SHA-256 of the bytes written so far (hexadecimal)."""
        return self._hash.hexdigest()


def digest_files(root: Path, known: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{relative POSIX path: hex SHA-256}`` of every regular file below ``root`` except meta.json itself.

    ``known`` gives digests already computed while writing (:class:`HashingWriter`); those files are not reread.
    """
    root = Path(root)
    known = known or {}
    out = {}
    for p in sorted(root.rglob("*")):
        name = p.relative_to(root).as_posix()
        if p.is_file() and not p.is_symlink() and name != META:
            out[name] = known[name] if name in known else sha256_file(p)
    return out


def verify(root: Path, recorded: Mapping[str, str]) -> None:
    """Raise :class:`RunDirectoryError` naming the first file that is missing or whose bytes changed."""
    root = Path(root)
    for name, expected in recorded.items():
        path = root / name
        if not path.is_file():
            raise CorruptRunError(f"{root} is corrupt: {name} is missing (listed in {META})")
        if sha256_file(path) != expected:
            raise CorruptRunError(f"{root} is corrupt: {name} does not match its SHA-256 in {META} (truncated or changed)")
