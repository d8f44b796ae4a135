"""``compare``: run one model on several backends and seeds, measure every run, score and judge the differences.

Each (backend, seed) run is an ordinary run directory under ``OUT/runs/``; one that holds the very run that would be
made (:func:`spikebridge.rundir.reusable`: same model, backend, options and data files) is reused, so a comparison
can be extended (more seeds, another backend) without rerunning.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ... import backends as registry
from ...analysis.validation import baseline, measures, permutation
from ...errors import CorruptRunError, SpikebridgeError
from ...models.io import apply_overrides, dumps_toml, validate
from ...models.schema import Model
from ...rundir import Results, atomic_file, reusable
from ...rundir.checkpoint import drawn_network_sha256
from ...rundir.reuse import backend_options
from ...rundir.weights import table_from_arrays
from ..run import run


class CompareError(SpikebridgeError):
    """A comparison cannot be set up as asked."""


@dataclass
class Comparison:
    """Everything a comparison measured and decided; :func:`spikebridge.workflows.compare.report.write_report` draws it."""

    out: Path
    model: Model
    reference: str
    backends: list[str]
    seeds: list[int]
    runs: dict[str, dict[int, Results]]
    samples: dict[str, dict[int, dict[tuple[str, str], np.ndarray]]]
    counts: dict[str, dict[int, dict[str, np.ndarray]]]
    scores: pd.DataFrame
    verdicts: pd.DataFrame
    exact: pd.DataFrame
    angles: pd.DataFrame
    perturb: dict[str, list[str]] = field(default_factory=dict)
    phase: str | None = None
    alpha: float = permutation.ALPHA
    lifetimes: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def verdict(self) -> str:
        """The comparison's overall verdict: ``"fail"``, ``"pass"`` or ``"inconclusive"``.

        Fails when any measure fails (exact mode included), passes when none fails and at least one passes
        (:func:`spikebridge.analysis.validation.permutation.overall`).
        """
        return permutation.overall(self.verdicts, self.exact)

    @property
    def needed_seeds(self) -> int:
        """The fewest seeds with which every measure judged could fail at ``alpha`` (:func:`permutation.min_seeds`)."""
        judged = self.verdicts.groupby("other").patterns.count().max() if "patterns" in self.verdicts else 1
        return permutation.min_seeds(self.alpha, int(judged) if judged == judged else 1)

    @property
    def too_few_seeds(self) -> bool:
        """Whether there are too few seeds for the measures judged to fail at ``alpha`` (the verdict cannot fail)."""
        return len(self.seeds) < self.needed_seeds

    def regime_notes(self) -> list[str]:
        """One line per backend and population whose runs fell into different regimes (some stopped, some not)."""
        return mixed_regimes(self.lifetimes)

    @property
    def same_network(self) -> bool:
        """Whether every backend simulated the identical drawn network at each seed (equal digests of the drawn
        network; runs restored from checkpoints start from each backend's own trained weights)."""
        drawn = [[drawn_network_sha256(self.runs[b][s].meta, self.runs[b][s].path) for b in self.backends] for s in self.seeds]
        return all(None not in d and len(set(d)) == 1 for d in drawn)

    @property
    def restored(self) -> bool:
        """Whether any run started from a checkpoint's weights (a later run of a training)."""
        return any(r.meta.get("restored_from") for by_seed in self.runs.values() for r in by_seed.values())


def with_overrides(model: Model, overrides: Sequence[str]) -> Model:
    """The model with ``PATH=VALUE`` settings applied and validated again.

    Parameters
    ----------
    model
        The model.
    overrides
        ``PATH=VALUE`` settings (:func:`spikebridge.models.io.apply_overrides`), e.g. ``simulation.seed=3``.

    Returns
    -------
    Model
        ``model`` itself when there are none, else a new model with the same name and source folder.
    """
    if not overrides:
        return model
    return validate(apply_overrides(tomllib.loads(dumps_toml(model)), overrides), model.name, folder=model.source_folder)


def seed_list(model: Model, seeds: int | Sequence[int]) -> list[int]:
    """``seeds`` seeds counting up from the model's, or the given list.

    Parameters
    ----------
    model
        The model (its ``simulation.seed`` is the first seed).
    seeds
        A number of seeds (at least 2), or the seeds themselves (at least 2 different ones).

    Returns
    -------
    list of int
        The seeds, ascending and without repeats.

    Raises
    ------
    CompareError
        Fewer than 2 seeds: the baseline compares different seeds of one backend.
    """
    if isinstance(seeds, int):
        if seeds < 2:
            raise CompareError(f"--seeds must be at least 2 (the baseline compares different seeds of one backend), got {seeds}")
        return [model.simulation.seed + k for k in range(seeds)]
    out = sorted({int(s) for s in seeds})
    if len(out) < 2:
        raise CompareError(f"need at least 2 different seeds for the baseline, got {list(seeds)}")
    return out


def run_directory(out: Path, backend: str, seed: int) -> Path:
    """Where a comparison keeps the run of one backend at one seed: ``OUT/runs/BACKEND_seedSEED``.

    Parameters
    ----------
    out
        The comparison directory.
    backend
        A backend name, perhaps with its variant (``brian2:cpp``: the ``:`` becomes ``-``).
    seed
        The run's seed.

    Returns
    -------
    Path
        For example ``OUT/runs/brian2-cpp_seed2021``.
    """
    return out / "runs" / f"{backend.replace(':', '-')}_seed{seed}"


def _reusable(path: Path, model: Model, backend: str, options: Mapping[str, Any] | None, base: Path | None) -> Results | None:
    try:
        return reusable(path, model, backend, options, base=base)
    except CorruptRunError as err:
        # A damaged run is evidence of a problem, not a cache miss: re-running would hide it, reusing would judge it.
        raise CompareError(f"cannot reuse {path}: {err}; remove it or choose another --out") from None


def weight_angles(runs: Mapping[str, Mapping[int, Results]], reference: str) -> pd.DataFrame:
    """Angle (degrees) between the weight-change vectors w(t) - w(0) of two backends at equal seeds, per snapshot.

    0 deg: both backends changed every weight in the same proportions. Computed for plastic projections with
    weight snapshots; w(0) is the drawn initial weight, identical on both backends.
    """
    rows = []
    for other, by_seed in runs.items():
        if other == reference:
            continue
        for seed, res_b in by_seed.items():
            res_a = runs[reference].get(seed)
            if res_a is None:
                continue
            for name in _plastic_recorded(res_a) if res_a.meta.get("weight_snapshots_ms") else []:
                wa = res_a.weights(name).xs("w", axis=1, level="var")
                wb = res_b.weights(name).xs("w", axis=1, level="var").reindex(wa.index)
                pre, post, weight, delay = (res_a.network[f"prj/{name}/{f}"] for f in ("pre_idx", "post_idx", "weight", "delay"))
                drawn = {name: (pre, post, weight, delay)}
                w0 = table_from_arrays({0.0: drawn}).xs("w", axis=1, level="var")[0.0].reindex(wa.index)
                for t in wa.columns:
                    if float(t) == 0.0 or t not in wb.columns:
                        continue
                    da, db = wa[t].to_numpy() - w0.to_numpy(), wb[t].to_numpy() - w0.to_numpy()
                    norm = np.linalg.norm(da) * np.linalg.norm(db)
                    angle = float(np.degrees(np.arccos(np.clip(np.dot(da, db) / norm, -1.0, 1.0)))) if norm > 0 else np.nan
                    rows.append(
                        {
                            "other": other,
                            "projection": name,
                            "seed": seed,
                            "t_ms": float(t),
                            "angle_deg": angle,
                            "dw_norm_a": float(np.linalg.norm(da)),
                            "dw_norm_b": float(np.linalg.norm(db)),
                        }
                    )
    return pd.DataFrame(rows)


def lifetimes(
    runs: Mapping[str, Mapping[int, Results]],
    samples: Mapping[str, Mapping[int, Mapping[tuple[str, str], np.ndarray]]],
    phase: str | None = None,
) -> pd.DataFrame:
    """Each run's activity lifetime per population: ``backend, seed, target, lifetime_ms, duration_ms, stopped``."""
    rows = []
    for backend, by_seed in samples.items():
        for seed, sample in by_seed.items():
            res = runs[backend][seed]
            measured = phase or measures.default_phase(res)
            for (target, measure), values in sample.items():
                if measure != "lifetime" or len(values) == 0:
                    continue
                st = res.segment(measured).spiketrains
                duration = float((st.t_stop - st.t_start).rescale("ms").magnitude)
                rows.append(
                    {
                        "backend": backend,
                        "seed": seed,
                        "target": target,
                        "lifetime_ms": float(values[0]),
                        "duration_ms": duration,
                        "stopped": bool(values[0] < duration),
                    }
                )
    return pd.DataFrame(rows)


def mixed_regimes(table: pd.DataFrame) -> list[str]:
    """Lines naming each backend and population whose runs fell into different regimes.

    A run whose population stopped spiking and a run that stayed active to the end are different regimes of the
    model; a verdict pooling them would judge a mixture. The lifetime measure compares how often and when each
    backend stops.
    """
    if table.empty:
        return []
    out = []
    for (backend, target), group in table.groupby(["backend", "target"], sort=False):
        stopped = group[group.stopped]
        if 0 < len(stopped) < len(group):
            when = ", ".join(f"seed {s} at {t / 1000:.2f} s" for s, t in zip(stopped.seed, stopped.lifetime_ms, strict=True))
            out.append(f"{backend}: `{target}` stopped spiking in {len(stopped)} of {len(group)} runs ({when}); the others did not")
    return out


def _plastic_recorded(res: Results) -> list[str]:
    spec = res.model.record_weights
    if spec is None:
        return []
    names = list(res.model.projections) if spec.projections == "all" else list(spec.projections)
    return [n for n in names if res.model.projections[n].synapse.type != "static"]


def compare(
    model: Model,
    backends: Sequence[str],
    seeds: int | Sequence[int],
    out: str | Path,
    *,
    perturb: Mapping[str, Sequence[str]] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    phase: str | None = None,
    progress: bool = True,
    base: Path | None = None,
    alpha: float = permutation.ALPHA,
) -> Comparison:
    """Run ``model`` on each backend at each seed (reusing complete runs), then measure, score and judge.

    ``backends[0]`` is the reference. ``perturb`` maps a backend to extra ``PATH=VALUE`` overrides applied only on
    that backend: a deliberately broken variant, to check that the verdict detects a difference of that size.

    Parameters
    ----------
    model
        The model to compare.
    backends
        At least two different backend names (``nest``, ``brian2:cpp``); the first is the reference.
    seeds
        A number of seeds counting up from the model's, or the seeds (:func:`seed_list`).
    out
        The comparison directory; each run goes to :func:`run_directory`.
    perturb
        ``{backend: ["PATH=VALUE", ...]}`` applied to that backend's model only.
    options
        ``{backend: {option: value}}``: backend options such as ``threads``.
    phase
        The phase whose recordings are measured; ``None``: the last.
    progress
        Show a progress bar over the runs.
    base
        The folder of the model's relative data files (``None``: the model's source folder).
    alpha
        The false-FAIL rate of each pair of backends (:mod:`spikebridge.analysis.validation.permutation`).

    Returns
    -------
    Comparison
        The runs, measured samples, scores and verdicts (nothing is written but the run directories; see
        :func:`write_tables` and :func:`spikebridge.workflows.compare.report.write_report`).

    Raises
    ------
    CompareError
        Fewer than two backends, fewer than two seeds, a perturbed backend not compared, or a run directory
        in the way that cannot be reused.
    """
    names = list(dict.fromkeys(backends))
    if len(names) < 2:
        raise CompareError(f"--backends needs at least two different backends, got {list(backends)}")
    for name in names:
        registry.factory(name)  # an unknown backend fails here, before anything runs
    perturbations = {k: list(v) for k, v in (perturb or {}).items()}
    for name in perturbations:
        if name not in names:
            raise CompareError(f"--perturb names backend {name!r}, which is not among --backends {names}")
    for name in names:  # bad backend options (threads=abc) fail here, not after the other backends have run
        variant = with_overrides(model, perturbations.get(name, []))
        registry.check(name, backend_options(variant, name, (options or {}).get(name))[1])  # merged as runner.run does
    out = Path(out)
    seed_values = seed_list(model, seeds)
    runs: dict[str, dict[int, Results]] = {b: {} for b in names}
    jobs = [(b, s) for b in names for s in seed_values]
    with tqdm(total=len(jobs), desc=f"compare {model.name}", unit="run", disable=not progress) as bar:
        for backend, seed in jobs:
            variant = with_overrides(model, [f"simulation.seed={seed}", *perturbations.get(backend, [])])
            path = run_directory(out, backend, seed)
            res = _reusable(path, variant, backend, (options or {}).get(backend), base)
            bar.set_postfix_str(f"{backend} seed {seed}" + (" (reused)" if res is not None else ""))
            if res is None:
                res = run(
                    variant, backend, path, options=(options or {}).get(backend), overwrite=True, progress=False, figure=False, base=base
                )
            runs[backend][seed] = res
            bar.update()
    return judge(model, runs, out, perturb=perturbations, phase=phase, alpha=alpha)


def judge(
    model: Model,
    runs: Mapping[str, Mapping[int, Results]],
    out: str | Path,
    *,
    perturb: Mapping[str, Sequence[str]] | None = None,
    phase: str | None = None,
    alpha: float = permutation.ALPHA,
) -> Comparison:
    """Measure, score and judge runs already made: ``runs[backend][seed]``, the first backend the reference.

    :func:`compare` runs one model at each seed and calls this; a study whose seeds are different drawn networks (its
    own model per seed, such as :mod:`spikebridge.workflows.rule_study`) calls it on its runs at equal seeds.

    Parameters
    ----------
    model
        The model named in the report (one of the compared models).
    runs
        ``{backend: {seed: Results}}``, every backend at the same seeds; the first backend is the reference.
    out
        The comparison directory the report and tables go to.
    perturb, phase, alpha
        As for :func:`compare`.

    Returns
    -------
    Comparison
        The measured samples, scores and verdicts (nothing is written).
    """
    names = list(runs)
    seed_values = sorted(runs[names[0]])
    if len(names) < 2 or any(sorted(runs[b]) != seed_values for b in names):
        raise CompareError(f"judging needs two or more backends at the same seeds, got { ({b: sorted(r) for b, r in runs.items()}) }")
    made = {b: dict(by_seed) for b, by_seed in runs.items()}
    reference = names[0]
    samples = {b: {s: measures.measure_run(r, phase) for s, r in by_seed.items()} for b, by_seed in made.items()}
    spiking = sorted({t for b in samples.values() for s in b.values() for (t, m) in s if measures.by_name(m).target == "population"})
    counts = {b: {s: {p: measures.counts(r, p, phase) for p in spiking} for s, r in by_seed.items()} for b, by_seed in made.items()}
    scores = baseline.score_table(samples, reference, measures.min_samples())
    return Comparison(
        out=Path(out),
        model=model,
        reference=reference,
        backends=names,
        seeds=seed_values,
        runs=made,
        samples=samples,
        counts=counts,
        scores=scores,
        verdicts=permutation.verdicts(samples, reference, alpha, measures.min_samples()),
        exact=baseline.exact_table(counts, reference),
        angles=weight_angles(made, reference),
        perturb={k: list(v) for k, v in (perturb or {}).items()},
        phase=phase,
        alpha=alpha,
        lifetimes=lifetimes(made, samples, phase),
    )


def write_tables(cmp: Comparison) -> list[Path]:
    """scores.csv, verdicts.csv, exact.csv, angles.csv, lifetimes.csv and comparison.json in the comparison directory, atomically."""
    cmp.out.mkdir(parents=True, exist_ok=True)
    written = []
    frames = (
        ("scores", cmp.scores),
        ("verdicts", cmp.verdicts),
        ("exact", cmp.exact),
        ("angles", cmp.angles),
        ("lifetimes", cmp.lifetimes),
    )
    for name, frame in frames:
        path = cmp.out / f"{name}.csv"
        with atomic_file(path) as fh:
            fh.write(frame.to_csv(index=False).encode())
        written.append(path)
    summary = {
        "model": cmp.model.name,
        "backends": cmp.backends,
        "reference": cmp.reference,
        "seeds": cmp.seeds,
        "perturb": cmp.perturb,
        "verdict": cmp.verdict,
        "same_network": cmp.same_network,
        "alpha": cmp.alpha,
        "min_seeds": cmp.needed_seeds,
        "rule": permutation.rule(cmp.alpha),
        "exact_rule": baseline.EXACT_RULE,
        "inconclusive_rule": baseline.INCONCLUSIVE_RULE,
        "mixed_regimes": cmp.regime_notes(),
        "runs": {b: {str(s): str(r.path) for s, r in by_seed.items()} for b, by_seed in cmp.runs.items()},
    }
    path = cmp.out / "comparison.json"
    with atomic_file(path) as fh:
        fh.write(json.dumps(summary, indent=2).encode())
    written.append(path)
    return written
