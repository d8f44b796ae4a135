"""Input spike trains drawn in numpy, on the simulation's time grid, so every backend sees the same input."""

from __future__ import annotations

import numpy as np

from ..errors import ModelError


def poisson(n: int, rate: float | np.ndarray, start: float, stop: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Homogeneous Poisson trains for ``n`` cells at ``rate`` Hz (one value, or one per cell) on [start, stop) ms.

    Parameters
    ----------
    n : int
        Cells.
    rate : float or numpy.ndarray
        Rate (Hz, >= 0), one value or one per cell.
    start, stop : float
        The window (ms).
    rng : numpy.random.Generator
        The stimulus's stream.

    Returns
    -------
    cells, times : numpy.ndarray
        Cell indices (int64) and spike times (ms, off the grid: see :func:`on_grid`), unsorted.

    Raises
    ------
    ValueError
        If a rate is negative or not finite.

    Examples
    --------
    >>> cells, times = poisson(100, 20.0, 0.0, 1000.0, np.random.default_rng(0))   # 100 cells, 20 Hz, 1 s
    >>> len(cells), bool(times.min() >= 0.0 and times.max() < 1000.0)
    (2104, True)
    """
    rates = np.broadcast_to(np.asarray(rate, dtype=np.float64), (n,))
    if rates.size and not (np.all(np.isfinite(rates)) and rates.min() >= 0):
        raise ValueError("Poisson rates must be finite and >= 0 Hz (the model's checks refuse others)")
    if stop <= start or n == 0 or np.all(rates == 0):
        return np.empty(0, dtype=np.int64), np.empty(0)
    counts = rng.poisson(rates * (stop - start) / 1000.0)
    cells = np.repeat(np.arange(n, dtype=np.int64), counts)
    times = rng.uniform(start, stop, size=int(counts.sum()))
    return cells, times


def resampled_poisson(
    n: int, rate: float, start: float, stop: float, every: float, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson trains where, in each stretch of ``every`` ms, a fresh random ``fraction`` of the ``n`` cells fires
    at ``rate`` Hz and the rest are silent.

    Parameters
    ----------
    n : int
        Cells.
    rate : float
        Rate of an active cell (Hz).
    start, stop : float
        The window (ms).
    every : float
        Length of each stretch (ms).
    fraction : float
        Fraction of the cells active in a stretch (0-1).
    rng : numpy.random.Generator
        The stimulus's stream.

    Returns
    -------
    cells, times : numpy.ndarray
        Cell indices (int64) and spike times (ms), unsorted.
    """
    edges = np.append(np.arange(start, stop, every), stop)
    n_win = len(edges) - 1
    k = int(round(fraction * n))
    if n_win <= 0 or k == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    active = np.argpartition(rng.random((n_win, n)), k - 1, axis=1)[:, :k]
    lengths = np.diff(edges)[:, None]
    counts = rng.poisson(rate * np.broadcast_to(lengths, (n_win, k)) / 1000.0)
    win = np.repeat(np.repeat(np.arange(n_win), k), counts.ravel())
    cells = np.repeat(active.ravel(), counts.ravel()).astype(np.int64)
    times = edges[win] + rng.uniform(0.0, 1.0, len(win)) * np.diff(edges)[win]
    return cells, times


FIRST_STEP = 2
"""The earliest step a spike source may fire at. NEST's spike sources refuse time 0, and pyNN.nest (behind the PyNN
drop-in) emits a ``SpikeSourceArray``'s spikes one min_delay (= dt) early through a parrot neuron, so t = 2 dt is
the first spike every backend and the drop-in can deliver."""


def on_grid(cells: np.ndarray, times: np.ndarray, n: int, dt: float) -> list[np.ndarray]:
    """Per-cell sorted spike times snapped to the dt grid (from step ``FIRST_STEP``, at most one spike per step).

    A simulator can only deliver a spike on a time step: snapping here makes every backend deliver the
    same spikes, instead of each rounding (or refusing) off-grid times in its own way.

    Parameters
    ----------
    cells, times : numpy.ndarray
        Cell indices and spike times (ms), as :func:`poisson` returns them.
    n : int
        Cells.
    dt : float
        The simulation step (ms).

    Returns
    -------
    list of numpy.ndarray
        One sorted array of spike times (ms) per cell.

    Raises
    ------
    ModelError
        If ``n`` times the number of steps is too large to index.

    Examples
    --------
    Times round to the nearest step (dt = 0.1 ms), and nothing fires before step 2 (0.04 ms becomes 0.2 ms):

    >>> on_grid(np.array([0, 0, 1, 0]), np.array([0.04, 1.26, 3.0, 1.24]), 2, 0.1)
    [array([0.2, 1.2, 1.3]), array([3.])]
    """
    steps = np.maximum(np.rint(np.asarray(times) / dt).astype(np.int64), FIRST_STEP)
    span = int(steps.max(initial=0)) + 1
    if n * span >= 2**62:  # the packed (cell, step) key below would overflow int64
        raise ModelError(
            "simulation",
            f"{n} spike-source cells x {span} time steps are more than spike times can be indexed by; "
            "shorten the run or use a longer dt",
        )
    # sort + mask, not np.unique: numpy 2's hash-based unique is ~8x slower on tens of millions of spikes
    key = np.sort(np.asarray(cells, dtype=np.int64) * span + steps)
    key = key[np.concatenate(([True], key[1:] != key[:-1]))] if len(key) else key
    cell_of, step_of = np.divmod(key, span)
    bounds = np.searchsorted(cell_of, np.arange(n + 1))
    grid = step_of * dt
    return [np.round(grid[bounds[i] : bounds[i + 1]], 10) for i in range(n)]
