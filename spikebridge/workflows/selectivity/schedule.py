"""Images to input rates, and input rates to a presentation schedule (a ``rate_schedule`` file)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...models import rate_schedule
from ...stimuli import Encoder, GaussianNoise, ImageSet, Resize


def input_image(image: np.ndarray, size: int, noise: float, rng: np.random.Generator | None) -> np.ndarray:
    """The image the network sees: resized to ``size`` x ``size``, then Gaussian noise of ``noise`` grey levels.

    Parameters
    ----------
    image : numpy.ndarray
        ``[rows, cols]`` grey levels (0-255).
    size : int
        Side of the input grid (pixels).
    noise : float
        Standard deviation of the noise (grey levels); 0 for none.
    rng : numpy.random.Generator or None
        Where the noise is drawn from.

    Returns
    -------
    numpy.ndarray
        ``[size, size]`` grey levels, clipped to 0-255.
    """
    small = Resize(size)(image)
    return GaussianNoise(noise)(small, rng) if noise > 0 else small


def input_images(images: ImageSet, size: int, noise: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """Every image as the network sees it ``[n_images, size, size]``; noise drawn from ``rng`` image by image.

    Parameters
    ----------
    images : ImageSet
        The data set.
    size : int
        Side of the input grid (pixels).
    noise : float, optional
        Standard deviation of the noise (grey levels).
    rng : numpy.random.Generator, optional
        Where the noise is drawn from.

    Returns
    -------
    numpy.ndarray
        ``[n_images, size, size]`` grey levels.
    """
    return np.stack([input_image(im, size, noise, rng) for im in images.images])


def image_rates(
    images: ImageSet, encoder: Encoder, size: int, noise: float = 0.0, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Input rates (Hz) ``[n_images, channels, size, size]`` of :func:`input_images`.

    Parameters
    ----------
    images : ImageSet
        The data set.
    encoder : GaborEncoder or NormalisedGaborEncoder
        Turns an image into rates.
    size : int
        Side of the input grid (pixels).
    noise : float, optional
        Standard deviation of the noise (grey levels).
    rng : numpy.random.Generator, optional
        Where the noise is drawn from.

    Returns
    -------
    numpy.ndarray
        Rates in Hz.

    Examples
    --------
    >>> from spikebridge.stimuli import GaborEncoder, boundary_contour_shapes
    >>> image_rates(boundary_contour_shapes(2, 1, size=32), GaborEncoder(), 8).shape
    (2, 8, 8, 8)
    """
    return np.stack([encoder.rates(im) for im in input_images(images, size, noise, rng)])


def presentation_schedule(
    rates: np.ndarray, order: Sequence[int] | np.ndarray, present_ms: float, gap_ms: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window edges (ms) and rates [windows, cells] showing ``rates[order[k]]`` for ``present_ms`` each,
    separated by ``gap_ms`` of silence; also the onset (ms) of every presentation.

    Parameters
    ----------
    rates : numpy.ndarray
        Rates (Hz) per image, ``[n_images, ...]`` (flattened to cells).
    order : sequence of int
        The images to show, in order.
    present_ms, gap_ms : float
        Presentation and gap durations (ms).

    Returns
    -------
    edges, windows, onsets : numpy.ndarray
        Window edges (ms), rates per window ``[windows, cells]`` (Hz; zeros during gaps), and onsets (ms).

    Examples
    --------
    >>> edges, windows, onsets = presentation_schedule(np.array([[1.0, 2.0], [3.0, 4.0]]), [1, 0], 200.0, 50.0)
    >>> edges, windows.tolist(), onsets
    (array([  0., 200., 250., 450., 500.]), [[3.0, 4.0], [0.0, 0.0], [1.0, 2.0], [0.0, 0.0]], array([  0., 250.]))
    """
    flat = rates.reshape(len(rates), -1)
    onsets = np.arange(len(order)) * (present_ms + gap_ms)
    if gap_ms > 0:
        edges = np.append(np.column_stack([onsets, onsets + present_ms]).ravel(), onsets[-1] + present_ms + gap_ms)
        windows = np.zeros((2 * len(order), flat.shape[1]))
        windows[0::2] = flat[list(order)]
    else:
        edges = np.append(onsets, onsets[-1] + present_ms)
        windows = flat[list(order)]
    return edges, windows, onsets


def write_schedule(path: Path, rates: np.ndarray, order: Sequence[int] | np.ndarray, present_ms: float, gap_ms: float) -> np.ndarray:
    """Write the schedule of :func:`presentation_schedule` to ``path``; returns the onsets (ms).

    Parameters
    ----------
    path : pathlib.Path
        The ``.npz`` rate-schedule file (:mod:`spikebridge.models.rate_schedule`).
    rates : numpy.ndarray
        Rates (Hz) per image.
    order : sequence of int
        The images to show, in order.
    present_ms, gap_ms : float
        Presentation and gap durations (ms).

    Returns
    -------
    numpy.ndarray
        The onset of every presentation (ms).
    """
    edges, windows, onsets = presentation_schedule(rates, order, present_ms, gap_ms)
    rate_schedule.write(path, edges, windows)
    return onsets
