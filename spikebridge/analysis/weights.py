"""Synaptic weight analysis for the weight table of any simulator's run.

The weight table
----------------
Every function here consumes the *weight table* of a run directory, whose format (levels, units, Parquet
file) is defined in :mod:`spikebridge.rundir.weights`: a :class:`pandas.DataFrame` indexed by
``(projection, pre, post)`` with one column block ``(t, var)`` per snapshot time ``t`` (ms) holding ``"w"``
(uS or nA, PyNN's sign as stored) and ``"delay"`` (ms). That module's ``table_from_arrays``,
``write_table``, ``read_table`` and ``validate_table`` are importable from here too.

A connection absent at some snapshot (structural plasticity) has NaN values
there; NaN weights are ignored by every statistic and by the matrices.

Orientation
-----------
Weight matrices follow the computational-neuroscience *post x pre* convention:
``W[i, j]`` is the summed weight from presynaptic neuron ``j`` onto
postsynaptic neuron ``i`` (row = post, column = pre), so ``W @ r_pre`` is the
input to the post population.

This module draws nothing; the figures are in
:mod:`spikebridge.plotting.weights`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast, overload

import numpy as np
import pandas as pd

from ..rundir.weights import (
    COLUMN_LEVELS,
    INDEX_LEVELS,
    LONG_COLUMNS,
    column_values,
    level_values,
    read_table,
    table_from_arrays,
    validate_table,
    write_table,
)

__all__ = [
    "COLUMN_LEVELS",
    "INDEX_LEVELS",
    "LONG_COLUMNS",
    "NESTML_BOUNDS",
    "PERCENTILES",
    "ProjectionInfo",
    "bimodality",
    "bimodality_by_activity",
    "connections",
    "nestml_bounds",
    "panel_weights",
    "read_table",
    "snapshot_times",
    "table_from_arrays",
    "validate_table",
    "weight_evolution",
    "weight_matrices",
    "weight_matrix",
    "write_table",
]

#: Percentiles reported by :func:`weight_evolution` (columns ``p5`` ... ``p95``).
PERCENTILES: tuple[int, ...] = (5, 25, 50, 75, 95)

_T_ATOL = 1e-9  # ms; snapshot times closer than this are the same snapshot


@dataclass(frozen=True)
class ProjectionInfo:
    """Static description of one projection.

    Parameters
    ----------
    name
        Projection name, as in the ``projection`` level of the weight table.
    pre, post
        Names of the presynaptic and postsynaptic populations.
    n_pre, n_post
        Sizes of the pre and post populations (neurons).
    receptor
        Receptor type / synapse target, e.g. ``"excitatory"``, ``"inhibitory"``.
    w_min, w_max
        Hard bounds of the plasticity rule (weight units), if any.
    label
        Short class of the projection used to group panels, e.g. ``"FF"``
        (feedforward), ``"E2E"`` (lateral), ``"FB"`` (feedback).
    """

    name: str
    pre: str
    post: str
    n_pre: int
    n_post: int
    receptor: str
    w_min: float | None = None
    w_max: float | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        if self.n_pre < 0 or self.n_post < 0:
            raise ValueError(f"projection {self.name!r}: population sizes must be >= 0")
        if self.w_min is not None and self.w_max is not None and self.w_min > self.w_max:
            raise ValueError(f"projection {self.name!r}: w_min {self.w_min} > w_max {self.w_max}")


# ---------------------------------------------------------------------------
# table access
# ---------------------------------------------------------------------------


def snapshot_times(table: pd.DataFrame) -> np.ndarray:
    """Sorted snapshot times of ``table`` (ms), shape ``(n_t,)``, float64."""
    t = np.asarray(pd.unique(table.columns.get_level_values("t")), dtype=float)
    return np.sort(t)


def _resolve_t(table: pd.DataFrame, t: float | None) -> float:
    """The column-level value of the snapshot at time ``t`` (None: the last one)."""
    levels = pd.unique(table.columns.get_level_values("t"))
    if len(levels) == 0:
        raise ValueError("weight table has no snapshot")
    values = np.asarray(levels, dtype=float)
    if t is None:
        return levels[int(np.argmax(values))]
    hit = np.flatnonzero(np.abs(values - float(t)) <= _T_ATOL)
    if hit.size == 0:
        raise KeyError(f"no weight snapshot at t={t} ms; snapshots: {np.sort(values).tolist()}")
    return levels[int(hit[0])]


def _projection_rows(table: pd.DataFrame, name: str) -> np.ndarray:
    """Row positions of projection ``name`` (empty if it is not in the table)."""
    index = cast(pd.MultiIndex, table.index)
    level = index.names.index("projection")
    labels = index.levels[level]
    if name not in labels:
        return np.empty(0, dtype=np.intp)
    code = labels.get_loc(name)
    return np.flatnonzero(index.codes[level] == code)


def connections(table: pd.DataFrame, projection: str, t: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Connections of one projection at one snapshot.

    Parameters
    ----------
    table
        Weight table (see the module docstring).
    projection
        Projection name.
    t
        Snapshot time (ms); ``None`` selects the last snapshot.

    Returns
    -------
    pre, post : np.ndarray of int64, shape (n_syn,)
        Neuron indices within the pre / post population, in table order.
    w : np.ndarray of float64, shape (n_syn,)
        Weights (uS or nA) at that snapshot; NaN where the connection is absent.
        A projection missing from the table gives three empty arrays.
    """
    t_level = _resolve_t(table, t)
    rows = _projection_rows(table, projection)
    pre = level_values(table, "pre", rows).astype(np.int64, copy=False)
    post = level_values(table, "post", rows).astype(np.int64, copy=False)
    w = column_values(table, t_level, "w")[rows]
    return pre, post, w


