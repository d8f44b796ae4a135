"""Inference of synaptic weights from spiking activity (the weight-transport problem).

Three estimators of a dense weight matrix ``W`` (``n_post x n_pre``, row =
post, column = pre) from the spike trains of the presynaptic ("input") and
postsynaptic ("output") neurons:

* :func:`akrout` -- rate-based "weight mirror" (Akrout et al. 2019);
* :func:`rdd` -- regression discontinuity design around the input neuron's
  threshold (Guerguiev, Kording & Richards 2019);
* :func:`stdwi` -- spike-timing-dependent weight inference (Ahmad, Ambrogioni
  & van Gerven 2021).

Each returns its running estimate at regular check points as an
:class:`xarray.DataArray` with dims ``("time", "post", "pre")``, a ``time``
coordinate in ms and attrs ``units``, ``method`` and ``parameters`` (a JSON
string of the arguments, so the array stays netCDF-serialisable). The
estimates are on each method's own scale: compare them with the true weights
through the scale-free :func:`pearson` and :func:`sign_alignment`, or
:func:`score` for a tidy table.

Units
-----
Times are milliseconds everywhere: spike times, ``t_stop``, ``dt``, windows,
time constants and check intervals. Spike trains are given as a sequence (one
entry per neuron) of either :class:`neo.SpikeTrain` / :class:`quantities.Quantity`
arrays, which are rescaled to ms, or plain float arrays already in ms. Arrays
of integer dtype, negative times and times beyond ``t_stop`` are refused with
:class:`InferenceInputError` (a :class:`ValueError`): they are the usual
symptom of step indices passed where milliseconds are expected. Durations
(``t_stop``, ``dt``, windows, time constants) are floats in ms or quantities
scalars of any time unit. Membrane potentials are in mV.

The module also holds spike-train perturbations for robustness studies
(:func:`delete_spikes`, :func:`insert_spikes`, :func:`jitter_spikes`,
:func:`perturb`); the synthetic network used to test all of this is
:func:`spikebridge.analysis.synthetic.simulate_lif_network`.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import quantities as pq
import xarray as xr
from scipy.signal import lfilter

from spikebridge.errors import SpikebridgeError

if TYPE_CHECKING:
    import neo

__all__ = [
    "METHODS",
    "InferenceInputError",
    "Seed",
    "SpikeTrains",
    "akrout",
    "best_parameters",
    "delete_spikes",
    "final_scores",
    "insert_spikes",
    "jitter_spikes",
    "noisy_trains",
    "pearson",
    "perturb",
    "rdd",
    "reference_parameters",
    "score",
    "sign_alignment",
    "stdwi",
    "tunable_parameters",
]

#: Spike trains, one per neuron: float arrays in ms, or neo.SpikeTrain / quantities arrays.
type SpikeTrains = Sequence[np.ndarray | neo.SpikeTrain]
#: A random generator or the seed of one.
type Seed = np.random.Generator | int | None

# Relative tolerance when checking that durations are multiples of a step.
_RTOL = 1e-6


class InferenceInputError(SpikebridgeError, ValueError):
    """Inputs of a weight-inference function are inconsistent (units, shapes, ranges)."""


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------


def _ms(value: float | pq.Quantity, name: str) -> float:
    """A duration in ms, from a float (taken as ms) or a quantities scalar."""
    if isinstance(value, pq.Quantity):
        try:
            value = value.rescale(pq.ms).magnitude
        except ValueError as exc:
            raise InferenceInputError(f"{name} must be a time, got units {value.dimensionality}") from exc
    out = float(np.asarray(value))
    if not np.isfinite(out) or out <= 0:
        raise InferenceInputError(f"{name} must be a positive number of ms, got {value!r}")
    return out


def _n_steps(t_stop: float, dt: float) -> int:
    """Number of dt steps in t_stop; refuses a t_stop that is not a multiple of dt."""
    if dt >= t_stop:
        raise InferenceInputError(f"dt={dt} ms must be smaller than t_stop={t_stop} ms (both in ms)")
    n = int(round(t_stop / dt))
    if abs(n * dt - t_stop) > _RTOL * t_stop:
        raise InferenceInputError(
            f"t_stop={t_stop} ms is not a multiple of dt={dt} ms; both must be in ms"
        )
    return n


def _multiple(value: float, step: float, name: str, step_name: str) -> int:
    n = int(round(value / step))
    if n < 1 or abs(n * step - value) > _RTOL * value:
        raise InferenceInputError(f"{name}={value} ms must be a positive multiple of {step_name}={step} ms")
    return n


def _spike_times_ms(trains: SpikeTrains, t_stop: float, name: str) -> list[np.ndarray]:
    """Validated, sorted float64 spike-time arrays in ms, one per neuron."""
    if isinstance(trains, np.ndarray) and trains.ndim == 1 and trains.dtype != object:
        raise InferenceInputError(
            f"{name} must be a sequence of spike trains (one per neuron), got a single 1-d array"
        )
    out: list[np.ndarray] = []
    latest = 0.0
    for k, train in enumerate(trains):
        if isinstance(train, pq.Quantity):
            try:
                times = np.asarray(train.rescale(pq.ms).magnitude, dtype=float)
            except ValueError as exc:
                raise InferenceInputError(
                    f"{name}[{k}] has units {train.dimensionality}, expected a time"
                ) from exc
        else:
            arr = np.asarray(train)
            if arr.dtype.kind in "iub":
                raise InferenceInputError(
                    f"{name}[{k}] has integer dtype {arr.dtype}: spike times must be float ms, "
                    "not time-step indices (multiply step indices by dt)"
                )
            if arr.dtype.kind != "f":
                raise InferenceInputError(f"{name}[{k}] must hold float spike times in ms, got dtype {arr.dtype}")
            times = arr.astype(float, copy=False)
        times = np.ravel(times)
        if times.size == 0:
            out.append(np.empty(0))
            continue
        if not np.all(np.isfinite(times)):
            raise InferenceInputError(f"{name}[{k}] contains NaN or infinite spike times")
        if np.any(np.diff(times) < 0):
            times = np.sort(times)
        if times[0] < 0:
            raise InferenceInputError(f"{name}[{k}] has a negative spike time {times[0]} ms")
        if times[-1] > t_stop:
            raise InferenceInputError(
                f"{name}[{k}] has a spike at {times[-1]} ms, after t_stop={t_stop} ms: spike times must "
                "be in ms (were time-step indices or another unit passed?)"
            )
        latest = max(latest, float(times[-1]))
        out.append(times)
    if not out:
        raise InferenceInputError(f"{name} holds no spike trains")
    if t_stop >= 1000.0 and 0.0 < latest <= t_stop * 1e-3:
        warnings.warn(
            f"all {name} spikes occur before {latest} ms although t_stop is {t_stop} ms: "
            "are the spike times in seconds? They must be in ms.",
            stacklevel=3,
        )
    return out


def _flatten(trains: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(times, neuron index) of all spikes, neuron-major."""
    sizes = np.array([t.size for t in trains])
    times = np.concatenate(trains) if sizes.sum() else np.empty(0)
    return times, np.repeat(np.arange(len(trains)), sizes)


