"""Seeded numpy draws: one independent stream per (kind, name, field), so adding or reordering items in a
model never changes the draws of the others."""

from __future__ import annotations

import zlib

import numpy as np

from ..errors import ModelError
from .schema import Distribution, as_float


def stream(seed: int, *key: str) -> np.random.Generator:
    """A generator for one named random quantity of a model with this seed.

    Parameters
    ----------
    seed : int
        The model's seed (``simulation.seed``).
    *key : str
        The quantity's name, e.g. ``("projection", "ff", "weight")``; each part is hashed into the spawn key.

    Returns
    -------
    numpy.random.Generator
        A PCG64 generator independent of every other key's.
    """
    spawn_key = tuple(zlib.crc32(part.encode()) for part in key)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy=seed, spawn_key=spawn_key)))


def _sample(d: Distribution, n: int, rng: np.random.Generator) -> np.ndarray:
    match d.distribution:
        case "constant":
            return np.full(n, d.value, dtype=np.float64)
        case "uniform":
            return rng.uniform(as_float(d.low), as_float(d.high), n)
        case "normal":
            return rng.normal(as_float(d.mean), as_float(d.sd), n)
        case "lognormal":
            return rng.lognormal(as_float(d.mu), as_float(d.sigma), n)
    raise AssertionError(d.distribution)


def draw(d: Distribution, n: int, rng: np.random.Generator, path: str = "", max_rounds: int = 100) -> np.ndarray:
    """``n`` values of a resolved distribution (float64); bounds are honoured by redrawing or clipping.

    Parameters
    ----------
    d : Distribution
        A resolved distribution (floats in the field's PyNN unit).
    n : int
        How many values.
    rng : numpy.random.Generator
        The quantity's stream (:func:`stream`).
    path : str, optional
        The field's path, for the error.
    max_rounds : int, optional
        Redraws of out-of-bounds values before giving up (``out_of_bounds = "redraw"``).

    Returns
    -------
    numpy.ndarray
        ``n`` values in the field's unit.

    Raises
    ------
    ModelError
        If values still fall outside the bounds after ``max_rounds`` redraws.

    Examples
    --------
    >>> from spikebridge.models.schema import Distribution
    >>> d = Distribution(distribution="normal", mean=0.004, sd=0.001, bounds=(0.0, 0.005))   # weights, uS
    >>> a = draw(d, 5, stream(7, "projection", "ff", "weight"))
    >>> b = draw(d, 5, stream(7, "projection", "ff", "weight"))
    >>> bool(np.array_equal(a, b)), bool(a.max() <= 0.005)
    (True, True)
    """
    values = _sample(d, n, rng)
    if d.bounds is None:
        return values
    low, high = float(d.bounds[0]), float(d.bounds[1])
    if d.out_of_bounds == "clip":
        return np.clip(values, low, high)
    for _ in range(max_rounds):
        bad = (values < low) | (values > high)
        if not bad.any():
            return values
        values[bad] = _sample(d, int(bad.sum()), rng)
    raise ModelError(
        path,
        f"after {max_rounds} redraws values still fall outside bounds [{low}, {high}]; "
        "widen the bounds or use out_of_bounds = 'clip'",
    )


def is_constant(d: Distribution) -> bool:
    """Whether a distribution is a constant (drawn as a homogeneous value, with no random draws).

    Parameters
    ----------
    d : Distribution
        Any distribution.

    Returns
    -------
    bool
        True for ``distribution = "constant"``.
    """
    return d.distribution == "constant"
