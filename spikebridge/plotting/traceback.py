"""Drawing a traceback: input sensitivities as dots over the image a neuron was shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .selectivity import STATE_TITLES


def plot_traceback(
    sensitivities: np.ndarray,
    image: np.ndarray,
    *,
    sensitivities_max: float | None = None,
    vmin: float = 0.0,
    vmax: float = 255.0,
    color: str = "red",
    max_size: float = 40.0,
    sel_kwargs: dict[str, Any] | None = None,
    axes: Axes | None = None,
) -> Axes:
    """Show ``image`` (grey levels) with a dot per input location, its area proportional to the sensitivity.

    Parameters
    ----------
    sensitivities
        ``[rows, cols]`` on the input grid (channels summed), placed at the grid cells' centres in the image's
        pixel coordinates.
    image
        The image (grey levels), in pixel coordinates; no axis ticks are drawn.
    sensitivities_max
        The sensitivity drawn at ``max_size`` (so several panels compare); default this map's maximum.
    vmin, vmax
        Grey levels drawn black and white.
    color
        Colour of the dots.
    max_size
        Area of the largest dot (points squared).
    sel_kwargs
        Extra keyword arguments of ``ax.scatter`` (``s`` is ignored).
    axes
        Draw here (default: a new 2 x 2 inch figure).

    Returns
    -------
    Axes
    """
    ax = axes if axes is not None else plt.subplots(figsize=(2, 2))[1]
    ax.imshow(image, cmap="gray", vmin=vmin, vmax=vmax)
    s = np.asarray(sensitivities, dtype=np.float64)
    top = sensitivities_max if sensitivities_max is not None else float(np.nanmax(s, initial=0.0))
    rows, cols = s.shape
    yy, xx = np.meshgrid(
        (np.arange(rows) + 0.5) * image.shape[0] / rows - 0.5, (np.arange(cols) + 0.5) * image.shape[1] / cols - 0.5, indexing="ij"
    )
    sizes = max_size * np.nan_to_num(s) / top if top > 0 else np.zeros_like(s)
    keep = sizes > 0
    kwargs = {"linewidths": 0, "alpha": 0.8, **(sel_kwargs or {})}
    kwargs.pop("s", None)
    ax.scatter(xx[keep], yy[keep], s=sizes[keep], color=color, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def traceback_figure(
    sensitivities: Mapping[str, xr.DataArray],
    images: Mapping[int, np.ndarray],
    background: np.ndarray,
    pair: tuple[int, int],
    *,
    nrn: int,
    layer: int,
    noise: float,
) -> Figure:
    """One neuron's tracebacks: rows are network states; columns the negative image, the positive image, and
    the average over every image on a grey, noisy background. Dot areas share one scale per row.

    Parameters
    ----------
    sensitivities
        By state name: the neuron's input sensitivities, dims ``img`` and the input grid's rows and columns
        (as :func:`~spikebridge.analysis.traceback.image_sensitivities` returns them).
    images
        The images as the network saw them (grey levels 0-255), by image id; those of ``pair`` at least.
    background
        The image under the average panel (grey levels 0-255).
    pair
        Ids of the negative and the positive image.
    nrn, layer
        The neuron and its layer (for the title).
    noise
        Pixel noise amplitude (grey levels) the images were shown with (for the title).

    Returns
    -------
    Figure
    """
    fig, axes = plt.subplots(len(sensitivities), 3, figsize=(6, 2.1 * len(sensitivities)), squeeze=False)
    for i, (state, sens) in enumerate(sensitivities.items()):
        average = sens.mean("img").values
        top = float(max(sens.max(), average.max()))
        for j, img in enumerate([*pair, None]):
            if img is None:
                plot_traceback(average, background, sensitivities_max=top, axes=axes[i, j])
                title = "average"
            else:
                plot_traceback(sens.sel(img=img).values, images[img], sensitivities_max=top, axes=axes[i, j])
                title = f"image {img} ({'negative' if j == 0 else 'positive'})"
            axes[i, j].set_title(title, fontsize=8)
        axes[i, 0].set_ylabel(STATE_TITLES.get(state, state), fontweight="bold")
    fig.suptitle(f"Traceback of L{layer} #{nrn}, noise {noise:g}", fontsize=9)
    fig.tight_layout()
    return fig