def _check_times(t_stop: float, every: float) -> np.ndarray:
    """Check points every ``every`` ms, the last one at ``t_stop``."""
    n = int(np.floor(t_stop / every * (1 + _RTOL)))
    times = every * np.arange(1, n + 1, dtype=float)
    if times.size == 0 or t_stop - times[-1] > _RTOL * t_stop:
        times = np.append(times, t_stop)
    return times


def _initial(w0: np.ndarray | None, n_post: int, n_pre: int) -> np.ndarray:
    if w0 is None:
        return np.zeros((n_post, n_pre))
    w0 = np.asarray(w0, dtype=float)
    if w0.shape != (n_post, n_pre):
        raise InferenceInputError(f"w0 has shape {w0.shape}, expected (n_post, n_pre) = {(n_post, n_pre)}")
    return w0.copy()


def _result(values: np.ndarray, times: np.ndarray, method: str, units: str,
            parameters: dict[str, Any]) -> xr.DataArray:
    n_post, n_pre = values.shape[1:]
    return xr.DataArray(
        values,
        dims=("time", "post", "pre"),
        coords={
            "time": ("time", np.asarray(times, dtype=float), {"units": "ms"}),
            "post": np.arange(n_post),
            "pre": np.arange(n_pre),
        },
        name=f"w_{method}",
        attrs={"units": units, "method": method, "parameters": json.dumps(parameters)},
    )


def _binned(trains: list[np.ndarray], n_bins: int, width: float) -> np.ndarray:
    """Spike counts, shape ``(n_bins, n_neurons)``, of bins ``[k*width, (k+1)*width)``.

    A spike exactly at ``n_bins * width`` (= t_stop) goes to the last bin.
    """
    times, cell = _flatten(trains)
    # The small offset keeps k * width / width from rounding down to k - 1.
    k = np.minimum(np.floor(times / width + 1e-6).astype(np.int64), n_bins - 1)
    flat = np.bincount(cell * n_bins + k, minlength=n_bins * len(trains))
    return flat.reshape(len(trains), n_bins).T.astype(float)


# ---------------------------------------------------------------------------
# Akrout et al. 2019
# ---------------------------------------------------------------------------


def akrout(
    pre: SpikeTrains,
    post: SpikeTrains,
    t_stop: float,
    *,
    window: float = 100.0,
    batch: int = 10,
    eta: float = 5e-4,
    decay: float = 0.5,
    check_every: float = 1000.0,
    w0: np.ndarray | None = None,
) -> xr.DataArray:
    r"""Rate-based weight inference ("weight mirror", Akrout et al. 2019).

    The recording is cut into consecutive stimulus windows of ``window`` ms.
    For window ``s`` let :math:`x_s` (``n_pre``) and :math:`y_s` (``n_post``)
    be the spike counts and :math:`\bar x_b, \bar y_b` their means over the
    batch ``b`` of ``batch`` consecutive windows that contains ``s``. Window by
    window,

    .. math::  B \leftarrow B + \eta\,[(y_s - \bar y_b)(x_s - \bar x_b)^\top - \lambda B],

    i.e. :math:`B` tracks the post/pre count covariance divided by
    :math:`\lambda`, which is proportional to ``W`` times the input variance
    when the inputs are independent. The recurrence is linear, so each check
    interval is applied as one discounted matrix product.

    Parameters
    ----------
    pre, post : sequence of numpy.ndarray or neo.SpikeTrain
        Spike times (ms) of the ``n_pre`` input and ``n_post`` output neurons.
    t_stop : float
        Duration of the recording (ms); only complete windows are used.
    window : float
        Stimulus window (ms): the period over which the stimulus was constant.
    batch : int
        Windows per baseline batch (dimensionless).
    eta : float
        Learning rate :math:`\eta` (per window).
    decay : float
        Weight decay :math:`\lambda` (dimensionless).
    check_every : float
        Interval (ms) between returned estimates; a multiple of ``window``.
    w0 : numpy.ndarray, optional
        Initial estimate, shape ``(n_post, n_pre)``; zeros by default.

    Returns
    -------
    xarray.DataArray
        Estimates, dims ``("time", "post", "pre")``; ``time`` (ms) is the end
        of the last window used; units spike count squared (a.u.).

    References
    ----------
    M. Akrout, C. Wilson, P. C. Humphreys, T. Lillicrap, D. Tweed (2019).
    Deep learning without weight transport. NeurIPS 32. arXiv:1904.05391.
    The batch baselines follow the spiking adaptation of Ahmad, Ambrogioni &
    van Gerven (2021), arXiv:2003.03988.

    Examples
    --------
    >>> from spikebridge.analysis.synthetic import simulate_lif_network
    >>> net = simulate_lif_network(t_stop=20_000.0, record_v_pre=False, seed=0)
    >>> est = akrout(net.pre, net.post, net.t_stop)
    >>> pearson(est.isel(time=-1), net.w_true) > 0.5
    True
    """
    t_stop = _ms(t_stop, "t_stop")
    window = _ms(window, "window")
    check_every = _ms(check_every, "check_every")
    if int(batch) != batch or batch < 1:
        raise InferenceInputError(f"batch must be a positive integer number of windows, got {batch!r}")
    batch = int(batch)
    pre_ms = _spike_times_ms(pre, t_stop, "pre")
    post_ms = _spike_times_ms(post, t_stop, "post")
    n_win = int(np.floor(t_stop / window * (1 + _RTOL)))
    if n_win < 1:
        raise InferenceInputError(f"t_stop={t_stop} ms is shorter than one window of {window} ms")
    per_check = _multiple(check_every, window, "check_every", "window")

    end = n_win * window
    if end < t_stop * (1 - _RTOL):
        # Only complete windows count: drop a tail shorter than a window.
        pre_ms = [t[t < end] for t in pre_ms]
        post_ms = [t[t < end] for t in post_ms]
    x = _binned(pre_ms, n_win, window)
    y = _binned(post_ms, n_win, window)
    starts = np.arange(0, n_win, batch)
    sizes = np.diff(np.append(starts, n_win))
    b = np.arange(n_win) // batch
    xc = x - (np.add.reduceat(x, starts, axis=0) / sizes[:, None])[b]
    yc = y - (np.add.reduceat(y, starts, axis=0) / sizes[:, None])[b]

    rho = 1.0 - eta * decay
    w = _initial(w0, len(post_ms), len(pre_ms))
    ends = list(range(per_check, n_win, per_check)) + [n_win]
    out = np.empty((len(ends), *w.shape))
    lo = 0
    for c, hi in enumerate(ends):
        m = hi - lo
        discount = rho ** np.arange(m - 1, -1, -1)
        w = rho**m * w + eta * (yc[lo:hi] * discount[:, None]).T @ xc[lo:hi]
        out[c] = w
        lo = hi
    params = {"window": window, "batch": batch, "eta": eta, "decay": decay,
              "check_every": check_every, "t_stop": t_stop}
    return _result(out, np.asarray(ends, dtype=float) * window, "akrout",
                   "spike count^2 (a.u.)", params)


