"""Descriptive scores of a comparison, exact mode, and the overall verdict.

For each measure and each pair (reference backend A, other backend B), every score in
:data:`~spikebridge.analysis.validation.scores.DISTANCES` is tabled

* across backends at equal seeds: A at seed s against B at seed s (same network, same input), and
* within the reference backend across seeds: A at seed i against A at seed j, i < j (the baseline),

for the report's figures. The verdict on each measure is the permutation test of
:mod:`~spikebridge.analysis.validation.permutation`. In exact mode the per-cell spike counts of A and B at equal
seeds are also correlated (Pearson r), against the same correlation between two seeds of one backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from .scores import score

Key = tuple[str, str]
Samples = Mapping[str, Mapping[int, Mapping[Key, np.ndarray]]]

INCONCLUSIVE_RULE = (
    "A measure is inconclusive when it has no data to judge (fewer than the minimum number of finite values in some "
    "run: e.g. CVs of ISIs where nothing spikes), when every run's sample is the same constant (e.g. rates where "
    "nothing spikes: 0 within 0 proves nothing), or when there are too few seeds for the test to reach alpha. The "
    "comparison passes only when at least one measure passed and none failed; it fails when one fails; otherwise it "
    "is inconclusive (exit code 1)."
)
PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
EXACT_RULE = (
    "Exact mode: the per-cell spike counts of A and B at equal seeds correlate (Pearson r, mean over seeds) more "
    "strongly than the counts of the same cell indices at two different seeds of the reference (largest such r)."
)


def score_table(samples: Samples, reference: str, min_sample: int | Mapping[str, int] = 5) -> pd.DataFrame:
    """Every score between two runs used by a verdict: one row per (target, measure, kind, runs compared).

    Parameters
    ----------
    samples : Mapping
        ``samples[backend][seed][(target, measure)]``: a 1-D sample in the measure's unit
        (:func:`~spikebridge.analysis.validation.measures.measure_run` of each run).
    reference : str
        The backend whose seed-to-seed spread is the baseline.
    min_sample : int, optional
        Pairs where either sample has fewer finite values are left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``target, measure, kind`` (``"cross"`` or ``"baseline"``), ``other, a, seed_a, b, seed_b`` and
        every field of :class:`~spikebridge.analysis.validation.scores.Score`.

    Examples
    --------
    Three seeds of two backends whose rates (Hz) differ by three standard deviations:

    >>> rng = np.random.default_rng(0)
    >>> samples = {b: {s: {("exc", "rate"): rng.normal(mu, 1.0, 50)} for s in (1, 2, 3)}
    ...            for b, mu in (("nest", 5.0), ("brian2", 8.0))}
    >>> table = score_table(samples, "nest")
    >>> table["kind"].value_counts().to_dict()
    {'cross': 3, 'baseline': 3}
    >>> bool(table[table.kind == "cross"].ks.min() > table[table.kind == "baseline"].ks.max())
    True
    """
    rows = []
    backends = list(samples)
    keys = sorted({k for runs in samples.values() for sample in runs.values() for k in sample})

    def add(kind: str, other: str, key: Key, a: tuple[str, int], b: tuple[str, int]) -> None:
        x, y = samples[a[0]][a[1]].get(key), samples[b[0]][b[1]].get(key)
        if x is None or y is None:
            return
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        least = min_sample if isinstance(min_sample, int) else min_sample.get(key[1], 5)
        if len(x) < least or len(y) < least or (len(x) < 2 and len(y) < 2):
            return
        s = score(x, y)
        rows.append(
            {
                "target": key[0],
                "measure": key[1],
                "kind": kind,
                "other": other,
                "a": a[0],
                "seed_a": a[1],
                "b": b[0],
                "seed_b": b[1],
                **s.as_dict(),
            }
        )

    for other in backends:
        if other == reference:
            continue
        for key in keys:
            for seed in sorted(set(samples[reference]) & set(samples[other])):
                add("cross", other, key, (reference, seed), (other, seed))
            for i, j in combinations(sorted(samples[reference]), 2):
                add("baseline", other, key, (reference, i), (reference, j))
    return pd.DataFrame(rows)


def _count_r(counts: Mapping[str, Mapping[int, Mapping[str, np.ndarray]]], pop: str, a: tuple[str, int], b: tuple[str, int]) -> float:
    x, y = counts[a[0]][a[1]][pop], counts[b[0]][b[1]][pop]
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return np.nan
    return float(stats.pearsonr(x, y).statistic)


def exact_table(counts: Mapping[str, Mapping[int, Mapping[str, np.ndarray]]], reference: str) -> pd.DataFrame:
    """Per-cell spike-count correlation across backends at equal seeds against the seed-to-seed correlation.

    Parameters
    ----------
    counts : Mapping
        ``counts[backend][seed][population]``: the spike count of every recorded cell
        (:func:`~spikebridge.analysis.validation.measures.counts`).
    reference : str
        The reference backend.

    Returns
    -------
    pandas.DataFrame
        One row per (other backend, population) with at least three cells: ``r_cross`` (mean Pearson r over
        seeds), ``r_cross_min``, ``r_baseline_max`` (largest r between two seeds of the reference),
        ``mean_count_ratio`` (other / reference) and ``verdict`` (``pass`` when ``r_cross > r_baseline_max``).
    """
    rows = []
    pops = sorted({p for runs in counts.values() for c in runs.values() for p in c})
    for other in counts:
        if other == reference:
            continue
        seeds = sorted(set(counts[reference]) & set(counts[other]))
        for pop in pops:
            if any(len(counts[reference][s][pop]) < 3 for s in seeds):
                continue  # a correlation across cells needs cells
            cross = np.array([_count_r(counts, pop, (reference, s), (other, s)) for s in seeds])
            base = np.array([_count_r(counts, pop, (reference, i), (reference, j)) for i, j in combinations(sorted(counts[reference]), 2)])
            cross_r = float(np.nanmean(cross)) if np.isfinite(cross).any() else np.nan
            base_r = float(np.nanmax(base)) if np.isfinite(base).any() else np.nan
            mean_a = float(np.mean([counts[reference][s][pop].mean() for s in seeds])) if seeds else np.nan
            mean_b = float(np.mean([counts[other][s][pop].mean() for s in seeds])) if seeds else np.nan
            verdict = INCONCLUSIVE if not (np.isfinite(cross_r) and np.isfinite(base_r)) else (PASS if cross_r > base_r else FAIL)
            rows.append(
                {
                    "other": other,
                    "target": pop,
                    "r_cross": cross_r,
                    "r_cross_min": float(np.nanmin(cross)) if np.isfinite(cross).any() else np.nan,
                    "r_baseline_max": base_r,
                    "mean_count_ratio": mean_b / mean_a if mean_a else np.nan,
                    "verdict": verdict,
                }
            )
    return pd.DataFrame(rows)


def overall(verdict_rows: pd.DataFrame, exact_rows: pd.DataFrame | None = None) -> str:
    """'fail' when a verdict fails; 'pass' when none fails and at least one passes; else 'inconclusive'.

    A comparison whose measures are all inconclusive (nothing spiked, no plastic weights) never passes.

    Parameters
    ----------
    verdict_rows : pandas.DataFrame
        :func:`verdicts`.
    exact_rows : pandas.DataFrame, optional
        :func:`exact_table`, in exact mode.

    Returns
    -------
    str
        ``"pass"``, ``"fail"`` or ``"inconclusive"``.
    """
    found = [v for frame in (verdict_rows, exact_rows) if frame is not None and not frame.empty for v in frame["verdict"]]
    if FAIL in found:
        return FAIL
    return PASS if PASS in found else INCONCLUSIVE
