"""Synthetic two-layer LIF network with a known weight matrix, in numpy.

Used by the weight-inference tests and benchmark
(:mod:`spikebridge.analysis.inference`). It reproduces the protocol of
Ahmad, Ambrogioni & van Gerven (2021): ``n_pre`` input LIF neurons, each
driven one-to-one by a Poisson source, project densely through ``w_true``
(``n_post x n_pre``) onto ``n_post`` output LIF neurons. The sources fire at
``rate`` Hz and every ``stim_window`` ms a new random ``active_fraction`` of
them is switched on; the others are silent.

Neuron model (both layers, current based, exact exponential integration with
the drive held constant over a step)::

    v[k] = v_rest + (v[k-1] - v_rest) * exp(-dt / tau_m)
           + (1 - exp(-dt / tau_m)) * I[k]
    v[k] >= v_thresh  ->  spike at k * dt, v[k] = v_reset   (no refractoriness)

``I`` (mV) is the weighted sum of the presynaptic spike trains filtered by a
difference-of-exponentials kernel of unit area,
``(exp(-t / tau_decay) - exp(-t / tau_rise)) / (tau_decay - tau_rise)`` (1/ms),
so a weight in mV*ms raises the steady-state drive by ``weight * rate`` mV for
a presynaptic rate in spikes/ms. The kernel is zero at lag 0: a spike in step
``k`` acts from step ``k + 1`` on.

All times are in ms, potentials in mV, rates in Hz.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.signal import lfilter

__all__ = ["SyntheticNetwork", "default_weights", "simulate_lif_network"]

# Steps simulated per block: bounds memory (block x n_pre float64 arrays) on
# long runs while keeping the per-block numpy overhead negligible.
_BLOCK = 20_000


class SyntheticNetwork(NamedTuple):
    """Result of :func:`simulate_lif_network`.

    Attributes
    ----------
    pre, post : list of numpy.ndarray
        Spike times (ms, float64, sorted) of each input / output neuron.
    v_pre : numpy.ndarray or None
        Membrane potential (mV, float32) of the input neurons, shape
        ``(n_steps, n_pre)``, sample ``k`` at time ``k * dt`` after any reset.
    w_true : numpy.ndarray
        Weights (mV*ms), shape ``(n_post, n_pre)``, row = post, column = pre.
    t_stop, dt : float
        Duration and step of the simulation (ms); ``n_steps = round(t_stop / dt)``.
    v_thresh, v_reset, v_rest : float
        Threshold, reset and resting potential (mV) of both layers.
    tau_m : float
        Membrane time constant (ms) of both layers.
    """

    pre: list[np.ndarray]
    post: list[np.ndarray]
    v_pre: np.ndarray | None
    w_true: np.ndarray
    t_stop: float
    dt: float
    v_thresh: float
    v_reset: float
    v_rest: float
    tau_m: float


def default_weights(
    n_post: int,
    n_pre: int,
    rng: np.random.Generator,
    *,
    n_active: float,
    scale: float,
) -> np.ndarray:
    """Mixed-sign weight matrix of the reference study.

    ``w = scale * (0.5 / sqrt(n_active) * z + 1 / n_active)`` with ``z``
    standard normal, so about a third of the weights are negative and the
    summed weight of ``n_active`` inputs averages ``scale``.

    Parameters
    ----------
    n_post, n_pre : int
        Shape of the matrix (post x pre).
    rng : numpy.random.Generator
        Source of ``z``.
    n_active : float
        Expected number of simultaneously active inputs.
    scale : float
        Summed weight of ``n_active`` inputs (mV*ms).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_post, n_pre)``, mV*ms.

    Examples
    --------
    >>> w = default_weights(10, 100, np.random.default_rng(0), n_active=20, scale=300.0)
    >>> w.shape
    (10, 100)
    """
    z = rng.standard_normal((n_post, n_pre))
    return scale * (0.5 / np.sqrt(n_active) * z + 1.0 / n_active)


def _psc_filter(counts: np.ndarray, a_decay: float, a_rise: float, norm: float,
                zi: np.ndarray) -> np.ndarray:
    """Filter binned spike counts (steps x neurons) with the unit-area kernel.

    ``zi`` (2, neurons) carries the two exponential traces across blocks and is
    updated in place.
    """
    slow, zi[0] = lfilter([1.0], [1.0, -a_decay], counts, axis=0, zi=zi[0][None, :])
    fast, zi[1] = lfilter([1.0], [1.0, -a_rise], counts, axis=0, zi=zi[1][None, :])
    return norm * (slow - fast)


def _lif_block(drive: np.ndarray, v: np.ndarray, a_m: float, v_rest: float,
               v_thresh: float, v_reset: float, v_out: np.ndarray | None,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Step a block of LIF neurons; returns (step, neuron) indices of spikes.

    ``drive`` (steps x neurons, mV) is overwritten; ``v`` (neurons,) is the
    state carried between blocks and is updated in place.
    """
    # Fold the constant part of the update into the drive so the loop body is
    # one multiply-add, one comparison and (rarely) a reset.
    drive += v_rest
    drive *= 1.0 - a_m
    steps: list[int] = []
    cells: list[np.ndarray] = []
    for k in range(drive.shape[0]):
        v *= a_m
        v += drive[k]
        fired = v >= v_thresh
        if fired.any():
            idx = np.flatnonzero(fired)
            v[idx] = v_reset
            steps.extend([k] * idx.size)
            cells.append(idx)
        if v_out is not None:
            v_out[k] = v
    if not cells:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.asarray(steps, np.int64), np.concatenate(cells)


