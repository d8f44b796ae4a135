"""How two samples of one measure are compared: two-sample KS, Cohen's d with a confidence interval, Wasserstein.

Scores know nothing about runs or backends; they take two 1-D arrays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

#: the scores that enter a verdict, as distances (0 = identical samples)
DISTANCES = ("ks", "abs_d", "wasserstein")


@dataclass(frozen=True)
class Score:
    """Two samples of one measure compared by every score (the measure's unit is not stored).

    Parameters
    ----------
    n_a, n_b : int
        Finite values in each sample.
    ks, ks_p : float
        Two-sample Kolmogorov-Smirnov statistic (0-1) and its p-value.
    cohens_d, d_low, d_high : float
        Cohen's d of ``b`` against ``a`` (in pooled standard deviations) and its 95 % confidence interval.
    wasserstein : float
        Earth mover's distance between the samples, in the measure's unit.

    Examples
    --------
    >>> s = score(np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 3.0, 4.0, 5.0]))
    >>> s.ks, s.wasserstein, round(s.abs_d, 3)
    (0.25, 1.0, 0.775)
    """

    n_a: int
    n_b: int
    ks: float
    ks_p: float
    cohens_d: float
    d_low: float
    d_high: float
    wasserstein: float

    @property
    def abs_d(self) -> float:
        """``|cohens_d|``: the effect size as a distance (0 = equal means)."""
        return abs(self.cohens_d)

    def distance(self, name: str) -> float:
        """One score by name, as a float.

        Parameters
        ----------
        name : str
            A field or property of the score; the verdict uses those in :data:`DISTANCES`.

        Returns
        -------
        float
            The score (``ks`` dimensionless, ``abs_d`` in pooled s.d., ``wasserstein`` in the measure's unit).
        """
        return float(getattr(self, name))

    def as_dict(self) -> dict[str, float]:
        """Every field and ``abs_d``, by name (one row of a report table).

        Returns
        -------
        dict of str to float
            The scores by name.
        """
        return {**asdict(self), "abs_d": self.abs_d}


def cohens_d(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Cohen's d = (mean(b) - mean(a)) / pooled s.d., and its normal-approximation confidence interval.

    The standard error is sqrt((na + nb) / (na nb) + d^2 / (2 (na + nb))) (Hedges & Olkin 1985, eq. 5.14).
    Two constant, equal samples give d = 0; constant, different samples give +-inf.

    Parameters
    ----------
    a, b : numpy.ndarray
        The two samples (1-D, at least two values each), in one unit.
    confidence : float, optional
        Coverage of the interval, between 0 and 1.

    Returns
    -------
    tuple of float
        ``(d, low, high)``, in pooled standard deviations.

    Examples
    --------
    >>> d, low, high = cohens_d(np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 3.0, 4.0, 5.0]))
    >>> round(d, 3), bool(low < 0 < d < high)
    (0.775, True)
    """
    na, nb = len(a), len(b)
    diff = float(np.mean(b) - np.mean(a))
    pooled = np.sqrt(((na - 1) * np.var(a, ddof=1) + (nb - 1) * np.var(b, ddof=1)) / (na + nb - 2))
    if pooled == 0:
        d = 0.0 if diff == 0 else float(np.copysign(np.inf, diff))
        return d, d, d
    d = diff / float(pooled)
    se = np.sqrt((na + nb) / (na * nb) + d**2 / (2 * (na + nb)))
    z = stats.norm.ppf(0.5 + confidence / 2)
    return d, d - z * se, d + z * se


def score(a: np.ndarray, b: np.ndarray) -> Score:
    """Compare two samples by every score (each needs at least two finite values; non-finite ones are dropped).

    Parameters
    ----------
    a, b : numpy.ndarray
        The samples of one measure on two runs (1-D, any unit, the same for both).

    Returns
    -------
    Score
        KS statistic and p-value, Cohen's d with its 95 % interval, Wasserstein distance.

    Raises
    ------
    ValueError
        If either sample has fewer than two finite values.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"samples of {len(a)} and {len(b)} finite values: need at least 2 each")
    ks = stats.ks_2samp(a, b)
    d, low, high = cohens_d(a, b)
    return Score(len(a), len(b), float(ks.statistic), float(ks.pvalue), d, low, high, float(stats.wasserstein_distance(a, b)))
