"""Running one trial where Dask placed it: in the worker process, or in a fresh subprocess of it (``isolate``).

A trial is guarded twice. A process-wide lock keeps two trials from sharing NEST's kernel (global per process)
when a worker has several threads. An exclusive ``flock`` on ``EXP/.trials/ID.attempts`` keeps two processes
from running the same trial: when a client is killed, the tasks it submitted go on running on the cluster, and
the resumed client's copy of a trial waits for the old one and then finds its run directory complete instead of
simulating it again. Each simulation start appends one line to that file, so it counts the attempts.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from ...rundir import atomic_file

TRIALS_DIR = ".trials"
_PROCESS_LOCK = threading.Lock()
_TAIL = 2000  # characters of a crashed subprocess's stderr kept in the error message


def now() -> str:
    """The current UTC time, ISO 8601 to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class TrialSpec:
    """Everything a worker needs to run one trial (paths are absolute: the file system is shared).

    Attributes
    ----------
    experiment, trial, run_dir
        The experiment directory, the trial's id (``t0003``) and its run directory.
    model_file, overrides
        The model file and the ``--set`` strings (the sweep's fixed ones, then the trial's parameters).
    backend, options
        Backend name (``None``: the model's) and backend options such as ``threads``.
    figure
        Draw each run's summary figure.
    isolate
        Run the simulation in a fresh Python subprocess of the worker.
    token, topic
        This submission's id, and the Dask event topic its start is announced on.
    """

    experiment: str
    trial: str
    run_dir: str
    model_file: str
    overrides: tuple[str, ...]
    backend: str | None
    options: dict[str, Any] = field(default_factory=dict)
    figure: bool = False
    isolate: bool = False
    token: str = ""
    topic: str = ""

    def to_json(self) -> str:
        """The spec as a JSON object (how an isolated trial's subprocess receives it; :meth:`from_json` reads it).

        Examples
        --------
        >>> spec = TrialSpec("/e", "t0003", "/e/runs/t0003", "/m.toml", ("stdp.A_plus=0.02",), "nest")
        >>> TrialSpec.from_json(spec.to_json()) == spec
        True
        """
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TrialSpec:
        """The spec that :meth:`to_json` wrote (its ``overrides`` a tuple again).

        Parameters
        ----------
        text
            A JSON object with every field of the spec.

        Returns
        -------
        TrialSpec
            Equal to the spec that was written.
        """
        data = json.loads(text)
        data["overrides"] = tuple(data["overrides"])
        return cls(**data)


def attempts_file(experiment: str | Path, trial: str) -> Path:
    """The lock and attempt log of one trial."""
    return Path(experiment) / TRIALS_DIR / f"{trial}.attempts"


def count_attempts(experiment: str | Path, trial: str) -> int:
    """How many times a trial's simulation was started, over every sweep of the experiment."""
    path = attempts_file(experiment, trial)
    if not path.is_file():
        return 0
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def is_complete(run_dir: str | Path) -> bool:
    """Whether ``spikebridge.load`` accepts ``run_dir`` (whatever run it holds: see :func:`is_reusable`)."""
    from ...errors import RunDirectoryError
    from ...rundir import load

    try:
        load(run_dir)
    except RunDirectoryError:
        return False
    return True


def is_reusable(spec: TrialSpec) -> bool:
    """Whether the trial's run directory holds the very run the trial would make.

    The criterion is :func:`spikebridge.rundir.reusable`'s (complete, verified, same format, model, backend,
    options and data files). A damaged run directory, or a trial whose model cannot be loaded, is not reusable.
    """
    from ...errors import SpikebridgeError
    from ...models.io import load_model
    from ...rundir import reusable

    try:
        model = load_model(spec.model_file, spec.overrides)
        return reusable(spec.run_dir, model, spec.backend, spec.options) is not None
    except SpikebridgeError:
        return False


def _worker_address() -> str | None:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return None


def _announce(spec: TrialSpec, info: dict[str, Any]) -> None:
    """Tell the client (through the scheduler's event log) that the simulation starts now."""
    if not spec.topic:
        return
    try:
        from distributed import get_worker

        get_worker().log_event(spec.topic, {"event": "started", **info})
    except (ImportError, ValueError):
        pass


