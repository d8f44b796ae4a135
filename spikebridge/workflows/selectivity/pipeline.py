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

from ...analysis.selectivity import infer_rates, selectivity, top_k
from ...analysis.weights import weight_matrix
from ...rundir import atomic_file
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


def run_pipeline(
    wf: Workflow, noises: Sequence[float] = (0.0, 60.0), k: int = 10, figures: Path | None = None, offset: float = 50.0
) -> dict[str, Any]:
    """Train, test at every noise amplitude (0 first), score selectivity of the last layer, draw figures.

    Selectivity (bits; see :func:`~spikebridge.analysis.selectivity.selectivity`) is measured on the
    excitatory cells of the last layer over ``[offset, present_ms)`` of each presentation. Returns (and
    writes to ``wf.out / "summary.json"``) the top-``k`` means before and after training, the neuron drawn
    in the figures, and wall-clock times.

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

    Returns
    -------
    dict
        The summary written to summary.json: top-``k`` selectivity (bits) per state and noise, the neuron the
        figures show, and timings (s).
    """
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
    layer = wf.layers.last
    labels = wf.dataset.annotations
    columns = [c for c in labels.columns if c not in ("image_id", "file", "shape", "variant")]
    scores: dict[str, Any] = {}
    best: dict[str, Any] = {}
    for noise in noises:
        for state in STATES:
            rates = infer_rates(records[noise][state].sel(layer=layer, nrn_cls="EXC"), None, offset)
            sel = selectivity(rates, labels, columns, seed=wf.seed)
            top = top_k(sel, k)
            scores[f"{state}_noise_{noise:g}"] = {
                "top_k_mean_bits": float(top.mean()),
                "mean_bits": float(sel.max("label").mean()),
                "top_k_neurons": [int(n) for n in top["nrn"].values],
                "mean_rate_hz": float(np.nanmean(rates.values)),
            }
            best[f"{state}_{noise:g}"] = sel
    post = best["trained_0"]
    nrn = int(top_k(post, 1)["nrn"].values[0])
    column = str(post.sel(nrn=nrn).idxmax("label").values)
    summary: dict[str, Any] = {
        "backend": wf.backend or wf.base_model.simulation.backend,
        "model": wf.model,
        "layer": layer,
        "k": k,
        "offset_ms": offset,
        "protocol": wf.protocol.__dict__,
        "images": len(wf.dataset),
        "selectivity": scores,
        "figure_neuron": {"nrn": nrn, "label": column},
        "timings": timings,
    }
    if figures is not None:
        from .figures import make_figures

        t0 = time.perf_counter()
        weights = {state: ff_weights(wf, state) for state in STATES}
        make_figures(wf, records, weights, nrn, column, Path(figures), offset)
        timings["figures_s"] = time.perf_counter() - t0
    with atomic_file(wf.out / "summary.json") as fh:
        fh.write(json.dumps(summary, indent=2).encode())
    return summary


def describe(summary: dict[str, Any]) -> str:
    """A few lines for the terminal: top-k selectivity before and after training at each noise amplitude."""
    k, layer = summary["k"], summary["layer"]
    lines = [f"selectivity of the top {k} L{layer} excitatory neurons (bits, shuffle-corrected mutual information):"]
    noises = sorted({key.split("noise_")[1] for key in summary["selectivity"]}, key=float)
    for noise in noises:
        pre = summary["selectivity"][f"untrained_noise_{noise}"]["top_k_mean_bits"]
        post = summary["selectivity"][f"trained_noise_{noise}"]["top_k_mean_bits"]
        lines.append(
            f"  noise {noise:>4}: untrained {pre:.3f}  trained {post:.3f}  ({'higher' if post > pre else 'NOT higher'} after training)"
        )
    t = summary["timings"]
    lines.append("wall time: " + ", ".join(f"{name[:-2]} {value:.1f} s" for name, value in t.items()))
    return "\n".join(lines)
