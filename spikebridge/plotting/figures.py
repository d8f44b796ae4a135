"""Saving figures: PNG and PDF side by side, each written atomically."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from ..rundir import atomic_file


def save_figure(
    fig: Figure,
    path_without_suffix: str | os.PathLike[str],
    *,
    formats: Sequence[str] = ("png", "pdf"),
    dpi: int = 150,
) -> list[Path]:
    """Write ``fig`` as PNG (``dpi``) and PDF next to each other, atomically.

    ``path_without_suffix`` gets ``.png`` / ``.pdf`` appended (an existing
    suffix such as ``.v1`` is kept). Parent directories are created; each file
    is written to a hidden temporary name in the target directory and renamed
    over the target with :func:`os.replace`, so readers never see a partial
    file and a failure leaves no temporary file behind.

    Returns
    -------
    list[Path]
        The files written, in ``formats`` order.
    """
    base = Path(path_without_suffix)
    base.parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in formats:
        target = base.with_name(f"{base.name}.{fmt}")
        with atomic_file(target) as fh:
            fig.savefig(fh, format=fmt, dpi=dpi, bbox_inches="tight")
        written.append(target)
    return written