@contextmanager
def _trial_lock(spec: TrialSpec) -> Iterator[IO[str]]:
    path = attempts_file(spec.experiment, spec.trial)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # released by the kernel if this process dies
        try:
            yield fh
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _remove_partials(run_dir: Path) -> None:
    """Delete what a crashed attempt of this trial left (we hold its lock, so nobody is writing these)."""
    import shutil

    for leftover in run_dir.parent.glob(f".{run_dir.name}.partial-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    if run_dir.exists() and not is_complete(run_dir):
        shutil.rmtree(run_dir, ignore_errors=True)


def simulate(spec: TrialSpec) -> dict[str, Any]:
    """Load the trial's model and run it into its run directory, in this process (replacing a run made otherwise).

    Returns
    -------
    dict
        ``status`` ``complete`` with the run's ``timings``, or ``failed`` with ``error`` (exception type and
        message) and ``traceback``: a trial's exception never escapes, so that Dask does not retry it.
    """
    os.environ.setdefault("PYNEST_QUIET", "1")
    try:
        from ...models.io import load_model
        from ..run import run

        model = load_model(spec.model_file, spec.overrides)
        results = run(
            model,
            backend=spec.backend,
            out=spec.run_dir,
            options=spec.options,
            overwrite=True,  # we hold the trial's lock, and its run directory is not reusable (other options, say)
            progress=False,
            figure=spec.figure,
        )
    except Exception as err:
        return {"status": "failed", "error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()}
    return {"status": "complete", "error": None, "timings": results.meta.get("timings")}


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"died of signal {signal.Signals(-code).name}"
        except ValueError:
            return f"died of signal {-code}"
    return f"exited with code {code}"


def _simulate_in_subprocess(spec: TrialSpec) -> dict[str, Any]:
    out = attempts_file(spec.experiment, spec.trial).with_suffix(f".outcome-{spec.token or os.getpid()}.json")
    cmd = [sys.executable, "-m", __name__, spec.to_json(), str(out)]
    env = {**os.environ, "PYNEST_QUIET": "1"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if out.is_file():
            return json.loads(out.read_text(encoding="utf-8"))
        tail = proc.stderr.strip()[-_TAIL:]
        return {
            "status": "failed",
            "error": f"the trial's simulation process {_describe_exit(proc.returncode)}" + (f"; its last output: {tail}" if tail else ""),
            "traceback": None,
        }
    finally:
        out.unlink(missing_ok=True)


def execute_trial(spec: TrialSpec) -> dict[str, Any]:
    """The Dask task of one trial: run it unless an earlier attempt completed it, and say what happened.

    Returns
    -------
    dict
        ``trial``, ``token``, ``status`` (``complete`` or ``failed``), ``error``, ``traceback``, ``reused`` (the
        run directory was already complete), ``host``, ``pid``, ``worker``, ``started``, ``finished``,
        ``duration_s``, ``attempts`` (simulation starts so far) and the run's ``timings``.
    """
    run_dir = Path(spec.run_dir)
    where = {"trial": spec.trial, "token": spec.token, "host": socket.gethostname(), "pid": os.getpid(), "worker": _worker_address()}
    with _PROCESS_LOCK, _trial_lock(spec) as log:
        if is_reusable(spec):
            # run by an earlier attempt (e.g. one a killed client left running): report that run, not this call
            ran = json.loads((run_dir / "meta.json").read_text(encoding="utf-8"))
            return {
                **where,
                "host": ran.get("host", {}).get("hostname") or where["host"],
                "status": "complete",
                "error": None,
                "reused": True,
                "timings": ran.get("timings"),
                "attempts": count_attempts(spec.experiment, spec.trial),
            }
        _remove_partials(run_dir)
        started, t0 = now(), time.perf_counter()
        log.write(json.dumps({**where, "started": started}) + "\n")
        log.flush()
        os.fsync(log.fileno())
        _announce(spec, {**where, "started": started})
        outcome = _simulate_in_subprocess(spec) if spec.isolate else simulate(spec)
        return {
            **where,
            **outcome,
            "reused": False,
            "started": started,
            "finished": now(),
            "duration_s": time.perf_counter() - t0,
            "attempts": count_attempts(spec.experiment, spec.trial),
        }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of an isolated trial: ``python -m spikebridge.workflows.sweeps.trial SPEC_JSON OUTCOME_FILE``."""
    spec_json, outcome_file = list(sys.argv[1:] if argv is None else argv)
    outcome = simulate(TrialSpec.from_json(spec_json))
    with atomic_file(outcome_file) as fh:
        fh.write(json.dumps(outcome, default=str).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
