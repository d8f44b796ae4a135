"""Files that spikebridge adds to a run directory after the run (``plot``, ``infer``), listed so that
``--overwrite`` can tell them from a user's own files in ``figures/`` or ``inference/``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

OUTPUTS = ".spikebridge-outputs"


def register(run_dir: Path, paths: Iterable[Path]) -> None:
    """Append the paths below ``run_dir`` among ``paths`` to its list of spikebridge's own later outputs."""
    root = Path(os.path.realpath(run_dir))
    inside = []
    for path in paths:
        real = Path(os.path.realpath(path))
        if real.is_relative_to(root) and real != root:
            inside.append(real.relative_to(root).as_posix())
    if inside:
        with open(root / OUTPUTS, "a", encoding="utf-8") as fh:
            fh.write("".join(json.dumps(name) + "\n" for name in inside))


def listed(run_dir: Path) -> set[str]:
    """Relative POSIX paths that :func:`register` recorded for ``run_dir`` (unreadable lines are ignored)."""
    try:
        lines = (Path(run_dir) / OUTPUTS).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    names = set()
    for line in lines:
        try:
            name = json.loads(line)
        except ValueError:
            continue
        if isinstance(name, str):
            names.add(name)
    return names
