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


def weight_snapshots(res: Results, projection: str, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A projection's snapshot times (ms) and weights [n_snapshots, post, pre]."""
    table = res.weights(projection).xs("w", axis=1, level="var")
    pre = table.index.get_level_values("pre").to_numpy()
    post = table.index.get_level_values("post").to_numpy()
    times = np.asarray(table.columns, dtype=np.float64)
    w = np.zeros((len(times), *shape))
    w[:, post, pre] = table.to_numpy().T
    return times, w


def _at(snapshots: tuple[np.ndarray, np.ndarray], t: float) -> np.ndarray:
    """The weights of the snapshot at ``t`` (ms); KeyError if none was taken then."""
    times, w = snapshots
    k = int(np.argmin(np.abs(times - t)))
    if abs(times[k] - t) > 1e-6:
        raise KeyError(f"no weight snapshot at {t} ms")
    return w[k]


def measure(res: Results, prot: Protocol, config: TaskConfig, data: digits.Digits) -> dict[str, Any]:
    """Accuracy, dendritic state and angle to backprop over training, as lists (one entry per test block or chunk).

    - ``samples``: training samples seen before each test block;
    - ``accuracy``: test accuracy (argmax of the output spike counts over a test sample's ``t_test``; silence or a tie
      is wrong);
    - ``dendritic_state``: mean absolute dendritic state ``|d|`` of the hidden cells over the nudged phases of each
      chunk, over the gate's opening weight in that pass (``d = gate (u - b)``: the schedule's factor taken out; NaN
      if not recorded);
    - ``angle``: degrees between the hidden weights' change over a batch of ``angle_batch`` training samples (weight
      snapshots before and after it) and backprop's update on the rate surrogate of the same samples
      (:func:`spikebridge.analysis.learning.backprop_update`) at the batch's starting weights, averaged over the
      chunk's batches. Over a whole chunk the expected update of any rule that descends a loss shrinks as the loss
      nears a minimum (its samples' gradients cancel) while its spike noise does not, so a chunk-long update points
      at random late in training whatever the rule;
    - ``output_rate``, ``hidden_rate``: mean rates (Hz) in each test block (training samples' rates, for the surrogate,
      are over their free phase ``t_free``).
    """
    out, hid = ([np.asarray(st.magnitude) for st in res.spiketrains(pop)] for pop in ("output", "hidden"))
    window = np.where(prot.is_train, config.t_free, config.t_test)
    free = prot.onset + window
    out_rates = learning.spike_counts(out, prot.onset, free) * 1000.0 / window[:, None]
    hid_rates = learning.spike_counts(hid, prot.onset, free) * 1000.0 / window[:, None]
    nudge_counts = learning.spike_counts(out, free, free + config.t_nudge)
    result: dict[str, list[float]] = {k: [] for k in ("samples", "accuracy", "output_rate", "hidden_rate", "dendritic_state", "angle")}
    test = ~prot.is_train
    for k in range(config.n_chunks + 1):
        m = test & (prot.chunk == k)
        result["samples"].append(float(k * config.snapshot_every))
        result["accuracy"].append(learning.accuracy(out_rates[m], prot.label[m]))
        result["output_rate"].append(float(out_rates[m].mean()))
        result["hidden_rate"].append(float(hid_rates[m].mean()))
    d = _dendritic(res)
    n_in, n_h, n_o = digits.N_PIXELS, config.n_hidden, digits.N_CLASSES
    w_in, w_out = weight_snapshots(res, "ff_hidden", (n_h, n_in)), weight_snapshots(res, "ff_output", (n_o, n_h))
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
            # d carries the gate's opening weight (the learning-rate schedule): measured without it
            gate = config.gate_decay ** (k * config.snapshot_every // config.n_train)
            result["dendritic_state"].append(float(np.abs(values[rows]).mean()) / gate if len(rows) else float("nan"))
        else:
            result["dendritic_state"].append(float("nan"))
        # batches of angle_batch samples, each between two snapshots: the rule's update and backprop's on the batch
        start = k * config.period + config.test_block
        samples = np.flatnonzero(m)
        angles = []
        for b in range(config.snapshot_every // config.angle_batch):
            t0 = start + b * config.snapshot_interval
            rows = samples[b * config.angle_batch : (b + 1) * config.angle_batch]
            x = data.train_x[prot.index[rows]] * config.input_rate
            target = np.eye(n_o)[prot.label[rows]] * clamp
            bp = learning.backprop_update(x, hid_rates[rows], out_rates[rows], target, _at(w_out, t0))
            angles.append(learning.angle(_at(w_in, t0 + config.snapshot_interval) - _at(w_in, t0), bp))
        result["angle"].append(float(np.nanmean(angles)) if np.isfinite(angles).any() else float("nan"))
    return {**result, "teacher_clamped_rate": float(clamp)}


def correct_answers(res: Results, prot: Protocol, config: TaskConfig, block: int = -1) -> np.ndarray:
    """Whether each test image of test block ``block`` (default: the last) was answered right, as for ``accuracy``."""
    k = config.n_chunks if block == -1 else block
    m = ~prot.is_train & (prot.chunk == k)
    out = [np.asarray(st.magnitude) for st in res.spiketrains("output")]
    counts = learning.spike_counts(out, prot.onset[m], prot.onset[m] + config.t_test)
    return learning.answers(counts, prot.label[m])


def _dendritic(res: Results) -> tuple[np.ndarray, np.ndarray] | None:
    """Sample times (ms) and the hidden cells' recorded d [n_samples, n_cells], or None where d was not recorded."""
    try:
        sig = res.signals("hidden", "d")
    except RunDirectoryError:  # not recorded
        return None
    return np.asarray(sig.times.rescale("ms").magnitude), np.asarray(sig.magnitude)
