"""The experiment directory's ``metadata.json``: what was swept, and each trial's parameters and fate.

Layout::

    EXP_DIR/
      metadata.json        written atomically by the client as results arrive (see below)
      t0000_A_plus=0.01_seed=1/   one complete run directory per trial (``spikebridge.load`` reads it)
      ...
      .trials/ID.attempts  one line per start of a trial's simulation (host, pid, worker, time); also its lock
      .lock                held by the client that is running a sweep on this directory

``metadata.json`` holds ``model`` (as given), ``model_file``, ``model_sha256`` (the model with the sweep's
``--set`` overrides, before the grid), ``set``, ``backend``, ``options``, ``grid`` (path -> values),
``created``/``updated``, ``sweeps`` (one entry per invocation) and ``trials``: a list of records with ``id``,
``params`` (path -> value), ``dir``, ``status`` (``pending``, ``running``, ``complete``, ``failed``), ``error``,
``attempts``, ``host``, ``worker``, ``started``, ``finished``, ``duration_s`` and ``timings``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...rundir import atomic_file
from .errors import ExperimentError

METADATA = "metadata.json"
FORMAT = "spikebridge-experiment/1"
STATUSES = ("pending", "running", "complete", "failed")


def new_trial(trial_id: str, params: dict[str, Any], directory: str) -> dict[str, Any]:
    """A trial record that has not run yet.

    Parameters
    ----------
    trial_id : str
        E.g. ``"t0003"``.
    params : dict
        The trial's parameters by full path.
    directory : str
        Its run directory, relative to the experiment directory.

    Returns
    -------
    dict
        The record (see the module docstring), with status ``pending`` and no attempts.

    Examples
    --------
    >>> record = new_trial("t0000", {"simulation.seed": 1}, "t0000_seed=1")
    >>> record["status"], record["attempts"]
    ('pending', 0)
    """
    return {
        "id": trial_id,
        "params": params,
        "dir": directory,
        "status": "pending",
        "error": None,
        "attempts": 0,
        "host": None,
        "worker": None,
        "started": None,
        "finished": None,
        "duration_s": None,
        "timings": None,
    }


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of the experiment directory ``path``.

    Parameters
    ----------
    path : str or pathlib.Path
        The experiment directory.

    Returns
    -------
    dict
        The contents of its ``metadata.json`` (see the module docstring).

    Raises
    ------
    ExperimentError
        If ``path`` holds no readable experiment metadata.
    """
    file = Path(path) / METADATA
    if not file.is_file():
        raise ExperimentError(
            f"{path} is not an experiment directory (no {METADATA}); "
            f"a sweep creates one: spikebridge sweep MODEL --grid PATH=V1,V2 --out {path}"
        )
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ExperimentError(f"{file} is not valid JSON: {err}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ExperimentError(f"{file} is not spikebridge experiment metadata (expected format {FORMAT!r})")
    return data


def write_metadata(path: str | Path, data: dict[str, Any]) -> None:
    """Replace ``path/metadata.json`` atomically.

    Parameters
    ----------
    path : str or pathlib.Path
        The experiment directory (must exist).
    data : dict
        The metadata; values JSON cannot hold are written as strings.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_metadata(folder, {"format": FORMAT, "grid": {"simulation.seed": [1, 2]}, "trials": []})
    ...     read_metadata(folder)["grid"]
    {'simulation.seed': [1, 2]}
    """
    with atomic_file(Path(path) / METADATA) as fh:
        fh.write(json.dumps(data, indent=2, default=str).encode())
