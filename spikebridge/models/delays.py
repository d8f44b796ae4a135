"""The delay policy, the same on every backend.

* A delay below ``dt`` (including 0 and negative delays) is refused with a :class:`~spikebridge.errors.ModelError`
  naming the field: a constant or bounded distribution when the model is resolved (its lower end must be
  >= dt; a ``normal`` or ``lognormal`` needs ``bounds`` for that), explicit delays (``from_list``, ``from_file``)
  when they are read.
* A delay off the dt grid is rounded to the nearest step, halves upwards (1.05 ms at dt = 0.1 ms becomes 1.1 ms),
  explicitly in :func:`spikebridge.models.instantiate`. Where the model gives delays exactly (a constant, or
  ``from_list``/``from_file`` rows), a :class:`~spikebridge.errors.ModelWarning` names the projection and how many
  were rounded; delays drawn from a distribution are continuous and are rounded without one, as NEST does.
* Backends receive delays on the grid and >= dt, and load them unchanged: :func:`grid_steps` is how they turn
  them into steps, and it refuses anything else rather than rounding or clamping it.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError

TOLERANCE = 1e-9
"""Fraction of a step within which a delay counts as on the grid (absorbs float error such as 0.3 / 0.1)."""


def _ratio(delay: np.ndarray, dt: float) -> np.ndarray:
    return np.asarray(delay, dtype=np.float64) / dt


def _tolerance(delay: np.ndarray, ratio: np.ndarray) -> np.ndarray | float:
    """:data:`TOLERANCE`, or more for delays stored at lower precision (float32 files: 0.3 is 0.3 + 1.2e-8)."""
    dtype = np.asarray(delay).dtype
    if not np.issubdtype(dtype, np.floating) or np.finfo(dtype).eps <= np.finfo(np.float64).eps:
        return TOLERANCE
    return np.maximum(TOLERANCE, 4 * np.finfo(dtype).eps * np.abs(ratio))


def check_minimum(delay: np.ndarray, dt: float, path: str) -> None:
    """Refuse delays below dt (and NaN/inf) with an error naming ``path``.

    Parameters
    ----------
    delay : numpy.ndarray
        Delays (ms).
    dt : float
        The simulation step (ms).
    path : str
        The field the delays come from, for the error.

    Raises
    ------
    ModelError
        If a delay is not finite or is below ``dt``.
    """
    ratio = _ratio(delay, dt)
    _check_ratio(delay, ratio, _tolerance(delay, ratio), dt, path)


def _check_ratio(delay: np.ndarray, ratio: np.ndarray, tolerance: np.ndarray | float, dt: float, path: str) -> None:
    # reductions first (no temporaries over tens of millions of delays); the offending count only on failure
    if ratio.size and not np.isfinite(ratio.min() + ratio.max()):
        raise ModelError(path, "delays must be finite numbers of ms")
    if ratio.size and ratio.min() < 1.0 - np.max(tolerance):
        bad = ratio < 1.0 - tolerance
        if bad.any():
            raise ModelError(path, f"delays must be >= dt = {dt:g} ms; {int(bad.sum())} are below (min {float(np.min(delay)):g} ms)")


def snap(delay: np.ndarray, dt: float, path: str) -> tuple[np.ndarray, int]:
    """Delays (all >= dt) rounded to the nearest step, halves upwards; and how many were off the grid.

    Parameters
    ----------
    delay : numpy.ndarray
        Delays (ms).
    dt : float
        The simulation step (ms).
    path : str
        The field the delays come from, for errors.

    Returns
    -------
    tuple
        ``(delays, n_rounded)``: the delays on the grid (ms, float64) and how many were moved.

    Raises
    ------
    ModelError
        As :func:`check_minimum`.

    Examples
    --------
    >>> snap(np.array([1.05, 0.3, 2.0]), 0.1, "projections.ff.delay")
    (array([1.1, 0.3, 2. ]), 1)
    """
    ratio = _ratio(delay, dt)
    tolerance = _tolerance(delay, ratio)
    _check_ratio(delay, ratio, tolerance, dt, path)
    steps = ratio + 0.5
    steps += tolerance
    np.floor(steps, out=steps)
    ratio -= steps  # ratio is a fresh array: reused for the distance to the grid
    np.abs(ratio, out=ratio)
    rounded = int(np.count_nonzero(ratio > tolerance))
    steps *= dt
    return np.round(steps, 10, out=steps), rounded


def grid_steps(delay: np.ndarray, dt: float) -> np.ndarray:
    """Delays as whole steps (int64), for a backend.

    Parameters
    ----------
    delay : numpy.ndarray
        Delays (ms), on the ``dt`` grid and >= dt (as :func:`spikebridge.models.instantiate` leaves them).
    dt : float
        The simulation step (ms).

    Returns
    -------
    numpy.ndarray
        ``delay / dt`` as int64 steps (each >= 1).

    Raises
    ------
    ValueError
        On a delay below dt, off the grid or not finite (a bug upstream, not a user error).

    Examples
    --------
    >>> grid_steps(np.array([0.1, 1.5]), 0.1)
    array([ 1, 15])
    """
    ratio = _ratio(delay, dt)
    steps = np.rint(ratio)
    off = 0.0
    if ratio.size:
        ratio -= steps  # a fresh array: reused for the distance to the grid (NaN or inf make it NaN)
        np.abs(ratio, out=ratio)
        off = float(ratio.max())
    if ratio.size and (not np.isfinite(off) or off > TOLERANCE or steps.min() < 1):
        raise ValueError(
            f"delays must lie on the dt = {dt:g} ms grid and be >= dt (the model's instantiate puts them there); "
            f"got values from {float(np.min(delay)):g} to {float(np.max(delay)):g} ms"
        )
    return steps.astype(np.int64)