# ---------------------------------------------------------------------------
# STDWI, Ahmad, Ambrogioni & van Gerven 2021
# ---------------------------------------------------------------------------


def _trace_after_spikes(times: np.ndarray, tau: float) -> np.ndarray:
    """Trace ``sum_{m<=k} exp(-(s_k - s_m)/tau)/tau`` just after each spike.

    ``times`` is ``(n_neurons, max_spikes)`` padded with +inf; the recursion
    runs over spike rank, vectorised over neurons.
    """
    trace = np.zeros(times.shape)
    if times.shape[1] == 0:
        return trace
    with np.errstate(invalid="ignore"):
        decay = np.exp(-np.diff(times, axis=1) / tau)
    trace[:, 0] = 1.0 / tau
    for k in range(1, times.shape[1]):
        trace[:, k] = decay[:, k - 1] * trace[:, k - 1] + 1.0 / tau
    return trace


def _padded(trains: list[np.ndarray]) -> np.ndarray:
    width = max((t.size for t in trains), default=0)
    out = np.full((len(trains), width), np.inf)
    for i, t in enumerate(trains):
        out[i, : t.size] = t
    return out


def stdwi(
    pre: SpikeTrains,
    post: SpikeTrains,
    t_stop: float,
    *,
    dt: float,
    tau_fast: float = 10.0,
    tau_slow: float = 200.0,
    eta: float = 5e-4,
    decay: float = 0.1,
    check_every: float = 1000.0,
    w0: np.ndarray | None = None,
) -> xr.DataArray:
    r"""Spike-timing-dependent weight inference (Ahmad, Ambrogioni & van Gerven 2021).

    Each input neuron ``i`` has a fast and a slow exponential trace of equal
    (unit) area,

    .. math::  \epsilon_\tau(t) = \sum_{s < t} e^{-(t - s)/\tau} / \tau ,

    where the sum runs over its spikes ``s`` earlier than ``t`` (spikes within
    ``dt / 2`` of ``t`` count as simultaneous and are left out: they cannot
    have caused the output spike). At every spike ``t`` of output neuron
    ``j``,

    .. math::  w_{ji} \leftarrow w_{ji} + \eta\,[\epsilon_{\tau_f,i}(t) - \epsilon_{\tau_s,i}(t) - \alpha\, w_{ji}] .

    The fast trace measures the input's recent rate, the slow one its
    baseline: their difference is large when an input spiked just before the
    output, as an excitatory synapse would make it. The traces are evaluated
    exactly at the output spike times (recursion over each input's spikes,
    no clock stepping) and the update, linear in ``w``, is summed in closed
    form with :func:`scipy.signal.lfilter`.

    Parameters
    ----------
    pre, post : sequence of numpy.ndarray or neo.SpikeTrain
        Spike times (ms) of the ``n_pre`` input and ``n_post`` output neurons.
    t_stop : float
        Duration of the recording (ms).
    dt : float
        Time resolution (ms) of the spike times (the simulation step).
    tau_fast, tau_slow : float
        Time constants (ms) of the fast and slow traces.
    eta : float
        Learning rate :math:`\eta` (per output spike; ms when ``w`` is in
        1/ms).
    decay : float
        Weight decay :math:`\alpha` (dimensionless).
    check_every : float
        Interval (ms) between returned estimates.
    w0 : numpy.ndarray, optional
        Initial estimate (1/ms), shape ``(n_post, n_pre)``; zeros by default.

    Returns
    -------
    xarray.DataArray
        Estimates, dims ``("time", "post", "pre")``, in 1/ms (trace units);
        the estimate at ``time`` t uses the output spikes at or before t.

    References
    ----------
    N. Ahmad, L. Ambrogioni, M. A. J. van Gerven (2021). Overcoming the weight
    transport problem via spike-timing-dependent weight inference.
    Neurons, Behavior, Data analysis, and Theory 5(3). arXiv:2003.03988.

    Examples
    --------
    >>> from spikebridge.analysis.synthetic import simulate_lif_network
    >>> net = simulate_lif_network(t_stop=20_000.0, record_v_pre=False, seed=0)
    >>> est = stdwi(net.pre, net.post, net.t_stop, dt=net.dt)
    >>> pearson(est.isel(time=-1), net.w_true) > 0.5
    True
    """
    t_stop = _ms(t_stop, "t_stop")
    dt = _ms(dt, "dt")
    _n_steps(t_stop, dt)
    tau_fast = _ms(tau_fast, "tau_fast")
    tau_slow = _ms(tau_slow, "tau_slow")
    check_every = _ms(check_every, "check_every")
    pre_ms = _spike_times_ms(pre, t_stop, "pre")
    post_ms = _spike_times_ms(post, t_stop, "post")
    n_pre, n_post = len(pre_ms), len(post_ms)

    padded = _padded(pre_ms)
    after_fast = _trace_after_spikes(padded, tau_fast)
    after_slow = _trace_after_spikes(padded, tau_slow)
    checks = _check_times(t_stop, check_every)
    rho = 1.0 - eta * decay
    w = _initial(w0, n_post, n_pre)
    out = np.empty((checks.size, n_post, n_pre))

    for j, q in enumerate(post_ms):
        if q.size == 0:
            out[:, j] = w[j]
            continue
        diff = np.zeros((q.size, n_pre))
        for i, s in enumerate(pre_ms):
            k = np.searchsorted(s, q - 0.5 * dt, side="left") - 1
            has = k >= 0
            if not has.any():
                continue
            kk, lag = k[has], q[has] - s[k[has]]
            diff[has, i] = (after_fast[i, kk] * np.exp(-lag / tau_fast)
                            - after_slow[i, kk] * np.exp(-lag / tau_slow))
        # w_K = rho^K w_0 + eta * sum_k rho^(K-1-k) diff_k, for every K at once.
        path, _ = lfilter([eta], [1.0, -rho], diff, axis=0, zi=(rho * w[j])[None, :])
        n_before = np.searchsorted(q, checks, side="right")
        out[:, j] = np.where((n_before > 0)[:, None], path[np.maximum(n_before - 1, 0)], w[j])

    params = {"dt": dt, "tau_fast": tau_fast, "tau_slow": tau_slow, "eta": eta,
              "decay": decay, "check_every": check_every, "t_stop": t_stop}
    return _result(out, checks, "stdwi", "1/ms", params)


