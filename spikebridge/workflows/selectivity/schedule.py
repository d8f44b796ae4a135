"""Images to input rates, and input rates to a presentation schedule (a ``rate_schedule`` file)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ...models import rate_schedule
from ...stimuli import GaborEncoder, GaussianNoise, ImageSet, Resize


def input_image(image: np.ndarray, size: int, noise: float, rng: np.random.Generator | None) -> np.ndarray:
    """The image the network sees: resized to ``size`` x ``size``, then Gaussian noise of ``noise`` grey levels."""
    small = Resize(size)(image)
    return GaussianNoise(noise)(small, rng) if noise > 0 else small


def input_images(images: ImageSet, size: int, noise: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """Every image as the network sees it ``[n_images, size, size]``; noise drawn from ``rng`` image by image."""
    return np.stack([input_image(im, size, noise, rng) for im in images.images])


def image_rates(images: ImageSet, encoder: GaborEncoder, size: int, noise: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """Input rates (Hz) ``[n_images, channels, size, size]`` of :func:`input_images`."""
    return np.stack([encoder.rates(im) for im in input_images(images, size, noise, rng)])


def presentation_schedule(rates: np.ndarray, order: Sequence[int], present_ms: float, gap_ms: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window edges (ms) and rates [windows, cells] showing ``rates[order[k]]`` for ``present_ms`` each,
    separated by ``gap_ms`` of silence; also the onset (ms) of every presentation."""
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


def write_schedule(path: Path, rates: np.ndarray, order: Sequence[int], present_ms: float, gap_ms: float) -> np.ndarray:
    """Write the schedule of :func:`presentation_schedule` to ``path``; returns the onsets (ms)."""
    edges, windows, onsets = presentation_schedule(rates, order, present_ms, gap_ms)
    rate_schedule.write(path, edges, windows)
    return onsets
