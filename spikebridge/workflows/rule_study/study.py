"""A rule study: rules x seeds x backends on the digits task, on Dask, resumable; its table and figure.

Each (rule, seed, backend) is one task. A spiking task writes a run directory under ``OUT/runs/RULE/BACKEND/seedN``
and its measures beside it (``measures.json``, written last and atomically); backprop's task (backend ``numpy``)
writes only the measures. A task whose measures exist for the same plan is not run again, so an interrupted study
resumes where it stopped, on this machine or on another that has the study folder without its run directories
(:data:`GITIGNORE`: a study kept in git).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...atomic import atomic_file
from ...models import random as model_random
from ...rundir import META
from ...rundir.lock import lock_path
from ...stimuli import digits
from .network import HIDDEN, LABELS, RULES, TaskConfig

REFERENCE = "backprop"
"""The rate network trained by backprop with Dale's law (:mod:`spikebridge.analysis.backprop`), backend ``numpy``."""
MEASURES = "measures.json"
TIMINGS = "timings.csv"
"""``OUT/timings.csv``: each task's wall time (:func:`timings`)."""
FORMAT = 3
"""The measures' format: a task measured under another is run again."""
GITIGNORE = f"""\
# A study folder can be kept in git and carried to another machine: its measures, tables, figures and the judged
# comparisons (compare/RULE/rows.json) resume it there. The run directories and their inputs are large and stay here.
# (!runs/ keeps the measures where an enclosing .gitignore leaves out runs/, spikebridge's default run folder.)
!runs/
runs/*/*/*/run/
runs/*/*/*/inputs/
runs/*/*/*/protocol.npz
runs/*/*/*/{lock_path(Path("run")).name}
"""
"""``OUT/.gitignore``, written when a study starts if there is none."""
QUICK = TaskConfig(
    n_train=20,
    n_test=20,
    epochs=1,
    snapshot_every=10,
    angle_batch=5,
    t_free=100.0,
    t_test=150.0,
    t_nudge=50.0,
    t_gap=20.0,
    t_settle=50.0,
    n_hidden=32,
    n_hidden_inh=8,
    w_out=3.0,
)
"""The ``--quick`` task: a few samples on a small network, to check that every output is written and has its shape."""


@dataclass(frozen=True)
class Task:
    """One network of the study: a rule (or ``backprop``), a seed and a backend (``numpy`` for backprop)."""

    rule: str
    seed: int
    backend: str