# ---------------------------------------------------------------------------
# RDD, Guerguiev, Kording & Richards 2019
# ---------------------------------------------------------------------------


def _psc_trace(trains: list[np.ndarray], n_steps: int, dt: float, tau_rise: float,
               tau_decay: float) -> np.ndarray:
    """Spike trains filtered with the unit-area difference-of-exponentials kernel.

    Shape ``(n_steps, n_neurons)``, 1/ms; sample ``k`` at ``k * dt``.
    """
    counts = _binned(trains, n_steps, dt)
    a_d, a_r = np.exp(-dt / tau_decay), np.exp(-dt / tau_rise)
    norm = 1.0 / (dt * (1.0 / (1.0 - a_d) - 1.0 / (1.0 - a_r)))
    slow = lfilter([1.0], [1.0, -a_d], counts, axis=0)
    fast = lfilter([1.0], [1.0, -a_r], counts, axis=0)
    return norm * (slow - fast)


def _select_events(candidates: np.ndarray, width: int) -> np.ndarray:
    """Greedy non-overlapping events: the first candidate, then the first one at
    least ``width`` steps after the previous event, and so on."""
    if candidates.size == 0:
        return candidates
    nxt = np.searchsorted(candidates, candidates + width).tolist()
    chosen = [0]
    k = nxt[0]
    n = len(nxt)
    while k < n:
        chosen.append(k)
        k = nxt[k]
    return candidates[chosen]


def _ridge_intercept(n: np.ndarray, sx: np.ndarray, sxx: np.ndarray, sy: np.ndarray,
                     sxy: np.ndarray, ridge: float) -> np.ndarray:
    """Intercept ``c`` of the ridge fit ``y = c + b x`` from sufficient statistics.

    Minimises ``sum (y - c - b x)^2 + ridge * (c^2 + b^2)``. ``n, sx, sxx`` have
    shape ``(..., n_pre)``, ``sy, sxy`` ``(..., n_post, n_pre)``. Entries that
    have no solution (ridge 0 and fewer than two distinct x) are NaN.
    """
    a11, a12, a22 = n + ridge, sx, sxx + ridge
    det = a11 * a22 - a12 * a12
    with np.errstate(invalid="ignore", divide="ignore"):
        # 2x2 normal equations solved by Cramer's rule, for every entry at once.
        ok = det > 1e-12 * np.maximum(a11 * a22, 1e-300)
        c = (a22[..., None, :] * sy - a12[..., None, :] * sxy) / np.where(ok, det, 1.0)[..., None, :]
    return np.where(ok[..., None, :], c, np.nan)


