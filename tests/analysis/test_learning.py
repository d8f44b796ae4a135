"""The learning-rule comparison's measures and reference (issue 16): spike counts, accuracy, angles, backprop's update
on the rate surrogate against a finite-difference gradient, the digits split, and the backprop-with-Dale reference
reaching 90 % on digits."""

from __future__ import annotations

import numpy as np
import pytest

from spikebridge.analysis import backprop, learning
from spikebridge.models import random as model_random
from spikebridge.stimuli import digits


def test_spike_counts_count_each_window_half_open() -> None:
    trains = [np.array([1.0, 5.0, 5.0, 9.99, 10.0]), np.array([])]
    counts = learning.spike_counts(trains, np.array([0.0, 5.0]), np.array([5.0, 10.0]))
    np.testing.assert_array_equal(counts, [[1, 0], [3, 0]])


def test_accuracy_counts_silence_and_ties_as_wrong() -> None:
    counts = np.array([[0, 3, 1], [2, 2, 0], [0, 0, 0], [5, 1, 0]])
    assert learning.accuracy(counts, np.array([1, 0, 0, 0])) == 0.5


def test_angle_between_updates() -> None:
    a = np.array([[1.0, 0.0], [0.0, 0.0]])
    assert learning.angle(a, 3 * a) == pytest.approx(0.0, abs=1e-6)
    assert learning.angle(a, -a) == pytest.approx(180.0)
    assert learning.angle(a, np.array([[0.0, 1.0], [0.0, 0.0]])) == pytest.approx(90.0)
    assert np.isnan(learning.angle(a, np.zeros_like(a)))


def test_backprop_update_is_the_surrogate_loss_descent_direction() -> None:
    """On a threshold-linear surrogate (rate = relu(drive)), the update equals minus the finite-difference gradient of
    0.5 |target - output|^2 with respect to the input weights."""
    rng = np.random.default_rng(3)
    n, n_in, n_h, n_o = 7, 5, 4, 3
    x = rng.uniform(0, 1, (n, n_in))
    w_in = rng.uniform(-0.5, 1.0, (n_h, n_in))
    w_out = rng.uniform(0.0, 1.0, (n_o, n_h))
    target = np.eye(n_o)[rng.integers(0, n_o, n)] * 2.0

    def forward(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h = np.maximum(0.0, x @ w.T)
        return h, np.maximum(0.0, h @ w_out.T - 0.2)

    def loss(w: np.ndarray) -> float:
        return 0.5 * float(np.sum((target - forward(w)[1]) ** 2))

    h, o = forward(w_in)
    update = learning.backprop_update(x, h, o, target, w_out)
    eps = 1e-6
    grad = np.zeros_like(w_in)
    for idx in np.ndindex(*w_in.shape):
        step = np.zeros_like(w_in)
        step[idx] = eps
        grad[idx] = (loss(w_in + step) - loss(w_in - step)) / (2 * eps)
    np.testing.assert_allclose(update, -grad, atol=1e-6)


def test_digits_split_is_stratified_disjoint_and_seeded() -> None:
    a = digits.load(500, 100, seed=4)
    b = digits.load(500, 100, seed=4)
    np.testing.assert_array_equal(a.train_x, b.train_x)
    assert a.train_x.shape == (500, 64) and a.test_x.shape == (100, 64)
    assert 0.0 <= a.train_x.min() and a.train_x.max() <= 1.0
    assert np.bincount(a.test_y, minlength=10).min() >= 9, "stratified: every class in the test set"
    train_rows = {r.tobytes() for r in a.train_x}
    assert sum(r.tobytes() in train_rows for r in a.test_x) <= 2, "disjoint (up to duplicate images in the data)"
    with pytest.raises(ValueError, match="at most 1797"):
        digits.load(1700, 200, seed=1)


def test_backprop_with_dales_law_reaches_90_percent_on_digits() -> None:
    data = digits.load(1000, 300, seed=1)
    net = backprop.dale_network(64, 64, 16, 10, 4, seed=1)
    rng = model_random.stream(1, "rule_study", "order")
    order = np.concatenate([rng.permutation(1000) for _ in range(10)])
    history = backprop.train(
        net, data.train_x, data.train_y, data.test_x, data.test_y, order, 0.003, 1000, loss="ce", inverse_temperature=10.0
    )
    assert history.accuracy[0] < 0.2 and history.accuracy[-1] >= 0.9, history.accuracy
    assert net.w1.min() >= 0.0 and net.w2.min() >= 0.0, "Dale's law: excitatory weights stay >= 0"


def _rate_lds(seed: int, output_rate: float, hidden_rate: float) -> float:
    data = digits.load(1000, 100, seed=seed)
    net = backprop.dale_network(64, 64, 16, 10, 4, seed=seed)
    rng = model_random.stream(seed, "rule_study", "order")
    order = np.concatenate([rng.permutation(1000) for _ in range(5)])
    scale = np.repeat(0.7 ** np.arange(5), 1000)
    history = backprop.train(
        net, data.train_x, data.train_y, data.test_x, data.test_y, order, output_rate, 5000,
        hidden_learning_rate=hidden_rate, derivative=False, step_scale=scale,
    )  # fmt: skip
    return history.accuracy[-1]


def test_rate_lds_is_limited_by_a_slow_output_layer() -> None:
    """LDS's rate reading (squared error, no hidden derivative, the study's 0.7^pass schedule): with both layers at
    the same rate it stays near 0.76 on 5 passes, as the spiking network did; an output layer 30x faster gets further
    (docs/learning_rules.md)."""
    slow = np.mean([_rate_lds(seed, 0.003, 0.003) for seed in (1, 3, 5)])
    fast = np.mean([_rate_lds(seed, 0.1, 0.003) for seed in (1, 3, 5)])
    assert slow < 0.8 and fast > slow + 0.07, (slow, fast)
    with pytest.raises(ValueError, match="step_scale"):
        backprop.train(backprop.dale_network(4, 3, 2, 2, 1, seed=1), np.ones((2, 4)), np.zeros(2, int), np.ones((2, 4)),
                       np.zeros(2, int), np.arange(2), 0.1, 1, step_scale=np.ones(3))  # fmt: skip
