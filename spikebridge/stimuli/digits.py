"""scikit-learn's bundled 8x8 digits (1797 images, 10 classes; no download), split and scaled for a learning task.

Each image is 64 pixels of 0-16; :func:`load` scales them to [0, 1] (a pixel's share of the input rate) and splits a
stratified train and test set from the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_PIXELS = 64
N_CLASSES = 10


@dataclass(frozen=True)
class Digits:
    """A train and a test set: images [n, 64] in [0, 1], labels [n] in 0-9."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray


def load(n_train: int, n_test: int, seed: int) -> Digits:
    """``n_train`` and ``n_test`` images drawn without overlap, stratified by class, from ``seed``.

    Raises
    ------
    ValueError
        If the two sets together ask for more than the 1797 images, or either has fewer than 10.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x, y = np.asarray(data.data, dtype=np.float64) / 16.0, np.asarray(data.target, dtype=np.int64)
    if n_train < N_CLASSES or n_test < N_CLASSES or n_train + n_test > len(y):
        raise ValueError(f"expected at least 10 images per set and at most {len(y)} in all, got {n_train} + {n_test}")
    train_x, test_x, train_y, test_y = train_test_split(x, y, train_size=n_train, test_size=n_test, stratify=y, random_state=seed % 2**32)
    return Digits(train_x, train_y, test_x, test_y)