def rdd(
    pre: SpikeTrains,
    post: SpikeTrains,
    v_pre: np.ndarray,
    t_stop: float,
    *,
    v_thresh: float,
    v_reset: float,
    dt: float,
    tau_m: float | None,
    alpha: float = 0.025,
    window: float = 35.0,
    max_drive: float | None = None,
    tau_rise: float = 3.0,
    tau_decay: float = 10.0,
    ridge: float = 1000.0,
    check_every: float = 1000.0,
) -> xr.DataArray:
    r"""Regression discontinuity design (Guerguiev, Kording & Richards 2019).

    Whether an input neuron spikes when its drive brushes its threshold is
    nearly random, so the output's response to such "almost" and "barely"
    spikes estimates the causal effect of one input spike. Let :math:`\theta`
    = ``v_thresh`` and :math:`a = \alpha (\theta - v_{reset})` (mV: ``alpha``
    is a fraction of the threshold-reset range). For each input neuron ``i``:

    1. Events: the first sample at which the input came within ``a`` of
       threshold, then the first such sample at least ``window`` ms after the
       previous event, and so on (windows do not overlap). "Came within" means
       the recorded membrane ``v_pre`` is at least :math:`\theta - a` or, as a
       reset membrane is recorded after the reset, the neuron spiked in that
       step (``tau_m`` given); or that the drive ``v_pre`` is at least
       :math:`\theta - a` (``tau_m=None``).
    2. For an event at time ``t``, the maximal drive :math:`u_{max}` over
       ``[t, t + window)``. The drive is the membrane potential without resets
       (mV): with ``tau_m`` given every reset is added back,
       :math:`u = v + (\theta - v_{reset}) \sum_{s \le t} e^{-(t-s)/\tau_m}`
       over the input's spikes ``s`` (exact for a LIF neuron without
       refractoriness whose overshoot above threshold is not recorded); with
       ``tau_m=None`` ``v_pre`` already is the drive. And the change of every
       output ``j``'s filtered activity
       :math:`\Delta_j = \mathrm{mean}_{[t, t+window)} h_j - h_j(t)`, with
       :math:`h_j` the output spikes filtered by the unit-area
       difference-of-exponentials kernel (``tau_rise``, ``tau_decay``, 1/ms).
       Events with :math:`|u_{max} - \theta| >` ``max_drive`` are dropped.
    3. Fit :math:`\Delta_j = c + b\,x` with :math:`x = (u_{max} - \theta) /
       (\theta - v_{reset})` separately for events below
       (:math:`u_{max} < \theta`) and above threshold, by ridge regression:
       minimise :math:`\sum (\Delta_j - c - b x)^2 + \rho\,(c^2 + b^2)`
       (:math:`\rho` = ``ridge``). The estimate of :math:`w_{ji}` is the jump
       :math:`c_{above} - c_{below}` at threshold.

    The ridge term acts like ``ridge`` pseudo-events at zero response. It is
    the closed-form counterpart of the reference implementation, which fits
    the lines by slow online gradient descent from zero: a side with few
    events -- usually the near misses below threshold -- is shrunk towards
    zero instead of contributing a noisy intercept. ``ridge=0`` is the plain
    least-squares design; it needs hundreds of events on each side (see the
    benchmark) and gives NaN, reported as 0, where a side has fewer than two.
    The fits use sufficient statistics accumulated over check intervals, so
    every check point gets the exact fit over all events so far.

    Parameters
    ----------
    pre, post : sequence of numpy.ndarray or neo.SpikeTrain
        Spike times (ms) of the ``n_pre`` input and ``n_post`` output neurons.
        ``pre`` is used to add back the resets (``tau_m`` given).
    v_pre : numpy.ndarray
        Membrane potential (mV) of the input neurons, shape
        ``(n_steps, n_pre)``, row ``k`` sampled at ``k * dt`` ms;
        ``n_steps = t_stop / dt`` (a sample at ``t_stop`` may be appended).
    t_stop : float
        Duration of the recording (ms).
    v_thresh, v_reset : float
        Spike threshold and reset potential (mV) of the input neurons.
    dt : float
        Sampling interval of ``v_pre`` (ms).
    tau_m : float or None
        Membrane time constant (ms) of the input neurons, used to add back
        the resets; ``None`` if ``v_pre`` is the drive without resets.
    alpha : float
        Half-width of the threshold band, a fraction of ``v_thresh - v_reset``
        (dimensionless).
    window : float
        Analysis window after an event (ms).
    max_drive : float, optional
        Keep only events with :math:`|u_{max} - \theta|` at most this (mV);
        all events by default, as in the reference implementation.
    tau_rise, tau_decay : float
        Time constants (ms) of the kernel filtering the output spikes.
    ridge : float
        Ridge penalty on intercept and slope of both fits (in events, >= 0).
    check_every : float
        Interval (ms) between returned estimates; an event counts from the end
        of its window.

    Returns
    -------
    xarray.DataArray
        Estimates (jump in filtered output activity, 1/ms), dims
        ``("time", "post", "pre")``.

    References
    ----------
    J. Guerguiev, K. P. Kording, B. A. Richards (2019). Spike-based causal
    inference for weight alignment. arXiv:1910.01689 (ICLR 2020).
    Comparison setting: Ahmad, Ambrogioni & van Gerven (2021), arXiv:2003.03988.

    Examples
    --------
    >>> from spikebridge.analysis.synthetic import simulate_lif_network
    >>> net = simulate_lif_network(t_stop=20_000.0, seed=0)
    >>> est = rdd(net.pre, net.post, net.v_pre, net.t_stop, v_thresh=net.v_thresh,
    ...           v_reset=net.v_reset, dt=net.dt, tau_m=net.tau_m)
    >>> pearson(est.isel(time=-1), net.w_true) > 0.3
    True
    """
    t_stop = _ms(t_stop, "t_stop")
    dt = _ms(dt, "dt")
    n_steps = _n_steps(t_stop, dt)
    window = _ms(window, "window")
    check_every = _ms(check_every, "check_every")
    tau_rise = _ms(tau_rise, "tau_rise")
    tau_decay = _ms(tau_decay, "tau_decay")
    if tau_m is not None:
        tau_m = _ms(tau_m, "tau_m")
    if not v_thresh > v_reset:
        raise InferenceInputError(f"v_thresh={v_thresh} mV must be above v_reset={v_reset} mV")
    if not alpha > 0:
        raise InferenceInputError(f"alpha must be a positive fraction of v_thresh - v_reset, got {alpha}")
    if not ridge >= 0:
        raise InferenceInputError(f"ridge must be >= 0, got {ridge}")
    pre_ms = _spike_times_ms(pre, t_stop, "pre")
    post_ms = _spike_times_ms(post, t_stop, "post")
    n_pre, n_post = len(pre_ms), len(post_ms)
    v_pre = np.asarray(v_pre)
    if v_pre.ndim != 2 or v_pre.shape[1] != n_pre:
        raise InferenceInputError(f"v_pre must have shape (n_steps, n_pre={n_pre}), got {v_pre.shape}")
    if v_pre.shape[0] not in (n_steps, n_steps + 1):
        raise InferenceInputError(
            f"v_pre has {v_pre.shape[0]} samples but t_stop / dt = {t_stop} ms / {dt} ms = {n_steps}: "
            "dt must be the sampling interval of v_pre and t_stop the recording length, both in ms"
        )
    v_pre = v_pre[:n_steps]
    if tau_m is not None:
        above = np.count_nonzero(v_pre >= v_thresh) / v_pre.size
        if above > 0.01:
            raise InferenceInputError(
                f"v_pre is at or above v_thresh={v_thresh} mV in {100 * above:.1f} % of samples: a reset "
                "membrane should not be. Is v_pre in mV with the same threshold, or is it a drive "
                "without resets (then pass tau_m=None)?"
            )
    width = int(round(window / dt))
    if width < 1:
        raise InferenceInputError(f"window={window} ms is shorter than dt={dt} ms")
    lower = v_thresh - alpha * (v_thresh - v_reset)

    # Output activity: window means from a cumulative sum, so every event's
    # response is two lookups.
    h = _psc_trace(post_ms, n_steps, dt, tau_rise, tau_decay)
    cum = np.zeros((n_steps + 1, n_post))
    np.cumsum(h, axis=0, out=cum[1:])

    # Candidate event starts: samples within the band, plus (reset membrane)
    # the spike steps, whose recorded value is already the reset.
    rows, cols = np.nonzero(v_pre[: n_steps - width + 1] >= lower)
    order = np.argsort(cols, kind="stable")
    rows, cols = rows[order], cols[order]
    bounds = np.searchsorted(cols, np.arange(n_pre + 1))
    if tau_m is not None:
        spike_steps = [np.floor(t / dt + 1e-6).astype(np.int64) for t in pre_ms]
        # Reset trace after each spike, in units of v_thresh - v_reset.
        after = tau_m * _trace_after_spikes(_padded(pre_ms), tau_m)
    offsets = np.arange(width)
    ev_step: list[np.ndarray] = []
    ev_pre: list[np.ndarray] = []
    ev_x: list[np.ndarray] = []
    for i in range(n_pre):
        cand = rows[bounds[i]:bounds[i + 1]]
        if tau_m is not None:
            k = spike_steps[i]
            cand = np.union1d(cand, k[k <= n_steps - width])
        steps = _select_events(cand, width)
        if steps.size == 0:
            continue
        idx = steps[:, None] + offsets
        u = v_pre[idx, i].astype(float)
        if tau_m is not None and k.size:
            # Add back the resets, only inside the event windows:
            # u = v + (v_thresh - v_reset) * sum_{k <= t} exp(-(t - k) dt / tau_m).
            last = np.searchsorted(k, idx, side="right") - 1
            has = last >= 0
            lag = (idx - k[np.maximum(last, 0)]) * dt
            u += np.where(has, (v_thresh - v_reset) * after[i, np.maximum(last, 0)]
                          * np.exp(-lag / tau_m), 0.0)
        x = (u.max(axis=1) - v_thresh) / (v_thresh - v_reset)
        if max_drive is not None:
            keep = np.abs(x) * (v_thresh - v_reset) <= max_drive
            steps, x = steps[keep], x[keep]
        ev_step.append(steps)
        ev_pre.append(np.full(steps.size, i))
        ev_x.append(x)

    checks = _check_times(t_stop, check_every)
    params = {"v_thresh": v_thresh, "v_reset": v_reset, "dt": dt, "tau_m": tau_m, "alpha": alpha,
              "window": window, "max_drive": max_drive, "tau_rise": tau_rise, "tau_decay": tau_decay,
              "ridge": ridge, "check_every": check_every, "t_stop": t_stop}
    if not ev_step:
        warnings.warn(
            f"no input neuron came within {v_thresh - lower:g} mV of v_thresh={v_thresh} mV: "
            "the RDD estimate stays 0 (check v_thresh, v_reset and that v_pre is in mV)",
            stacklevel=2,
        )
        return _result(np.zeros((checks.size, n_post, n_pre)), checks, "rdd", "1/ms", params)
    steps = np.concatenate(ev_step)
    cell = np.concatenate(ev_pre)
    x = np.concatenate(ev_x)
    delta = (cum[steps + width] - cum[steps]) / width - h[steps]

    # Sufficient statistics per (check interval, side, pre), then cumulated.
    n_chk = checks.size
    bin_ = np.searchsorted(checks, (steps + width) * dt * (1 - _RTOL), side="left")
    side = (x >= 0).astype(np.int64)
    flat = (bin_ * 2 + side) * n_pre + cell
    size = n_chk * 2 * n_pre

    def acc(weights: np.ndarray | None) -> np.ndarray:
        return np.cumsum(np.bincount(flat, weights, minlength=size).reshape(n_chk, 2, n_pre), axis=0)

    n = acc(None).astype(float)
    sx, sxx = acc(x), acc(x * x)
    sy = np.stack([acc(delta[:, j]) for j in range(n_post)], axis=2)
    sxy = np.stack([acc(x * delta[:, j]) for j in range(n_post)], axis=2)
    c = _ridge_intercept(n, sx, sxx, sy, sxy, ridge)  # (n_chk, side, n_post, n_pre)
    est = np.nan_to_num(c[:, 1] - c[:, 0], nan=0.0)
    return _result(est, checks, "rdd", "1/ms", params)


