"""Data files a model names (connection lists, rate schedules): found relative to the model file's folder."""

from __future__ import annotations

from pathlib import Path

from ..errors import ModelError


def model_file(file: str, base: Path | None, path: str, kind: str) -> Path:
    """``file`` resolved against ``base`` (the model file's folder); a missing file is a ModelError naming ``path``.

    Parameters
    ----------
    file : str
        The file name as written in the model (absolute, or relative to ``base``).
    base : pathlib.Path or None
        The model file's folder (None: the working directory).
    path : str
        The field that names the file, for the error.
    kind : str
        What the file holds (``"connection"``, ``"rate schedule"``), for the error.

    Returns
    -------
    pathlib.Path
        The existing file.

    Raises
    ------
    ModelError
        If there is no such file.
    """
    p = Path(file)
    if not p.is_absolute() and base is not None:
        p = base / p
    if not p.is_file():
        raise ModelError(path, f"{kind} file {str(p)!r} not found")
    return p
