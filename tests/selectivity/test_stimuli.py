"""Image data sets, transforms and the Gabor encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spikebridge.stimuli import (
    GaborEncoder,
    GaussianNoise,
    ImageSet,
    NormalisedGaborEncoder,
    Resize,
    boundary_contour_shapes,
    gabor_kernel,
)
from spikebridge.stimuli.images import DatasetError


def grating(theta: float, wavelength: float = 4.0, size: int = 24) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size]
    return 127.5 + 127.5 * np.sin(2 * np.pi * (x * np.cos(theta) + y * np.sin(theta)) / wavelength)


def test_each_gabor_orientation_responds_most_to_its_own_grating() -> None:
    enc = GaborEncoder(n_orientations=4, kernel_size=7, wavelength=4.0)
    energy = np.zeros((4, 4))  # grating orientation x filter orientation
    for i, theta in enumerate(enc.orientations):
        resp = enc.responses(grating(theta))[:, 6:-6, 6:-6]  # away from the padded border
        energy[i] = (resp.reshape(2, 4, -1) ** 2).sum(axis=(0, 2))
    assert np.array_equal(energy.argmax(axis=1), np.arange(4))


def test_gabor_kernel_is_zero_mean_and_normalised() -> None:
    k = gabor_kernel(5, 4.0, 0.3, np.pi / 2)
    assert k.shape == (5, 5)
    assert abs(k.sum()) < 1e-12 and np.isclose(np.abs(k).sum(), 1.0)


def test_encoder_rates_shape_range_and_silence_on_flat_images() -> None:
    enc = GaborEncoder(max_rate=50.0)
    image = Resize(16)(boundary_contour_shapes(1, 1)[0])
    rates = enc.rates(image)
    assert rates.shape == (8, 16, 16)
    assert rates.min() >= 0 and 0 < rates.max() <= 50.0
    assert np.all(enc.rates(np.full((16, 16), 200.0)) == 0)  # no edges, no input


def test_normalised_encoder_has_the_study_s_kernels_and_rates_in_units_of_their_spread() -> None:
    enc = NormalisedGaborEncoder()
    assert round(enc.sigma, 4) == 0.4497  # OpenCV's sigma for a 1-octave bandwidth at wavelength 0.8 px
    k = enc.kernels()
    assert k.shape == (8, 7, 7)  # OpenCV spans 2 * (6 // 2) + 1 pixels
    np.testing.assert_allclose(k.sum(axis=(1, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.sqrt((k**2).sum(axis=(1, 2))), 1.0)
    image = Resize(32)(boundary_contour_shapes(2, 1)[1])
    rates = enc.rates(image)
    assert rates.shape == (8, 32, 32) and rates.min() == 0.0
    assert np.isclose(rates.std(), 6.0) and 0.0 < (rates > 0).mean() < 0.5
    # the image is divided by its spread and the kernels have zero mean: contrast and brightness do not matter
    np.testing.assert_allclose(enc.rates(0.25 * image + 40.0), rates, atol=1e-9)
    assert np.all(enc.rates(np.full((16, 16), 90.0)) == 0)
    # the two odd phases are opposite polarities: the inverted image swaps them
    exact = NormalisedGaborEncoder(phases=(-np.pi / 2, np.pi / 2))
    np.testing.assert_allclose(exact.rates(255.0 - image), np.roll(exact.rates(image), 4, axis=0), atol=1e-9)


def test_gaussian_noise_is_seeded_and_clipped() -> None:
    image = np.full((32, 32), 250.0)
    a, b = GaussianNoise(40, seed=3)(image), GaussianNoise(40, seed=3)(image)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, GaussianNoise(40, seed=4)(image))
    assert a.max() == 255.0 and a.min() >= 0 and (a == 255.0).mean() > 0.3  # clipped, not wrapped
    assert np.array_equal(GaussianNoise(0)(image), image)
    rng = np.random.default_rng(1)
    noisy = GaussianNoise(10)(np.full((200, 200), 128.0), rng)
    assert abs(noisy.std() - 10) < 0.5
    with pytest.raises(ValueError, match="amplitude"):
        GaussianNoise(-1)


def test_resize_averages_blocks() -> None:
    image = np.kron(np.arange(4.0).reshape(2, 2) * 50, np.ones((8, 8)))
    assert np.allclose(Resize(2)(image), [[0, 50], [100, 150]])
    assert Resize((4, 6))(image).shape == (4, 6)


def test_boundary_contour_shapes_and_annotations() -> None:
    ds = boundary_contour_shapes(4, 2)
    assert ds.images.shape == (8, 128, 128) and ds.images.min() == 0 and ds.images.max() == 255
    assert list(ds.annotations.columns[:5]) == ["image_id", "top", "left", "bottom", "right"]
    assert list(ds.annotations["left"]) == [0, 1] * 4  # the two variants of a shape differ in their left side
    assert list(ds.annotations["shape"]) == [0, 0, 1, 1, 2, 2, 3, 3]
    # a convex left side covers more pixels left of the square than a concave one
    concave, convex = ds[0], ds[1]
    assert convex[:, :40].sum() > concave[:, :40].sum()
    assert np.array_equal(convex[:, 64:], concave[:, 64:])  # the right half is the same


def test_folder_round_trip_and_errors(tmp_path: Path) -> None:
    ds = boundary_contour_shapes(2, 2, size=32)
    ds.save(tmp_path / "set")
    back = ImageSet.from_folder(tmp_path / "set")
    assert np.allclose(back.images, np.rint(ds.images))
    assert back.annotations.equals(ds.annotations)
    (tmp_path / "set" / "3.png").unlink()
    with pytest.raises(DatasetError, match=r"row 3 names 3\.png"):
        ImageSet.from_folder(tmp_path / "set")
    with pytest.raises(DatasetError, match="annotations.csv"):
        ImageSet.from_folder(tmp_path)
