"""The verdict: a paired permutation test of cross-backend against within-backend distances, with a stated error rate.

At seed ``s`` both backends simulate the same drawn network on the same input. If they compute the same dynamics,
the two runs at a seed are exchangeable: which backend produced which could be swapped without changing the joint
distribution of all runs. For one measure (the per-cell rates of a population, say) the test statistic is an
energy statistic over the runs' samples,

    E = mean W(A_s, B_t) - (mean W(A_s, A_t) + mean W(B_s, B_t)) / 2,   over seeds s != t,

with ``W`` the Wasserstein distance between two runs' samples: how much farther apart the two backends' runs are
than two runs of one backend. Pairs at equal seeds do not enter (a swap leaves them unchanged). Swapping the
labels at any subset of seeds gives the null distribution: all ``2**(n-1)`` swap patterns up to the mirror image
for ``n <= 16`` seeds, else a fixed-seed random sample of them.

Every measure of a pair of backends is judged at once by the largest standardised statistic (Westfall & Young's
single-step maxT): a measure fails when its adjusted p-value is at most ``alpha``. The chance that a comparison of
two backends that compute the same dynamics fails is then at most ``alpha``, whatever the number of measures and
however they depend on each other; ``examples/verdict_calibration.py`` measures it (docs/validation.md). The
smallest p-value ``n`` seeds can give is ``2 / 2**n``: fewer than :func:`min_seeds` seeds can never fail, and their
verdict is inconclusive.
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
    "A paired permutation test per pair of backends. For each measure, the statistic is the mean Wasserstein "
    "distance between runs of different backends at different seeds minus the mean distance between runs of one "
    "backend at different seeds; its null distribution comes from swapping the two backends' runs at any subset of "
    "seeds (at equal seeds both simulated the same network on the same input, so the runs are exchangeable when the "
    "backends compute the same dynamics). All measures are judged together by their largest standardised statistic "
    "(single-step maxT): a measure fails when its adjusted p is at most alpha, so a comparison of two equivalent "
    "backends fails with probability at most alpha. n seeds give p >= 2/2^n: fewer than {min_seeds} seeds cannot "
    "reach alpha = {alpha:g} and are inconclusive."
)


def min_seeds(alpha: float = ALPHA) -> int:
    """The fewest seeds with which the test can fail at ``alpha`` (the smallest p-value is ``2 / 2**n``).

    Examples
    --------
    >>> min_seeds(0.05), min_seeds(0.01)
    (6, 8)
    """
    return max(2, math.ceil(math.log2(2.0 / alpha)))


def rule(alpha: float = ALPHA) -> str:
    """:data:`RULE` with its numbers filled in."""
    return RULE.format(min_seeds=min_seeds(alpha), alpha=alpha)


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


def energy(distances: np.ndarray, patterns: np.ndarray) -> np.ndarray:
    """The statistic under every swap pattern, from the distances between all ``2n`` runs.

    Parameters
    ----------
    distances : numpy.ndarray
        ``(2n, 2n)``: runs ``0..n-1`` are backend A at seeds ``0..n-1``, runs ``n..2n-1`` backend B.
    patterns : numpy.ndarray
        ``(P, n)`` booleans from :func:`swap_patterns`.

    Returns
    -------
    numpy.ndarray
        ``(P,)``: cross-backend minus within-backend mean distance, over pairs at different seeds.
    """
    n = patterns.shape[1]
    seeds = np.arange(n)
    x = np.where(patterns, seeds + n, seeds)
    y = np.where(patterns, seeds, seeds + n)
    off = ~np.eye(n, dtype=bool)

    def mean_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return distances[a[:, :, None], b[:, None, :]][:, off].mean(axis=1)

    return mean_between(x, y) - 0.5 * (mean_between(x, x) + mean_between(y, y))


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
        Columns ``other, target, measure, seeds, patterns, statistic`` (the observed energy statistic, in the
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
    need = min_seeds(alpha)
    judged: list[dict] = []
    stats: list[np.ndarray] = []
    for key in keys:
        least = min_sample if isinstance(min_sample, int) else min_sample.get(key[1], 5)
        seeds, runs_a, runs_b = [], [], []
        for seed in sorted(set(samples[reference]) & set(samples[other])):
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
            stats.append(np.empty(0))
            continue
        runs = runs_a + runs_b
        dist = np.zeros((2 * n, 2 * n))
        for i in range(2 * n):
            for j in range(i + 1, 2 * n):
                dist[i, j] = dist[j, i] = wasserstein_distance(runs[i], runs[j])
        row["w_cross"] = float(np.mean([dist[s, n + s] for s in range(n)]))
        row["w_within"] = float(dist[:n, :n][~np.eye(n, dtype=bool)].mean())
        if not dist.any():
            row.update(
                verdict=INCONCLUSIVE, reason="every run gave the same constant (nothing spiked, or every run stayed active to the end): 0 within 0 proves nothing"
            )
            stats.append(np.empty(0))
            continue
        patterns = swap_patterns(n)
        e = energy(dist, patterns)
        row["patterns"] = len(patterns)
        row["statistic"] = float(e[0])
        stats.append(e)
    informative = [k for k, e in enumerate(stats) if len(e)]
    if not informative:
        return judged
    z = {}
    for k in informative:
        e = stats[k]
        sd = float(e.std())
        z[k] = (e - e.mean()) / sd if sd > 1e-12 * max(1.0, float(np.abs(e).max())) else np.zeros_like(e)
    # maxT needs one pattern set for all measures: measures with the same seeds share it (the usual case)
    groups: dict[int, list[int]] = {}
    for k in informative:
        groups.setdefault(len(stats[k]), []).append(k)
    for members in groups.values():
        zmax = np.max(np.vstack([z[k] for k in members]), axis=0)
        ordered = np.sort(zmax)[::-1]
        critical = float(ordered[max(int(alpha * len(ordered)) - 1, 0)]) if alpha * len(ordered) >= 1 else np.inf
        for k in members:
            observed = z[k][0]
            row = judged[k]
            row["z"] = float(observed)
            row["p_raw"] = float(np.mean(z[k] >= observed - 1e-9))
            row["p"] = float(np.mean(zmax >= observed - 1e-9))
            row["z_critical"] = critical
            if not np.any(z[k]):
                row.update(verdict=PASS, reason="the backends' runs are identical at every seed")
            elif row["seeds"] < need:
                row.update(
                    verdict=INCONCLUSIVE,
                    reason=f"{row['seeds']} seeds: p cannot go below {2 / 2 ** row['seeds']:.3g} > alpha {alpha:g}; use >= {need} seeds",
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
