"""Image transforms: resizing and seeded Gaussian pixel noise, on grey-level images (0-255, float64)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


class Resize:
    """Resize to ``size`` (an int: square) with Pillow: box (area) averaging when shrinking, bilinear otherwise.

    Parameters
    ----------
    size : int or tuple of int
        ``(rows, cols)`` of the result (pixels), or one int for a square.

    Examples
    --------
    >>> Resize(2)(np.arange(16.0).reshape(4, 4))
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """

    def __init__(self, size: int | tuple[int, int]) -> None:
        self.size = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))

    def __call__(self, image: np.ndarray) -> np.ndarray:
        from PIL import Image

        rows, cols = self.size
        if image.shape == self.size:
            return np.asarray(image, dtype=np.float64).copy()
        shrink = rows <= image.shape[0] and cols <= image.shape[1]
        method = Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR
        out = Image.fromarray(np.asarray(image, dtype=np.float32), mode="F").resize((cols, rows), method)
        return np.asarray(out, dtype=np.float64)

    def __repr__(self) -> str:
        return f"Resize({self.size})"


class GaussianNoise:
    """Add Gaussian noise of standard deviation ``amplitude`` (grey levels) to every pixel, then clip to 0-255.

    Draws come from ``rng`` when one is passed, else from this transform's own generator seeded by ``seed``
    (so a sequence of calls is reproducible). ``amplitude = 0`` returns the image unchanged.

    Parameters
    ----------
    amplitude : float
        Standard deviation of the noise (grey levels, >= 0).
    seed : int or numpy.random.SeedSequence, optional
        Seed of the transform's own generator.

    Raises
    ------
    ValueError
        If ``amplitude`` is negative.

    Examples
    --------
    >>> noisy = GaussianNoise(10.0, seed=1)(np.full((4, 4), 100.0))
    >>> noisy.shape, bool(0.0 <= noisy.min() and noisy.max() <= 255.0)
    ((4, 4), True)
    """

    def __init__(self, amplitude: float, seed: int | np.random.SeedSequence | None = None) -> None:
        if amplitude < 0:
            raise ValueError(f"noise amplitude must be >= 0, got {amplitude}")
        self.amplitude = float(amplitude)
        self.rng = np.random.default_rng(seed)

    def __call__(self, image: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        image = np.asarray(image, dtype=np.float64)
        if self.amplitude == 0:
            return image.copy()
        noise = (rng or self.rng).normal(0.0, self.amplitude, image.shape)
        return np.clip(image + noise, 0.0, 255.0)

    def transform(self, image: np.ndarray) -> np.ndarray:
        """The same as calling the transform (the name the reference notebooks use).

        Parameters
        ----------
        image : numpy.ndarray
            Grey levels (0-255).

        Returns
        -------
        numpy.ndarray
            The noisy image, clipped to 0-255.
        """
        return self(image)

    def __repr__(self) -> str:
        return f"GaussianNoise({self.amplitude:g})"


class Compose:
    """Apply transforms in order.

    Parameters
    ----------
    transforms : sequence of callable
        Each takes and returns an image array.

    Examples
    --------
    >>> Compose([Resize(8), GaussianNoise(0.0)])(np.zeros((16, 16))).shape
    (8, 8)
    """

    def __init__(self, transforms: Sequence[Callable[[np.ndarray], np.ndarray]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        for t in self.transforms:
            image = t(image)
        return image