# ---------------------------------------------------------------------------
# weight matrices
# ---------------------------------------------------------------------------


@overload
def weight_matrix(source: pd.DataFrame, info: ProjectionInfo | Sequence[ProjectionInfo], t: float | None = None) -> np.ndarray: ...


@overload
def weight_matrix(source: Any, info: str, post: str, t: float | None = None) -> np.ndarray: ...


def weight_matrix(source: Any, info: Any, *args: Any, **kwargs: Any) -> np.ndarray:
    """Dense weight matrix (n_post, n_pre): ``weight_matrix(results, "E", "I")`` or ``weight_matrix(table, info)``.

    With a run's :class:`~spikebridge.rundir.Results`, every projection from population ``info`` (a name)
    onto ``post`` is summed; ``t`` selects a snapshot (default: the last). With a weight table, see
    :func:`table_weight_matrix`.
    """
    if isinstance(source, pd.DataFrame):
        return table_weight_matrix(source, info, *args, **kwargs)
    post = args[0] if args else kwargs.pop("post")
    t = args[1] if len(args) > 1 else kwargs.pop("t", None)
    infos = projection_infos(source)
    chosen = [i for i in infos.values() if i.pre == info and i.post == post]
    if not chosen:
        sizes = population_sizes(source)
        for name in (info, post):
            if name not in sizes:
                raise KeyError(f"no population {name!r} (populations: {', '.join(sizes)})")
        return np.zeros((sizes[post], sizes[info]))
    return table_weight_matrix(source.weights(projection=[i.name for i in chosen]), chosen, t)


def population_sizes(results: Any) -> dict[str, int]:
    """Cells per population of a run."""
    from ..models.check import population_size

    return {name: population_size(p, name) for name, p in results.model.populations.items()}


NESTML_BOUNDS = (("w_min", "Wmin"), ("w_max", "Wmax"))
"""Parameter names a NESTML rule's lower and upper weight bounds go by (NESTML's own rules use both spellings)."""


def nestml_bounds(results: Any, projection: str) -> tuple[float | None, float | None]:
    """The weight bounds of a projection's NESTML rule, in the run's weight units (uS or nA).

    A bound is the projection's value of the rule's ``w_min``/``Wmin`` (``w_max``/``Wmax``) parameter, else the
    rule's default. NESTML rules take weights in NEST's units (nS, pA), a thousand times PyNN's. Onto a standard
    cell a weight is a magnitude (the receptor gives the sign), so a rule with an upper bound and no lower one is
    bounded below by 0. Onto a NESTML neuron weights are in NEST's units already.

    Parameters
    ----------
    results
        A run directory.
    projection
        The projection's name; its synapse is a NESTML rule.

    Returns
    -------
    tuple
        ``(w_min, w_max)``; ``None`` for a bound the rule does not have.
    """
    from ..models.nestml import read

    prj = results.model.projections[projection]
    rule = read(prj.synapse.nestml, f"projections.{projection}.synapse")
    values = {**rule.parameters, **prj.synapse.parameters}
    onto_nestml = results.model.populations[prj.post].cell_type in results.model.models
    scale = 1.0 if onto_nestml else 1e-3
    low, high = (next((float(values[k]) * scale for k in names if k in values), None) for names in NESTML_BOUNDS)
    if low is None and high is not None and not onto_nestml:
        low = 0.0
    return low, high