@dataclass(frozen=True)
class StudyPlan:
    """Rules (``backprop`` among them or not), seeds, spiking backends and the task; ``seed_limits`` runs a backend
    on its first N seeds only (backend -> N), for a simulator that is slower here than another."""

    rules: tuple[str, ...]
    seeds: tuple[int, ...]
    backends: tuple[str, ...]
    config: TaskConfig
    out: Path
    seed_limits: dict[str, int] = field(default_factory=dict)
    workers: int = 1

    def tasks(self) -> list[Task]:
        """Every task of the plan, rule by rule (a rule, seed or backend named twice runs once)."""
        out: list[Task] = []
        for rule in dict.fromkeys(self.rules):
            for i, seed in enumerate(dict.fromkeys(self.seeds)):
                if rule == REFERENCE:
                    out.append(Task(rule, seed, "numpy"))
                    continue
                for backend in self.backends:
                    if i >= self.seed_limits.get(backend, len(self.seeds)):
                        continue
                    out.append(Task(rule, seed, backend))
        return list(dict.fromkeys(out))

    def digest(self, task: Task) -> str:
        """What a task's measures depend on: the task, the config, the rule's parameters and NESTML texts (the neuron's
        and the rule's), and the measures' format; not the other tasks."""
        from ...models import nestml

        texts = [nestml.DENDRITIC_NEURON.read_text(), nestml.dendritic_rules()[task.rule].read_text()] if task.rule in RULES else []
        payload = {
            "format": FORMAT,
            "task": asdict(task),
            # a spiking network does not depend on the rate reference's training settings
            "config": {k: v for k, v in asdict(self.config).items() if task.rule == REFERENCE or not k.startswith("reference_")},
            "rule": RULES.get(task.rule, {}),
            "hidden": HIDDEN.get(task.rule, {}),
            "texts": [hashlib.sha256(t.encode()).hexdigest() for t in texts],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def check_plan(plan: StudyPlan) -> None:
    """Refuse unknown rules (ValueError), backends (BackendError) and an inconsistent task before anything runs."""
    from ... import backends

    unknown = [r for r in plan.rules if r != REFERENCE and r not in RULES]
    if unknown:
        raise ValueError(f"unknown rule(s) {', '.join(unknown)}; expected some of {', '.join([REFERENCE, *RULES])}")
    for name in plan.backends:
        backends.backend_class(name)  # BackendError naming the known backends
    extra = sorted(set(plan.seed_limits) - set(plan.backends))
    if extra:
        raise ValueError(f"a seed limit names {', '.join(extra)}, which the study does not run (backends: {', '.join(plan.backends)})")
    if not plan.seeds:
        raise ValueError("expected at least one seed")
    plan.config.check()


def task_folder(plan: StudyPlan, task: Task) -> Path:
    """Where a task writes: ``OUT/runs/RULE/BACKEND/seedN``."""
    return plan.out / "runs" / task.rule / task.backend / f"seed{task.seed}"


def _done(plan: StudyPlan, task: Task) -> dict[str, Any] | None:
    path = task_folder(plan, task) / MEASURES
    if not path.is_file():
        return None
    try:
        measures: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return measures if measures.get("digest") == plan.digest(task) else None


def run_task(plan: StudyPlan, task: Task) -> dict[str, Any]:
    """Run one task (or return its measures if they exist for this plan) and write its ``measures.json``."""
    done = _done(plan, task)
    if done is not None:
        return done
    folder = task_folder(plan, task)
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if task.rule == REFERENCE:
        measures = _reference(plan.config, task.seed)
    else:
        measures = _spiking(plan.config, task, folder)
    wall = time.perf_counter() - start
    measures = {**measures, "rule": task.rule, "seed": task.seed, "backend": task.backend, "digest": plan.digest(task), "wall_s": wall}
    with atomic_file(folder / MEASURES) as fh:
        fh.write(json.dumps(measures, indent=1).encode())
    return measures


def _reference(config: TaskConfig, seed: int) -> dict[str, Any]:
    from ...analysis import backprop

    data = digits.load(config.n_train, config.n_test, seed)
    net = backprop.dale_network(digits.N_PIXELS, config.n_hidden, config.n_hidden_inh, digits.N_CLASSES, config.n_output_inh, seed)
    rng = model_random.stream(seed, "rule_study", "order")
    order = np.concatenate([rng.permutation(config.n_train) for _ in range(config.epochs * config.reference_epochs)])
    history = backprop.train(
        net,
        data.train_x,
        data.train_y,
        data.test_x,
        data.test_y,
        order,
        config.reference_learning_rate,
        config.snapshot_every * config.reference_epochs,
        loss="ce",
        inverse_temperature=10.0,
    )
    samples = [s / config.reference_epochs for s in history.samples]
    n = len(samples) - 1
    return {
        "samples": samples,
        "accuracy": history.accuracy,
        "dendritic_state": [float("nan")] * n,
        "angle": [0.0] * n,
        "reference_epochs": config.reference_epochs,
    }


def _spiking(config: TaskConfig, task: Task, folder: Path) -> dict[str, Any]:
    from ... import run
    from ...models import validate
    from ...rundir import load
    from .measures import measure
    from .network import build

    model, prot, data = build(task.rule, task.seed, config, folder / "inputs")
    model["recording"]["hidden"] = {"variables": ["spikes", "d"], "sampling_interval": config.d_sampling}
    with atomic_file(folder / "protocol.npz") as fh:
        np.savez(fh, **prot.to_arrays())  # type: ignore[arg-type]
    out = folder / "run"
    run(validate(model), backend=task.backend, out=out, overwrite=True, progress=False, figure=False)
    return measure(load(out), prot, config, data)


def run_study(plan: StudyPlan, progress: Callable[[Task, dict[str, Any]], None] | None = None) -> pd.DataFrame:
    """Every task of the plan (Dask, ``plan.workers`` processes; in this process for one worker), then the curves."""
    check_plan(plan)
    plan.out.mkdir(parents=True, exist_ok=True)
    ignore = plan.out / ".gitignore"
    if not ignore.exists():
        with atomic_file(ignore) as fh:
            fh.write(GITIGNORE.encode())
    tasks = plan.tasks()
    todo = [t for t in tasks if _done(plan, t) is None]
    if plan.workers <= 1 or len(todo) <= 1:
        for task in todo:
            result = run_task(plan, task)
            if progress is not None:
                progress(task, result)
    else:
        from distributed import as_completed

        from ..sweeps.engine import dask_client

        with dask_client(workers=plan.workers) as client:
            from ... import backends

            client.run(backends.import_in_main_thread, list(plan.backends))  # runs in each worker's main thread
            futures = {client.submit(run_task, plan, task, pure=False): task for task in todo}
            for future in as_completed(futures):
                result = future.result()
                if progress is not None:
                    progress(futures[future], result)
    return curves(plan)


def curves(plan: StudyPlan) -> pd.DataFrame:
    """One row per (rule, seed, backend, samples): the test accuracy after that many training samples, and the
    dendritic state and angle of the training chunk that ended there (NaN before training)."""
    rows = []
    for task in plan.tasks():
        m = _done(plan, task)
        if m is None:
            continue
        n = len(m["samples"])
        for i in range(n):
            # test block i follows training chunk i - 1: a chunk's dendritic state and angle sit at its end
            chunk = i - 1
            rows.append(
                {
                    "rule": task.rule,
                    "seed": task.seed,
                    "backend": task.backend,
                    "samples": m["samples"][i],
                    "accuracy": m["accuracy"][i],
                    "dendritic_state": m["dendritic_state"][chunk] if 0 <= chunk < len(m["dendritic_state"]) else np.nan,
                    "angle": m["angle"][chunk] if 0 <= chunk < len(m["angle"]) else np.nan,
                }
            )
    return pd.DataFrame(rows)


TIMING_SOURCES = {
    "measures": "the task, from start to measures (measures.json)",
    "run": "the run's phases only, without the measures (run/meta.json; measures written before wall_s was kept)",
}


def timings(plan: StudyPlan) -> pd.DataFrame:
    """One row per task with measures: how long it took (``wall_s``, beside whatever else ran) and where that was
    read (a key of :data:`TIMING_SOURCES`). Where neither the measures nor a run directory say, the row of the
    folder's last ``OUT/timings.csv`` for that task is kept (a study carried to a machine without its run
    directories), else NaN in both."""
    previous = _previous_timings(plan.out / TIMINGS)
    rows = []
    for task in plan.tasks():
        m = _done(plan, task)
        if m is None:
            continue
        wall: float | None = m.get("wall_s")
        source: str | None = "measures"
        if wall is None:
            wall, source = _run_phases(task_folder(plan, task) / "run"), "run"
        if wall is None:
            wall, source = previous.get((task.rule, task.backend, task.seed), (None, None))
        rows.append(
            {
                "rule": task.rule,
                "backend": task.backend,
                "seed": task.seed,
                "wall_s": np.nan if wall is None else float(wall),
                "source": None if wall is None else source,
            }
        )
    return pd.DataFrame(rows, columns=["rule", "backend", "seed", "wall_s", "source"])


def _previous_timings(path: Path) -> dict[tuple[str, str, int], tuple[float | None, str | None]]:
    try:
        table = pd.read_csv(path)
        known = table.dropna(subset=["wall_s"])
        known = known[known["source"].isin(list(TIMING_SOURCES))]
        return {
            (str(rule), str(backend), int(seed)): (float(wall), str(source))
            for rule, backend, seed, wall, source in zip(
                known["rule"], known["backend"], known["seed"], known["wall_s"], known["source"], strict=True
            )
        }
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def _run_phases(run: Path) -> float | None:
    try:
        phases = json.loads((run / META).read_text())["timings"]
        return float(sum(phases.values()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per (rule, backend): final test accuracy (mean ± s.d. over seeds), mean ``|d|`` in the last chunk, and the mean
    angle to backprop over the last quarter of training."""
    out = []
    for (rule, backend), rows in table.groupby(["rule", "backend"], sort=False):
        per_seed = []
        for _, seed_rows in rows.groupby("seed"):
            seed_rows = seed_rows.sort_values("samples")
            last = seed_rows["samples"].max()
            quarter = seed_rows[seed_rows["samples"] >= 0.75 * last]
            per_seed.append(
                {
                    "accuracy": seed_rows["accuracy"].iloc[-1],
                    "dendritic_state": seed_rows["dendritic_state"].dropna().iloc[-1]
                    if seed_rows["dendritic_state"].notna().any()
                    else np.nan,
                    "angle": quarter["angle"].mean(),
                }
            )
        frame = pd.DataFrame(per_seed)
        out.append(
            {
                "network": LABELS.get(str(rule), str(rule)),
                "rule": rule,
                "backend": backend,
                "seeds": len(frame),
                "accuracy_mean": frame["accuracy"].mean(),
                "accuracy_sd": frame["accuracy"].std(ddof=1) if len(frame) > 1 else np.nan,
                "dendritic_state": frame["dendritic_state"].mean(),
                "angle_last_quarter": frame["angle"].mean(),
            }
        )
    return pd.DataFrame(out)


def quick(plan: StudyPlan) -> StudyPlan:
    """The plan on :data:`QUICK`'s task, the same rules and backends: one seed, or two where there are two or more
    backends (the comparison across simulators needs two seeds)."""
    seeds = tuple(dict.fromkeys(plan.seeds))[: 2 if len(set(plan.backends)) > 1 else 1]
    return replace(plan, config=QUICK, seeds=seeds, seed_limits={})


def seeds_from(seeds: int | Sequence[int]) -> tuple[int, ...]:
    """``5``: seeds 1-5; ``[1, 4, 9]``: those seeds (``--seeds`` as :func:`spikebridge.cli.args.seeds` parses it)."""
    return tuple(range(1, seeds + 1)) if isinstance(seeds, int) else tuple(seeds)
