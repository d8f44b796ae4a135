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
    """A trial record that has not run yet."""
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

    Raises
    ------
    ExperimentError
        If ``path`` holds no readable experiment metadata.
    """
    file = Path(path) / METADATA
    if not file.is_file():
        raise ExperimentError(f"{path} is not an experiment directory (no {METADATA}); a sweep creates one: spikebridge sweep MODEL --grid PATH=V1,V2 --out {path}")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ExperimentError(f"{file} is not valid JSON: {err}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ExperimentError(f"{file} is not spikebridge experiment metadata (expected format {FORMAT!r})")
    return data


def write_metadata(path: str | Path, data: dict[str, Any]) -> None:
    """Replace ``path/metadata.json`` atomically."""
    with atomic_file(Path(path) / METADATA) as fh:
        fh.write(json.dumps(data, indent=2, default=str).encode())
