"""Verdicts: is the cross-backend distance within the seed-to-seed spread of one backend?

For each measure and each pair (reference backend A, other backend B), every score in
:data:`~spikebridge.analysis.validation.scores.DISTANCES` is computed

* across backends at equal seeds: A at seed s against B at seed s (same network, same input), and
* within the reference backend across seeds: A at seed i against A at seed j, i < j (the baseline).

The baseline comes from the reference alone so that a backend whose runs vary wildly from seed to seed (a broken one
often does) cannot widen its own acceptance band.

:data:`RULE` states how these become a verdict. In exact mode the per-cell spike counts of A and B at equal seeds are
also correlated (Pearson r), against the same correlation between two seeds of one backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .scores import DISTANCES, score

Key = tuple[str, str]
Samples = Mapping[str, Mapping[int, Mapping[Key, np.ndarray]]]

RULE = (
    "A measure passes for a pair of backends when, for each of the KS statistic, |Cohen's d| and the Wasserstein "
    "distance, the mean over seeds of the cross-backend value (reference A at seed s against backend B at seed s: the "
    "same network and input) is at most the largest value found between two different seeds of the reference: the "
    "simulators may differ no more than two draws of the model differ from each other on the reference."
)
INCONCLUSIVE_RULE = (
    "A measure is inconclusive when it has no data to judge (fewer than the minimum number of finite values in some "
    "run: e.g. CVs of ISIs where nothing spikes), or when every distance is 0 both across backends and between seeds "
    "(constant samples, e.g. rates where nothing spikes: 0 within 0 proves nothing). The comparison passes only when at "
    "least one measure passed and none failed; it fails when one fails; otherwise it is inconclusive (exit code 1)."
)
PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
EXACT_RULE = (
    "Exact mode: the per-cell spike counts of A and B at equal seeds correlate (Pearson r, mean over seeds) more "
    "strongly than the counts of the same cell indices at two different seeds of the reference (largest such r)."
)


def score_table(samples: Samples, reference: str, min_sample: int = 5) -> pd.DataFrame:
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
    >>> rows = verdicts(table, expected_measures(samples, "nest"))
    >>> rows[["other", "target", "measure", "verdict"]].values.tolist(), overall(rows)
    ([['brian2', 'exc', 'rate', 'fail']], 'fail')
    """
    rows = []
    backends = list(samples)
    keys = sorted({k for runs in samples.values() for sample in runs.values() for k in sample})

    def add(kind: str, other: str, key: Key, a: tuple[str, int], b: tuple[str, int]) -> None:
        x, y = samples[a[0]][a[1]].get(key), samples[b[0]][b[1]].get(key)
        if x is None or y is None:
            return
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        if len(x) < min_sample or len(y) < min_sample:
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


def _judge(cross: pd.DataFrame, base: pd.DataFrame, row: dict[str, object]) -> tuple[str, str]:
    """(verdict, reason) of one measure from its cross-backend and baseline score rows; fills ``row``'s numbers."""
    failing, uninformative = [], []
    for name in DISTANCES:
        c, b = float(cross[name].mean()), float(base[name].max())
        row[f"{name}_cross"], row[f"{name}_baseline_max"] = c, b
        if np.isnan(c) or np.isnan(b) or (c == 0 and b == 0):
            uninformative.append(name)  # no number to judge, or 0 within 0: nothing in the samples could differ
        elif not c <= b:
            failing.append(name)
    row["ks_p_cross"] = float(cross["ks_p"].min())
    row["cohens_d_cross"] = float(cross["cohens_d"].mean())
    row["d_low"], row["d_high"] = float(cross["d_low"].mean()), float(cross["d_high"].mean())
    row["failing"] = ",".join(failing)
    if failing:
        return FAIL, ""
    if len(uninformative) == len(DISTANCES):
        return INCONCLUSIVE, "every distance is 0 across backends and between seeds (constant samples)"
    return PASS, ""


def verdicts(scores: pd.DataFrame, expected: Iterable[tuple[str, str, str]] = ()) -> pd.DataFrame:
    """One row per (other backend, target, measure): cross means, baseline maxima, a pass flag per score, the verdict.

    ``expected`` lists (other, target, measure) triples that were measured; those without scores (too few values
    in some run) get an ``inconclusive`` row, so a measure without data is shown rather than silently dropped.

    Parameters
    ----------
    scores : pandas.DataFrame
        A :func:`score_table`.
    expected : iterable of tuple, optional
        ``(other backend, target, measure)`` triples that must get a row (:func:`expected_measures`).

    Returns
    -------
    pandas.DataFrame
        One row per triple: ``seeds``, ``baseline_pairs``, ``{score}_cross`` (mean over seeds),
        ``{score}_baseline_max``, ``failing`` (the scores over their baseline), ``verdict`` (``pass``, ``fail`` or
        ``inconclusive``) and ``reason``.
    """
    rows = []
    groups: Iterable[tuple[Any, pd.DataFrame]] = scores.groupby(["other", "target", "measure"], sort=False) if not scores.empty else []
    for (other, target, measure), group in groups:
        cross = group[group.kind == "cross"]
        base = group[group.kind == "baseline"]
        row: dict[str, object] = {"other": other, "target": target, "measure": measure, "seeds": len(cross), "baseline_pairs": len(base)}
        if cross.empty or base.empty:
            row["verdict"], row["reason"] = (
                INCONCLUSIVE,
                "no data: too few values in the " + ("cross-backend" if cross.empty else "baseline") + " runs",
            )
        else:
            row["verdict"], row["reason"] = _judge(cross, base, row)
        rows.append(row)
    seen = {(r["other"], r["target"], r["measure"]) for r in rows}
    for other, target, measure in expected:
        if (other, target, measure) not in seen:
            seen.add((other, target, measure))
            rows.append(
                {
                    "other": other,
                    "target": target,
                    "measure": measure,
                    "seeds": 0,
                    "baseline_pairs": 0,
                    "verdict": INCONCLUSIVE,
                    "reason": "no data: too few values in some run",
                }
            )
    return pd.DataFrame(rows)


def expected_measures(samples: Samples, reference: str) -> list[tuple[str, str, str]]:
    """(other backend, target, measure) for every measure sampled in any run: what :func:`verdicts` must judge.

    Parameters
    ----------
    samples : Mapping
        ``samples[backend][seed][(target, measure)]``, as for :func:`score_table`.
    reference : str
        The reference backend (left out of the triples).

    Returns
    -------
    list of tuple
        ``(other backend, target, measure)``, sorted by target and measure within each backend.
    """
    keys = sorted({k for runs in samples.values() for sample in runs.values() for k in sample})
    return [(other, *key) for other in samples if other != reference for key in keys]


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
