"""Connection rules as numpy: each returns (pre, post) index arrays (int64), sorted by (pre, post).

Large rules work in blocks of post cells so that memory stays bounded (a block holds at most about
``BLOCK`` candidate pairs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from . import delays
from .files import model_file
from .schema import Connector, as_float, short

BLOCK = 4_000_000


def _sorted(pre: np.ndarray, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # one int64 key per pair sorts as (pre, post) does; equal keys are equal pairs, so no stable sort is needed
    # (sorting the keys themselves is several times faster than lexsort's two passes and gather)
    if len(pre) == 0:
        return pre.astype(np.int64), post.astype(np.int64)
    width = int(post.max()) + 1
    key = pre.astype(np.int64) * width + post
    if len(key) > 1 and not (key[1:] >= key[:-1]).all():  # a rule that draws in order needs no O(n log n) sort
        key.sort()
    return np.divmod(key, width)


def sorted_uniform(m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` integers drawn uniformly from ``[0, m)`` with replacement, in ascending order, in O(n) time.

    The order statistics of ``n`` uniforms on [0, 1) are distributed as the partial sums of ``n + 1`` standard
    exponential spacings divided by their total (Devroye, *Non-Uniform Random Variate Generation*, 1986, V.2);
    flooring them onto ``m`` cells keeps the order. Drawing and then sorting gives the same distribution in
    O(n log n): at the microcircuit's scale the sort took most of the draw.

    Examples
    --------
    >>> keys = sorted_uniform(10, 1000, np.random.default_rng(1))
    >>> bool((np.diff(keys) >= 0).all()), int(keys.min()) >= 0, int(keys.max()) < 10
    (True, True, True)
    """
    if n == 0:
        return np.empty(0, dtype=np.int64)
    sums = np.cumsum(rng.standard_exponential(n + 1))
    scaled = sums[:-1]
    scaled *= m / sums[-1]
    keys = scaled.astype(np.int64)  # floor: the values are >= 0
    np.minimum(keys, m - 1, out=keys)  # a rounding at the top end
    return keys


def all_to_all(n_pre: int, n_post: int, allow_self: bool) -> tuple[np.ndarray, np.ndarray]:
    """Every pre cell onto every post cell.

    Parameters
    ----------
    n_pre, n_post : int
        Population sizes.
    allow_self : bool
        Keep the pairs ``pre == post`` (False within one population to leave out autapses).

    Returns
    -------
    pre, post : numpy.ndarray
        Presynaptic and postsynaptic cell indices (int64), one entry per connection.

    Examples
    --------
    >>> all_to_all(2, 2, allow_self=False)
    (array([0, 1]), array([1, 0]))
    """
    pre, post = np.divmod(np.arange(n_pre * n_post, dtype=np.int64), n_post)
    if not allow_self:
        keep = pre != post
        pre, post = pre[keep], post[keep]
    return pre, post


def one_to_one(n_pre: int, n_post: int, path: str) -> tuple[np.ndarray, np.ndarray]:
    """Cell ``i`` onto cell ``i``.

    Parameters
    ----------
    n_pre, n_post : int
        Population sizes (must be equal).
    path : str
        The connector's field path, for errors.

    Returns
    -------
    pre, post : numpy.ndarray
        Presynaptic and postsynaptic cell indices (int64), one entry per connection.

    Raises
    ------
    ModelError
        If the sizes differ.
    """
    if n_pre != n_post:
        raise ModelError(path, f"rule 'one_to_one' needs equal sizes, got {n_pre} pre and {n_post} post cells")
    idx = np.arange(n_pre, dtype=np.int64)
    return idx, idx.copy()


