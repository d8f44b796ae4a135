"""Rate schedules: per-window Poisson rates of a spike-source population, kept in an ``.npz`` file.

The file holds ``times`` (``n_windows + 1`` window edges, ms, increasing from >= 0) and ``rates``
(``[n_windows, n_cells]``, Hz, >= 0). Spikes are drawn in numpy from the model's seed, so every backend
receives the same trains.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import atomic_file
from ..errors import ModelError
from .files import model_file


def write(path: str | Path, times: np.ndarray, rates: np.ndarray) -> Path:
    """Save a schedule: ``times`` [n_windows + 1] ms, ``rates`` [n_windows, n_cells] Hz (checked first).

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.npz`` file to write (atomically).
    times : numpy.ndarray
        Window edges (ms), increasing from >= 0.
    rates : numpy.ndarray
        Rates (Hz, >= 0), one row per window, one column per cell.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ModelError
        If the arrays do not form a schedule (shapes, order, negative or non-finite values).
    """
    times, rates = np.asarray(times, dtype=np.float64), np.asarray(rates, dtype=np.float64)
    _check(times, rates, str(path), "", None)
    target = Path(path)
    with atomic_file(target) as fh:
        np.savez(fh, times=times, rates=rates)
    return target


def read(file: str, base: Path | None, path: str, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Window edges (ms) and rates (Hz) of ``file`` (relative to ``base``); errors name ``path`` and the file.

    Parameters
    ----------
    file : str
        The ``.npz`` file as the model names it.
    base : pathlib.Path or None
        The model file's folder.
    path : str
        The stimulus field that names the file, for errors.
    n_cells : int
        Cells of the target population (the number of columns expected).

    Returns
    -------
    tuple of numpy.ndarray
        ``(times, rates)``: edges [n_windows + 1] (ms) and rates [n_windows, n_cells] (Hz).

    Raises
    ------
    ModelError
        If the file is missing or unreadable or its arrays do not form a schedule for ``n_cells`` cells.
    """
    p = model_file(file, base, path, "rate schedule")
    try:
        with np.load(p, allow_pickle=False) as data:
            missing = [k for k in ("times", "rates") if k not in data.files]
            if missing:
                raise ModelError(
                    path, f"{str(p)!r} lacks array {missing[0]!r} (expected 'times' [n_windows + 1] ms and 'rates' [n_windows, n_cells] Hz)"
                )
            times, rates = np.asarray(data["times"], dtype=np.float64), np.asarray(data["rates"], dtype=np.float64)
    except (OSError, ValueError) as err:
        raise ModelError(path, f"cannot read {str(p)!r} as .npz: {err}") from None
    _check(times, rates, str(p), path, n_cells)
    return times, rates


def _check(times: np.ndarray, rates: np.ndarray, where: str, path: str, n_cells: int | None) -> None:
    def fail(message: str) -> None:
        raise ModelError(path, f"{where!r}: {message}")

    if times.ndim != 1 or len(times) < 2:
        fail(f"'times' must be a 1-d array of at least 2 window edges (ms), got shape {times.shape}")
    if rates.ndim != 2 or rates.shape[0] != len(times) - 1:
        fail(f"'rates' must have shape [n_windows, n_cells] = [{len(times) - 1}, n_cells], got {rates.shape}")
    if n_cells is not None and rates.shape[1] != n_cells:
        fail(f"'rates' has {rates.shape[1]} columns, the target has {n_cells} cells")
    if not (np.all(np.isfinite(times)) and np.all(np.isfinite(rates))):
        fail("'times' and 'rates' must be finite")
    if times[0] < 0 or np.any(np.diff(times) <= 0):
        fail("'times' must start at >= 0 ms and increase strictly")
    if rates.size and rates.min() < 0:
        fail(f"rates must be >= 0 Hz, got {rates.min():g}")


def poisson(edges: np.ndarray, rates: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Poisson spikes of every cell in every window: (cell index, time in ms), unsorted.

    Parameters
    ----------
    edges : numpy.ndarray
        Window edges (ms).
    rates : numpy.ndarray
        Rates [n_windows, n_cells] (Hz).
    rng : numpy.random.Generator
        The stimulus's stream.

    Returns
    -------
    cells, times : numpy.ndarray
        Cell indices (int64) and spike times (ms), one entry per spike.
    """
    lengths = np.diff(edges)
    counts = rng.poisson(rates * lengths[:, None] / 1000.0)
    n_windows, n_cells = rates.shape
    window = np.repeat(np.repeat(np.arange(n_windows), n_cells), counts.ravel())
    cells = np.repeat(np.tile(np.arange(n_cells, dtype=np.int64), n_windows), counts.ravel())
    times = edges[window] + rng.uniform(0.0, 1.0, len(window)) * lengths[window]
    return cells, times