def projection_infos(results: Any) -> dict[str, ProjectionInfo]:
    """:class:`ProjectionInfo` of every projection of a run (sizes, receptor, plasticity bounds, label).

    Bounds are those of an ``stdp`` synapse's weight dependence, or of a NESTML rule (:func:`nestml_bounds`).
    """
    sizes = population_sizes(results)
    out = {}
    for name, prj in results.model.projections.items():
        w_min = w_max = None
        if prj.synapse.type == "stdp" and prj.synapse.weight_dependence is not None:
            w_min, w_max = float(prj.synapse.weight_dependence.w_min), float(prj.synapse.weight_dependence.w_max)
        elif prj.synapse.nestml is not None:
            w_min, w_max = nestml_bounds(results, name)
        out[name] = ProjectionInfo(
            name=name,
            pre=prj.pre,
            post=prj.post,
            n_pre=sizes[prj.pre],
            n_post=sizes[prj.post],
            receptor=prj.receptor,
            w_min=w_min,
            w_max=w_max,
            label=prj.label or name,
        )
    return out


def table_weight_matrix(
    table: pd.DataFrame,
    info: ProjectionInfo | Sequence[ProjectionInfo],
    t: float | None = None,
) -> np.ndarray:
    """Dense weight matrix of one projection (or several sharing pre and post).

    Parameters
    ----------
    table
        Weight table (see the module docstring).
    info
        The projection, or a sequence of projections between the *same*
        (pre, post) population pair (e.g. an AMPA and an NMDA projection);
        their weights are summed.
    t
        Snapshot time (ms); ``None`` selects the last snapshot.

    Returns
    -------
    np.ndarray of float64, shape (n_post, n_pre)
        ``W[i, j]`` = summed weight (uS or nA, sign as stored) from pre neuron
        ``j`` onto post neuron ``i``. Multapses are summed; absent connections
        and NaN weights contribute 0. A projection with no rows in the table
        contributes zeros.

    Raises
    ------
    ValueError
        If the projections do not share pre/post populations and sizes, or an
        index lies outside its population.
    """
    infos = [info] if isinstance(info, ProjectionInfo) else list(info)
    if not infos:
        raise ValueError("weight_matrix needs at least one ProjectionInfo")
    first = infos[0]
    for other in infos[1:]:
        if (other.pre, other.post, other.n_pre, other.n_post) != (
            first.pre,
            first.post,
            first.n_pre,
            first.n_post,
        ):
            raise ValueError(
                f"projections {first.name!r} ({first.pre}->{first.post}) and {other.name!r} "
                f"({other.pre}->{other.post}) do not connect the same populations"
            )
    n_pre, n_post = first.n_pre, first.n_post
    flat = np.zeros(n_post * n_pre, dtype=float)
    for inf in infos:
        pre, post, w = connections(table, inf.name, t)
        keep = ~np.isnan(w)
        pre, post, w = pre[keep], post[keep], w[keep]
        if pre.size == 0:
            continue
        if pre.min() < 0 or pre.max() >= n_pre or post.min() < 0 or post.max() >= n_post:
            raise ValueError(
                f"projection {inf.name!r}: indices out of range for populations of size "
                f"n_pre={n_pre}, n_post={n_post} (pre in [{pre.min()}, {pre.max()}], "
                f"post in [{post.min()}, {post.max()}])"
            )
        flat += np.bincount(post * n_pre + pre, weights=w, minlength=n_post * n_pre)
    return flat.reshape(n_post, n_pre)


def _as_info_list(infos: Mapping[str, ProjectionInfo] | Iterable[ProjectionInfo]) -> list[ProjectionInfo]:
    if isinstance(infos, Mapping):
        return list(infos.values())
    return list(infos)


def _population_size(infos: Sequence[ProjectionInfo], pop: str) -> int | None:
    sizes = {i.n_pre for i in infos if i.pre == pop} | {i.n_post for i in infos if i.post == pop}
    if len(sizes) > 1:
        raise ValueError(f"inconsistent sizes for population {pop!r}: {sorted(sizes)}")
    return sizes.pop() if sizes else None


