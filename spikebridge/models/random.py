"""Seeded numpy draws: one independent stream per (kind, name, field), so adding or reordering items in a
model never changes the draws of the others."""

from __future__ import annotations

import zlib

import numpy as np

from ..errors import ModelError
from .schema import Distribution, as_float


def stream(seed: int, *key: str) -> np.random.Generator:
    """A generator for one named random quantity of a model with this seed."""
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
    """``n`` values of a resolved distribution (float64); bounds are honoured by redrawing or clipping."""
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
    return d.distribution == "constant"
