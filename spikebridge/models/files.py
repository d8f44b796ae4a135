"""Data files a model names (connection lists, rate schedules): found relative to the model file's folder."""

from __future__ import annotations

from pathlib import Path

from ..errors import ModelError


def model_file(file: str, base: Path | None, path: str, kind: str) -> Path:
    """``file`` resolved against ``base`` (the model file's folder); a missing file is a ModelError naming ``path``."""
    p = Path(file)
    if not p.is_absolute() and base is not None:
        p = base / p
    if not p.is_file():
        raise ModelError(path, f"{kind} file {str(p)!r} not found")
    return p
