"""Measures of a network learning a task: spike counts per presentation, accuracy, the angle between two weight
updates, and backprop's update on a rate surrogate of a spiking network.

The surrogate (:func:`backprop_update`) is the spiking network read as a rate network: its recorded free-phase rates,
its weights, and a threshold-linear rate-input transfer. Backprop's update of the hidden weights is then well defined
and can be set beside the update a spiking rule made from the same samples (:func:`angle`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def spike_counts(trains: Sequence[np.ndarray], starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Spikes of each cell in each window ``[start, stop)`` (ms): [n_windows, n_cells]."""
    starts, stops = np.asarray(starts, dtype=np.float64), np.asarray(stops, dtype=np.float64)
    out = np.empty((len(starts), len(trains)), dtype=np.int64)
    for j, train in enumerate(trains):
        t = np.sort(np.asarray(train, dtype=np.float64))
        out[:, j] = np.searchsorted(t, stops, side="left") - np.searchsorted(t, starts, side="left")
    return out


def answers(counts: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Whether each presentation's most active output cell is the label's; one with every output silent, or a tie
    for the most spikes, is wrong."""
    counts = np.asarray(counts)
    best = counts.max(axis=1)
    unique = (counts == best[:, None]).sum(axis=1) == 1
    return np.asarray((counts.argmax(axis=1) == np.asarray(labels)) & (best > 0) & unique)


def accuracy(counts: np.ndarray, labels: np.ndarray) -> float:
    """Share of presentations answered right (:func:`answers`)."""
    return float(np.mean(answers(counts, labels)))


def angle(a: np.ndarray, b: np.ndarray) -> float:
    """The angle (degrees) between two updates, each flattened; NaN where either is zero."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0.0 or nb == 0.0:
        return float("nan")
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))))


def backprop_update(x: np.ndarray, hidden_rate: np.ndarray, output_rate: np.ndarray, target: np.ndarray, w_out: np.ndarray) -> np.ndarray:
    """Backprop's update of the input -> hidden weights [n_hidden, n_in] on the rate surrogate of a spiking network,
    for the squared error between output rates and ``target``, summed over samples (the descent direction).

    ``x`` [n, n_in] are the input rates, ``hidden_rate`` [n, n_hidden] and ``output_rate`` [n, n_out] the recorded
    free-phase rates, ``w_out`` [n_out, n_hidden] the hidden -> output weights. The surrogate's transfer is
    threshold-linear: its slope is one gain where a cell fired and 0 where it was silent. A gain common to a layer
    scales the update without turning it, so the angle to another update does not depend on it.
    """
    delta_out = (target - output_rate) * (output_rate > 0)
    delta_hidden = (delta_out @ w_out) * (hidden_rate > 0)
    return delta_hidden.T @ x
