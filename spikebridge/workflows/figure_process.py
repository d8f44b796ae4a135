"""The summary figure of ``spikebridge run`` drawn by a second process, made ready while the simulator runs.

The figure costs the command of a small model most of what it adds to the simulation: for COBA 4k over 1 s on NEST,
0.8 s, of which 0.3 s importing matplotlib's PDF backend and loading fonts. NEST holds the GIL while it simulates, so
a thread cannot prepare them; a process started with the command does, on a core the simulator leaves idle (one NEST
thread by default), and then draws the figure while the command writes the network's arrays.

Whatever goes wrong there (the process does not start, dies, answers nonsense or takes longer than
:data:`PATIENCE`) ends the process and costs only the time lost: the command draws the figure itself, as it does
without this process, and meets the same error if there is one.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

PATIENCE = 300.0  # seconds to wait for a figure before drawing it here (the microcircuit at 0.5 takes 6 s)
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding this spikebridge, first on the child's path


class FigureProcess:
    """``python -m spikebridge.plotting.summary_process``, started now; :meth:`start` and :meth:`wait` use it.

    The process is in a process group of its own, so Ctrl-C at the terminal reaches the command alone, which ends it.
    """

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (PACKAGE_ROOT, os.environ.get("PYTHONPATH")) if p)}
        try:
            self._proc: subprocess.Popen[str] | None = subprocess.Popen(
                [sys.executable, "-P", "-m", "spikebridge.plotting.summary_process"],  # -P: nothing from the working folder
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=env,
                process_group=0,
            )
        except Exception:  # no process (no interpreter, no resources): the command draws the figure itself
            self._proc = None
        self._pending = False
        self._answered = False

    def start(self, folder: Path, meta: Mapping[str, Any]) -> bool:
        """Ask for the summary of the run directory being written at ``folder``; False if it cannot be asked."""
        proc = self._proc
        if self._pending:  # an earlier request was never waited for: its answer would be taken for this one's
            self.stop()
            return False
        if proc is None or proc.stdin is None or proc.poll() is not None:
            return False
        try:
            proc.stdin.write(json.dumps({"folder": str(folder), "meta": meta}, default=str) + "\n")
            proc.stdin.flush()
        except OSError:
            self.stop()
            return False
        self._pending, self._answered = True, False
        return True

    def wait(self) -> float | None:
        """The seconds the process took to save the figure asked for, or None: it is not saved, draw it here.

        Before returning None the process is ended, so that it cannot write the figure's files as the caller does.
        """
        proc = self._proc
        if not self._pending or proc is None or proc.stdout is None:
            return None
        answer: Any = None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            if selector.select(timeout=PATIENCE):
                try:
                    answer = json.loads(proc.stdout.readline() or "null")
                except (OSError, ValueError):
                    answer = None
        self._pending = False
        seconds = answer.get("figure_s") if isinstance(answer, dict) else None
        if not isinstance(seconds, int | float):
            self.stop()
            return None
        self._answered = True
        return float(seconds)

    def stop(self) -> None:
        """End the process now (it may be drawing into a folder that is about to be removed), and reap it."""
        proc, self._proc = self._proc, None
        self._pending = False
        if proc is None:
            return
        proc.kill()
        self._reap(proc)

    def close(self) -> None:
        """End the process: at the end of its input after a figure it saved, else at once."""
        proc = self._proc
        if proc is None:
            return
        if not self._answered or self._pending:
            self.stop()
            return
        self._proc = None
        try:
            if proc.stdin is not None:
                proc.stdin.close()  # it exits at the end of its input
        except OSError:
            pass
        try:
            proc.wait(timeout=10.0)
        except subprocess.TimeoutExpired:
            proc.kill()
        self._reap(proc)

    @staticmethod
    def _reap(proc: subprocess.Popen[str]) -> None:
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass

    def __enter__(self) -> FigureProcess:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
