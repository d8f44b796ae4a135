"""Running a sweep on Dask distributed: one task per trial, at most one trial per worker process at a time.

The client (this process) owns ``metadata.json``; workers only write run directories and attempt logs. The
client submits no more trials than there are workers, so that a worker that dies (a simulator crash) takes
only its own trial with it: Dask reports that trial's future as ``KilledWorker`` and it is recorded as failed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import queue
import socket
import sys
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from ...errors import BackendError, SpikebridgeError
from .errors import SchedulerLostError, SweepError
from .grid import BACKEND, Grid, Params, canonical, check_points, short_names, slug, split_params
from .metadata import FORMAT, new_trial, read_metadata, write_metadata
from .trial import TrialSpec, count_attempts, execute_trial, is_reusable, now

if TYPE_CHECKING:
    from distributed import Client, Future

    from ...models.schema import Model

LOCK = ".lock"
Task = Callable[[TrialSpec], dict[str, Any]]


@dataclass(frozen=True)
class SweepPlan:
    """What to sweep: a model, fixed overrides, a grid and where the trials go.

    Attributes
    ----------
    model
        A model file or the name of a bundled model.
    grid
        The parameter grid; each combination is one trial.
    out
        The experiment directory (``None``: ``experiments/MODEL_DIGEST``, the same for the same command).
    backend
        Backend of every trial (``None``: the model's), unless the grid has a ``backend`` axis.
    overrides
        ``--set`` strings applied to every trial before its grid values.
    options
        Backend options of every trial (e.g. ``{"threads": 2}``; ``threads`` is passed to NEST trials only).
    figure
        Draw each run's summary figure (off by default: it costs more than a tiny trial).
    isolate
        Run each trial in a fresh Python subprocess of its worker.
    """

    model: str
    grid: Grid
    out: Path | None = None
    backend: str | None = None
    overrides: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    figure: bool = False
    isolate: bool = False

    @property
    def model_file(self) -> Path:
        """The model's file as an absolute path: ``model`` itself, or the bundled model of that name."""
        from ...models.io import find_model_file

        return find_model_file(self.model).resolve()

    def base_model(self) -> Model:
        """The model with the fixed overrides, before the grid (raises ``ModelError``)."""
        from ...models.io import load_model

        return load_model(self.model_file, self.overrides)

    def identity(self) -> dict[str, Any]:
        """What makes two sweeps the same experiment (trials may be added by extending the grid's values)."""
        from ...models.io import model_digest

        model = self.base_model()
        return {
            "model_sha256": model_digest(model),
            "backend": self.backend or model.simulation.backend,
            "grid_paths": self.grid.paths,
        }

    def directory(self) -> Path:
        """The experiment directory: ``out``, or a name derived from the model, overrides, grid and backend."""
        if self.out is not None:
            return Path(self.out)
        key = json.dumps({"set": list(self.overrides), "grid": self.grid.to_mapping(), "backend": self.backend}, sort_keys=True)
        return Path("experiments") / f"{Path(self.model).stem}_{hashlib.sha256(key.encode()).hexdigest()[:8]}"


@dataclass
class SweepReport:
    """What a sweep did. ``failed`` lists ``(trial id, params, error)``."""

    path: Path
    total: int
    complete: int
    already_complete: int
    failed: list[tuple[str, dict[str, Any], str]]

    @property
    def ok(self) -> bool:
        """Whether every trial of the grid is complete and none failed in this sweep."""
        return not self.failed and self.complete == self.total


def _check_overlap(plan: SweepPlan) -> None:
    fixed = {item.partition("=")[0].strip() for item in plan.overrides}
    both = sorted(fixed & set(plan.grid.paths))
    if both:
        raise SweepError(f"{', '.join(both)} given both in --set and in --grid; keep it in --grid only")
    if plan.backend and BACKEND in plan.grid.paths:
        raise SweepError("--backend and --grid backend=... both given; keep the backends in --grid only")


def _check_backends(plan: SweepPlan) -> None:
    from ... import backends

    names = {plan.backend} if plan.backend else set()
    for axis in plan.grid.axes:
        if axis.path == BACKEND:
            names |= set(axis.values)
    known = backends.available()
    for name in sorted(names):
        if backends.split_name(name)[0] not in known:
            raise SweepError(f"unknown backend {name!r}; known backends: {', '.join(known)}")


def check_plan(plan: SweepPlan) -> None:
    """Refuse, before a cluster starts, everything a sweep can get wrong from its input (``SweepError``, ``ModelError``):
    the model and ``--set``, ``--set``/``--grid`` overlap, backend names, the directory, and every grid point's model."""
    plan.base_model()
    _check_overlap(plan)
    _check_backends(plan)
    check_directory(plan.directory().resolve())
    check_points(plan.grid, plan.model_file, plan.overrides, _backend_options_checker(plan))


def _backend_options_checker(plan: SweepPlan) -> Callable[[Params, Model], None]:
    """A check of each grid point's backend and options (``threads=abc``), made once per distinct pair."""
    from ... import backends

    seen: set[str] = set()

    def check(params: Params, model: Model) -> None:
        name = params.get(BACKEND) or plan.backend or model.simulation.backend
        own = model.simulation.backend_options if name == model.simulation.backend else {}  # as runner.run merges them
        options = {**own, **trial_options(plan, name)}
        key = json.dumps([name, options], sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            backends.check(name, options)  # the name and options only: nothing is built

    return check


def trial_options(plan: SweepPlan, backend: str) -> dict[str, Any]:
    """The options a trial on ``backend`` passes over its model's: ``--threads`` reaches the backends that use
    threads (nest, brian2:cpp; :func:`spikebridge.backends.accepts`)."""
    from ... import backends

    options = dict(plan.options)
    try:
        uses_threads = backends.accepts(backend, "threads")
    except BackendError:  # an unknown or missing backend: the trial reports it
        uses_threads = True
    if "threads" in options and not uses_threads:
        options.pop("threads")
    return options


def check_directory(path: Path) -> None:
    """Refuse a path that is a file, or a directory that exists, is not empty and holds no experiment."""
    if path.exists() and not path.is_dir():
        raise SweepError(f"{path} exists and is not a directory; choose another --out")
    if path.exists() and not (path / "metadata.json").exists() and any(p.name != LOCK for p in path.iterdir()):
        raise SweepError(f"{path} exists and is not an experiment directory; choose another --out")


def prepare(plan: SweepPlan, path: Path, command: list[str] | None = None) -> dict[str, Any]:
    """The metadata of the experiment directory ``path`` for ``plan``: new, or the existing one checked to
    belong to this sweep, with the grid's new trials added (nothing is written).

    Raises
    ------
    SweepError
        If ``path`` holds another experiment (other model, overrides, backend or swept parameters).
    """
    _check_overlap(plan)
    _check_backends(plan)
    check_directory(path)
    ident = plan.identity()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    if (path / "metadata.json").exists():
        meta = read_metadata(path)
        old = {"model_sha256": meta["model_sha256"], "backend": meta["backend"], "grid_paths": list(meta["grid"])}
        for key, label in (("model_sha256", "model (after --set)"), ("backend", "backend"), ("grid_paths", "swept parameters")):
            if old[key] != ident[key]:
                raise SweepError(
                    f"{path} holds another experiment: its {label} differ ({old[key]} there, {ident[key]} here); "
                    "choose another --out, or rerun the command that made it to resume"
                )
        grid = meta["grid"]
        for axis in plan.grid.axes:
            seen = {canonical({"v": v}) for v in grid[axis.path]}
            grid[axis.path] += [v for v in axis.values if canonical({"v": v}) not in seen]
    else:
        meta = {
            "format": FORMAT,
            "model": plan.model,
            "model_file": str(plan.model_file),
            "model_sha256": ident["model_sha256"],
            "backend": ident["backend"],
            "set": list(plan.overrides),
            "options": dict(plan.options),
            "grid": plan.grid.to_mapping(),
            "created": stamp,
            "updated": stamp,
            "sweeps": [],
            "trials": [],
        }
    meta["options"] = dict(plan.options)
    meta["sweeps"].append({"started": stamp, "client_host": socket.gethostname(), "command": command if command is not None else sys.argv})
    known = {canonical(t["params"]) for t in meta["trials"]}
    names = short_names(plan.grid.paths)
    for params in plan.grid:
        if canonical(params) not in known:
            index = len(meta["trials"])
            meta["trials"].append(new_trial(f"t{index:04d}", params, slug(index, params, names)))
            known.add(canonical(params))
    return meta


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    path.mkdir(parents=True, exist_ok=True)
    with open(path / LOCK, "a", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepError(f"another sweep is running on {path} (it holds {path / LOCK}); wait for it or choose another --out") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _reconcile(path: Path, trial: dict[str, Any], spec: TrialSpec) -> None:
    """Set a trial's status from what is on disk: a reusable run directory (:func:`.trial.is_reusable`) wins;
    'running' was interrupted, and a run made otherwise (other options, say) runs again."""
    run_dir = path / trial["dir"]
    if is_reusable(spec):
        if trial["status"] != "complete":
            run_meta = json.loads((run_dir / "meta.json").read_text(encoding="utf-8"))
            trial.update(status="complete", error=None, timings=run_meta.get("timings"), finished=run_meta.get("created"))
            trial["host"] = trial["host"] or run_meta.get("host", {}).get("hostname")
    elif trial["status"] in ("running", "complete"):
        trial["status"] = "pending"
    trial["attempts"] = count_attempts(path, trial["id"])


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, workers: int = 2, threads: int = 1, timeout_s: float | None = None) -> Iterator[Client]:
    """A Dask client: of the scheduler at ``scheduler``, or of a new ``LocalCluster`` that closes afterwards.

    The local cluster has ``workers`` worker processes of ``threads`` threads each (set it to the simulator's
    threads, so that Dask counts cores as NEST uses them), listens on 127.0.0.1 only, and fails a trial at the
    first death of the worker running it (``allowed_failures=0``), instead of retrying it on three more.
    ``timeout_s`` bounds the connection to ``scheduler`` (default: Dask's ``distributed.comm.timeouts.connect``).

    Parameters
    ----------
    scheduler
        The address of a running scheduler (``tcp://host:8786``); ``None`` starts a local cluster.
    workers, threads
        Worker processes of the local cluster, and threads per worker (at least 1 each).
    timeout_s
        Seconds to wait for ``scheduler`` to answer.

    Yields
    ------
    distributed.Client
        The client, closed (with its local cluster) when the ``with`` block ends.

    Raises
    ------
    SweepError
        The scheduler cannot be reached, or ``workers`` or ``threads`` is below 1.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler) if timeout_s is None else Client(scheduler, timeout=timeout_s)
        except (OSError, TimeoutError) as err:
            raise SweepError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
        with client:
            yield client
        return
    if workers < 1 or threads < 1:
        raise SweepError(f"--workers and --threads must be >= 1 (got {workers} and {threads})")
    import dask

    # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which returns freed memory to the system eagerly;
    # for allocation-heavy simulations that cost 9 % per trial here (2.41 s -> 2.62 s): workers get glibc's default.
    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items() if k != "MALLOC_TRIM_THRESHOLD_"}
    with (
        dask.config.set({"distributed.nanny.pre-spawn-environ": environ}),
        LocalCluster(
            n_workers=workers,
            threads_per_worker=threads,
            processes=True,
            host="127.0.0.1",
            # no dashboard, and the scheduler's HTTP endpoint on a free loopback port rather than 8787
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"allowed_failures": 0, "dashboard": False},
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def trial_spec(
    path: Path, meta: Mapping[str, Any], plan: SweepPlan, trial: Mapping[str, Any], token: str = "", topic: str = ""
) -> TrialSpec:
    """What a worker needs to run ``trial`` of the experiment at ``path`` (its ``metadata.json`` is ``meta``)."""
    backend, overrides = split_params(trial["params"])
    backend = backend or meta["backend"]
    return TrialSpec(
        experiment=str(path),
        trial=trial["id"],
        run_dir=str(path / trial["dir"]),
        model_file=meta["model_file"],
        overrides=(*plan.overrides, *overrides),
        backend=backend,
        options=trial_options(plan, backend),
        figure=plan.figure,
        isolate=plan.isolate,
        token=token,
        topic=topic,
    )


def _failure(exc: BaseException) -> str:
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        return f"the worker process died while running this trial (a simulator crash, or killed for memory): {exc}"
    return f"{type(exc).__name__}: {exc}"


class _Sweep:
    """The client's loop: submit, listen for starts and outcomes, keep metadata.json current."""

    def __init__(self, path: Path, meta: dict[str, Any], plan: SweepPlan, client: Client, task: Task, progress: bool) -> None:
        self.path, self.meta, self.plan, self.client, self.task = path, meta, plan, client, task
        self.topic = f"spikebridge-sweep-{uuid.uuid4().hex[:12]}"
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.inflight: dict[str, tuple[Future, dict[str, Any]]] = {}  # token -> (future, trial)
        self.progress = progress
        self.dirty = True

    def save(self) -> None:
        if self.dirty:
            self.meta["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
            write_metadata(self.path, self.meta)
            self.dirty = False

    def spec(self, trial: dict[str, Any], token: str) -> TrialSpec:
        return trial_spec(self.path, self.meta, self.plan, trial, token, self.topic)

    def invalid(self, trial: dict[str, Any]) -> str | None:
        """The model error of a trial's parameters, found before anything is submitted."""
        from ...models.io import load_model

        _, overrides = split_params(trial["params"])
        try:
            load_model(self.meta["model_file"], (*self.plan.overrides, *overrides))
        except SpikebridgeError as err:
            return f"{type(err).__name__}: {err}"
        return None

    def finish(self, trial: dict[str, Any], outcome: Mapping[str, Any]) -> None:
        keys = ("status", "error", "host", "worker", "started", "finished", "duration_s", "timings")
        trial.update({k: outcome.get(k, trial.get(k)) for k in keys})
        if outcome.get("reused"):
            _reconcile(self.path, trial, self.spec(trial, ""))
        trial["attempts"] = count_attempts(self.path, trial["id"])
        self.dirty = True

    def run(self, trials: list[dict[str, Any]], total: int) -> None:
        """Run ``trials`` (of ``total`` in the grid; the others are complete already)."""
        todo: deque[dict[str, Any]] = deque()
        for trial in trials:
            error = self.invalid(trial)
            if error is None:
                trial.update(status="pending", error=None, host=None, worker=None, started=None, finished=None, duration_s=None)
                todo.append(trial)
            else:
                trial.update(status="failed", error=error, finished=now())
        self.dirty = True
        self.save()
        self.client.subscribe_topic(self.topic, lambda event: self.events.put(("event", event[1])))
        already = total - len(trials)
        bar = tqdm(total=total, initial=already, desc=self.path.name, unit="trial", disable=not self.progress, file=sys.stderr)
        from distributed.comm.core import CommClosedError

        try:
            self._loop(todo, trials, already, bar)
        except (CommClosedError, ConnectionError, TimeoutError) as err:
            raise SchedulerLostError(f"lost the Dask scheduler ({type(err).__name__}: {err}); rerun the command to resume") from None
        finally:
            bar.close()
            for _, trial in self.inflight.values():
                if trial["status"] == "running":
                    trial["status"] = "pending"  # may still run on the cluster: the next sweep adopts or reruns it
            self.dirty = True
            self.save()
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(self.topic)

    def _loop(self, todo: deque[dict[str, Any]], trials: list[dict[str, Any]], already: int, bar: tqdm) -> None:
        while todo or self.inflight:
            capacity = max(1, len(self.client.nthreads()))
            while todo and len(self.inflight) < capacity:
                trial = todo.popleft()
                token = uuid.uuid4().hex[:12]
                future = self.client.submit(self.task, self.spec(trial, token), key=f"trial-{trial['id']}-{token}", pure=False)
                self.inflight[token] = (future, trial)
                future.add_done_callback(lambda f, token=token: self.events.put(("done", token)))
            self.drain()
            self.save()
            running = sum(t["status"] == "running" for _, t in self.inflight.values())
            failed = sum(t["status"] == "failed" for t in trials)
            bar.n = already + sum(t["status"] in ("complete", "failed") for t in trials)
            bar.set_postfix_str(f"running {running}, failed {failed}", refresh=False)
            bar.refresh()

    def drain(self) -> None:
        """Handle what arrived: wait up to half a second for the first message, then take all that are there."""
        try:
            items = [self.events.get(timeout=0.5)]
        except queue.Empty:
            return
        while True:
            try:
                items.append(self.events.get_nowait())
            except queue.Empty:
                break
        for kind, data in items:
            if kind == "event":
                entry = self.inflight.get(data.get("token", ""))
                if entry is not None and entry[1]["status"] == "pending":
                    entry[1].update(status="running", host=data.get("host"), worker=data.get("worker"), started=data.get("started"))
                    self.dirty = True
            elif data in self.inflight:
                future, trial = self.inflight.pop(data)
                self.outcome(future, trial)

    def outcome(self, future: Future, trial: dict[str, Any]) -> None:
        if future.status == "finished":
            self.finish(trial, future.result())
        elif future.status == "error":
            exc = future.exception()
            assert exc is not None
            host = None
            last = getattr(exc, "last_worker", None)
            if last is not None:
                host = str(getattr(last, "address", "")).rpartition("://")[2].rpartition(":")[0] or None
            self.finish(trial, {"status": "failed", "error": _failure(exc), "finished": now(), "host": trial.get("host") or host})
        else:
            trial["status"] = "pending"
            self.dirty = True
            raise SchedulerLostError(
                f"lost trial {trial['id']} ({future.status}): the Dask scheduler went away or restarted; rerun the command to resume"
            )


def run_sweep(
    plan: SweepPlan,
    client: Client,
    *,
    progress: bool = True,
    task: Task = execute_trial,
    command: list[str] | None = None,
) -> SweepReport:
    """Run every trial of ``plan`` that is not complete yet on ``client``'s cluster.

    Trials whose run directory ``spikebridge.load`` accepts are skipped; failed and interrupted ones run again.
    A trial whose model is invalid fails before anything is submitted; one that raises, or whose worker dies,
    fails with its message; the others go on.

    Parameters
    ----------
    plan
        The sweep.
    client
        A ``distributed.Client`` (see :func:`dask_client`).
    progress
        Show a progress bar on stderr: trials finished, running and failed.
    task
        The function a worker runs for one trial (default :func:`~spikebridge.workflows.sweeps.trial.execute_trial`).
    command
        Recorded in the metadata's ``sweeps`` history (default ``sys.argv``).

    Returns
    -------
    SweepReport
    """
    path = plan.directory().resolve()
    check_directory(path)
    with _exclusive(path):
        meta = prepare(plan, path, command)
        wanted = {canonical(p) for p in plan.grid}
        trials = [t for t in meta["trials"] if canonical(t["params"]) in wanted]
        for trial in trials:
            _reconcile(path, trial, trial_spec(path, meta, plan, trial))
        already = sum(t["status"] == "complete" for t in trials)
        sweep = _Sweep(path, meta, plan, client, task, progress)
        sweep.run([t for t in trials if t["status"] != "complete"], len(trials))
    failed = [(t["id"], t["params"], str(t["error"])) for t in trials if t["status"] == "failed"]
    complete = sum(t["status"] == "complete" for t in trials)
    return SweepReport(path, len(trials), complete, already, failed)


def local_threads(plan: SweepPlan) -> int:
    """Threads per trial: the ``threads`` option, else the model's backend option, else 1."""
    if "threads" in plan.options:
        return int(plan.options["threads"])
    with contextlib.suppress(SpikebridgeError):
        model = plan.base_model()
        if plan.backend in (None, model.simulation.backend):
            return int(model.simulation.backend_options.get("threads", 1))
    return 1


__all__ = ["SweepPlan", "SweepReport", "check_plan", "dask_client", "local_threads", "prepare", "run_sweep"]
