"""Drawing a traceback: input sensitivities as dots over the image a neuron was shown."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes


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

    ``sensitivities`` is ``[rows, cols]`` on the input grid (channels summed), placed at the grid cells'
    centres in the image's pixel coordinates; ``sensitivities_max`` fixes the scale (so several panels
    compare), default this map's maximum.
    """
    ax = axes if axes is not None else plt.subplots(figsize=(2, 2))[1]
    ax.imshow(image, cmap="gray", vmin=vmin, vmax=vmax)
    s = np.asarray(sensitivities, dtype=np.float64)
    top = sensitivities_max if sensitivities_max is not None else float(np.nanmax(s, initial=0.0))
    rows, cols = s.shape
    yy, xx = np.meshgrid((np.arange(rows) + 0.5) * image.shape[0] / rows - 0.5, (np.arange(cols) + 0.5) * image.shape[1] / cols - 0.5, indexing="ij")
    sizes = max_size * np.nan_to_num(s) / top if top > 0 else np.zeros_like(s)
    keep = sizes > 0
    kwargs = {"linewidths": 0, "alpha": 0.8, **(sel_kwargs or {})}
    kwargs.pop("s", None)
    ax.scatter(xx[keep], yy[keep], s=sizes[keep], color=color, **kwargs)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax
