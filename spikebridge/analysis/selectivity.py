"""Rates of image presentations and how selective each neuron is for an image annotation.

``infer_rates`` turns spike records (dims ``img, rep, layer, nrn_cls``; see :mod:`spikebridge.workflows.selectivity`)
into rates (Hz) with a trailing ``nrn`` dimension. Selectivity is the mutual information (bits) between a
neuron's response (its rate, in equal-count bins) and an annotation of the image (e.g. whether the left side is
convex), minus the mean information of the same responses under shuffled image labels: a neuron that fires
alike for every image scores about 0, one whose rate tells the annotation apart scores up to 1 bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr


def infer_rates(records: xr.DataArray, duration: float | None = None, offset: float = 0.0) -> xr.DataArray:
    """Rate of every neuron (Hz) in ``[offset, offset + duration)`` ms of each presentation.

    Parameters
    ----------
    records : xarray.DataArray
        Spike records, any subset of the dims ``img, rep, layer, nrn_cls`` (one
        :class:`~spikebridge.workflows.selectivity.records.SpikeRecord` each).
    duration, offset : float, optional
        The observation window (ms from the onset); ``duration`` defaults to the rest of the presentation.

    Returns
    -------
    xarray.DataArray
        ``records``' dims plus ``nrn``; populations smaller than the largest are padded with NaN.
    """
    flat = records.values.ravel()
    rates = [r.rates(duration, offset) for r in flat]
    n = max((len(r) for r in rates), default=0)
    out = np.full((len(flat), n), np.nan)
    for k, r in enumerate(rates):
        out[k, : len(r)] = r
    coords = {d: records[d].values for d in records.dims}
    attrs = {**records.attrs, "window_ms": [offset, offset + (duration if duration is not None else flat[0].duration - offset)]}
    return xr.DataArray(out.reshape(*records.shape, n), dims=(*records.dims, "nrn"), coords=coords | {"nrn": np.arange(n)}, attrs=attrs)


def _bins(x: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-count bins of ``x`` by rank (ties share a bin)."""
    edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return np.searchsorted(edges, x, side="right")


def mutual_information(response: np.ndarray, labels: np.ndarray) -> float:
    """Plug-in mutual information (bits) between two discrete sequences of equal length.

    Parameters
    ----------
    response, labels : numpy.ndarray
        Discrete values (any hashable dtype), one per trial.

    Returns
    -------
    float
        ``I(response; labels)`` in bits, not bias-corrected.

    Examples
    --------
    >>> mutual_information(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]))
    1.0
    >>> mutual_information(np.array([0, 1, 0, 1]), np.array([0, 0, 1, 1]))
    0.0
    """
    _, r = np.unique(response, return_inverse=True)
    _, s = np.unique(labels, return_inverse=True)
    joint = np.zeros((r.max() + 1, s.max() + 1))
    np.add.at(joint, (r, s), 1.0)
    joint /= joint.sum()
    pr, ps = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log2(joint[nz] / (pr @ ps)[nz])).sum())


def _information(binned: np.ndarray, codes: np.ndarray, n_bins: int, n_labels: int) -> np.ndarray:
    """Plug-in mutual information (bits) of every neuron's binned responses with each labelling at once.

    ``binned``: ``[trials, neurons]`` bin indices; ``codes``: ``[labellings, trials]`` label indices. Returns
    ``[labellings, neurons]``; each entry equals :func:`mutual_information` of that pair.
    """
    n_trials = binned.shape[0]
    r = np.eye(n_bins)[binned]  # trials, neurons, bins
    s = np.eye(n_labels)[codes]  # labellings, trials, labels
    joint = np.einsum("tnb,ktl->knbl", r, s) / n_trials
    pr = joint.sum(axis=3, keepdims=True)
    ps = joint.sum(axis=2, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(joint > 0, joint * np.log2(joint / (pr * ps)), 0.0)
    return terms.sum(axis=(2, 3))


def _prepared(rates: xr.DataArray, labels: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Binned responses ``[img * rep, nrn]`` (2 equal-count bins), which neurons respond at all, and the labels
    in ``img`` order."""
    r = rates.transpose("img", ..., "nrn")
    values = r.values.reshape(r.sizes["img"], -1, r.sizes["nrn"])  # img, rep, nrn
    table = labels.set_index("image_id").loc[r["img"].values]
    return values, r["nrn"].values, table


def selectivity(
    rates: xr.DataArray,
    labels: pd.DataFrame,
    columns: Sequence[str] = ("top", "left", "bottom", "right"),
    *,
    n_bins: int = 2,
    shuffles: int = 20,
    seed: int = 0,
) -> xr.DataArray:
    """Bias-corrected mutual information (bits) between each neuron's rate and each annotation column.

    ``rates`` has dims ``img``, ``rep`` (optional) and ``nrn``; ``labels`` an ``image_id`` column matching
    ``img``. The shuffle baseline permutes the labels across images (repetitions keep their image), with a
    generator seeded by ``seed``. Columns whose value never changes are skipped.

    Parameters
    ----------
    rates : xarray.DataArray
        Rates (Hz), dims ``img``, optionally ``rep``, and ``nrn`` (:func:`infer_rates`).
    labels : pandas.DataFrame
        Annotations: an ``image_id`` column matching ``img`` and the annotation columns.
    columns : sequence of str, optional
        The annotation columns scored.
    n_bins : int, optional
        Equal-count bins of a neuron's rates.
    shuffles : int, optional
        Label permutations averaged for the bias correction (0: none).
    seed : int, optional
        Seed of the permutations.

    Returns
    -------
    xarray.DataArray
        Selectivity in bits, dims ``nrn, label`` (0 for a neuron whose rate never changes).
    """
    values, nrn, table = _prepared(rates, labels)
    columns = [c for c in columns if table[c].nunique() > 1]
    rng = np.random.default_rng(seed)
    n_img, n_rep, n_nrn = values.shape
    perms = np.array([rng.permutation(n_img) for _ in range(shuffles)], dtype=np.int64).reshape(shuffles, n_img)
    x = values.reshape(n_img * n_rep, n_nrn)
    silent = np.all(np.isnan(x), axis=0) | (np.nanmax(x, axis=0, initial=-np.inf) == np.nanmin(x, axis=0, initial=np.inf))
    binned = np.column_stack([_bins(np.nan_to_num(x[:, j]), n_bins) for j in range(n_nrn)]) if n_nrn else np.zeros((len(x), 0), int)
    out = np.zeros((n_nrn, len(columns)))
    for c, col in enumerate(columns):
        _, lab = np.unique(table[col].to_numpy(), return_inverse=True)
        codes = np.vstack([lab, lab[perms]]) if shuffles else lab[None, :]
        info = _information(binned, np.repeat(codes, n_rep, axis=1), int(binned.max(initial=0)) + 1, int(lab.max()) + 1)
        out[:, c] = info[0] - (info[1:].mean(axis=0) if shuffles else 0.0)
    out[silent] = 0.0
    return xr.DataArray(out, dims=("nrn", "label"), coords={"nrn": nrn, "label": columns})


def chance_top_k(
    rates: xr.DataArray,
    labels: pd.DataFrame,
    column: str,
    k: int,
    *,
    shuffles: int = 20,
    seed: int = 0,
    n_bins: int = 2,
    inner_shuffles: int = 20,
) -> tuple[float, float]:
    """The top-``k`` mean selectivity for ``column`` that label shuffles give: its chance level.

    Each shuffle permutes ``column`` across images (repetitions keep their image) and scores the neurons as
    :func:`selectivity` does, bias correction included; a top-``k`` mean picks the best of many neurons, so it
    is above 0 even when no neuron tells the labels apart.

    Parameters
    ----------
    rates : xarray.DataArray
        Rates (Hz), as for :func:`selectivity`.
    labels : pandas.DataFrame
        Annotations with an ``image_id`` column and ``column``.
    column : str
        The annotation scored.
    k : int
        How many of the most selective neurons are averaged.
    shuffles : int, optional
        Label permutations (at least 1).
    seed : int, optional
        Seed of the permutations (and of each shuffled scoring's own bias correction).
    n_bins, inner_shuffles : int, optional
        :func:`selectivity`'s ``n_bins`` and ``shuffles``, as the score being compared used them.

    Returns
    -------
    tuple of float
        Mean and standard deviation over the shuffles of the top-``k`` mean (bits; the s.d. is 0 for one shuffle).

    Raises
    ------
    ValueError
        If ``shuffles`` < 1.
    """
    if shuffles < 1:
        raise ValueError(f"shuffles must be >= 1, got {shuffles}")
    rng = np.random.default_rng([seed, 1])
    table = labels.set_index("image_id").loc[rates["img"].values].reset_index()
    scores = []
    for i in range(shuffles):
        shuffled = table.copy()
        shuffled[column] = table[column].to_numpy()[rng.permutation(len(table))]
        sel = selectivity(rates, shuffled, (column,), n_bins=n_bins, shuffles=inner_shuffles, seed=seed + 1 + i)
        scores.append(float(top_k(sel, k).mean()) if sel.sizes["label"] else 0.0)
    return float(np.mean(scores)), float(np.std(scores, ddof=1)) if shuffles > 1 else 0.0


def top_k(scores: xr.DataArray, k: int) -> xr.DataArray:
    """The ``k`` highest scores (best first), with their ``nrn`` coordinate.

    Parameters
    ----------
    scores : xarray.DataArray
        Selectivities (bits) with dim ``nrn``; a ``label`` dim is reduced by its maximum (a neuron's selectivity
        for its best annotation).
    k : int
        How many neurons to keep.

    Returns
    -------
    xarray.DataArray
        Dim ``nrn``, at most ``k`` long, in decreasing order.
    """
    best = scores.max("label") if "label" in scores.dims else scores
    order = np.argsort(-best.values, kind="stable")[:k]
    return best.isel(nrn=order)


def selectivity_summary(rates: xr.DataArray, labels: pd.DataFrame, k: int = 10, **kwargs: Any) -> dict[str, float]:
    """Mean selectivity (bits) of the top ``k`` neurons and of all neurons, for ``rates`` (dims img, rep, nrn).

    Parameters
    ----------
    rates : xarray.DataArray
        Rates (Hz), as for :func:`selectivity`.
    labels : pandas.DataFrame
        Annotations, as for :func:`selectivity`.
    k : int, optional
        How many of the most selective neurons to average.
    **kwargs
        Passed on to :func:`selectivity`.

    Returns
    -------
    dict
        ``top_k_mean`` and ``mean`` (bits, each neuron by its best annotation) and ``k``.
    """
    scores = selectivity(rates, labels, **kwargs)
    best = scores.max("label")
    return {"top_k_mean": float(top_k(scores, k).mean()), "mean": float(best.mean()), "k": float(k)}
