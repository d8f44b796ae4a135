"""The workflow's figure set, pre (untrained) vs post (trained) training, per noise amplitude.

rate histograms, topographic rate maps, one neuron's selectivity panel and its traceback panels; each saved
as PNG and PDF with :func:`~spikebridge.plotting.figures.save_figure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402

from ...analysis.selectivity import infer_rates  # noqa: E402
from ...analysis.traceback import image_sensitivities  # noqa: E402
from ...models.random import stream  # noqa: E402
from ...plotting.figures import save_figure  # noqa: E402
from ...plotting.selectivity import hist_rates, plot_contour_selectivity, topographic_rates  # noqa: E402
from ...plotting.traceback import plot_traceback  # noqa: E402
from .schedule import input_image  # noqa: E402
from .workflow import Workflow  # noqa: E402

TITLES = {"untrained": "Untrained", "trained": "Trained"}


def contrast_pair(labels: pd.DataFrame, column: str, preferred_img: int) -> tuple[int, int]:
    """(negative, positive) image ids: ``preferred_img`` and the image whose annotations differ from it only in
    ``column`` (else the first image with the other value); ordered so that ``column`` is 0 for the first."""
    table = labels.set_index("image_id")
    others = [c for c in table.columns if c not in (column, "shape", "variant")]
    row = table.loc[preferred_img]
    flipped = table[(table[column] != row[column]) & (table[others] == row[others]).all(axis=1)]
    other = int(flipped.index[0]) if len(flipped) else int(table.index[table[column] != row[column]][0])
    return (other, preferred_img) if row[column] == 1 else (preferred_img, other)


def selectivity_figure(rates: Mapping[str, xr.DataArray], nrn: int, labels: pd.DataFrame, column: str, layer: int) -> plt.Figure:
    """One neuron's rates grouped by ``column``, one panel per state (rows), shared axes."""
    fig, axes = plt.subplots(len(rates), 1, figsize=(2.4, 1.8 * len(rates) + 0.4), sharex=True, sharey=True, squeeze=False)
    for ax, (state, r) in zip(axes[:, 0], rates.items(), strict=True):
        plot_contour_selectivity(r, nrn, labels[["image_id", column]], axes=ax)
        ax.set_title(f"{TITLES.get(state, state)}: L{layer} #{nrn}", fontsize=9, fontweight="bold")
    axes[0, 0].set_ylim(bottom=0)
    fig.tight_layout()
    return fig


def traceback_figure(
    wf: Workflow,
    rates: Mapping[str, xr.DataArray],
    weights: Mapping[str, Mapping[int, np.ndarray]],
    nrn: int,
    layer: int,
    pair: tuple[int, int],
    noise: float,
) -> plt.Figure:
    """Rows: states; columns: negative image, positive image, average over every image (on a grey, noisy
    background). Dot areas share one scale per row."""
    size = wf.protocol.image_size
    fig, axes = plt.subplots(len(rates), 3, figsize=(6, 2.1 * len(rates)), squeeze=False)
    background_rng = stream(wf.seed, "selectivity", "figure_background")
    background = input_image(np.full(wf.dataset.shape, 128.0), size, noise, background_rng)
    shown = dict(zip(wf.dataset.annotations["image_id"], wf.input_images(noise, rep=0), strict=True))
    for i, (state, r) in enumerate(rates.items()):
        sens = image_sensitivities(nrn, layer, r, weights[state], wf.input_shape)
        average = sens.mean("img").values
        top = float(max(sens.max(), average.max()))
        for j, img in enumerate([*pair, None]):
            if img is None:
                plot_traceback(average, background, sensitivities_max=top, axes=axes[i, j])
                title = "average"
            else:
                plot_traceback(sens.sel(img=img).values, shown[img], sensitivities_max=top, axes=axes[i, j])
                title = f"image {img} ({'negative' if j == 0 else 'positive'})"
            axes[i, j].set_title(title, fontsize=8)
        axes[i, 0].set_ylabel(TITLES.get(state, state), fontweight="bold")
    fig.suptitle(f"Traceback of L{layer} #{nrn}, noise {noise:g}", fontsize=9)
    fig.tight_layout()
    return fig


def make_figures(
    wf: Workflow,
    records: Mapping[float, Mapping[str, xr.DataArray]],
    weights: Mapping[str, Mapping[int, np.ndarray]],
    nrn: int,
    column: str,
    out: Path,
    offset: float = 50.0,
) -> list[Path]:
    """Every figure for every noise amplitude in ``records`` (noise -> state -> records) into ``out``."""
    written: list[Path] = []
    layer = wf.layers.last
    labels = wf.dataset.annotations
    for noise, by_state in records.items():
        tag = f"noise_{noise:g}"
        hidden = {s: r.sel(layer=r["layer"].values[1:]) for s, r in by_state.items()}
        written += save_figure(hist_rates(hidden, offset=offset), out / f"rates_hist_{tag}")
        written += save_figure(topographic_rates(hidden, offset=offset), out / f"topographic_rates_{tag}")
        exc = {s: infer_rates(r.sel(nrn_cls="EXC"), None, offset) for s, r in by_state.items()}
        last = {s: r.sel(layer=layer) for s, r in exc.items()}
        written += save_figure(selectivity_figure(last, nrn, labels, column, layer), out / f"selectivity_L{layer}_{nrn}_{tag}")
        preferred = int(last["trained"].sel(nrn=nrn).mean("rep").idxmax("img")) if "trained" in last else int(labels["image_id"][0])
        pair = contrast_pair(labels, column, preferred)
        written += save_figure(traceback_figure(wf, exc, weights, nrn, layer, pair, noise), out / f"traceback_L{layer}_{nrn}_{tag}")
        plt.close("all")
    return written
