"""What the NESTML library tables share: one model per child process under a wall-time limit, an optional machine
lock, and the child's row as JSON (``nestml_library.py``, ``nestml_synapses.py``)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def locked(path: Path | None) -> Iterator[None]:
    """Hold an exclusive flock(2) on ``path`` (none if None): other jobs taking the same lock (flock(1)) wait."""
    if path is None:
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Outcome:
    """How a child ended: its row (the JSON it wrote), or ``timed_out``, or the tail of its output."""

    row: dict[str, Any] | None
    timed_out: bool
    tail: str
    returncode: int
    seconds: float


def run_child(cmd: list[str], json_path: Path, timeout: float, on_timeout: Callable[[], None] | None = None) -> Outcome:
    """Run ``cmd`` in its own session; past ``timeout`` s kill the whole session (the compilers it started too) and
    call ``on_timeout`` (to remove half-written files)."""
    json_path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        if on_timeout is not None:
            on_timeout()
        return Outcome(None, True, "", -9, time.perf_counter() - t0)
    row = json.loads(json_path.read_text()) if json_path.exists() else None
    return Outcome(row, False, " ".join(output.split())[-200:], proc.returncode, time.perf_counter() - t0)
