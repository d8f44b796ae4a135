"""The workflow's figure set, pre (untrained) vs post (trained) training, per noise amplitude.

Rate histograms, topographic rate maps, one neuron's selectivity panel and its traceback panels; the data are
gathered here from the workflow, drawn by :mod:`spikebridge.plotting.selectivity` and
:mod:`spikebridge.plotting.traceback`, and saved as PNG and PDF with
:func:`~spikebridge.plotting.figures.save_figure`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ...analysis.selectivity import infer_rates
from ...analysis.traceback import image_sensitivities
from ...models.random import stream
from ...plotting.figures import save_figure
from ...plotting.selectivity import hist_input_rates, hist_rates, selectivity_figure, topographic_rates
from ...plotting.traceback import traceback_figure
from .schedule import input_image
from .workflow import Workflow


def contrast_pair(labels: pd.DataFrame, column: str, preferred_img: int) -> tuple[int, int]:
    """The two images a traceback figure contrasts: ``preferred_img`` and the image whose annotations differ
    from it only in ``column`` (else the first image with the other value).

    Parameters
    ----------
    labels
        Image annotations: ``image_id``, ``column`` (0 or 1) and the other annotations.
    column
        The annotation the two images differ in.
    preferred_img
        The neuron's preferred image.

    Returns
    -------
    tuple[int, int]
        (negative, positive) image ids: ``column`` is 0 for the first, 1 for the second.
    """
    table = labels.set_index("image_id")
    others = [c for c in table.columns if c not in (column, "shape", "variant")]
    row = table.loc[preferred_img]
    flipped = table[(table[column] != row[column]) & (table[others] == row[others]).all(axis=1)]
    other = int(flipped.index[0]) if len(flipped) else int(table.index[table[column] != row[column]][0])
    return (other, preferred_img) if row[column] == 1 else (preferred_img, other)


def traceback_data(
    wf: Workflow,
    rates: Mapping[str, xr.DataArray],
    weights: Mapping[str, Mapping[int, np.ndarray]],
    nrn: int,
    layer: int,
    noise: float,
) -> tuple[dict[str, xr.DataArray], dict[int, np.ndarray], np.ndarray]:
    """What :func:`~spikebridge.plotting.traceback.traceback_figure` draws for one neuron at one noise amplitude.

    Parameters
    ----------
    wf
        The workflow (its images, input grid and seed).
    rates
        Excitatory rates (Hz) by state, dims ``layer``, ``img``, ``nrn`` and optionally ``rep``.
    weights
        Feed-forward weights by state and layer.
    nrn, layer
        The neuron traced back.
    noise
        Pixel noise amplitude (grey levels).

    Returns
    -------
    tuple
        Sensitivities by state (dims ``img`` and the input grid), the images as shown (by image id, repetition
        0, grey levels) and a grey background with the same noise, drawn from the workflow's seed.
    """
    background_rng = stream(wf.seed, "selectivity", "figure_background")
    background = input_image(np.full(wf.dataset.shape, 128.0), wf.protocol.image_size, noise, background_rng)
    shown = dict(zip(wf.dataset.annotations["image_id"], wf.input_images(noise, rep=0), strict=True))
    sens = {state: image_sensitivities(nrn, layer, r, weights[state], wf.input_shape) for state, r in rates.items()}
    return sens, shown, background


def make_figures(
    wf: Workflow,
    records: Mapping[float, Mapping[str, xr.DataArray]],
    weights: Mapping[str, Mapping[int, np.ndarray]],
    nrn: int,
    column: str,
    out: Path,
    offset: float = 50.0,
    *,
    shown_reps: Sequence[int] | None = None,
    violin: bool = False,
) -> list[Path]:
    """Every figure for every noise amplitude in ``records`` (noise -> state -> records) into ``out``.

    As the seed draws them: the input layer's Poisson rates, the rate histograms (60 bins, 0-200 Hz EXC and
    0-300 Hz INH) and topographic rate maps of one image and one repetition, the neuron's rates grouped by
    ``column`` and its traceback.

    Parameters
    ----------
    wf
        The workflow.
    records
        Spike records by noise amplitude (grey levels) and state.
    weights
        Feed-forward weights by state and layer.
    nrn
        The neuron whose selectivity and traceback are drawn (in the last layer).
    column
        The image annotation its rates are grouped by.
    out
        Directory of the figures.
    offset
        Time (ms) after each image onset left out of the rates.
    shown_reps
        The repetitions the neuron's rates are drawn from (default: all).
    violin
        Violins instead of boxes for the neuron's rates.

    Returns
    -------
    list[Path]
        The files written (PNG and PDF of each figure).
    """
    written: list[Path] = []
    layer = wf.layers.last
    labels = wf.dataset.annotations
    first = int(labels["image_id"].iloc[0])
    for noise, by_state in records.items():
        tag = f"noise_{noise:g}"
        one = {s: r.sel(layer=r["layer"].values[1:], img=first, rep=0) for s, r in by_state.items()}
        which = f"Image {first}, repetition 0, noise {noise:g}"
        fig = hist_rates(one, offset=offset, bins=60, xmax=(200.0, 300.0), figsize=(6, 8))
        fig.suptitle(which, fontsize=9)
        fig.tight_layout(rect=(0, 0, 1, 0.97))
        written += save_figure(fig, out / f"rates_hist_{tag}", close=True)
        fig = topographic_rates(one, offset=offset)
        fig.suptitle(f"{which}: rates {offset:g} ms after onset to the end of the image", fontsize=9)
        fig.tight_layout(rect=(0, 0, 1, 0.97))
        written += save_figure(fig, out / f"topographic_rates_{tag}", close=True)
        written += save_figure(hist_input_rates(wf.encoder.rates(wf.input_images(noise, rep=0)[0])), out / f"input_rates_{tag}", close=True)
        exc = {s: infer_rates(r.sel(nrn_cls="EXC"), None, offset) for s, r in by_state.items()}
        last = {s: r.sel(layer=layer) for s, r in exc.items()}
        if shown_reps is not None:
            last = {s: r.sel(rep=list(shown_reps)) for s, r in last.items()}
        fig = selectivity_figure(last, nrn, labels, column, layer, violin=violin)
        written += save_figure(fig, out / f"selectivity_L{layer}_{nrn}_{tag}", close=True)
        preferred = int(last["trained"].sel(nrn=nrn).mean("rep").idxmax("img")) if "trained" in last else int(labels["image_id"][0])
        pair = contrast_pair(labels, column, preferred)
        sens, shown, background = traceback_data(wf, exc, weights, nrn, layer, noise)
        fig = traceback_figure(sens, shown, background, pair, nrn=nrn, layer=layer, noise=noise)
        written += save_figure(fig, out / f"traceback_L{layer}_{nrn}_{tag}", close=True)
    return written