def _bernoulli_positions(n: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """The positions in ``range(n)`` that a Bernoulli(p) trial each selects, ascending, from geometric gaps."""
    if p <= 0.0 or n == 0:
        return np.empty(0, dtype=np.int64)
    parts: list[np.ndarray] = []
    last = -1
    while True:
        mean = (n - 1 - last) * p
        gaps = rng.geometric(p, size=int(mean + 4.0 * np.sqrt(mean)) + 64)  # 4 sigma: one round
        # a gap past the end (numpy saturates it at int64's maximum at tiny p) must stay past it: n + 1 from -1
        positions = np.cumsum(np.clip(gaps, 1, n + 1, out=gaps))
        positions += last
        if positions[-1] >= n - 1:
            parts.append(positions[: np.searchsorted(positions, n)])
            return np.concatenate(parts)
        parts.append(positions)
        last = int(positions[-1])


def fixed_probability(n_pre: int, n_post: int, p: float, allow_self: bool, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each pair independently with probability p, drawn as the geometric gaps between connected pairs in row-major
    order: time and memory in proportion to the connections drawn, and already sorted.

    Parameters
    ----------
    n_pre, n_post : int
        Population sizes.
    p : float
        Connection probability (0-1).
    allow_self : bool
        Whether the pairs ``pre == post`` may be drawn.
    rng : numpy.random.Generator
        The projection's connectivity stream.

    Returns
    -------
    pre, post : numpy.ndarray
        Presynaptic and postsynaptic cell indices (int64), one entry per connection. Sorted by (pre, post).
    """
    exclude_diag = not allow_self
    n_pairs = n_pre * (n_post - 1) if exclude_diag else n_pre * n_post
    flat = _bernoulli_positions(n_pairs, p, rng)
    if exclude_diag:
        pre, col = np.divmod(flat, n_post - 1)
        post = col + (col >= pre)
    else:
        pre, post = np.divmod(flat, n_post)
    return pre.astype(np.int64), post.astype(np.int64)


def _choose_per_row(
    n_rows: int, n_cols: int, n: int, allow_self: bool, multapses: bool, rng: np.random.Generator, path: str
) -> tuple[np.ndarray, np.ndarray]:
    """For every row choose n columns (row = the cell with the fixed degree)."""
    available = n_cols - (0 if allow_self else 1)
    if not multapses and n > available:
        raise ModelError(path, f"cannot choose {n} distinct partners out of {available}; lower n or allow_multapses")
    rows, cols = [], []
    block = max(1, BLOCK // max(n_cols, 1))
    for start in range(0, n_rows, block):
        stop = min(n_rows, start + block)
        r = np.arange(start, stop)
        if multapses:
            if allow_self:
                c = rng.integers(0, n_cols, size=(stop - start, n))
            else:
                c = rng.integers(0, n_cols - 1, size=(stop - start, n))
                c = c + (c >= r[:, None])
        else:
            keys = rng.random((stop - start, n_cols))
            if not allow_self:
                diag = r[r < n_cols]
                keys[diag - start, diag] = np.inf
            c = np.argpartition(keys, n - 1, axis=1)[:, :n] if n > 0 else np.empty((stop - start, 0), dtype=np.int64)
        rows.append(np.repeat(r, n))
        cols.append(c.ravel())
    return np.concatenate(rows), np.concatenate(cols)


def fixed_indegree(
    n_pre: int, n_post: int, n: int, allow_self: bool, multapses: bool, rng: np.random.Generator, path: str
) -> tuple[np.ndarray, np.ndarray]:
    """Each post cell receives exactly ``n`` connections from pre cells chosen uniformly.

    Parameters
    ----------
    n_pre, n_post : int
        Population sizes.
    n : int
        The in-degree of every post cell.
    allow_self : bool
        Whether a cell may connect to itself.
    multapses : bool
        Whether one pre cell may be chosen more than once for a post cell.
    rng : numpy.random.Generator
        The projection's connectivity stream.
    path : str
        The connector's field path, for errors.

    Returns
    -------
    pre, post : numpy.ndarray
        Presynaptic and postsynaptic cell indices (int64), one entry per connection.

    Raises
    ------
    ModelError
        If ``n`` distinct partners are asked for but fewer exist.

    Examples
    --------
    >>> pre, post = fixed_indegree(10, 3, 4, True, False, np.random.default_rng(1), "projections.ff.connector")
    >>> np.bincount(post)
    array([4, 4, 4])
    """
    post, pre = _choose_per_row(n_post, n_pre, n, allow_self, multapses, rng, path)
    return pre, post


def fixed_outdegree(
    n_pre: int, n_post: int, n: int, allow_self: bool, multapses: bool, rng: np.random.Generator, path: str
) -> tuple[np.ndarray, np.ndarray]:
    """Each pre cell sends exactly ``n`` connections to post cells chosen uniformly.

    Parameters
    ----------
    n_pre, n_post : int
        Population sizes.
    n : int
        The out-degree of every pre cell.
    allow_self : bool
        Whether a cell may connect to itself.
    multapses : bool
        Whether one post cell may be chosen more than once for a pre cell.
    rng : numpy.random.Generator
        The projection's connectivity stream.
    path : str
        The connector's field path, for errors.

    Returns
    -------
    pre, post : numpy.ndarray
        Presynaptic and postsynaptic cell indices (int64), one entry per connection.

    Raises
    ------
    ModelError
        If ``n`` distinct partners are asked for but fewer exist.
    """
    return _choose_per_row(n_pre, n_post, n, allow_self, multapses, rng, path)


def fixed_total_number(
    n_pre: int, n_post: int, n: int, allow_self: bool, multapses: bool, rng: np.random.Generator, path: str
) -> tuple[np.ndarray, np.ndarray]:
    """Exactly ``n`` connections in all, each pair drawn uniformly (NEST's ``fixed_total_number``).

    With multapses (the rule as the cortical microcircuit uses it) every connection is drawn independently and
    uniformly among the allowed pairs, in (pre, post) order (:func:`sorted_uniform`); without, ``n`` distinct pairs
    are chosen.

    Parameters
    ----------
    n_pre, n_post : int
        Population sizes.
    n : int
        The number of connections.
    allow_self : bool
        Whether a cell may connect to itself.
    multapses : bool
        Whether a pair may be drawn more than once.
    rng : numpy.random.Generator
        The projection's connectivity stream.
    path : str
        The connector's field path, for errors.

    Returns
    -------
    pre, post : numpy.ndarray
        Presynaptic and postsynaptic cell indices (int64), one entry per connection.

    Raises
    ------
    ModelError
        If ``n`` distinct pairs are asked for but fewer exist.

    Examples
    --------
    >>> pre, post = fixed_total_number(5, 4, 30, True, True, np.random.default_rng(1), "projections.p.connector")
    >>> len(pre), int(pre.max()) < 5, int(post.max()) < 4
    (30, True, True)
    """
    n_pairs = n_pre * n_post - (0 if allow_self else min(n_pre, n_post))
    if n > 0 and n_pairs <= 0:
        raise ModelError(path, f"no pair to connect ({n_pre} pre and {n_post} post cells)")
    if not multapses:
        if n > n_pairs:
            raise ModelError(path, f"cannot choose {n} distinct pairs out of {n_pairs}; lower n or allow_multapses")
        if allow_self:
            flat = rng.choice(n_pairs, size=n, replace=False)
            return np.divmod(flat, n_post)
        # number the pairs without the diagonal: reduced index f lies past min(m, f // n_post + 1) diagonal cells
        flat = rng.choice(n_pairs, size=n, replace=False)
        flat = flat + np.minimum(min(n_pre, n_post), flat // n_post + 1)
        pre, post = np.divmod(flat, n_post)
        return pre.astype(np.int64), post.astype(np.int64)
    # each connection uniformly among the allowed pairs, drawn already in (pre, post) order
    flat = sorted_uniform(n_pairs, n, rng)
    if not allow_self:
        flat += np.minimum(min(n_pre, n_post), flat // n_post + 1)
    pre, post = np.divmod(flat, n_post)
    return pre, post


def grid_positions(shape: list[int], frame: tuple[int, int]) -> np.ndarray:
    """(n, 2) row/column positions of a grid's cells, rescaled to a frame of ``frame`` rows x columns.

    The last two axes of ``shape`` are spatial; leading axes (channels) repeat the same positions.

    Parameters
    ----------
    shape : list of int
        The population's grid shape (1 to 3 dimensions).
    frame : tuple of int
        ``(rows, columns)`` of the common frame (the post population's grid).

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` positions (row, column) in frame units, cell centres.

    Examples
    --------
    >>> grid_positions([2, 2], (4, 4))
    array([[0.5, 0.5],
           [0.5, 2.5],
           [2.5, 0.5],
           [2.5, 2.5]])
    """
    dims = list(shape)
    if len(dims) == 1:
        dims = [1, *dims]
    h, w = dims[-2], dims[-1]
    channels = int(np.prod(dims[:-2])) if len(dims) > 2 else 1
    rr, cc = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    rows = (rr.ravel() + 0.5) * frame[0] / h - 0.5
    cols = (cc.ravel() + 0.5) * frame[1] / w - 0.5
    pos = np.stack([rows, cols], axis=1)
    return np.tile(pos, (channels, 1))


def distance_patch(
    pre_shape: list[int], post_shape: list[int], radius: float, p: float, allow_self: bool, same: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Connect each post cell to pre cells within ``radius`` (post-grid units), each with probability p.

    Parameters
    ----------
    pre_shape, post_shape : list of int
        Grid shapes of the two populations; the pre grid is rescaled onto the post grid (:func:`grid_positions`).
    radius : float
        Largest distance, in post-grid cells.
    p : float
        Probability of each pair within the radius (0-1).
    allow_self : bool
        Whether a cell may connect to itself (only matters when ``same``).
    same : bool
        Whether pre and post are one population.
    rng : numpy.random.Generator
        The projection's connectivity stream.

    Returns
    -------
    pre, post : numpy.ndarray
        Presynaptic and postsynaptic cell indices (int64), one entry per connection.
    """
    frame = (post_shape[-2] if len(post_shape) > 1 else 1, post_shape[-1])
    pre_pos = grid_positions(pre_shape, frame)
    post_pos = grid_positions(post_shape, frame)
    n_pre, n_post = len(pre_pos), len(post_pos)
    block = max(1, BLOCK // max(n_pre, 1))
    pres, posts = [], []
    for start in range(0, n_post, block):
        stop = min(n_post, start + block)
        d2 = ((post_pos[start:stop, None, :] - pre_pos[None, :, :]) ** 2).sum(axis=2)
        mask = d2 <= radius * radius  # not radius**2: that raises OverflowError for a huge radius
        if p < 1.0:
            mask &= rng.random(mask.shape) < p
        if same and not allow_self:
            r = np.arange(start, stop)
            mask[r - start, r] = False
        post_i, pre_i = np.nonzero(mask)
        pres.append(pre_i)
        posts.append(post_i + start)
    return np.concatenate(pres), np.concatenate(posts)


def from_rows(
    rows: Any, n_pre: int, n_post: int, path: str, dt: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Explicit connections: rows of [pre, post] or [pre, post, weight, delay].

    Every number must be finite and every delay >= dt (the delay policy, :mod:`.delays`); delays are returned as
    given, and rounded to the grid with the drawn ones.

    Parameters
    ----------
    rows : array_like
        ``[pre, post]`` or ``[pre, post, weight]`` or ``[pre, post, weight, delay]`` rows (weight in uS or nA,
        delay in ms).
    n_pre, n_post : int
        Population sizes (the indices' ranges).
    path : str
        The connector's field path, for errors.
    dt : float
        The simulation step (ms).

    Returns
    -------
    tuple
        ``(pre, post, weight, delay)``: int64 index arrays, and float arrays or None where the rows lack them.

    Raises
    ------
    ModelError
        For ragged rows, non-finite numbers, non-integer or out-of-range indices, or a delay below ``dt``.
    """
    try:
        rows = np.asarray(rows, dtype=np.float64)
    except (ValueError, TypeError):
        raise ModelError(path, "expected rows of equal length: [pre, post] or [pre, post, weight(, delay)]") from None
    if rows.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy(), None, None
    if rows.ndim != 2 or rows.shape[1] not in (2, 3, 4):
        raise ModelError(path, f"expected rows of [pre, post] or [pre, post, weight(, delay)], got shape {rows.shape}")
    finite = np.isfinite(rows)
    if not finite.all():
        row, col = (int(i) for i in np.argwhere(~finite)[0])
        raise ModelError(path, f"row {row}: {('pre', 'post', 'weight', 'delay')[col]} must be a finite number, got {rows[row, col]}")
    if rows.shape[1] > 3:
        delays.check_minimum(rows[:, 3], dt, path)
    pre, post = rows[:, 0], rows[:, 1]
    if np.any(pre != np.round(pre)) or np.any(post != np.round(post)):
        raise ModelError(path, "pre and post indices must be integers")
    pre, post = pre.astype(np.int64), post.astype(np.int64)
    if pre.min() < 0 or pre.max() >= n_pre or post.min() < 0 or post.max() >= n_post:
        raise ModelError(path, f"indices out of range: pre must lie in [0, {n_pre}), post in [0, {n_post})")
    weight = rows[:, 2] if rows.shape[1] > 2 else None
    delay = rows[:, 3] if rows.shape[1] > 3 else None
    return pre, post, weight, delay


def check_list(rows: list[list[float]], n_pre: int, n_post: int, dt: float, path: str) -> None:
    """Refuse a malformed ``from_list`` (shape, indices, non-finite numbers, delays below dt) when the model is resolved.

    Parameters
    ----------
    rows : list of list of float
        The connector's ``connections``.
    n_pre, n_post : int
        Population sizes.
    dt : float
        The simulation step (ms).
    path : str
        The connector's field path, for errors.

    Raises
    ------
    ModelError
        As :func:`from_rows`.
    """
    from_rows(rows, n_pre, n_post, path, dt)


def read_connection_file(file: str, base: Path | None, path: str) -> np.ndarray:
    """Read a ``from_file`` connection list: CSV of numbers, ``.npy``, or ``.npz`` with pre/post(/weight/delay).

    Parameters
    ----------
    file : str
        The file name as written in the model.
    base : pathlib.Path or None
        The model file's folder; a relative ``file`` is found there.
    path : str
        The connector's field path, for errors.

    Returns
    -------
    numpy.ndarray
        Rows as for :func:`from_rows` (not yet checked).

    Raises
    ------
    ModelError
        If the file is missing or cannot be read as numbers.
    """
    p = model_file(file, base, path, "connection")
    try:
        if p.suffix == ".npy":
            return np.load(p)
        if p.suffix == ".npz":
            with np.load(p) as data:
                cols = [data[k] for k in ("pre", "post", "weight", "delay") if k in data]
                return np.stack(cols, axis=1)
        return np.loadtxt(p, delimiter=",", ndmin=2, comments="#")
    except (ValueError, OSError, KeyError, EOFError) as err:
        # the reason, cut short: a file that is not a connection list must not be quoted at length
        raise ModelError(path, f"cannot read connection file {str(p)!r} (.csv of numbers, .npy or .npz): {short(str(err))}") from None


def connect(
    conn: Connector,
    pre_shape: list[int],
    post_shape: list[int],
    same: bool,
    rng: np.random.Generator,
    path: str,
    base: Path | None = None,
    *,
    dt: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Pre and post indices (and explicit weights/delays where the rule carries them).

    Parameters
    ----------
    conn : Connector
        The projection's resolved connector.
    pre_shape, post_shape : list of int
        Grid shapes (a plain population is ``[size]``).
    same : bool
        Whether pre and post are one population (self-connections then follow ``allow_self_connections``).
    rng : numpy.random.Generator
        The projection's connectivity stream.
    path : str
        The connector's field path, for errors.
    base : pathlib.Path, optional
        The model file's folder, for ``from_file``.
    dt : float
        The simulation step (ms).

    Returns
    -------
    tuple
        ``(pre, post, weight, delay)``, sorted by (pre, post); ``weight`` (uS or nA) and ``delay`` (ms) are None
        unless the rule gives them.

    Raises
    ------
    ModelError
        As the rules above.
    """
    n_pre, n_post = int(np.prod(pre_shape)), int(np.prod(post_shape))
    allow_self = conn.allow_self_connections or not same
    weight = delay = None
    match conn.rule:
        case "all_to_all":
            pre, post = all_to_all(n_pre, n_post, allow_self)
        case "one_to_one":
            pre, post = one_to_one(n_pre, n_post, path)
        case "fixed_probability":
            pre, post = fixed_probability(n_pre, n_post, as_float(conn.p), allow_self, rng)
        case "fixed_indegree":
            assert conn.n is not None  # check.resolve requires it
            pre, post = fixed_indegree(n_pre, n_post, int(conn.n), allow_self, conn.allow_multapses, rng, path)
        case "fixed_outdegree":
            assert conn.n is not None
            pre, post = fixed_outdegree(n_pre, n_post, int(conn.n), allow_self, conn.allow_multapses, rng, path)
        case "fixed_total_number":
            assert conn.n is not None
            pre, post = fixed_total_number(n_pre, n_post, int(conn.n), allow_self, conn.allow_multapses, rng, path)
            if conn.allow_multapses:
                return pre, post, None, None  # drawn in (pre, post) order
        case "distance_patch":
            radius, p = as_float(conn.radius), as_float(conn.p)
            pre, post = distance_patch(pre_shape, post_shape, radius, p, allow_self, same, rng)
        case "from_list":
            pre, post, weight, delay = from_rows(conn.connections, n_pre, n_post, path + ".connections", dt)
        case "from_file":
            rows = read_connection_file(str(conn.file), base, path + ".file")
            pre, post, weight, delay = from_rows(rows, n_pre, n_post, path + ".file", dt)
    if weight is not None or delay is not None:
        order = np.lexsort((post, pre))
        return pre[order], post[order], None if weight is None else weight[order], None if delay is None else delay[order]
    pre, post = _sorted(pre, post)
    return pre, post, None, None
