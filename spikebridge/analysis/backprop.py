"""The learning-rule comparison's reference: a rate network of the spiking network's shape, trained by backprop with
Dale's law (Milstein-Lab/EIANN's "bpDale"), in numpy.

input x -> hidden E h -> output E o, each layer with its own inhibitory cells driven by the layer below (fixed
weights, as the spiking network's):

    h_I = relu(A x),  h = relu(W1 x - C h_I - theta),  o_I = relu(D h),  o = relu(W2 h - E o_I - theta)

W1 and W2 are excitatory (>= 0): each sample's gradient step is followed by clipping them at 0, as a Dale's-law
network learns. The loss is the squared error ``0.5 |t - o|^2`` to the one-hot target t (``loss="mse"``) or the
cross-entropy of the softmax of the output rates times an inverse temperature (``loss="ce"``), which the study's
reference uses: the squared error with rectified output rates and non-negative weights trains slowly here (84-88 %
after 20 passes over 1000 digits, against 93-96 % with the cross-entropy). Every weight is drawn from the seed.

``derivative=False`` with the squared error is the rate reading of the linear dendritic state rule (LDS): an output
cell's error is its target minus its rate (the nudge), a hidden cell's the output errors through the current output
weights (symmetric feedback), each given whether the cell is active or not, as the spiking rule's dendritic state is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..models import random as model_random
from .learning import accuracy


@dataclass
class DaleNetwork:
    """Weights of the rate network (see the module's equations)."""

    w1: np.ndarray
    w2: np.ndarray
    a: np.ndarray
    c: np.ndarray
    d: np.ndarray
    e: np.ndarray
    theta: float = 0.0

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Hidden and output net inputs and rates for samples ``x`` [n, n_in]."""
        h_inh = np.maximum(0.0, x @ self.a.T)
        h_in = x @ self.w1.T - h_inh @ self.c.T - self.theta
        h = np.maximum(0.0, h_in)
        o_inh = np.maximum(0.0, h @ self.d.T)
        o_in = h @ self.w2.T - o_inh @ self.e.T - self.theta
        return h_in, h, o_in, np.maximum(0.0, o_in)


def dale_network(n_in: int, n_hidden: int, n_hidden_inh: int, n_out: int, n_out_inh: int, seed: int) -> DaleNetwork:
    """A network with weights drawn from ``seed`` (uniform, scaled by fan-in so that layers start active)."""

    def uniform(name: str, shape: tuple[int, int], scale: float) -> np.ndarray:
        return model_random.stream(seed, "backprop", name).uniform(0.0, scale / shape[1], shape)

    return DaleNetwork(
        w1=uniform("w1", (n_hidden, n_in), 4.0),
        w2=uniform("w2", (n_out, n_hidden), 4.0),
        a=uniform("a", (n_hidden_inh, n_in), 2.0),
        c=uniform("c", (n_hidden, n_hidden_inh), 2.0),
        d=uniform("d", (n_out_inh, n_hidden), 2.0),
        e=uniform("e", (n_out, n_out_inh), 1.0),
    )


@dataclass
class History:
    """Test accuracy after each ``snapshot_every`` training samples (the first at 0), and the samples seen."""

    samples: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)


def train(
    net: DaleNetwork,
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    order: np.ndarray,
    learning_rate: float,
    snapshot_every: int,
    loss: str = "mse",
    inverse_temperature: float = 1.0,
    freeze_hidden: bool = False,
    hidden_learning_rate: float | None = None,
    derivative: bool = True,
    step_scale: np.ndarray | None = None,
) -> History:
    """Train ``net`` in place on the samples ``order`` indexes (one step per sample); test accuracy at each snapshot
    (:func:`spikebridge.analysis.learning.accuracy`: silent outputs or a tie count as wrong, as for spiking networks).

    ``hidden_learning_rate`` (default ``learning_rate``) is the hidden layer's; ``derivative=False`` drops the
    rectifier's derivative from every cell's error (LDS's reading); ``step_scale`` multiplies each step's learning
    rates (one factor per entry of ``order``: a schedule such as the spiking study's ``gate_decay ** pass``)."""
    if step_scale is not None and len(step_scale) != len(order):
        raise ValueError(f"step_scale: expected one factor per step ({len(order)}), got {len(step_scale)}")
    hidden_rate = learning_rate if hidden_learning_rate is None else hidden_learning_rate
    n_out = net.w2.shape[0]
    history = History()

    def record(seen: int) -> None:
        _, _, _, out = net.forward(test_x)
        history.samples.append(seen)
        history.accuracy.append(accuracy(out, test_y))

    record(0)
    for step, i in enumerate(order, start=1):
        x = train_x[i : i + 1]
        h_in, h, o_in, o = net.forward(x)
        target = np.eye(n_out)[train_y[i : i + 1]]
        if loss == "mse":
            delta_o = target - o
        else:
            p = np.exp(inverse_temperature * (o - o.max()))
            delta_o = inverse_temperature * (target - p / p.sum())
        if derivative:
            delta_o = delta_o * (o_in > 0)
        delta_h = delta_o @ net.w2
        if derivative:
            delta_h = delta_h * (h_in > 0)
        scale = 1.0 if step_scale is None else float(step_scale[step - 1])
        net.w2 = np.maximum(0.0, net.w2 + scale * learning_rate * delta_o.T @ h)
        if not freeze_hidden:
            net.w1 = np.maximum(0.0, net.w1 + scale * hidden_rate * delta_h.T @ x)
        if step % snapshot_every == 0:
            record(step)
    return history
