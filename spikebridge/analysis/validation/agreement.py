"""Spike-time agreement of two runs of one non-chaotic network: which spikes of A have a partner in B within a tolerance.

Where dynamics are not chaotic (unconnected cells under the same drawn input, a pairing protocol) two simulators
that integrate the same equations the same way must give the same spike times, up to the time grid. Spikes are
paired one-to-one, in order, within ``tolerance``; a spike without a partner on the other backend is a miss.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def matched(a: np.ndarray, b: np.ndarray, tolerance: float) -> int:
    """The number of spikes of ``a`` paired one-to-one with a spike of ``b`` no further than ``tolerance`` away.

    Both trains are sorted times; pairs are formed greedily in time order, which is the largest matching when the
    tolerance is below half the shortest inter-spike interval (a refractory period longer than two time steps).

    Parameters
    ----------
    a, b : numpy.ndarray
        Spike times of one cell on two backends (same unit as ``tolerance``).
    tolerance : float
        The largest time difference of a pair (e.g. one time step, plus rounding).

    Returns
    -------
    int
        The number of pairs.

    Examples
    --------
    >>> matched(np.array([1.0, 5.0, 9.0]), np.array([1.1, 5.0, 12.0]), 0.1001)
    2
    """
    i = j = n = 0
    while i < len(a) and j < len(b):
        d = a[i] - b[j]
        if abs(d) <= tolerance:
            n += 1
            i += 1
            j += 1
        elif d < 0:
            i += 1
        else:
            j += 1
    return n


def agreement(trains_a: Sequence[np.ndarray], trains_b: Sequence[np.ndarray], tolerance: float) -> dict[str, float]:
    """Spike-time agreement of two runs of one population, cell by cell.

    Parameters
    ----------
    trains_a, trains_b : sequence of numpy.ndarray
        Spike times of each cell (same cells, same order) on the two backends.
    tolerance : float
        The largest time difference of a matched pair.

    Returns
    -------
    dict
        ``spikes_a``, ``spikes_b``, ``matched`` (pairs), ``fraction`` (matched / the larger count: the share of spikes
        that agree), ``identical_cells`` (cells whose every spike matched on both sides).
    """
    if len(trains_a) != len(trains_b):
        raise ValueError(f"the runs hold {len(trains_a)} and {len(trains_b)} cells")
    n_a = n_b = n = same = 0
    for a, b in zip(trains_a, trains_b, strict=True):
        a, b = np.sort(np.asarray(a, dtype=float)), np.sort(np.asarray(b, dtype=float))
        k = matched(a, b, tolerance)
        n_a, n_b, n = n_a + len(a), n_b + len(b), n + k
        same += int(k == len(a) == len(b))
    larger = max(n_a, n_b)
    return {
        "cells": len(trains_a),
        "spikes_a": n_a,
        "spikes_b": n_b,
        "matched": n,
        "fraction": n / larger if larger else float("nan"),
        "identical_cells": same,
    }


def agreement_table(runs_a: dict[str, Sequence[np.ndarray]], runs_b: dict[str, Sequence[np.ndarray]], tolerance: float) -> pd.DataFrame:
    """:func:`agreement` of every population the two runs share, one row each (index: population)."""
    rows = {pop: agreement(runs_a[pop], runs_b[pop], tolerance) for pop in runs_a if pop in runs_b}
    return pd.DataFrame.from_dict(rows, orient="index")
