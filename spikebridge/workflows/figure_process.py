"""The summary figure of ``spikebridge run`` drawn by a second process, made ready while the simulator runs.

The figure costs the command of a small model most of what it adds to the simulation: for COBA 4k over 1 s on NEST,
0.8 s, of which 0.3 s importing matplotlib and its PDF backend and 0.15 s loading fonts. NEST holds the GIL while it
simulates, so a thread cannot prepare them; a process started with the command does, on a core the simulator leaves
idle (one NEST thread by default), and then draws the figure while the command writes the network's arrays.

Whatever goes wrong there (the process does not start, dies, or fails to draw) costs only the time lost: the command
draws the figure itself, as it does without this process, and meets the same error if there is one.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any


class FigureProcess:
    """``python -m spikebridge.plotting.summary_process``, started now; :meth:`start` and :meth:`wait` use it."""

    def __init__(self) -> None:
        main = threading.current_thread() is threading.main_thread()
        before = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None  # inherited: Ctrl-C ends the parent only
        try:
            self._proc: subprocess.Popen[str] | None = subprocess.Popen(
                [sys.executable, "-m", "spikebridge.plotting.summary_process"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        except OSError:
            self._proc = None
        finally:
            if main:
                signal.signal(signal.SIGINT, before)
        self._pending = False

    def start(self, folder: Path, meta: Mapping[str, Any]) -> bool:
        """Ask for the summary of the run directory being written at ``folder``; False if it cannot be asked."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.poll() is not None:
            return False
        try:
            proc.stdin.write(json.dumps({"folder": str(folder), "meta": meta}, default=str) + "\n")
            proc.stdin.flush()
        except OSError:
            return False
        self._pending = True
        return True

    def wait(self) -> float | None:
        """The seconds the process took to save the figure asked for, or None: not saved, draw it here."""
        proc = self._proc
        if not self._pending or proc is None or proc.stdout is None:
            return None
        self._pending = False
        try:
            answer = json.loads(proc.stdout.readline() or "{}")
        except (OSError, ValueError):
            return None
        seconds = answer.get("figure_s")
        return float(seconds) if isinstance(seconds, int | float) else None

    def close(self) -> None:
        """End the process (at once if it is still drawing: the command is ending)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if self._pending:
            proc.kill()
        try:
            if proc.stdin is not None:
                proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> FigureProcess:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
