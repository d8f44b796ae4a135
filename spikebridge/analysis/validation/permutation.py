"""The verdict: a paired permutation test of cross-backend against within-backend distances, with a stated error rate.

At seed ``s`` both backends simulate the same drawn network on the same input. If they compute the same dynamics,
the two runs at a seed are exchangeable: which backend produced which could be swapped without changing the joint
distribution of all runs. For one measure (the per-cell rates of a population, say) each seed gives the
difference of the two runs' quantile functions, ``D_s(q) = Q_B,s(q) - Q_A,s(q)`` at the 5th..95th percentiles,
and the statistic is ``T = mean_q abs(mean_s D_s(q))``,
the Wasserstein distance between the backends' seed-averaged quantile functions, in the measure's unit. Swapping
the runs at seed ``s`` flips the sign of ``D_s``; all ``2**(n-1)`` swap patterns up to the mirror image (for
``n <= 16`` seeds, else a fixed-seed random sample) give the null distribution. A difference that recurs at every
seed (a shifted rate, a narrower distribution) adds up; the seeds' own spread does not enter, because the
comparison is made within each seed, on the same network and input.

Every measure of a pair of backends is judged at once by the largest standardised statistic (Westfall & Young's
single-step maxT): a measure fails when its adjusted p-value is at most ``alpha``. The chance that a comparison of
two backends that compute the same dynamics fails is then at most ``alpha``, whatever the number of measures and
however they depend on each other; ``examples/verdict_calibration.py`` measures it (docs/validation.md). The
smallest p-value ``n`` seeds can give is ``2 / 2**n``: with fewer than :func:`min_seeds` seeds for the number of
measures judged, the verdict is inconclusive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

from .baseline import FAIL, INCONCLUSIVE, PASS

Key = tuple[str, str]
Samples = Mapping[str, Mapping[int, Mapping[Key, np.ndarray]]]

ALPHA = 0.05
"""The default family-wise false-FAIL rate of a comparison of two backends."""
EXACT_LIMIT = 16
"""Up to this many seeds every swap pattern is tried; above it, :data:`RANDOM_PATTERNS` drawn ones."""
RANDOM_PATTERNS = 2**15

RULE = (
    "A paired permutation test per pair of backends. For each measure and seed, the other backend's quantiles (5th to "
    "95th percentile) minus the reference's; the statistic is the mean over quantiles of the absolute mean over seeds "
    "(the Wasserstein distance between the seed-averaged quantile functions). Its null distribution comes from swapping "
    "the two backends' runs at any subset of seeds (at equal seeds both simulated the same network on the same input, "
    "so the runs are exchangeable when the backends compute the same dynamics). All measures are judged together by "
    "their largest standardised statistic "
    "(single-step maxT): a measure fails when its adjusted p is at most alpha, so a comparison of two equivalent "
    "backends fails with probability at most alpha. n seeds give p >= 2/2^n, so with M measures judged every "
    "measure can reach alpha = {alpha:g} only when 2/2^n <= alpha/M: {one} seeds for one measure, {six} for six, {eight} "
    "for eight; with fewer, the verdict is inconclusive."
)


def min_seeds(alpha: float = ALPHA, measures: int = 1) -> int:
    """The fewest seeds with which each of ``measures`` measures can fail at ``alpha``.

    ``n`` seeds give ``2**(n-1)`` swap patterns and a smallest p-value of ``2 / 2**n``; for every one of ``measures``
    measures to be able to reach the family-wise ``alpha``, that must be at most ``alpha / measures`` (Bonferroni's
    bound, which maxT never does worse than).

    Examples
    --------
    >>> min_seeds(0.05), min_seeds(0.01), min_seeds(0.05, measures=6), min_seeds(0.05, measures=8)
    (6, 8, 8, 9)
    """
    return max(2, math.ceil(math.log2(2.0 * max(measures, 1) / alpha) - 1e-12))


def rule(alpha: float = ALPHA) -> str:
    """:data:`RULE` with its numbers filled in."""
    return RULE.format(alpha=alpha, one=min_seeds(alpha), six=min_seeds(alpha, 6), eight=min_seeds(alpha, 8))


def swap_patterns(n: int, limit: int = EXACT_LIMIT, draws: int = RANDOM_PATTERNS) -> np.ndarray:
    """Which seeds swap their two runs: one row per pattern, the identity (no swap) first.

    The first seed never swaps: a pattern and its mirror image give the same statistic.
    """
    if n <= limit:
        codes = np.arange(2 ** (n - 1), dtype=np.int64)
        rest = ((codes[:, None] >> np.arange(n - 1)) & 1).astype(bool)
        return np.hstack([np.zeros((len(codes), 1), bool), rest])
    rng = np.random.default_rng(0)
    drawn = rng.integers(0, 2, size=(draws, n)).astype(bool)
    drawn[:, 0] = False
    return np.vstack([np.zeros((1, n), bool), drawn])


QUANTILES = np.linspace(0.05, 0.95, 19)
"""Where the two backends' samples are compared at each seed: the 5th to 95th percentiles, in steps of 5."""


