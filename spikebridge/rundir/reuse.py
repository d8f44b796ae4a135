"""Whether a run directory holds the very run that running a model now would make, so that it can be reused.

A run is identified by what went into it, recorded in its meta.json by the runner (:func:`identity`):

``format``
    the run-directory layout version (:data:`~spikebridge.rundir.layout.FORMAT`);
``model_sha256``
    the resolved model (:func:`~spikebridge.models.io.model_digest`: every field, the seed included);
``backend``, ``backend_options``
    the backend and the options it was given (:func:`backend_options`: the model's merged with the caller's);
``files_sha256``
    the SHA-256 of every data file the model reads (``from_file`` connections, ``rate_schedule`` stimuli), by
    the field that names it;
``restored_sha256``
    the SHA-256 of the final weights and delays (``connections.npz``) of the checkpoint restored into the
    network, or ``None``.

:func:`reusable` accepts a run directory only if it is complete, every file has its recorded SHA-256 (both
checked by :func:`~spikebridge.rundir.results.load`), and every item above is equal to what running now would
record. Equal items mean an identical drawn network (same model, seed, files and restored weights) simulated by
the same backend with the same options.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import backends
from ..errors import BackendError, CorruptRunError, ModelError, RunDirectoryError
from ..models.files import model_file
from ..models.io import model_digest
from ..models.schema import Model
from .checksums import sha256_file
from .layout import CONNECTIONS, FORMAT
from .results import Results, load

IDENTITY = ("format", "model_sha256", "backend", "backend_options", "files_sha256", "restored_sha256")
"""The meta.json keys that identify a run (see the module docstring)."""


def backend_options(
    model: Model, backend: str | None = None, options: Mapping[str, Any] | None = None
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The backend a run of ``model`` uses, the options it gets, and the model's options it does not get.

    The model's ``simulation.backend_options`` are written for its ``simulation.backend``. On that backend they
    all apply; on another one (``backend`` given and different), each one the other backend uses applies
    (``threads`` of ``nest`` reaches ``brian2:cpp``, :func:`spikebridge.backends.accepts`), and the others are
    left out. ``options`` (explicit, e.g.
    ``--threads``) are merged over the model's.

    Parameters
    ----------
    model
        The model; its ``simulation.backend`` and ``simulation.backend_options``.
    backend
        The backend to run on (e.g. ``nest``, ``brian2:cpp``); ``None``: the model's.
    options
        Explicit backend options, over the model's.

    Returns
    -------
    name : str
        The backend.
    options : dict
        The options it is given.
    left_out : dict
        The model's options that the backend does not accept (written for ``model.simulation.backend``).

    Raises
    ------
    BackendError
        If the model has options and ``backend`` is another backend that is unknown or cannot be imported.
    """
    name = backend or model.simulation.backend
    given = dict(options or {})
    own = dict(model.simulation.backend_options)
    if name == model.simulation.backend:
        return name, {**own, **given}, {}
    applies: dict[str, Any] = {}
    left_out: dict[str, Any] = {}
    for key, value in own.items():
        if key not in given:
            (applies if backends.accepts(name, key) else left_out)[key] = value
    unknown = sorted(k for k in left_out if not _known(model.simulation.backend, k))
    if unknown:
        raise BackendError(
            f"simulation.backend_options: unknown option(s) {unknown}: neither {model.simulation.backend} (the model's backend) "
            f"nor {name} accepts them"
        )
    return name, {**applies, **given}, left_out


def _known(backend: str, key: str) -> bool:
    """Whether ``backend`` accepts option ``key``; a backend that cannot be loaded here is given the benefit of the doubt."""
    try:
        return backends.accepts(backend, key)
    except BackendError:
        return True


def data_files(model: Model) -> dict[str, str]:
    """The data files ``model`` reads.

    Parameters
    ----------
    model
        A model.

    Returns
    -------
    dict[str, str]
        ``{field: file}``: each file as written in the model (relative to its source folder, or absolute), by the
        field that names it (``projections.P.connector.file``, ``stimuli.S.file``).
    """
    files = {
        f"projections.{name}.connector.file": prj.connector.file
        for name, prj in model.projections.items()
        if prj.connector.rule == "from_file"
    }
    files.update({f"stimuli.{name}.file": stim.file for name, stim in model.stimuli.items() if stim.kind == "rate_schedule"})
    return {field: file for field, file in files.items() if file is not None}


def files_digest(model: Model, base: Path | None = None) -> dict[str, str]:
    """SHA-256 of every data file ``model`` reads (:func:`data_files`).

    Parameters
    ----------
    model
        A model.
    base
        The folder relative files are in (``None``: the working directory).

    Returns
    -------
    dict[str, str]
        ``{field: hex SHA-256 of the file's bytes}``.

    Raises
    ------
    ModelError
        If a file is missing.
    """
    out = {}
    for field, file in data_files(model).items():
        kind = "rate schedule" if field.startswith("stimuli.") else "connection"
        out[field] = sha256_file(model_file(file, base, field, kind))
    return out


