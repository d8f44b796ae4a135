"""A Gabor filter bank (phases x orientations) that turns a grey-level image into Poisson rates (Hz)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

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
    k = _gabor((size - 1) / 2, wavelength, theta, phase, sigma, gamma)
    k -= k.mean()
    return k / np.abs(k).sum()


def _gabor(half: float, wavelength: float, theta: float, phase: float, sigma: float, gamma: float) -> np.ndarray:
    """The Gabor function on the pixel grid from ``-half`` to ``half``: envelope s.d. ``sigma`` along the carrier and
    ``sigma / gamma`` across it, carrier ``cos(2 pi x' / wavelength + phase)`` in the direction ``theta``."""
    y, x = np.mgrid[-half : half + 1, -half : half + 1]
    xr = x * np.cos(theta) + y * np.sin(theta)
    yr = -x * np.sin(theta) + y * np.cos(theta)
    return np.exp(-(xr**2 + (gamma * yr) ** 2) / (2 * sigma**2)) * np.cos(2 * np.pi * xr / wavelength + phase)


def correlate(image: np.ndarray, kernels: np.ndarray, border: Literal["edge", "reflect"]) -> np.ndarray:
    """The correlation of ``image`` with every kernel (odd sides), 'same' size, the border padded by numpy's ``border``
    mode: ``[channels, rows, cols]``. Correlation, not convolution: a kernel's orientation is then the one its
    response is named for."""
    half = kernels.shape[-1] // 2
    windows = sliding_window_view(np.pad(np.asarray(image, dtype=np.float64), half, mode=border), kernels.shape[1:])
    return np.einsum("ijkl,ckl->cij", windows, kernels)


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
        return correlate(image, self.kernels(), "edge")

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


def opencv_gabor_kernel(size: int, sigma: float, theta: float, wavelength: float, gamma: float, phase: float) -> np.ndarray:
    """OpenCV's ``getGaborKernel((size, size), sigma, theta, wavelength, gamma, phase)``, made zero mean and unit L2.

    OpenCV spans ``2 * (size // 2) + 1`` pixels (7 for 6) and stores the Gabor function point-reflected (its row
    ``ymax - y``, column ``xmax - x``), which turns an odd phase into the opposite one; filtering correlates with it.
    """
    k = _gabor(size // 2, wavelength, theta, phase, sigma, gamma)[::-1, ::-1]
    k = k - k.mean()
    return k / np.sqrt(np.sum(k**2))


@dataclass(frozen=True)
class NormalisedGaborEncoder:
    """Gabor rates in units of each image's own spread, as the feature-binding study's ``hsnn`` encodes its images.

    The image is divided by its standard deviation and correlated with zero-mean, unit-L2 kernels
    (:func:`opencv_gabor_kernel`, OpenCV's reflect-101 border); responses below ``threshold`` are set to 0; each
    channel is divided by its L2 norm, the whole stack by its standard deviation, and multiplied by ``scale``. Every
    image's rates therefore have a standard deviation of ``scale`` Hz over all channels and pixels, with no upper
    bound. The defaults are the study's N4P2 configuration (BCGardner/feature_binding, ``encoder:`` of its
    ``config.yaml``; ``sigma`` from a bandwidth of 1 octave: 0.45 px for a wavelength of 0.8 px).

    Channel ``c = phase_index * len(orientations) + orientation_index``, as in :class:`GaborEncoder`. The kernels are
    float64 here; ``hsnn`` asks OpenCV for float32 ones, so a response within float32 rounding of the threshold may
    fall on the other side of it.

    Parameters
    ----------
    phases : sequence of float, optional
        Carrier phases (rad).
    orientations : sequence of float, optional
        Carrier directions (rad).
    kernel_size : int, optional
        OpenCV's ``ksize`` (the kernel spans ``2 * (kernel_size // 2) + 1`` pixels).
    wavelength : float, optional
        Carrier wavelength (pixels).
    bandwidth : float, optional
        Spatial-frequency bandwidth (octaves), which sets the envelope's standard deviation.
    gamma : float, optional
        Aspect ratio of the envelope.
    threshold : float, optional
        Responses below it (the image in units of its standard deviation) are set to 0.
    scale : float, optional
        Standard deviation of the rates over the stack (Hz).

    Examples
    --------
    >>> encoder = NormalisedGaborEncoder()
    >>> encoder.n_channels, encoder.kernels().shape
    (8, (8, 7, 7))
    >>> square = np.zeros((32, 32)); square[8:24, 8:24] = 255.0
    >>> rates = encoder.rates(square)
    >>> rates.shape, round(float(rates.std()), 9), float(rates.min())
    ((8, 32, 32), 6.0, 0.0)
    """

    phases: Sequence[float] = (-1.571, 1.571)
    orientations: Sequence[float] = (0.0, 0.785, 1.571, 2.356)
    kernel_size: int = 6
    wavelength: float = 0.8
    bandwidth: float = 1.0
    gamma: float = 0.5
    threshold: float = 0.1
    scale: float = 6.0

    @property
    def n_channels(self) -> int:
        """Channels: ``len(phases) * len(orientations)``."""
        return len(self.phases) * len(self.orientations)

    @property
    def sigma(self) -> float:
        """The envelope's standard deviation (pixels) for the wavelength and bandwidth."""
        b = 2.0**self.bandwidth
        return float(self.wavelength / np.pi * np.sqrt(np.log(2) / 2) * (b + 1) / (b - 1))

    def kernels(self) -> np.ndarray:
        """The filter bank ``[channels, 2 * (kernel_size // 2) + 1, same]``."""
        return np.stack(
            [
                opencv_gabor_kernel(self.kernel_size, self.sigma, th, self.wavelength, self.gamma, ph)
                for ph in self.phases
                for th in self.orientations
            ]
        )

    def rates(self, image: np.ndarray) -> np.ndarray:
        """Poisson rates (Hz) ``[channels, rows, cols]`` for an image of grey levels.

        Parameters
        ----------
        image : numpy.ndarray
            ``[rows, cols]`` grey levels.

        Returns
        -------
        numpy.ndarray
            Rates in Hz, 0 where a response is below the threshold; all 0 for a uniform image.
        """
        image = np.asarray(image, dtype=np.float64)
        spread = image.std()
        if spread == 0:
            return np.zeros((self.n_channels, *image.shape))
        out = correlate(image / spread, self.kernels(), "reflect")  # numpy's "reflect" is OpenCV's BORDER_REFLECT_101
        out[out < self.threshold] = 0.0
        norms = np.sqrt(np.sum(out**2, axis=(1, 2)))
        out[norms > 0] /= norms[norms > 0, None, None]
        spread = out.std()
        return self.scale * out / spread if spread > 0 else out


Encoder = GaborEncoder | NormalisedGaborEncoder
"""An image-to-rates encoder of the selectivity workflow."""
