"""Writing a run directory atomically: everything under a hidden temporary name, renamed into place when complete."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import neo
import numpy as np

from ..backends.base import Connections
from ..errors import RunDirectoryError
from ..models.io import dumps_toml
from ..models.schema import Model
from .layout import CONNECTIONS, META, MODEL, NETWORK, RECORDINGS
from .recordings import write_recordings


def write_run(
    path: Path,
    model: Model,
    block: neo.Block,
    network_arrays: Mapping[str, np.ndarray],
    connections: Mapping[str, Connections],
    meta: Mapping[str, Any],
    extra: Callable[[Path], None] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a complete run directory at ``path`` atomically; ``extra(tmp_dir)`` may add files (figures)."""
    started = time.perf_counter()
    path = Path(path)
    if path.exists() and not overwrite:
        raise RunDirectoryError(f"{path} already exists; choose another --out or pass --overwrite")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        (tmp / MODEL).write_text(dumps_toml(model), encoding="utf-8")
        write_recordings(block, tmp / RECORDINGS)
        np.savez(tmp / NETWORK, **{k.replace("/", "__"): v for k, v in network_arrays.items()})
        flat = {}
        for name, c in connections.items():
            for field in ("pre", "post", "weight", "delay"):
                flat[f"{name}__{field}"] = getattr(c, field)
        np.savez(tmp / CONNECTIONS, **flat)
        if extra is not None:
            extra(tmp)
        timings = {**meta.get("timings", {}), "write_s": time.perf_counter() - started}
        (tmp / META).write_text(json.dumps({**meta, "timings": timings, "complete": True}, indent=2, default=str), encoding="utf-8")
        if path.exists():
            old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
            os.rename(path, old)
            os.rename(tmp, path)
            shutil.rmtree(old)
        else:
            os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path
