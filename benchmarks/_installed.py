"""A fresh cache folder set up as a user's is after ``make install``, for benchmarks that time whole commands."""

from __future__ import annotations

import compileall
import os
import shutil
from pathlib import Path

import spikebridge


def as_installed(xdg: Path) -> None:
    """Copy into ``xdg`` (a fresh ``XDG_CACHE_HOME``) what installing leaves in the user's cache, and compile
    spikebridge's bytecode.

    - matplotlib's font cache (built at its first import);
    - PyNN's NEST extension module (``make install`` compiles it once; see
      :mod:`spikebridge.backends.nest.pynn_extensions`).

    ``pip install`` compiles a package's bytecode; an editable install writes it at the first import. This machine
    sets ``PYTHONDONTWRITEBYTECODE=1``, so without this step every command would compile spikebridge's modules
    from source (0.1 s of each command).
    """
    home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    for part in ("matplotlib", "spikebridge/pynn_extensions"):
        if (home / part).is_dir() and not (xdg / part).exists():
            shutil.copytree(home / part, xdg / part, ignore=shutil.ignore_patterns("locks", "logs", ".tmp-*"))
    compileall.compile_dir(Path(spikebridge.__file__).parent, quiet=1)
