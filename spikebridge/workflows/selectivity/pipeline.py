"""The whole workflow in one call: train, test untrained and trained at each noise amplitude, measure
selectivity, draw the figures and write ``summary.json``. Used by ``spikebridge selectivity`` and
``examples/feature_selectivity.py``."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ...analysis.selectivity import chance_top_k, infer_rates, selectivity, top_k
from ...analysis.weights import relative_change, weight_matrix
from ...rundir import atomic_file, load
from .config import WorkflowError
from .workflow import STATES, Workflow


def ff_weights(wf: Workflow, state: str) -> dict[int, np.ndarray]:
    """Feed-forward weight matrices (post, pre) by layer, as the ``state``'s test runs used them.

    Parameters
    ----------
    wf
        The workflow, tested at noise 0 in ``state``.
    state
        ``"untrained"`` or ``"trained"``.

    Returns
    -------
    dict
        ``{k: matrix}`` for every excitatory layer ``k >= 1``: the weights (uS or nA) from layer ``k - 1``'s
        excitatory cells (the input for ``k = 1``), shape ``(post, pre)``.
    """
    res = wf.test_run(state, 0.0)
    layers = wf.layers
    out = {}
    for k in sorted(layers.exc):
        pre = layers.input if k == 1 else layers.exc[k - 1]
        out[k] = weight_matrix(res, pre, layers.exc[k])
    return out


def weight_changes(wf: Workflow) -> list[dict[str, Any]]:
    """How far the plastic weights moved in each training run: from the untrained network (its noise-0 test run) to
    the first checkpoint, then from checkpoint to checkpoint (:func:`~spikebridge.analysis.weights.relative_change`).

    The feature-binding study logs the mean over its plastic projections every ten epochs as ``deltaweight``; with
    ``epochs_per_run = 10`` the entries here are the same measure.

    Returns
    -------
    list of dict
        Per training run: ``epochs`` (first and last), ``mean`` over the plastic projections, ``projections``.
    """
    plastic = [name for name, prj in wf.base_model.projections.items() if prj.synapse.type != "static"]
    if not plastic:
        return []
    previous = wf.test_run("untrained", 0.0).weights()
    out = []
    for epochs in wf.protocol.runs:
        table = load(wf.checkpoint(epochs[-1])).weights()
        change = relative_change(previous, table, plastic)
        moved = [v for v in change.values() if np.isfinite(v)]  # NaN: weights that were all zero
        out.append(
            {
                "epochs": [epochs[0], epochs[-1]],
                "mean": float(np.mean(moved)) if moved else None,
                "projections": {k: v if np.isfinite(v) else None for k, v in change.items()},
            }
        )
        previous = table
    return out


def split_reps(reps: int) -> tuple[list[int], list[int]]:
    """The test repetitions that choose the figure neuron and those that show it: even and odd ones, so that the
    neuron drawn is not picked on the very responses drawn (with one repetition, both are that one).

    Parameters
    ----------
    reps
        Repetitions of each image in a test.

    Returns
    -------
    tuple of list of int
        (choosing, showing) repetitions.

    Examples
    --------
    >>> split_reps(5), split_reps(1)
    (([0, 2, 4], [1, 3]), ([0], [0]))
    """
    choosing = list(range(0, reps, 2))
    return choosing, list(range(1, reps, 2)) or choosing


def feature_rates(rates: xr.DataArray, labels: pd.DataFrame, feature: str) -> dict[str, list[float]]:
    """One neuron's rates for the images with ``feature`` 1 (positive) and 0 (negative): mean and s.d. (Hz), as
    the seed reports them.

    Parameters
    ----------
    rates
        The neuron's rates (Hz), dims ``img`` and optionally ``rep``.
    labels
        Annotations with ``image_id`` and ``feature``.
    feature
        The annotation (0 or 1).

    Returns
    -------
    dict
        ``{"positive": [mean, sd], "negative": [mean, sd]}``.
    """
    table = labels.set_index("image_id")[feature]
    out = {}
    for name, value in (("positive", 1), ("negative", 0)):
        ids = [i for i in table.index[table == value] if i in rates["img"].values]
        v = rates.sel(img=ids).values.ravel()
        out[name] = [float(np.mean(v)), float(np.std(v))] if v.size else [float("nan"), float("nan")]
    return out


def run_pipeline(
    wf: Workflow,
    noises: Sequence[float] = (0.0, 20.0),
    k: int = 10,
    figures: Path | None = None,
    offset: float = 50.0,
    feature: str = "left",
    shuffles: int = 20,
    violin: bool = False,
) -> dict[str, Any]:
    """Train, test at every noise amplitude (0 first), score selectivity of the last layer, draw figures.

    Selectivity (bits; see :func:`~spikebridge.analysis.selectivity.selectivity`) for one image annotation, the
    ``feature`` (the seed's: ``left``, the convex or concave left contour element), is measured on the
    excitatory cells of the last layer over ``[offset, present_ms)`` of each presentation. Beside every top-``k``
    mean stands its chance level: the same score with the feature's labels shuffled across images
    (:func:`~spikebridge.analysis.selectivity.chance_top_k`). The figure neuron is the most selective one of
    the trained network at noise 0 on the even test repetitions; its figures and rates use the odd ones
    (:func:`split_reps`). Returns (and writes to ``wf.out / "summary.json"``) the scores before and after
    training, the figure neuron with its positive/negative rates, and wall-clock times.

    Parameters
    ----------
    wf
        The workflow (runs it reuses are not simulated again).
    noises
        Pixel-noise amplitudes (grey levels) to test at; 0 is always added.
    k
        How many of the most selective neurons are averaged.
    figures
        The folder to draw the figures into; ``None`` draws none.
    offset
        Spikes in the first ``offset`` ms of each presentation are ignored.
    feature
        The annotation scored (a column of the data set's annotations that takes two values).
    shuffles
        Label shuffles of each chance level.
    violin
        Draw the figure neuron's rates as violins instead of boxes.

    Returns
    -------
    dict
        The summary written to summary.json.

    Raises
    ------
    WorkflowError
        If ``feature`` is not an annotation of the data set, or never changes.
    """
    labels = wf.dataset.annotations
    if feature not in labels.columns or feature == "image_id":
        columns = ", ".join(c for c in labels.columns if c not in ("image_id", "file"))
        raise WorkflowError(f"feature {feature!r} is not an annotation of the images (annotations: {columns})")
    values = set(labels[feature].tolist())
    if values != {0, 1}:
        raise WorkflowError(f"feature {feature!r} takes the values {sorted(map(str, values))} over the images; it needs 0 and 1")
    noises = sorted(set(noises) | {0.0})
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    wf.train()
    timings["train_s"] = time.perf_counter() - t0
    records: dict[float, dict[str, Any]] = {}
    t0 = time.perf_counter()
    for noise in noises:
        records[noise] = {state: wf.test(state, noise) for state in STATES}
    timings["test_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    layer = wf.layers.last
    scores: dict[str, Any] = {}
    rates: dict[str, xr.DataArray] = {}
    for noise in noises:
        for state in STATES:
            key = f"{state}_noise_{noise:g}"
            r = rates[key] = infer_rates(records[noise][state].sel(layer=layer, nrn_cls="EXC"), None, offset)
            sel = selectivity(r, labels, (feature,), seed=wf.seed)
            top = top_k(sel, k)
            chance = chance_top_k(r, labels, feature, k, shuffles=shuffles, seed=wf.seed)
            scores[key] = {
                "top_k_mean_bits": float(top.mean()),
                "chance_top_k_bits": {"mean": chance[0], "sd": chance[1]},
                "mean_bits": float(sel.mean()),
                "top_k_neurons": [int(n) for n in top["nrn"].values],
                "mean_rate_hz": float(np.nanmean(r.values)),
            }
    choosing, showing = split_reps(wf.protocol.reps)
    chosen = selectivity(rates["trained_noise_0"].sel(rep=choosing), labels, (feature,), seed=wf.seed)
    nrn = int(top_k(chosen, 1)["nrn"].values[0])
    timings["score_s"] = time.perf_counter() - t0
    summary: dict[str, Any] = {
        "backend": wf.backend or wf.base_model.simulation.backend,
        "model": wf.model,
        "seed": wf.seed,
        "layer": layer,
        "k": k,
        "feature": feature,
        "offset_ms": offset,
        "protocol": wf.protocol.__dict__,
        "encoder": {"type": type(wf.encoder).__name__, **{k: list(v) if isinstance(v, tuple) else v for k, v in vars(wf.encoder).items()}},
        "images": len(wf.dataset),
        "selectivity": scores,
        "figure_neuron": {
            "nrn": nrn,
            "label": feature,
            "chosen_on_reps": choosing,
            "shown_reps": showing,
            "rates_hz": {key: feature_rates(r.sel(nrn=nrn, rep=showing), labels, feature) for key, r in rates.items()},
        },
        "weight_change": weight_changes(wf),
        "timings": timings,
    }
    if figures is not None:
        from .figures import make_figures

        t0 = time.perf_counter()
        weights = {state: ff_weights(wf, state) for state in STATES}
        make_figures(wf, records, weights, nrn, feature, Path(figures), offset, shown_reps=showing, violin=violin)
        timings["figures_s"] = time.perf_counter() - t0
    with atomic_file(wf.out / "summary.json") as fh:
        fh.write(json.dumps(summary, indent=2).encode())
    return summary


def describe(summary: dict[str, Any]) -> str:
    """A few lines for the terminal: top-k selectivity before and after training at each noise amplitude."""
    k, layer = summary["k"], summary["layer"]
    feature = summary.get("feature", "left")
    lines = [
        f"selectivity for {feature!r} of the top {k} L{layer} excitatory neurons (bits, shuffle-corrected mutual information;"
        " chance: the same with the labels shuffled, mean +- s.d.):"
    ]
    noises = sorted({key.split("noise_")[1] for key in summary["selectivity"]}, key=float)
    for noise in noises:
        pre = summary["selectivity"][f"untrained_noise_{noise}"]
        post = summary["selectivity"][f"trained_noise_{noise}"]
        a, b = pre["top_k_mean_bits"], post["top_k_mean_bits"]
        chance = " ".join(f"{c['chance_top_k_bits']['mean']:.3f}+-{c['chance_top_k_bits']['sd']:.3f}" for c in (pre, post))
        lines.append(
            f"  noise {noise:>4}: untrained {a:.3f}  trained {b:.3f}  ({'higher' if b > a else 'NOT higher'} after training;"
            f" chance {chance})"
        )
    fn = summary["figure_neuron"]
    lines.append(f"figure neuron: L{layer} #{fn['nrn']}, chosen on repetitions {fn['chosen_on_reps']}, shown on {fn['shown_reps']}")
    for key, r in fn.get("rates_hz", {}).items():
        pos, neg = r["positive"], r["negative"]
        lines.append(f"  {key}: {feature} = 1: {pos[0]:.1f} ({pos[1]:.1f}) Hz, {feature} = 0: {neg[0]:.1f} ({neg[1]:.1f}) Hz")
    changes = [c for c in summary.get("weight_change", []) if c["mean"] is not None]
    if changes:
        lines.append(
            "plastic weights moved |dw|/|w| = "
            + ", ".join(f"{c['mean']:.3f}" for c in changes)
            + " per training run (mean over projections)"
        )
    t = summary["timings"]
    lines.append("wall time: " + ", ".join(f"{name[:-2]} {value:.1f} s" for name, value in t.items()))
    return "\n".join(lines)


def aggregate(summaries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Selectivity over seeds: for each state and noise, the top-``k`` mean and its chance level, mean and s.d.
    over the seeds' summaries (:func:`run_pipeline`), as the study reports them.

    Parameters
    ----------
    summaries
        One summary per seed, of one model, feature and ``k``.

    Returns
    -------
    dict
        ``seeds``, ``feature``, ``k``, ``layer`` and, per ``STATE_noise_N``: ``top_k_mean_bits`` and
        ``chance_top_k_bits`` (each ``{"mean", "sd", "values"}``, s.d. with ddof 1).

    Examples
    --------
    >>> one = lambda b, c: {"seed": 1, "feature": "left", "k": 10, "layer": 4,
    ...     "selectivity": {"trained_noise_0": {"top_k_mean_bits": b, "chance_top_k_bits": {"mean": c, "sd": 0.0}}}}
    >>> agg = aggregate([one(0.5, 0.2), one(0.7, 0.3)])
    >>> agg["selectivity"]["trained_noise_0"]["top_k_mean_bits"]["mean"], agg["seeds"]
    (0.6, [1, 1])
    """
    keys = list(summaries[0]["selectivity"])
    out: dict[str, Any] = {
        "seeds": [s.get("seed") for s in summaries],
        "feature": summaries[0].get("feature"),
        "k": summaries[0]["k"],
        "layer": summaries[0]["layer"],
        "selectivity": {},
    }
    for key in keys:
        entry = {}
        for name, pick in (
            ("top_k_mean_bits", lambda sc: sc["top_k_mean_bits"]),
            ("chance_top_k_bits", lambda sc: sc["chance_top_k_bits"]["mean"]),
        ):
            values = [float(pick(s["selectivity"][key])) for s in summaries]
            sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
            entry[name] = {"mean": float(np.mean(values)), "sd": sd, "values": values}
        out["selectivity"][key] = entry
    return out


def describe_seeds(agg: dict[str, Any]) -> str:
    """A few lines for the terminal: :func:`aggregate`'s table, untrained against trained at each noise."""
    what = f"top {agg['k']} L{agg['layer']} selectivity for {agg['feature']!r}"
    lines = [f"over seeds {agg['seeds']}: {what} (bits, mean +- s.d.; chance in brackets)"]
    noises = sorted({key.split("noise_")[1] for key in agg["selectivity"]}, key=float)
    for noise in noises:
        cells = []
        for state in STATES:
            e = agg["selectivity"][f"{state}_noise_{noise}"]
            top, chance = e["top_k_mean_bits"], e["chance_top_k_bits"]
            cells.append(f"{state} {top['mean']:.3f}+-{top['sd']:.3f} ({chance['mean']:.3f}+-{chance['sd']:.3f})")
        lines.append(f"  noise {noise:>4}: " + "  ".join(cells))
    return "\n".join(lines)
