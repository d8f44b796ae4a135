"""The run directory's weight table: its layout in memory (a wide :class:`pandas.DataFrame`) and on disk
(``weights.parquet``, long format), and its construction from per-snapshot arrays.

The weight table
----------------
A :class:`pandas.DataFrame`

* indexed by a :class:`pandas.MultiIndex` with levels
  ``["projection", "pre", "post"]`` -- the projection name (str) and the
  presynaptic / postsynaptic neuron index (int) *within* the pre and post
  population. The index may contain duplicates: multapses are separate rows.
* with columns a :class:`pandas.MultiIndex` with levels ``["t", "var"]``: one
  column block per snapshot time ``t`` (float, ms) holding the variables
  ``"w"`` (weight, PyNN units: uS for conductance-based synapses, nA for
  current-based ones; inhibitory weights keep PyNN's sign as stored) and
  ``"delay"`` (ms).

A connection absent at some snapshot (structural plasticity) has NaN values
there. This package defines and stores the table; statistics and matrices of it are computed one layer up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from .atomic import atomic_file

__all__ = [
    "COLUMN_LEVELS",
    "INDEX_LEVELS",
    "LONG_COLUMNS",
    "VARS",
    "column_values",
    "level_values",
    "read_table",
    "table_from_arrays",
    "validate_table",
    "write_table",
]

INDEX_LEVELS: tuple[str, str, str] = ("projection", "pre", "post")
COLUMN_LEVELS: tuple[str, str] = ("t", "var")
VARS: tuple[str, str] = ("w", "delay")
LONG_COLUMNS: tuple[str, ...] = ("projection", "pre", "post", "t", "w", "delay")


def validate_table(table: pd.DataFrame) -> None:
    """Raise ``ValueError`` unless ``table`` follows the weight-table contract.

    Checks the index and column level names and that every snapshot has the
    same variables including ``"w"``; does not look at the values.
    """
    if not isinstance(table.index, pd.MultiIndex) or tuple(table.index.names) != INDEX_LEVELS:
        raise ValueError(f"weight table index must be a MultiIndex with levels {list(INDEX_LEVELS)}, got {list(table.index.names)}")
    if not isinstance(table.columns, pd.MultiIndex) or tuple(table.columns.names) != COLUMN_LEVELS:
        raise ValueError(f"weight table columns must be a MultiIndex with levels {list(COLUMN_LEVELS)}, got {list(table.columns.names)}")
    if table.columns.has_duplicates:
        raise ValueError("weight table has duplicate (t, var) columns")
    var_sets = {
        t: tuple(table.columns.get_level_values("var")[table.columns.get_level_values("t") == t])
        for t in pd.unique(table.columns.get_level_values("t"))
    }
    first = next(iter(var_sets.values()), ("w",))
    if "w" not in first or any(set(v) != set(first) for v in var_sets.values()):
        raise ValueError(f"every snapshot must have the same variables including 'w', got {var_sets}")


def column_values(table: pd.DataFrame, t_level: Any, var: str) -> np.ndarray:
    """The values (float64, shape ``(n_rows,)``) of column ``(t_level, var)``: ``var`` at one snapshot.

    ``t_level`` is the column-level value of the snapshot time (ms), as it appears in ``table.columns``.
    """
    pos = table.columns.get_loc((t_level, var))
    if not isinstance(pos, (int, np.integer)):
        raise ValueError(f"column ({t_level}, {var!r}) is not unique")
    return np.asarray(table.iloc[:, int(pos)].to_numpy(), dtype=float)


def level_values(table: pd.DataFrame, level_name: str, rows: np.ndarray) -> np.ndarray:
    """The index level ``level_name`` (``projection``, ``pre`` or ``post``) of the rows at positions ``rows``."""
    index = cast(pd.MultiIndex, table.index)
    level = index.names.index(level_name)
    codes = index.codes[level][rows]
    if np.any(codes < 0):
        raise ValueError(f"weight table has missing {level_name!r} indices")
    return np.asarray(index.levels[level].to_numpy()[codes])


def _wide_table(
    names: Sequence[str],
    proj_codes: np.ndarray,
    pre: np.ndarray,
    post: np.ndarray,
    times: Sequence[float] | np.ndarray,
    var_names: Sequence[str],
    data: np.ndarray,
) -> pd.DataFrame:
    """Assemble the contract table; ``data`` has shape (n_rows, n_t * n_vars).

    The index is built from integer codes (no string factorisation): the
    projection level lists ``names`` in the given order, pre/post levels are
    the sorted distinct indices.
    """
    levels: list[Any] = [pd.Index(list(names), dtype=str)]
    codes: list[Any] = [np.asarray(proj_codes, dtype=np.int64)]
    for values in (pre, post):
        c, uniques = pd.factorize(np.asarray(values, dtype=np.int64), sort=True)
        levels.append(pd.Index(uniques, dtype=np.int64))
        codes.append(c)
    index = pd.MultiIndex(levels=levels, codes=codes, names=list(INDEX_LEVELS), verify_integrity=False)
    columns = pd.MultiIndex.from_product(
        [pd.Index(np.asarray(times, dtype=float)), pd.Index(list(var_names), dtype=str)], names=list(COLUMN_LEVELS)
    )
    return pd.DataFrame(data, index=index, columns=columns, copy=False)


def table_from_arrays(
    snapshots: Mapping[float, Mapping[str, tuple[Any, Any, Any, Any]]],
) -> pd.DataFrame:
    """Build the weight table from per-snapshot, per-projection arrays.

    Parameters
    ----------
    snapshots
        ``{t: {projection: (pre, post, w, delay)}}`` with ``t`` in ms; ``pre``
        and ``post`` integer arrays of shape (n_syn,) (indices within the
        populations), ``w`` (uS or nA) and ``delay`` (ms) float arrays of the
        same shape (a scalar ``delay`` is broadcast). A projection must list
        its connections in the same order at every snapshot; a projection
        missing from a snapshot gets NaN there.

    Returns
    -------
    pd.DataFrame
        The weight table: rows grouped by projection in order of first
        appearance, snapshots in increasing ``t``, vars ``"w"``, ``"delay"``.

    Raises
    ------
    ValueError
        If array shapes differ, or the pre/post arrays of a projection differ
        between snapshots.
    """
    times = sorted(float(t) for t in snapshots)
    if len(set(times)) != len(times):
        raise ValueError("snapshot times must be distinct")
    by_time = {float(t): v for t, v in snapshots.items()}
    names: list[str] = []
    conns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for t in times:
        for name, arrays in by_time[t].items():
            if len(arrays) != 4:
                raise ValueError(f"projection {name!r} at t={t}: expected (pre, post, w, delay)")
            pre = np.asarray(arrays[0])
            post = np.asarray(arrays[1])
            if pre.ndim != 1 or pre.shape != post.shape:
                raise ValueError(f"projection {name!r} at t={t}: pre and post must be 1-D of equal length")
            if pre.size and not (np.issubdtype(pre.dtype, np.integer) and np.issubdtype(post.dtype, np.integer)):
                raise ValueError(f"projection {name!r} at t={t}: pre/post must be integer arrays")
            if name not in conns:
                names.append(name)
                conns[name] = (pre.astype(np.int64), post.astype(np.int64))
            elif not (np.array_equal(conns[name][0], pre) and np.array_equal(conns[name][1], post)):
                raise ValueError(
                    f"projection {name!r}: connections at t={t} differ from the first snapshot "
                    "(same pre/post arrays in the same order are required)"
                )
    counts = np.array([conns[n][0].size for n in names], dtype=np.int64)
    n_rows = int(counts.sum())
    offsets = np.concatenate([[0], np.cumsum(counts)])
    data = np.full((n_rows, 2 * len(times)), np.nan)
    for j, t in enumerate(times):
        for name, arrays in by_time[t].items():
            k = names.index(name)
            sl = slice(offsets[k], offsets[k + 1])
            shape = (int(counts[k]),)
            w = np.asarray(arrays[2], dtype=float)
            if w.shape != shape:
                raise ValueError(f"projection {name!r} at t={t}: w has shape {w.shape}, expected {shape}")
            data[sl, 2 * j] = w
            data[sl, 2 * j + 1] = np.broadcast_to(np.asarray(arrays[3], dtype=float), shape)
    proj_codes = np.repeat(np.arange(len(names)), counts)
    pre_all = np.concatenate([conns[n][0] for n in names]) if names else np.empty(0, np.int64)
    post_all = np.concatenate([conns[n][1] for n in names]) if names else np.empty(0, np.int64)
    return _wide_table(names, proj_codes, pre_all, post_all, times, VARS, data)


def write_table(table: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a weight table to Parquet in long format, atomically.

    One row per (snapshot, connection) with columns ``projection``
    (dictionary-encoded string), ``pre``, ``post`` (int64), ``t`` (ms), and one
    column per variable (``w``, ``delay``), snapshot blocks in column order and
    connections in table order within each block. The file is written to a
    temporary name in the target directory and renamed with :func:`os.replace`.

    Returns
    -------
    Path
        The path written.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    validate_table(table)
    path = Path(path)
    index = cast(pd.MultiIndex, table.index)
    n = len(table)
    t_levels = list(pd.unique(table.columns.get_level_values("t")))
    var_names = list(pd.unique(table.columns.get_level_values("var")))
    n_t = len(t_levels)
    p_level = index.names.index("projection")
    names = [str(x) for x in index.levels[p_level]]
    codes = np.asarray(index.codes[p_level])
    if np.any(codes < 0):
        raise ValueError("weight table has missing projection names")
    all_rows = np.arange(n)
    pre = level_values(table, "pre", all_rows).astype(np.int64)
    post = level_values(table, "post", all_rows).astype(np.int64)
    arrays: dict[str, pa.Array] = {
        "projection": pa.DictionaryArray.from_arrays(pa.array(np.tile(codes.astype(np.int32), n_t)), pa.array(names, type=pa.string())),
        "pre": pa.array(np.tile(pre, n_t)),
        "post": pa.array(np.tile(post, n_t)),
        "t": pa.array(np.repeat(np.asarray(t_levels, dtype=float), n)),
    }
    for var in var_names:
        cols = [column_values(table, t, var) for t in t_levels]
        arrays[var] = pa.array(np.concatenate(cols) if cols else np.empty(0))
    arrow = pa.table(arrays)
    arrow = arrow.replace_schema_metadata({b"spikebridge.weights": b"long-v1"})
    with atomic_file(path) as fh:
        pq.write_table(arrow, fh)
    return path


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a weight table written by :func:`write_table` back into wide form.

    Connection order and multapses are preserved exactly when the file has the
    block layout :func:`write_table` produces. Other long-format files with the
    same columns are accepted too: rows are then grouped by projection (order
    of first appearance) and connections ordered by first appearance, with
    repeated (projection, pre, post) keys within a snapshot treated as
    multapses; a connection missing at a snapshot gets NaN.
    """
    import pyarrow.parquet as pq

    arrow = pq.read_table(Path(path))
    missing = {"projection", "pre", "post", "t", "w"} - set(arrow.column_names)
    if missing:
        raise ValueError(f"{path}: not a long-format weight table, missing columns {sorted(missing)}")
    var_names = [c for c in arrow.column_names if c not in ("projection", "pre", "post", "t")]
    proj_col = arrow.column("projection").combine_chunks()
    if hasattr(proj_col, "dictionary"):
        names = [str(x) for x in proj_col.dictionary.to_pylist()]
        codes = np.asarray(proj_col.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    else:
        uniq, codes = np.unique(np.asarray(proj_col.to_pylist(), dtype=object), return_inverse=True)
        names = [str(x) for x in uniq]
    pre = np.asarray(arrow.column("pre").to_numpy(), dtype=np.int64)
    post = np.asarray(arrow.column("post").to_numpy(), dtype=np.int64)
    t = np.asarray(arrow.column("t").to_numpy(), dtype=float)
    vals = np.column_stack([np.asarray(arrow.column(v).to_numpy(), dtype=float) for v in var_names]) if var_names else np.empty((len(t), 0))

    times, first_pos = np.unique(t, return_index=True)
    times = times[np.argsort(first_pos)]  # order of appearance
    n_t = len(times)
    total = len(t)
    if n_t and total % n_t == 0:
        n = total // n_t
        blocks = (
            np.array_equal(t.reshape(n_t, n), np.broadcast_to(times[:, None], (n_t, n)))
            and _blocks_equal(codes, n_t, n)
            and _blocks_equal(pre, n_t, n)
            and _blocks_equal(post, n_t, n)
        )
        if blocks:
            # (n_t, n, n_vars) -> (n, n_t * n_vars), column blocks per snapshot
            data = vals.reshape(n_t, n, len(var_names)).transpose(1, 0, 2).reshape(n, n_t * len(var_names))
            return _wide_table(names, codes[:n], pre[:n], post[:n], times, var_names, data)
    return _pivot_long(names, codes, pre, post, t, var_names, vals)


def _blocks_equal(x: np.ndarray, n_t: int, n: int) -> bool:
    b = x.reshape(n_t, n)
    return bool(np.all(b == b[0]))


def _pivot_long(
    names: list[str],
    codes: np.ndarray,
    pre: np.ndarray,
    post: np.ndarray,
    t: np.ndarray,
    var_names: list[str],
    vals: np.ndarray,
) -> pd.DataFrame:
    """General long -> wide conversion (rows in any order)."""
    long = pd.DataFrame({"code": codes, "pre": pre, "post": post, "t": t})
    # k-th occurrence of a key within a snapshot is the k-th multapse
    long["occ"] = long.groupby(["code", "pre", "post", "t"], sort=False).cumcount()
    keys = long[["code", "pre", "post", "occ"]]
    key_id = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
    first = np.unique(key_id, return_index=True)[1]
    # rows: grouped by projection in order of first appearance, then connection order
    key_code = codes[first]
    proj_order = np.unique(key_code, return_index=True)
    rank = np.empty(len(names), dtype=np.int64)
    rank[proj_order[0][np.argsort(proj_order[1])]] = np.arange(len(proj_order[0]))
    row_of_key = np.empty(len(first), dtype=np.int64)
    order = np.lexsort((np.arange(len(first)), rank[key_code]))
    row_of_key[order] = np.arange(len(first))
    times = np.unique(t)
    t_idx = np.searchsorted(times, t)
    n_v = len(var_names)
    data = np.full((len(first), len(times) * n_v), np.nan)
    rows = row_of_key[key_id]
    for v in range(n_v):
        data[rows, t_idx * n_v + v] = vals[:, v]
    return _wide_table(names, codes[first][order], pre[first][order], post[first][order], times, var_names, data)