def weight_matrices(source: Any, *args: Any, **kwargs: Any) -> dict[str, np.ndarray]:
    """W_EE, W_EI, W_IE, W_II (post-pre naming: W_EI holds I->E weights, shape (n_E, n_I)).

    ``weight_matrices(results, exc="E", inh="I", t=None)`` for a run, or
    ``weight_matrices(table, infos, exc, inh, t=None)`` for a weight table (see :func:`table_weight_matrices`).
    """
    if isinstance(source, pd.DataFrame):
        return table_weight_matrices(source, *args, **kwargs)
    return _run_weight_matrices(source, *args, **kwargs)


def _run_weight_matrices(results: Any, exc: str, inh: str, t: float | None = None) -> dict[str, np.ndarray]:
    sizes = population_sizes(results)
    return table_weight_matrices(results.weights(), projection_infos(results), exc, inh, t, n_exc=sizes[exc], n_inh=sizes[inh])


def table_weight_matrices(
    table: pd.DataFrame,
    infos: Mapping[str, ProjectionInfo] | Iterable[ProjectionInfo],
    exc: str,
    inh: str,
    t: float | None = None,
    *,
    n_exc: int | None = None,
    n_inh: int | None = None,
) -> dict[str, np.ndarray]:
    """The four E/I weight matrices of a two-population network.

    Naming follows NEST's "plot weight matrices" example: ``W_XY`` holds the
    weights *from Y onto X* (post-pre naming). Orientation is post x pre
    (row = postsynaptic neuron, column = presynaptic neuron), i.e. the
    transpose of the source-by-target arrays of the NEST example, so that
    ``[[W_EE, W_EI], [W_IE, W_II]]`` is the block matrix of the whole network.

    ====== ============ ==============
    key    connections  shape
    ====== ============ ==============
    W_EE   E -> E       (n_E, n_E)
    W_EI   I -> E       (n_E, n_I)
    W_IE   E -> I       (n_I, n_E)
    W_II   I -> I       (n_I, n_I)
    ====== ============ ==============

    Parameters
    ----------
    table
        Weight table (see the module docstring).
    infos
        Projection descriptions (``{name: ProjectionInfo}`` or an iterable).
        Every projection between a pair of the two populations is summed.
    exc, inh
        Names of the excitatory and inhibitory populations.
    t
        Snapshot time (ms); ``None`` selects the last snapshot.
    n_exc, n_inh
        Population sizes, needed only when no projection touches a population.

    Returns
    -------
    dict[str, np.ndarray]
        The four matrices (float64; uS or nA; inhibitory weights keep PyNN's
        sign as stored). A pair without projections gives zeros.
    """
    info_list = _as_info_list(infos)
    sizes: dict[str, int] = {}
    for pop, given in ((exc, n_exc), (inh, n_inh)):
        found = _population_size(info_list, pop)
        if given is not None and found is not None and given != found:
            raise ValueError(f"population {pop!r}: size {given} given but projections say {found}")
        size = given if given is not None else found
        if size is None:
            raise ValueError(f"size of population {pop!r} unknown: no projection touches it; pass n_exc/n_inh")
        sizes[pop] = size
    out: dict[str, np.ndarray] = {}
    for key, post, pre in (("W_EE", exc, exc), ("W_EI", exc, inh), ("W_IE", inh, exc), ("W_II", inh, inh)):
        chosen = [i for i in info_list if i.pre == pre and i.post == post]
        if chosen:
            out[key] = table_weight_matrix(table, chosen, t)
        else:
            out[key] = np.zeros((sizes[post], sizes[pre]), dtype=float)
    return out


# ---------------------------------------------------------------------------
# distributions
# ---------------------------------------------------------------------------