# ---------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------


def _as_matrices(estimate: np.ndarray | xr.DataArray, w_true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(estimate, xr.DataArray) and estimate.ndim == 3:
        estimate = estimate.transpose("time", "post", "pre")
    est = np.asarray(estimate, dtype=float)
    w = np.asarray(w_true, dtype=float)
    if est.shape[-w.ndim:] != w.shape or est.ndim not in (w.ndim, w.ndim + 1):
        raise ValueError(f"estimate shape {est.shape} does not match w_true shape {w.shape}")
    return est.reshape(-1, w.size) if est.ndim > w.ndim else est.reshape(1, w.size), w.ravel()


def pearson(estimate: np.ndarray | xr.DataArray, w_true: np.ndarray) -> float | np.ndarray:
    """Pearson correlation between an estimated and the true weight matrix (flattened).

    Parameters
    ----------
    estimate : array_like
        Estimate, shape ``(n_post, n_pre)``, or a stack ``(n_time, n_post, n_pre)``.
    w_true : array_like
        True weights, shape ``(n_post, n_pre)``.

    Returns
    -------
    float or numpy.ndarray
        r in [-1, 1] (one per time for a stack); NaN where either matrix is constant.

    Examples
    --------
    >>> w = np.array([[1.0, -2.0], [0.5, 3.0]])
    >>> pearson(w, w), pearson(-w, w)
    (1.0, -1.0)
    """
    est, w = _as_matrices(estimate, w_true)
    e = est - est.mean(axis=1, keepdims=True)
    t = w - w.mean()
    denom = np.sqrt((e * e).sum(axis=1) * (t * t).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(denom > 0, (e @ t) / np.where(denom > 0, denom, 1.0), np.nan)
    r = np.clip(r, -1.0, 1.0)
    return float(r[0]) if np.ndim(estimate) == np.ndim(w_true) else r


def sign_alignment(estimate: np.ndarray | xr.DataArray, w_true: np.ndarray) -> float | np.ndarray:
    """Fraction of entries whose sign (-1, 0 or +1) equals that of the true weight.

    A zero estimate matches only a zero weight, so an untrained (all-zero)
    estimate of a matrix without zeros scores 0.

    Parameters
    ----------
    estimate : array_like
        Estimate, shape ``(n_post, n_pre)``, or a stack ``(n_time, n_post, n_pre)``.
    w_true : array_like
        True weights, shape ``(n_post, n_pre)``.

    Returns
    -------
    float or numpy.ndarray
        Fraction in [0, 1] (one per time for a stack).

    Examples
    --------
    >>> w = np.array([[1.0, -2.0], [0.5, 3.0]])
    >>> sign_alignment(np.array([[2.0, -1.0], [-0.1, 0.2]]), w)
    0.75
    """
    est, w = _as_matrices(estimate, w_true)
    frac = (np.sign(est) == np.sign(w)).mean(axis=1)
    return float(frac[0]) if np.ndim(estimate) == np.ndim(w_true) else frac


def score(estimates: xr.DataArray | Sequence[xr.DataArray], w_true: np.ndarray) -> pd.DataFrame:
    """Tidy table of :func:`pearson` and :func:`sign_alignment` over time.

    Parameters
    ----------
    estimates : xarray.DataArray or sequence of them
        Outputs of :func:`akrout`, :func:`rdd`, :func:`stdwi` (dims
        ``("time", "post", "pre")``, ``attrs["method"]``).
    w_true : numpy.ndarray
        True weights, shape ``(n_post, n_pre)``.

    Returns
    -------
    pandas.DataFrame
        Columns ``method`` (str), ``time`` (ms), ``pearson``, ``sign_alignment``;
        one row per method and check point.

    Examples
    --------
    >>> w = np.array([[1.0, -2.0], [0.5, 3.0]])
    >>> est = xr.DataArray(np.stack([w, -w]), dims=("time", "post", "pre"),
    ...                    coords={"time": [1.0, 2.0]}, attrs={"method": "demo"})
    >>> score(est, w)["pearson"].tolist()
    [1.0, -1.0]
    """
    arrays = [estimates] if isinstance(estimates, xr.DataArray) else list(estimates)
    frames = []
    for da in arrays:
        if set(da.dims) != {"time", "post", "pre"}:
            raise ValueError(f"estimates must have dims ('time', 'post', 'pre'), got {da.dims}")
        da = da.transpose("time", "post", "pre")
        frames.append(pd.DataFrame({
            "method": str(da.attrs.get("method", da.name)),
            "time": np.asarray(da["time"], dtype=float),
            "pearson": pearson(da.values, w_true),
            "sign_alignment": sign_alignment(da.values, w_true),
        }))
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------
# spike-train perturbations
# ---------------------------------------------------------------------------


def _fraction(value: float, name: str, upper: float | None = 1.0) -> float:
    value = float(value)
    if not np.isfinite(value) or value < 0 or (upper is not None and value > upper):
        bound = f"[0, {upper}]" if upper is not None else ">= 0"
        raise ValueError(f"{name} must be in {bound}, got {value}")
    return value


def _plain_ms(trains: SpikeTrains) -> list[np.ndarray]:
    out = []
    for k, train in enumerate(trains):
        if isinstance(train, pq.Quantity):
            out.append(np.sort(np.asarray(train.rescale(pq.ms).magnitude, dtype=float).ravel()))
            continue
        arr = np.asarray(train)
        if arr.dtype.kind in "iub":
            raise InferenceInputError(f"trains[{k}] has integer dtype {arr.dtype}: spike times must be float ms")
        out.append(np.sort(arr.astype(float).ravel()))
    return out


def delete_spikes(trains: SpikeTrains, fraction: float, rng: Seed = None) -> list[np.ndarray]:
    """Delete ``round(fraction * n)`` randomly chosen spikes from each train of ``n`` spikes.

    Parameters
    ----------
    trains : sequence of numpy.ndarray or neo.SpikeTrain
        Spike times (ms).
    fraction : float
        Fraction of each train's spikes to delete, in [0, 1].
    rng : numpy.random.Generator or int, optional
        Random generator or seed.

    Returns
    -------
    list of numpy.ndarray
        Sorted spike times (ms, float64).

    Examples
    --------
    >>> [t.size for t in delete_spikes([np.arange(10.0), np.arange(4.0)], 0.5, rng=0)]
    [5, 2]
    """
    fraction = _fraction(fraction, "fraction")
    gen = np.random.default_rng(rng)
    out = []
    for t in _plain_ms(trains):
        keep = t.size - int(round(fraction * t.size))
        out.append(np.sort(gen.choice(t, keep, replace=False)) if keep < t.size else t)
    return out


def insert_spikes(trains: SpikeTrains, fraction: float, t_stop: float, rng: Seed = None) -> list[np.ndarray]:
    """Add ``round(fraction * n)`` spikes, uniform on ``[0, t_stop)`` ms, to each train of ``n`` spikes.

    Parameters
    ----------
    trains : sequence of numpy.ndarray or neo.SpikeTrain
        Spike times (ms).
    fraction : float
        Number of spikes to add per train, relative to its size (>= 0).
    t_stop : float
        End of the recording (ms).
    rng : numpy.random.Generator or int, optional
        Random generator or seed.

    Returns
    -------
    list of numpy.ndarray
        Sorted spike times (ms, float64).

    Examples
    --------
    >>> [t.size for t in insert_spikes([np.arange(10.0)], 0.2, t_stop=10.0, rng=0)]
    [12]
    """
    fraction = _fraction(fraction, "fraction", upper=None)
    t_stop = _ms(t_stop, "t_stop")
    gen = np.random.default_rng(rng)
    out = []
    for t in _plain_ms(trains):
        extra = gen.uniform(0.0, t_stop, int(round(fraction * t.size)))
        out.append(np.sort(np.concatenate([t, extra])))
    return out


def jitter_spikes(trains: SpikeTrains, sd: float, rng: Seed = None,
                  t_stop: float | None = None) -> list[np.ndarray]:
    """Shift every spike by independent Gaussian noise of standard deviation ``sd`` ms.

    Counts are preserved: jittered times are clipped to ``[0, t_stop)`` (to
    ``>= 0`` without ``t_stop``) and re-sorted.

    Parameters
    ----------
    trains : sequence of numpy.ndarray or neo.SpikeTrain
        Spike times (ms).
    sd : float
        Standard deviation of the jitter (ms, >= 0).
    rng : numpy.random.Generator or int, optional
        Random generator or seed.
    t_stop : float, optional
        End of the recording (ms).

    Returns
    -------
    list of numpy.ndarray
        Sorted spike times (ms, float64).

    Examples
    --------
    >>> out = jitter_spikes([np.array([10.0, 20.0])], sd=1.0, rng=0)
    >>> out[0].size
    2
    """
    sd = _fraction(sd, "sd", upper=None)
    gen = np.random.default_rng(rng)
    upper = np.inf if t_stop is None else np.nextafter(_ms(t_stop, "t_stop"), 0.0)
    return [np.sort(np.clip(t + gen.normal(0.0, sd, t.size), 0.0, upper)) for t in _plain_ms(trains)]


def perturb(trains: SpikeTrains, fraction: float, rng: Seed, t_stop: float) -> list[np.ndarray]:
    """Spike-train noise of the reference study: delete, then insert, ``fraction`` of the spikes.

    Each train of ``n`` spikes loses ``round(fraction * n)`` random spikes and
    gains as many uniform on ``[0, t_stop)``, so its count is unchanged
    ("noise level" 0, 0.05, 0.1, 0.2).

    Parameters
    ----------
    trains : sequence of numpy.ndarray or neo.SpikeTrain
        Spike times (ms).
    fraction : float
        Noise level in [0, 1].
    rng : numpy.random.Generator or int
        Random generator or seed.
    t_stop : float
        End of the recording (ms).

    Returns
    -------
    list of numpy.ndarray
        Sorted spike times (ms, float64).

    Examples
    --------
    >>> [t.size for t in perturb([np.arange(100.0)], 0.1, rng=1, t_stop=100.0)]
    [100]
    """
    fraction = _fraction(fraction, "fraction")
    t_stop = _ms(t_stop, "t_stop")
    gen = np.random.default_rng(rng)
    plain = _plain_ms(trains)
    kept = delete_spikes(plain, fraction, gen)
    out = []
    for before, t in zip(plain, kept, strict=True):
        extra = gen.uniform(0.0, t_stop, before.size - t.size)
        out.append(np.sort(np.concatenate([t, extra])))
    return out


# ---------------------------------------------------------------------------
# a study: parameters, noise levels, final scores
# ---------------------------------------------------------------------------

#: The estimators, in the order they are run and drawn.
METHODS: tuple[str, ...] = ("akrout", "rdd", "stdwi")


def reference_parameters(method: str, stim_window: float | None = None) -> dict[str, Any]:
    """Reference parameters of a method: the estimator's defaults as the reference study used them.

    Parameters
    ----------
    method : {"akrout", "rdd", "stdwi"}
        The estimator.
    stim_window : float, optional
        Stimulus resampling period (ms): Akrout's window (default 100 ms).

    Returns
    -------
    dict
        Keyword arguments of the estimator (ms for times).

    Examples
    --------
    >>> reference_parameters("akrout", stim_window=50.0)
    {'window': 50.0, 'batch': 10, 'eta': 0.0005, 'decay': 0.5}
    """
    if method == "akrout":
        return {"window": stim_window or 100.0, "batch": 10, "eta": 5e-4, "decay": 0.5}
    if method == "rdd":
        return {"alpha": 0.025, "window": 35.0, "ridge": 1000.0, "tau_rise": 3.0, "tau_decay": 10.0}
    if method == "stdwi":
        return {"tau_fast": 10.0, "tau_slow": 200.0, "eta": 5e-4, "decay": 0.1}
    raise InferenceInputError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")


def tunable_parameters(method: str) -> dict[str, Any]:
    """The parameters a study may set for an estimator (``--param METHOD.NAME=VALUE``), with their defaults.

    The estimator's keyword arguments with defaults, less ``check_every`` (its own option) and ``w0`` (an array);
    the run's ``dt`` and neuron parameters are filled in from the run and cannot be set.

    Parameters
    ----------
    method : {"akrout", "rdd", "stdwi"}
        The estimator.

    Returns
    -------
    dict
        ``name -> default`` (ms for times).

    Raises
    ------
    InferenceInputError
        For an unknown method.

    Examples
    --------
    >>> sorted(tunable_parameters("stdwi"))
    ['decay', 'eta', 'tau_fast', 'tau_slow']
    """
    import inspect

    estimators: dict[str, Callable[..., xr.DataArray]] = {"akrout": akrout, "rdd": rdd, "stdwi": stdwi}
    if method not in estimators:
        raise InferenceInputError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    signature = inspect.signature(estimators[method])
    return {
        name: p.default
        for name, p in signature.parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty and name not in ("check_every", "w0")
    }


def noisy_trains(
    pre: list[np.ndarray], post: list[np.ndarray], level: float, seed: int, t_stop: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Pre and post trains with ``level`` of each train's spikes deleted and as many inserted (:func:`perturb`).

    The generator depends on the seed and the level only, so a level gets the
    same noise whichever other levels are run.

    Parameters
    ----------
    pre, post : list of numpy.ndarray
        Spike times (ms), one array per cell.
    level : float
        Noise level, a fraction in [0, 1]; 0 returns the trains as given.
    seed : int
        Seed of the noise.
    t_stop : float
        End of the recording (ms).

    Returns
    -------
    tuple of list of numpy.ndarray
        The perturbed pre and post trains (ms, sorted).
    """
    if level == 0.0:
        return pre, post
    rng = np.random.default_rng([seed, int(round(level * 1_000_000))])
    return perturb(pre, level, rng, t_stop), perturb(post, level, rng, t_stop)


def final_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """The last check point of every method and noise level of a score table.

    Parameters
    ----------
    scores : pandas.DataFrame
        Columns ``method``, ``noise`` (fraction) and ``time`` (ms) at least, as :func:`score` gives them with a
        ``noise`` column added.

    Returns
    -------
    pandas.DataFrame
        One row per method and noise level, in order of first appearance.
    """
    return scores.loc[scores.groupby(["method", "noise"], sort=False)["time"].idxmax()].reset_index(drop=True)


def best_parameters(grid_table: pd.DataFrame, by: str = "pearson") -> dict[str, dict[str, Any]]:
    """The best variant per method of a :func:`~spikebridge.workflows.inference.grid_search` table.

    Parameters
    ----------
    grid_table : pandas.DataFrame
        Columns ``method``, ``parameters`` (JSON), ``pearson`` and ``sign_alignment``, as
        :func:`~spikebridge.workflows.inference.grid_search` gives them.
    by : {"pearson", "sign_alignment", "mean"}
        Score to maximise: final Pearson r, final sign alignment, or their
        mean (both count equally). Ties go to Pearson r, then to the first
        variant.

    Returns
    -------
    dict
        ``method -> parameter changes`` (to pass as ``params`` to
        :func:`~spikebridge.workflows.inference.infer_run`).

    Examples
    --------
    >>> table = pd.DataFrame({"method": ["stdwi", "stdwi"], "parameters": ['{"decay": 0.1}', '{"decay": 0.5}'],
    ...                       "pearson": [0.95, 0.96], "sign_alignment": [0.93, 0.90]})
    >>> best_parameters(table), best_parameters(table, by="mean")
    ({'stdwi': {'decay': 0.5}}, {'stdwi': {'decay': 0.1}})
    """
    if by not in ("pearson", "sign_alignment", "mean"):
        raise ValueError(f"by must be 'pearson', 'sign_alignment' or 'mean', got {by!r}")
    key = (grid_table["pearson"] + grid_table["sign_alignment"]) / 2 if by == "mean" else grid_table[by]
    ranked = grid_table.assign(_key=key).sort_values(["_key", "pearson"], ascending=False, kind="stable")
    first = ranked.groupby("method", sort=False).head(1)
    return {str(row.method): json.loads(str(row.parameters)) for row in first.itertuples()}
