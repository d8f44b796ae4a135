"""What one digits run measured, from its run directory: test accuracy per test block, mean absolute dendritic state of the
hidden cells and the angle of the hidden weights' update to backprop's per training chunk, and the final weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...analysis import learning
from ...errors import RunDirectoryError
from ...rundir import Results
from ...stimuli import digits
from .network import Protocol, TaskConfig


def _matrix(res: Results, projection: str, t: float, shape: tuple[int, int]) -> np.ndarray:
    """A projection's weights at snapshot ``t`` as [post, pre]."""
    table = res.weights(projection, t=t)
    pre = table.index.get_level_values("pre").to_numpy()
    post = table.index.get_level_values("post").to_numpy()
    w = np.zeros(shape)
    w[post, pre] = table.xs("w", axis=1, level="var").to_numpy()[:, 0]
    return w


def measure(res: Results, prot: Protocol, config: TaskConfig, data: digits.Digits) -> dict[str, Any]:
    """Accuracy, dendritic state and angle to backprop over training, as lists (one entry per test block or chunk).

    - ``samples``: training samples seen before each test block;
    - ``accuracy``: test accuracy (argmax of the output spike counts in the free phase; silence or a tie is wrong);
    - ``dendritic_state``: mean absolute dendritic state ``|d|`` of the hidden cells over the nudged phases of each
      chunk (NaN if not recorded);
    - ``angle``: degrees between the hidden weights' change over each chunk (weight snapshots) and backprop's update
      on the rate surrogate of the same samples (:func:`spikebridge.analysis.learning.backprop_update`), taken at the
      chunk's starting weights;
    - ``output_rate``, ``hidden_rate``: mean free-phase rates (Hz) in each test block.
    """
    out, hid = ([np.asarray(st.magnitude) for st in res.spiketrains(pop)] for pop in ("output", "hidden"))
    free = prot.onset + config.t_free
    out_counts = learning.spike_counts(out, prot.onset, free)
    hid_counts = learning.spike_counts(hid, prot.onset, free)
    nudge_counts = learning.spike_counts(out, free, free + config.t_nudge)
    result: dict[str, list[float]] = {k: [] for k in ("samples", "accuracy", "output_rate", "hidden_rate", "dendritic_state", "angle")}
    test = ~prot.is_train
    for k in range(config.n_chunks + 1):
        m = test & (prot.chunk == k)
        result["samples"].append(float(k * config.snapshot_every))
        result["accuracy"].append(learning.accuracy(out_counts[m], prot.label[m]))
        result["output_rate"].append(float(out_counts[m].mean() * 1000.0 / config.t_free))
        result["hidden_rate"].append(float(hid_counts[m].mean() * 1000.0 / config.t_free))
    d = _dendritic(res)
    n_in, n_h, n_o = digits.N_PIXELS, config.n_hidden, digits.N_CLASSES
    train = prot.is_train
    clamp = nudge_counts[train][np.eye(n_o, dtype=bool)[prot.label[train]]].mean() * 1000.0 / config.t_nudge
    for k in range(config.n_chunks):
        m = train & (prot.chunk == k)
        if d is not None:
            times, values = d
            # samples in (onset, onset + t_nudge]: the gate spike lands a step after the nudge's onset
            first = np.searchsorted(times, free[m], side="right")
            last = np.searchsorted(times, free[m] + config.t_nudge, side="right")
            rows = np.concatenate([np.arange(a, b) for a, b in zip(first, last, strict=True)]) if len(first) else np.empty(0, int)
            result["dendritic_state"].append(float(np.abs(values[rows]).mean()) if len(rows) else float("nan"))
        else:
            result["dendritic_state"].append(float("nan"))
        t0, t1 = k * config.period, (k + 1) * config.period
        w_in0, w_in1 = _matrix(res, "ff_hidden", t0, (n_h, n_in)), _matrix(res, "ff_hidden", t1, (n_h, n_in))
        w_out0 = _matrix(res, "ff_output", t0, (n_o, n_h))
        x = data.train_x[prot.index[m]] * config.input_rate
        target = np.eye(n_o)[prot.label[m]] * clamp
        bp = learning.backprop_update(x, hid_counts[m] * 1000.0 / config.t_free, out_counts[m] * 1000.0 / config.t_free, target, w_out0)
        result["angle"].append(learning.angle(w_in1 - w_in0, bp))
    return {**result, "teacher_clamped_rate": float(clamp)}


def _dendritic(res: Results) -> tuple[np.ndarray, np.ndarray] | None:
    """Sample times (ms) and the hidden cells' recorded d [n_samples, n_cells], or None where d was not recorded."""
    try:
        sig = res.signals("hidden", "d")
    except RunDirectoryError:  # not recorded
        return None
    return np.asarray(sig.times.rescale("ms").magnitude), np.asarray(sig.magnitude)
