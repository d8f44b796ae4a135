"""A Gabor filter bank (phases x orientations) that turns a grey-level image into Poisson rates (Hz)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def gabor_kernel(size: int, wavelength: float, theta: float, phase: float, sigma: float | None = None, gamma: float = 0.5) -> np.ndarray:
    """A ``size x size`` Gabor kernel, zero mean and unit L1 norm.

    ``theta`` (rad) is the direction of the carrier (the kernel responds to edges and bars lying at
    ``theta + pi/2``); ``phase`` 0 is even (bar detector), ``pi/2`` odd (edge detector); ``sigma`` defaults to
    ``0.5 * wavelength``; ``gamma`` is the envelope's aspect ratio.

    Parameters
    ----------
    size : int
        Side of the kernel (pixels).
    wavelength : float
        Wavelength of the carrier (pixels).
    theta : float
        Direction of the carrier (rad).
    phase : float
        Phase of the carrier (rad).
    sigma : float, optional
        Standard deviation of the Gaussian envelope (pixels).
    gamma : float, optional
        Aspect ratio of the envelope (across / along the carrier).

    Returns
    -------
    numpy.ndarray
        ``[size, size]``, summing to 0, absolute values summing to 1.

    Examples
    --------
    >>> k = gabor_kernel(5, 4.0, 0.0, np.pi / 2)
    >>> k.shape, round(float(k.sum()), 12), round(float(np.abs(k).sum()), 12)
    ((5, 5), 0.0, 1.0)
    """
    sigma = 0.5 * wavelength if sigma is None else sigma
    half = (size - 1) / 2
    y, x = np.mgrid[-half : half + 1, -half : half + 1]
    xr = x * np.cos(theta) + y * np.sin(theta)
    yr = -x * np.sin(theta) + y * np.cos(theta)
    k = np.exp(-(xr**2 + (gamma * yr) ** 2) / (2 * sigma**2)) * np.cos(2 * np.pi * xr / wavelength + phase)
    k -= k.mean()
    return k / np.abs(k).sum()


@dataclass(frozen=True)
class GaborEncoder:
    """Filter an image with ``len(phases) x n_orientations`` Gabor kernels, rectify, and rescale to Hz.

    Channel ``c = phase_index * n_orientations + orientation_index``. A channel's rate is ``max_rate`` times its
    rectified response divided by the response to an ideal black-to-white step edge (clipped at 1), plus
    ``baseline_rate``. The default phases are the two odd (edge) phases, i.e. both contrast polarities.

    Parameters
    ----------
    n_orientations : int, optional
        Orientations, evenly spaced over [0, pi).
    phases : sequence of float, optional
        Carrier phases (rad).
    kernel_size : int, optional
        Side of each kernel (pixels).
    wavelength : float, optional
        Carrier wavelength (pixels).
    max_rate : float, optional
        Rate (Hz) of a channel at full drive (an ideal step edge).
    baseline_rate : float, optional
        Rate (Hz) added to every channel.

    Examples
    --------
    >>> encoder = GaborEncoder()
    >>> encoder.n_channels, encoder.kernels().shape
    (8, (8, 5, 5))
    >>> step = np.zeros((16, 16)); step[:, 8:] = 255.0      # a vertical black-to-white edge
    >>> rates = encoder.rates(step)                          # Hz
    >>> rates.shape, float(rates.max())
    ((8, 16, 16), 60.0)
    """

    n_orientations: int = 4
    phases: Sequence[float] = (np.pi / 2, -np.pi / 2)
    kernel_size: int = 5
    wavelength: float = 4.0
    max_rate: float = 60.0
    baseline_rate: float = 0.0

    @property
    def n_channels(self) -> int:
        """Channels: ``len(phases) * n_orientations``."""
        return len(self.phases) * self.n_orientations

    @property
    def orientations(self) -> np.ndarray:
        """The carriers' directions (rad): ``k * pi / n_orientations``."""
        return np.arange(self.n_orientations) * np.pi / self.n_orientations

    def kernels(self) -> np.ndarray:
        """The filter bank, channel ``c = phase_index * n_orientations + orientation_index``.

        Returns
        -------
        numpy.ndarray
            ``[channels, kernel_size, kernel_size]`` (:func:`gabor_kernel` of each phase and orientation).
        """
        return np.stack([gabor_kernel(self.kernel_size, self.wavelength, th, ph) for ph in self.phases for th in self.orientations])

    def responses(self, image: np.ndarray) -> np.ndarray:
        """Filter responses ``[channels, rows, cols]`` ('same' size; the border is padded with edge values).

        Parameters
        ----------
        image : numpy.ndarray
            ``[rows, cols]`` grey levels (0-255).

        Returns
        -------
        numpy.ndarray
            The correlation of the image with every kernel, in grey levels.
        """
        k = self.kernels()
        half = self.kernel_size // 2
        padded = np.pad(np.asarray(image, dtype=np.float64), half, mode="edge")
        windows = sliding_window_view(padded, (self.kernel_size, self.kernel_size))
        # correlation, not convolution: a kernel's orientation is then the one its response is named for
        return np.einsum("ijkl,ckl->cij", windows, k)

    def rates(self, image: np.ndarray) -> np.ndarray:
        """Poisson rates (Hz) ``[channels, rows, cols]`` for an image of grey levels 0-255.

        Parameters
        ----------
        image : numpy.ndarray
            ``[rows, cols]`` grey levels (0-255).

        Returns
        -------
        numpy.ndarray
            Rates in Hz, from ``baseline_rate`` to ``baseline_rate + max_rate``.
        """
        k = self.kernels()
        full_scale = 255.0 * np.clip(k, 0, None).sum(axis=(1, 2))[:, None, None]
        drive = np.clip(self.responses(image) / full_scale, 0.0, 1.0)
        drive[drive < 1e-9] = 0.0  # rounding residue of the zero-mean kernels on flat regions
        return self.baseline_rate + self.max_rate * drive