def identity(
    model: Model,
    backend: str | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    base: Path | None = None,
    restore: Results | None = None,
) -> dict[str, Any]:
    """What identifies a run of ``model`` (the :data:`IDENTITY` items of its meta.json), as the runner records it.

    Returns ``{item: value}`` for every item of :data:`IDENTITY`, as meta.json holds them (JSON types).

    Parameters
    ----------
    model, backend, options
        As given to the runner's ``run`` (merged by :func:`backend_options`).
    base
        The folder of the model's relative data files; ``None``: ``model.source_folder``.
    restore
        The checkpoint whose final weights and delays replace the drawn ones, if any.

    Raises
    ------
    ModelError
        If a data file of the model is missing.
    """
    name, opts, _ = backend_options(model, backend, options)
    folder = base if base is not None else model.source_folder
    return {
        "format": FORMAT,
        "model_sha256": model_digest(model),
        "backend": name,
        "backend_options": _plain(opts),
        "files_sha256": files_digest(model, folder),
        "restored_sha256": restore.meta["sha256"][CONNECTIONS] if restore is not None else None,
    }


def _plain(value: Any) -> Any:
    """``value`` as meta.json holds it (tuples as lists, keys as strings, other objects as their ``str``)."""
    return json.loads(json.dumps(value, default=str, sort_keys=True))


def mismatch(
    results: Results,
    model: Model,
    backend: str | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    base: Path | None = None,
    restore: str | Path | Results | None = None,
) -> str | None:
    """Why ``results`` is not the run that running ``model`` now would make, or ``None`` if it is.

    Parameters
    ----------
    results
        A run directory; it must have been opened by :func:`~spikebridge.rundir.results.load` (complete,
        checksums verified).
    model, backend, options, base
        As for :func:`identity`.
    restore
        The checkpoint that would be restored (its run directory or path), if any.

    Returns
    -------
    str or None
        The first :data:`IDENTITY` item that differs, with both values; ``None`` if the run matches.
    """
    if not results.verified:
        return f"{results.path} was not opened with spikebridge.load (its checksums are not verified)"
    checkpoint = load(restore) if isinstance(restore, (str, Path)) else restore
    try:
        wanted = identity(model, backend, options, base=base, restore=checkpoint)
    except (ModelError, BackendError) as err:
        return f"the model cannot be run as asked ({err})"
    for key in IDENTITY:
        have = results.meta.get(key, "absent")
        if _plain(have) != wanted[key]:
            return f"its {key} is {_short(have)}, running now would make {_short(wanted[key])}"
    return None


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def reusable(
    path: str | Path,
    model: Model,
    backend: str | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    base: Path | None = None,
    restore: str | Path | Results | None = None,
) -> Results | None:
    """The run directory at ``path`` if it holds the run that running ``model`` now would make, else ``None``.

    Parameters
    ----------
    path
        The run directory (it need not exist).
    model, backend, options, base, restore
        As given to the runner's ``run``; see :func:`identity`.

    Returns
    -------
    Results or None
        The run, opened and verified; ``None`` if ``path`` is absent, incomplete, of another format or of
        another run (see the module docstring for the criterion).

    Raises
    ------
    CorruptRunError
        If ``path`` is a run directory whose files changed since it was written: evidence of a problem, which
        the caller decides about (rerun over it, or stop).
    """
    path = Path(path)
    if not path.is_dir():
        return None
    try:
        results = load(path)
    except CorruptRunError:
        raise
    except RunDirectoryError:
        return None
    return results if mismatch(results, model, backend, options, base=base, restore=restore) is None else None


def matches(
    results: Results,
    model: Model,
    backend: str | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    base: Path | None = None,
    restore: str | Path | Results | None = None,
) -> bool:
    """Whether ``results`` is the run that running ``model`` now would make, so that it can be reused.

    The one reuse criterion of compare, selectivity and sweeps: opened by :func:`~spikebridge.rundir.results.load`
    (complete, checksums verified), same format, model, backend, options, data files and restored weights.
    :func:`mismatch` says why not.

    Parameters
    ----------
    results
        A run directory opened by :func:`~spikebridge.rundir.results.load`.
    model
        The model that would be run.
    backend
        The backend it would run on; ``None``: the model's.
    options
        Explicit backend options, merged over the model's as the runner merges them.
    base
        The folder of the model's relative data files; ``None``: ``model.source_folder``.
    restore
        The checkpoint (run directory or its path) whose final weights would be restored, if any.

    Returns
    -------
    bool
        True if the run can stand for a new run of ``model``.
    """
    return mismatch(results, model, backend, options, base=base, restore=restore) is None