def bimodality(
    w: np.ndarray | Sequence[float],
    w_min: float | None,
    w_max: float | None,
    tol: float = 0.1,
) -> dict[str, float]:
    """How much a weight distribution has split towards its bounds.

    Parameters
    ----------
    w
        Weights, any shape (flattened); NaNs are ignored.
    w_min, w_max
        Bounds of the plasticity rule (weight units). ``None`` uses the sample
        minimum / maximum.
    tol
        Width of the band counted as "at a bound", as a fraction of
        ``w_max - w_min``.

    Returns
    -------
    dict[str, float]
        ``n``: number of weights; ``frac_low``: fraction with
        ``w <= w_min + tol * (w_max - w_min)``; ``frac_high``: fraction with
        ``w >= w_max - tol * (w_max - w_min)``; ``frac_bounds``: their sum
        (a weight in both bands counts once); ``skew``, ``kurtosis``:
        bias-corrected sample skewness g and excess kurtosis k; ``coef``:
        Sarle's bimodality coefficient
        ``b = (g**2 + 1) / (k + 3 (n-1)**2 / ((n-2)(n-3)))``, which is 5/9 for
        a uniform distribution, 1/3 for a normal one and tends to 1 for two
        point masses; values above 5/9 suggest bimodality. Statistics that are
        undefined (n < 4, constant sample) are NaN; fractions are NaN for n = 0.
        ``w_min``, ``w_max``: the bounds used.
    """
    from scipy import stats

    x = np.asarray(w, dtype=float).ravel()
    x = x[~np.isnan(x)]
    n = x.size
    lo = float(np.min(x)) if w_min is None and n else (float(w_min) if w_min is not None else np.nan)
    hi = float(np.max(x)) if w_max is None and n else (float(w_max) if w_max is not None else np.nan)
    res: dict[str, float] = {"n": float(n), "w_min": lo, "w_max": hi}
    if n == 0:
        res.update(frac_low=np.nan, frac_high=np.nan, frac_bounds=np.nan, skew=np.nan, kurtosis=np.nan, coef=np.nan)
        return res
    band = tol * (hi - lo)
    low = x <= lo + band
    high = x >= hi - band
    res["frac_low"] = float(np.mean(low))
    res["frac_high"] = float(np.mean(high))
    res["frac_bounds"] = float(np.mean(low | high))
    if n < 4 or np.ptp(x) == 0:
        res.update(skew=np.nan, kurtosis=np.nan, coef=np.nan)
        return res
    g = float(stats.skew(x, bias=False))
    k = float(stats.kurtosis(x, fisher=True, bias=False))
    res["skew"] = g
    res["kurtosis"] = k
    res["coef"] = (g**2 + 1.0) / (k + 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3)))
    return res


def bimodality_by_activity(
    w: np.ndarray,
    pre: np.ndarray,
    post: np.ndarray,
    post_counts: np.ndarray,
    pre_counts: np.ndarray | None,
    min_spikes: int,
    w_min: float,
    w_max: float,
    tol: float = 0.1,
) -> dict[str, Any]:
    """:func:`bimodality` of one projection's weights, apart for the synapses whose cells fired and for the rest.

    A pair-based STDP rule moves a weight only when its pre- and post-synaptic cells both fire; the weights of
    silent pairs keep their initial values. Where too few weights reach a bound, this tells whether the active
    pairs split and the silent ones dilute them, or whether even active pairs stay away from the bounds.

    Parameters
    ----------
    w, pre, post
        The weights and their pre- and post-synaptic cell indices (one entry per synapse).
    post_counts, pre_counts
        Spikes of every post- and pre-synaptic cell over the training (``pre_counts`` ``None`` where the pre cells'
        spikes are not recorded, e.g. spike sources: then only the post cell decides).
    min_spikes
        The fewest spikes for a cell to count as active.
    w_min, w_max, tol
        As for :func:`bimodality`.

    Returns
    -------
    dict
        ``active_fraction`` (of the synapses), ``active`` and ``silent`` (:func:`bimodality` of each group).
    """
    active = np.asarray(post_counts)[post] >= min_spikes
    if pre_counts is not None:
        active &= np.asarray(pre_counts)[pre] >= min_spikes
    w = np.asarray(w, dtype=float)
    return {
        "active_fraction": float(active.mean()) if active.size else np.nan,
        "active": bimodality(w[active], w_min, w_max, tol),
        "silent": bimodality(w[~active], w_min, w_max, tol),
    }


def panel_weights(table: pd.DataFrame, infos: Iterable[ProjectionInfo], t: float | None = None) -> np.ndarray:
    """All non-NaN weights of several projections at one snapshot, concatenated.

    Returns a float64 array of shape ``(n_syn,)`` (weight units).
    """
    parts = [connections(table, i.name, t)[2] for i in infos]
    if not parts:
        return np.empty(0, dtype=float)
    w = np.concatenate(parts)
    return w[~np.isnan(w)]


