"""Traceback: which input pixels drive one neuron, by propagating it back down the feed-forward weights.

Start from a one-hot vector on the focal neuron in layer ``L``. One step down, each cell ``j`` of layer
``l - 1`` gets ``s[j] = r[j] * sum_i W[i, j] s[i]``: the weight it sends to the sensitive cells of layer ``l``,
times its own rate (a silent cell drives nothing). Each layer's vector is normalised to sum 1, so layers are
comparable and the result is a distribution over the input cells.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr


def sensitivities(nrn: int, layer: int, rates: Mapping[int, np.ndarray], weights: Mapping[int, np.ndarray]) -> np.ndarray:
    """Sensitivity of every input cell (layer 0) to neuron ``nrn`` of ``layer``; sums to 1 (or is all 0).

    Parameters
    ----------
    nrn, layer
        The focal neuron's index in its layer's excitatory population, and the layer (>= 1).
    rates
        Rates (Hz) by layer, ``0 .. layer - 1`` needed: one value per cell of that layer.
    weights
        Feed-forward weights by layer ``l = 1 .. layer``: ``W[l]`` of shape ``(n_l, n_{l-1})`` (post, pre), any
        one unit (the result is normalised).

    Returns
    -------
    numpy.ndarray
        One value per cell of layer 0, summing to 1 (all 0 when no path reaches the focal neuron).

    Raises
    ------
    ValueError
        If ``layer < 1`` or a weight matrix's shape does not match the layers' sizes.

    Examples
    --------
    One neuron fed by three input cells with weights 1, 0 and 1; the inputs fire at 2, 5 and 2 Hz:

    >>> sensitivities(0, 1, {0: np.array([2.0, 5.0, 2.0])}, {1: np.array([[1.0, 0.0, 1.0]])})
    array([0.5, 0. , 0.5])
    """
    if layer < 1:
        raise ValueError(f"layer must be >= 1 (layer 0 is the input), got {layer}")
    s = np.zeros(weights[layer].shape[0])
    s[nrn] = 1.0
    for l in range(layer, 0, -1):  # noqa: E741
        w, r = np.asarray(weights[l]), np.asarray(rates[l - 1], dtype=np.float64)
        if w.shape != (len(s), len(r)):
            raise ValueError(f"weights[{l}] has shape {w.shape}, expected ({len(s)}, {len(r)}) from the layers' sizes")
        s = r * (w.T @ s)
        total = s.sum()
        s = s / total if total > 0 else s
    return s


def image_sensitivities(
    nrn: int, layer: int, rates: xr.DataArray, weights: Mapping[int, np.ndarray], input_shape: tuple[int, int, int]
) -> xr.DataArray:
    """Per-image input sensitivities summed over channels: dims ``img, row, col``.

    ``rates`` (EXC cells) has dims ``img``, ``layer``, ``nrn`` and optionally ``rep`` (averaged first); rows
    are trimmed of NaN padding to each layer's size as given by ``weights``.

    Parameters
    ----------
    nrn, layer : int
        The focal neuron's index in its layer's excitatory population, and the layer (>= 1).
    rates : xarray.DataArray
        Rates (Hz) of the excitatory cells, dims ``img, layer, nrn`` (and optionally ``rep``).
    weights : Mapping
        Feed-forward weights by layer, as for :func:`sensitivities`.
    input_shape : tuple of int
        ``(channels, rows, cols)`` of the input layer.

    Returns
    -------
    xarray.DataArray
        Dims ``img, row, col``; each image's map sums to 1 (or is all 0). Attrs ``nrn`` and ``layer``.
    """
    r = rates.mean("rep") if "rep" in rates.dims else rates
    sizes = {k - 1: w.shape[1] for k, w in weights.items()} | {k: w.shape[0] for k, w in weights.items()}
    maps = []
    for img in r["img"].values:
        by_layer = {int(k): r.sel(img=img, layer=k).values[: sizes[int(k)]] for k in r["layer"].values if int(k) in sizes}
        s = sensitivities(nrn, layer, by_layer, weights)
        maps.append(s.reshape(input_shape).sum(axis=0))
    return xr.DataArray(np.stack(maps), dims=("img", "row", "col"), coords={"img": r["img"].values}, attrs={"nrn": nrn, "layer": layer})