def _trains(step: list[np.ndarray], cell: list[np.ndarray], n: int, dt: float) -> list[np.ndarray]:
    s = np.concatenate(step) if step else np.empty(0, np.int64)
    c = np.concatenate(cell) if cell else np.empty(0, np.int64)
    order = np.lexsort((s, c))
    s, c = s[order], c[order]
    bounds = np.searchsorted(c, np.arange(n + 1))
    return [s[bounds[i]:bounds[i + 1]] * dt for i in range(n)]


def simulate_lif_network(
    n_pre: int = 100,
    n_post: int = 10,
    t_stop: float = 20_000.0,
    dt: float = 0.25,
    *,
    rate: float = 200.0,
    stim_window: float = 100.0,
    active_fraction: float = 0.2,
    tau_m: float = 10.0,
    tau_rise: float = 3.0,
    tau_decay: float = 10.0,
    v_rest: float = -70.0,
    v_reset: float = -70.0,
    v_thresh: float = -55.0,
    stim_drive: float = 1.0,
    post_bias: float = 0.0,
    w_scale: float = 450.0,
    w_true: np.ndarray | None = None,
    record_v_pre: bool = True,
    seed: int | np.random.Generator = 0,
) -> SyntheticNetwork:
    """Simulate the input -> output LIF network of the weight-inference study.

    Parameters
    ----------
    n_pre, n_post : int
        Number of input and output neurons.
    t_stop : float
        Duration (ms).
    dt : float
        Time step (ms). ``t_stop / dt`` must be an integer.
    rate : float
        Rate (Hz) of an active Poisson source.
    stim_window : float
        Period (ms) after which the set of active sources is re-drawn.
    active_fraction : float
        Fraction of sources active in each window (rounded to a count).
    tau_m : float
        Membrane time constant (ms) of all neurons.
    tau_rise, tau_decay : float
        Time constants (ms) of the unit-area synaptic kernel.
    v_rest, v_reset, v_thresh : float
        Resting, reset and threshold potential (mV).
    stim_drive : float
        Mean drive of an active input neuron in units of
        ``v_thresh - v_rest``; 1.0 puts it right at threshold, so input spikes
        are fluctuation driven and near-threshold events are common.
    post_bias : float
        Constant drive (mV) added to the output neurons, e.g. to keep them
        firing with a zero-mean ``w_true``.
    w_scale : float
        Summed weight (mV*ms) of the active inputs onto an output neuron, see
        :func:`default_weights`. Ignored when ``w_true`` is given.
    w_true : numpy.ndarray, optional
        Input -> output weights (mV*ms), shape ``(n_post, n_pre)``.
    record_v_pre : bool
        Keep the input membrane potential (``n_steps * n_pre`` float32).
    seed : int or numpy.random.Generator
        Seed of every random draw.

    Returns
    -------
    SyntheticNetwork
        Spike trains (ms), input membrane potential (mV), weights and the
        parameters needed by the inference methods.

    Examples
    --------
    >>> net = simulate_lif_network(20, 3, t_stop=1000.0, seed=1)
    >>> net.w_true.shape, len(net.pre), net.v_pre.shape
    ((3, 20), 20, (4000, 20))
    """
    n_steps = int(round(t_stop / dt))
    if n_steps <= 0 or not np.isclose(n_steps * dt, t_stop, rtol=1e-9, atol=1e-9):
        raise ValueError(f"t_stop={t_stop} ms is not a positive multiple of dt={dt} ms")
    win_steps = int(round(stim_window / dt))
    if win_steps <= 0 or not np.isclose(win_steps * dt, stim_window):
        raise ValueError(f"stim_window={stim_window} ms is not a multiple of dt={dt} ms")
    rng = np.random.default_rng(seed)
    n_active = max(1, int(round(active_fraction * n_pre)))
    if w_true is None:
        w_true = default_weights(n_post, n_pre, rng, n_active=n_active, scale=w_scale)
    w_true = np.asarray(w_true, dtype=float)
    if w_true.shape != (n_post, n_pre):
        raise ValueError(f"w_true has shape {w_true.shape}, expected {(n_post, n_pre)}")

    p_spike = rate * 1e-3 * dt
    # Weight of a source onto its input neuron (mV*ms) giving the requested
    # mean drive while the source is active.
    w_stim = stim_drive * (v_thresh - v_rest) / (rate * 1e-3)
    a_m = float(np.exp(-dt / tau_m))
    a_d, a_r = float(np.exp(-dt / tau_decay)), float(np.exp(-dt / tau_rise))
    norm = 1.0 / (dt * (1.0 / (1.0 - a_d) - 1.0 / (1.0 - a_r)))

    v_pre = np.empty((n_steps, n_pre), np.float32) if record_v_pre else None
    v_in = np.full(n_pre, v_rest)
    v_out = np.full(n_post, v_rest)
    zi_stim = np.zeros((2, n_pre))
    zi_in = np.zeros((2, n_pre))
    in_steps: list[np.ndarray] = []
    in_cells: list[np.ndarray] = []
    out_steps: list[np.ndarray] = []
    out_cells: list[np.ndarray] = []
    n_windows = -(-n_steps // win_steps)
    active = np.zeros((n_windows, n_pre), bool)
    for w in range(n_windows):
        active[w, rng.choice(n_pre, n_active, replace=False)] = True

    for start in range(0, n_steps, _BLOCK):
        stop = min(start + _BLOCK, n_steps)
        k = np.arange(start, stop)
        on = active[k // win_steps]
        stim = (rng.random((stop - start, n_pre)) < p_spike) & on
        drive = w_stim * _psc_filter(stim.astype(float), a_d, a_r, norm, zi_stim)
        s, c = _lif_block(drive, v_in, a_m, v_rest, v_thresh, v_reset,
                          None if v_pre is None else v_pre[start:stop])
        in_steps.append(s + start)
        in_cells.append(c)
        counts = np.zeros((stop - start, n_pre))
        np.add.at(counts, (s, c), 1.0)
        drive_out = _psc_filter(counts, a_d, a_r, norm, zi_in) @ w_true.T
        drive_out += post_bias
        s, c = _lif_block(drive_out, v_out, a_m, v_rest, v_thresh, v_reset, None)
        out_steps.append(s + start)
        out_cells.append(c)

    return SyntheticNetwork(
        pre=_trains(in_steps, in_cells, n_pre, dt),
        post=_trains(out_steps, out_cells, n_post, dt),
        v_pre=v_pre,
        w_true=w_true,
        t_stop=float(n_steps * dt),
        dt=float(dt),
        v_thresh=float(v_thresh),
        v_reset=float(v_reset),
        v_rest=float(v_rest),
        tau_m=float(tau_m),
    )