def weight_evolution(table: pd.DataFrame, projection: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Per-projection weight statistics at every snapshot (tidy).

    Parameters
    ----------
    table
        Weight table (see the module docstring).
    projection
        A projection name, a sequence of names, or ``None`` for all projections
        of the table (in index-level order).

    Returns
    -------
    pd.DataFrame
        One row per (projection, snapshot) sorted by projection then ``t``,
        columns ``projection`` (str), ``t`` (ms), ``mean``, ``std``
        (population standard deviation, ddof=0), ``p5``, ``p25``, ``p50``,
        ``p75``, ``p95`` (numpy's linear-interpolation percentiles), all in
        weight units, and ``n`` (int, non-NaN weights). NaN weights are
        ignored; a snapshot without weights has NaN statistics and ``n = 0``.
    """
    validate_table(table)
    if projection is None:
        index = cast(pd.MultiIndex, table.index)  # validate_table: (projection, pre, post)
        names = list(index.levels[index.names.index("projection")])
        names = [p for p in names if _projection_rows(table, p).size]
    elif isinstance(projection, str):
        names = [projection]
    else:
        names = list(projection)
    t_levels = sorted(pd.unique(table.columns.get_level_values("t")), key=float)
    w_pos = [cast(int, table.columns.get_loc((t, "w"))) for t in t_levels]  # one column per (t, var)
    values = table.iloc[:, w_pos].to_numpy(dtype=float)  # (n_rows, n_t)
    frames = []
    pcols = [f"p{p}" for p in PERCENTILES]
    for name in names:
        rows = _projection_rows(table, name)
        if rows.size == 0:
            raise KeyError(f"projection {name!r} is not in the weight table")
        w = values[rows]  # (n_syn, n_t)
        n = np.sum(~np.isnan(w), axis=0)
        stats_: dict[str, Any] = {"projection": name, "t": np.asarray(t_levels, dtype=float)}
        with warnings.catch_warnings(action="ignore", category=RuntimeWarning):
            stats_["mean"] = np.nanmean(w, axis=0)
            stats_["std"] = np.nanstd(w, axis=0)
            pct = np.nanpercentile(w, PERCENTILES, axis=0)
        for col, row in zip(pcols, pct, strict=True):
            stats_[col] = row
        stats_["n"] = n.astype(np.int64)
        frames.append(pd.DataFrame(stats_))
    cols = ["projection", "t", "mean", "std", *pcols, "n"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    return pd.concat(frames, ignore_index=True)[cols]


def relative_change(before: pd.DataFrame, after: pd.DataFrame, projections: Sequence[str]) -> dict[str, float]:
    """How far each projection's weights moved between two weight tables: ``|w_after - w_before| / |w_before|``
    (Euclidean norms over the projection's synapses, last snapshot of each table).

    The feature-binding study logs the mean of this over its plastic projections every ten training epochs
    (``deltaweight``, BCGardner/feature_binding's ``DeltaWeightScalar``), so a reimplementation can compare how much
    its weights move. The tables must hold the same synapses in the same order (runs of one network).

    Parameters
    ----------
    before, after
        Weight tables (see the module docstring).
    projections
        The projections compared.

    Returns
    -------
    dict
        Projection -> relative change (NaN where the weights before were all zero).

    Raises
    ------
    ValueError
        A projection whose synapses differ between the tables.

    Examples
    --------
    >>> from spikebridge.rundir.weights import table_from_arrays
    >>> one = lambda w: {"p": (np.array([0, 1]), np.array([0, 0]), np.array(w), np.ones(2))}
    >>> relative_change(table_from_arrays({0.0: one([3.0, 4.0])}), table_from_arrays({9.0: one([3.0, 1.0])}), ["p"])
    {'p': 0.6}
    """
    out: dict[str, float] = {}
    for name in projections:
        pre0, post0, w0 = connections(before, name)
        pre1, post1, w1 = connections(after, name)
        if not (np.array_equal(pre0, pre1) and np.array_equal(post0, post1)):
            raise ValueError(f"projection {name!r} holds different synapses in the two weight tables")
        norm = float(np.linalg.norm(w0))
        out[name] = float(np.linalg.norm(w1 - w0) / norm) if norm > 0 else float("nan")
    return out