def quantile_differences(runs_a: list[np.ndarray], runs_b: list[np.ndarray]) -> np.ndarray:
    """``(n, len(QUANTILES))``: at each seed, the other backend's quantiles minus the reference's.

    Their mean over quantiles, in absolute value, is the Wasserstein distance between the two quantile functions
    (sampled): the same distance as in the report, kept signed so that a swap of the two runs flips it.
    """
    return np.vstack([np.quantile(b, QUANTILES) - np.quantile(a, QUANTILES) for a, b in zip(runs_a, runs_b, strict=True)])


def statistic(differences: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """The test statistic under every swap pattern: the mean over quantiles of the absolute mean difference.

    Parameters
    ----------
    differences : numpy.ndarray
        ``(n, Q)`` from :func:`quantile_differences`.
    signs : numpy.ndarray
        ``(P, n)``: -1 where a pattern swaps the runs at that seed, else +1 (the first row: no swap).

    Returns
    -------
    numpy.ndarray
        ``(P,)``: ``mean_q |mean_s sign_s * differences[s, q]|``, in the measure's unit; row 0 is the observed
        value: the Wasserstein distance between the seed-averaged quantile functions of the two backends.

    Examples
    --------
    Two seeds, the other backend higher by 1 at both: swapping one seed cancels the shift.

    >>> statistic(np.ones((2, 3)), np.array([[1.0, 1.0], [1.0, -1.0]])).tolist()
    [1.0, 0.0]
    """
    return np.abs(signs @ differences / differences.shape[0]).mean(axis=1)


def _usable(sample: np.ndarray | None, least: int) -> np.ndarray | None:
    if sample is None:
        return None
    finite = np.asarray(sample, dtype=float)
    finite = finite[np.isfinite(finite)]
    return finite if len(finite) >= least else None


def verdicts(
    samples: Samples,
    reference: str,
    alpha: float = ALPHA,
    min_sample: int | Mapping[str, int] = 5,
) -> pd.DataFrame:
    """One row per (other backend, target, measure): the permutation test and its verdict.

    Parameters
    ----------
    samples : Mapping
        ``samples[backend][seed][(target, measure)]``: a 1-D sample per run
        (:func:`~spikebridge.analysis.validation.measures.measure_run`).
    reference : str
        The backend every other is compared with.
    alpha : float, optional
        The family-wise false-FAIL rate of each pair of backends.
    min_sample : int or Mapping, optional
        The fewest finite values a run's sample needs (per measure name, where a mapping); seeds where either
        backend has fewer are left out of that measure.

    Returns
    -------
    pandas.DataFrame
        Columns ``other, target, measure, seeds, patterns, statistic`` (the observed statistic, in the
        measure's unit), ``z`` (standardised by its null), ``p_raw``, ``p`` (maxT-adjusted), ``w_cross`` (mean
        distance between the backends at equal seeds), ``w_within`` (mean distance between seeds of the reference),
        ``verdict`` and ``reason``.

    Examples
    --------
    Six seeds of two backends whose rates (Hz) differ by a tenth of their spread:

    >>> rng = np.random.default_rng(0)
    >>> def runs(shift):
    ...     return {s: {("exc", "rate"): rng.normal(5.0 + shift + 0.1 * rng.normal(), 1.0, 400)} for s in range(6)}
    >>> verdicts({"nest": runs(0.0), "brian2": runs(0.5)}, "nest")[["measure", "p", "verdict"]].values.tolist()
    [['rate', 0.03125, 'fail']]
    """
    rows = []
    keys = sorted({k for runs in samples.values() for sample in runs.values() for k in sample})
    for other in samples:
        if other == reference:
            continue
        rows.extend(_pair(samples, reference, other, keys, alpha, min_sample))
    return pd.DataFrame(rows)


def _pair(samples: Samples, reference: str, other: str, keys: list[Key], alpha: float, min_sample: int | Mapping[str, int]) -> list[dict]:
    common = sorted(set(samples[reference]) & set(samples[other]))
    column = {seed: k for k, seed in enumerate(common)}
    patterns = swap_patterns(len(common)) if len(common) >= 2 else np.zeros((1, len(common)), bool)
    signs = np.where(patterns, -1.0, 1.0)
    judged: list[dict] = []
    stats: dict[int, np.ndarray] = {}
    for key in keys:
        least = min_sample if isinstance(min_sample, int) else min_sample.get(key[1], 5)
        seeds, runs_a, runs_b = [], [], []
        for seed in common:
            a = _usable(samples[reference][seed].get(key), least)
            b = _usable(samples[other][seed].get(key), least)
            if a is not None and b is not None:
                seeds.append(seed)
                runs_a.append(a)
                runs_b.append(b)
        row: dict = {"other": other, "target": key[0], "measure": key[1], "seeds": len(seeds)}
        judged.append(row)
        n = len(seeds)
        if n < 2:
            row.update(verdict=INCONCLUSIVE, reason=f"no data: {n} seed(s) with enough values on both backends")
            continue
        row["w_cross"] = float(np.mean([wasserstein_distance(a, b) for a, b in zip(runs_a, runs_b, strict=True)]))
        row["w_within"] = float(np.mean([wasserstein_distance(runs_a[i], runs_a[j]) for i in range(n) for j in range(i + 1, n)]))
        values = np.concatenate(runs_a + runs_b)
        if values.min() == values.max():
            row.update(
                verdict=INCONCLUSIVE,
                reason="every run gave the same constant (nothing spiked, or all stayed active to the end): 0 within 0 proves nothing",
            )
            continue
        differences = quantile_differences(runs_a, runs_b)
        if not differences.any():
            row.update(verdict=PASS, reason="the backends' runs are identical at every seed", z=0.0, p=1.0, p_raw=1.0, statistic=0.0)
            continue
        t = statistic(differences, signs[:, [column[s] for s in seeds]])
        row["patterns"] = len(t)
        row["statistic"] = float(t[0])
        stats[len(judged) - 1] = t
    if not stats:
        return judged
    need = min_seeds(alpha, len(stats))
    z = {}
    for k, t in stats.items():
        sd = float(t.std())
        z[k] = (t - t.mean()) / sd if sd > 1e-12 * max(1.0, float(np.abs(t).max())) else np.zeros_like(t)
    zmax = np.max(np.vstack(list(z.values())), axis=0)  # one swap pattern per row, shared by every measure
    ordered = np.sort(zmax)[::-1]
    critical = float(ordered[int(alpha * len(ordered)) - 1]) if alpha * len(ordered) >= 1 else np.inf
    for k, zk in z.items():
        observed = zk[0]
        row = judged[k]
        row["z"] = float(observed)
        row["p_raw"] = float(np.mean(zk >= observed - 1e-9))
        row["p"] = float(np.mean(zmax >= observed - 1e-9))
        row["z_critical"] = critical
        if row["seeds"] < need:
            row.update(
                verdict=INCONCLUSIVE,
                reason=f"{row['seeds']} seeds: p cannot go below {2 / 2 ** row['seeds']:.3g}, more than alpha {alpha:g} over "
                f"{len(stats)} measures allows; use >= {need} seeds",
            )
        else:
            row.update(verdict=FAIL if row["p"] <= alpha else PASS, reason="")
    return judged


def overall(table: pd.DataFrame, exact: pd.DataFrame | None = None) -> str:
    """'fail' when a measure fails, 'pass' when none fails and one passes, else 'inconclusive'."""
    found = [v for frame in (table, exact) if frame is not None and not frame.empty for v in frame["verdict"]]
    if FAIL in found:
        return FAIL
    return PASS if PASS in found else INCONCLUSIVE
