"""Parameter grids: ``--grid PATH=V1,V2`` specifications and their Cartesian product.

A grid axis is a model field path (the ``--set`` syntax, e.g. ``projections.e2e.synapse.timing.A_plus``) with
the values it takes, or the pseudo-path ``backend`` for running every trial on several backends. Its short name
is the path's last component (``A_plus``); short names that two axes share are replaced by the full paths.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from .errors import GridError

if TYPE_CHECKING:
    from ...models.schema import Model

BACKEND = "backend"
"""The pseudo-path of a grid over backends: ``--grid backend=nest,brian2``."""

FORM = "expected PATH=V1,V2,... (e.g. simulation.seed=1,2,3)"
_COMPONENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*(\[\d+\])?$")
# YAML 1.1 (PyYAML) reads 1e-3 as a string; a grid of rates written that way means numbers
_EMPTY = re.compile(r"^\s*,|,\s*,|,\s*$")
_EXPONENT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$")

Params = dict[str, Any]
"""A trial's parameters: full path -> value."""


def _number_if_exponent(value: Any) -> Any:
    if isinstance(value, str) and _EXPONENT.match(value.strip()):
        return float(value)
    if isinstance(value, list):
        return [_number_if_exponent(v) for v in value]
    return value


@dataclass(frozen=True)
class Axis:
    """One grid axis: a model field path (or ``backend``) and its values, in the order given.

    Parameters
    ----------
    path : str
        A model field path in the ``--set`` syntax, or :data:`BACKEND`.
    values : tuple
        The values, in the field's unit as the model file would give them (e.g. ms for times).
    """

    path: str
    values: tuple[Any, ...]

    @property
    def short(self) -> str:
        """The last path component, without a list index: ``A_plus`` for ``projections.e2e.synapse.timing.A_plus``."""
        return self.path.rsplit(".", 1)[-1].split("[", 1)[0]


def parse_axis(spec: str) -> Axis:
    """Parse one ``PATH=V1,V2,...`` specification; each value is read as YAML (numbers, strings, ``[lists]``).

    Parameters
    ----------
    spec : str
        E.g. ``simulation.seed=1,2,3`` or ``backend=nest,brian2``.

    Returns
    -------
    Axis
        The path and its values (``1e-3`` is read as a number, not YAML 1.1's string).

    Raises
    ------
    GridError
        Naming the specification and the expected form.

    Examples
    --------
    >>> parse_axis("projections.e2e.synapse.timing.A_plus=0.01,2e-2")
    Axis(path='projections.e2e.synapse.timing.A_plus', values=(0.01, 0.02))
    >>> parse_axis("seed")
    Traceback (most recent call last):
    spikebridge.workflows.sweeps.errors.GridError: --grid 'seed': expected PATH=V1,V2,... (e.g. simulation.seed=1,2,3)
    """
    path, sep, text = spec.partition("=")
    path = path.strip()
    if not sep or not path:
        raise GridError(f"--grid {spec!r}: {FORM}")
    if any(not _COMPONENT.match(part) for part in path.split(".")):
        raise GridError(f"--grid {spec!r}: {path!r} is not a model field path; {FORM}")
    if not text.strip():
        raise GridError(f"--grid {spec!r}: no values; {FORM}")
    if _EMPTY.search(text):
        raise GridError(f"--grid {spec!r}: empty value; {FORM}")
    try:
        values = yaml.safe_load(f"[{text}]")
    except yaml.YAMLError as err:
        problem = str(err).splitlines()[0]
        raise GridError(f"--grid {spec!r}: cannot read the values ({problem}); {FORM}") from None
    if not isinstance(values, list) or any(v is None for v in values):
        raise GridError(f"--grid {spec!r}: empty value; {FORM}")
    values = [_number_if_exponent(v) for v in values]
    try:
        canonical = [json.dumps(v, sort_keys=True) for v in values]
    except TypeError:
        raise GridError(f"--grid {spec!r}: values must be numbers, strings, booleans or lists; {FORM}") from None
    repeated = sorted({c for c in canonical if canonical.count(c) > 1})
    if repeated:
        raise GridError(f"--grid {spec!r}: value(s) {', '.join(repeated)} given more than once")
    if path == BACKEND and not all(isinstance(v, str) for v in values):
        raise GridError(f"--grid {spec!r}: backends are names, e.g. backend=nest,brian2")
    return Axis(path, tuple(values))


@dataclass(frozen=True)
class Grid:
    """The Cartesian product of a list of axes; the last axis varies fastest.

    Iterating gives each point's parameters as ``{path: value}``; ``len`` is the number of points.

    Parameters
    ----------
    axes : tuple of Axis
        The axes, each path at most once.

    Raises
    ------
    GridError
        If a path is given twice.

    Examples
    --------
    >>> grid = Grid.parse(["projections.e2e.synapse.timing.A_plus=0.01,0.02", "simulation.seed=1,2,3"])
    >>> len(grid), next(iter(grid))
    (6, {'projections.e2e.synapse.timing.A_plus': 0.01, 'simulation.seed': 1})
    """

    axes: tuple[Axis, ...]

    def __post_init__(self) -> None:
        paths = [a.path for a in self.axes]
        twice = sorted({p for p in paths if paths.count(p) > 1})
        if twice:
            raise GridError(f"--grid {', '.join(twice)} given more than once; list all values in one --grid PATH=V1,V2")

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Grid:
        """A grid from ``--grid`` specifications (none: one trial with the model as it is).

        Parameters
        ----------
        specs : iterable of str
            ``PATH=V1,V2,...`` specifications (:func:`parse_axis`).

        Returns
        -------
        Grid
            The axes in the order given.

        Raises
        ------
        GridError
            For a malformed specification or a path given twice.
        """
        return cls(tuple(parse_axis(s) for s in specs))

    @classmethod
    def from_mapping(cls, axes: Mapping[str, Sequence[Any]]) -> Grid:
        """A grid from ``{path: values}`` (as stored in an experiment's metadata).

        Parameters
        ----------
        axes : Mapping
            ``{path: values}``, in axis order.

        Returns
        -------
        Grid
            The grid; :meth:`to_mapping` gives ``axes`` back.
        """
        return cls(tuple(Axis(p, tuple(v)) for p, v in axes.items()))

    @property
    def paths(self) -> list[str]:
        """The axes' paths, in order."""
        return [a.path for a in self.axes]

    def to_mapping(self) -> dict[str, list[Any]]:
        """The grid as ``{path: values}`` (JSON-serialisable, for an experiment's metadata).

        Returns
        -------
        dict of str to list
            What :meth:`from_mapping` reads back.
        """
        return {a.path: list(a.values) for a in self.axes}

    def __len__(self) -> int:
        n = 1
        for a in self.axes:
            n *= len(a.values)
        return n

    def __iter__(self) -> Iterator[Params]:
        for combo in itertools.product(*(a.values for a in self.axes)):
            yield dict(zip(self.paths, combo, strict=True))


def short_names(paths: Sequence[str]) -> dict[str, str]:
    """Full path -> the name a trial table uses for it: the last component, or the full path where that is shared.

    Parameters
    ----------
    paths : sequence of str
        Full paths of the swept fields.

    Returns
    -------
    dict of str to str
        ``{full path: name}``.

    Examples
    --------
    >>> short_names(["stimuli.a.rate", "stimuli.b.rate", "simulation.seed"])
    {'stimuli.a.rate': 'stimuli.a.rate', 'stimuli.b.rate': 'stimuli.b.rate', 'simulation.seed': 'seed'}
    """
    shorts = {p: Axis(p, ()).short for p in paths}
    counts = {s: list(shorts.values()).count(s) for s in shorts.values()}
    return {p: (s if counts[s] == 1 else p) for p, s in shorts.items()}


def resolve_name(name: str, paths: Sequence[str]) -> str:
    """The full path a parameter name (full path or short name) refers to.

    Parameters
    ----------
    name : str
        A full path or a short name (:func:`short_names`).
    paths : sequence of str
        Full paths of the swept fields.

    Returns
    -------
    str
        The full path.

    Raises
    ------
    GridError
        If the name is unknown or a short name that several paths share.
    """
    if name in paths:
        return name
    matches = [p for p in paths if Axis(p, ()).short == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise GridError(f"parameter {name!r} is ambiguous: use one of the full paths {', '.join(matches)}")
    names = sorted({*short_names(paths).values()})
    raise GridError(f"no swept parameter {name!r} (swept: {', '.join(names) or 'none'})")


def canonical(params: Mapping[str, Any]) -> str:
    """A trial's identity: its parameters as sorted JSON.

    Parameters
    ----------
    params : Mapping
        ``{path: value}`` of one trial.

    Returns
    -------
    str
        JSON with sorted keys: equal parameters give equal strings.

    Examples
    --------
    >>> canonical({"simulation.seed": 2, "backend": "nest"})
    '{"backend": "nest", "simulation.seed": 2}'
    """
    return json.dumps(dict(params), sort_keys=True)


def override(path: str, value: Any) -> str:
    """A ``--set`` string that gives ``path`` exactly ``value`` (YAML round trip, so ``1e-05`` stays a number).

    Parameters
    ----------
    path : str
        A model field path.
    value : object
        A number, string, boolean or list.

    Returns
    -------
    str
        ``PATH=VALUE``.

    Examples
    --------
    >>> override("projections.e2e.synapse.timing.A_plus", 1e-05)
    'projections.e2e.synapse.timing.A_plus=1.0e-05'
    """
    text = yaml.safe_dump(value, default_flow_style=True).strip()
    return f"{path}={text.removesuffix('...').strip()}"


def split_params(params: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    """(backend from the grid or None, ``--set`` strings for the model fields) of one trial.

    Parameters
    ----------
    params : Mapping
        ``{path: value}`` of one trial.

    Returns
    -------
    tuple
        ``(backend or None, [PATH=VALUE, ...])``.

    Examples
    --------
    >>> split_params({"backend": "nest", "simulation.seed": 1})
    ('nest', ['simulation.seed=1'])
    """
    backend = params.get(BACKEND)
    return backend, [override(p, v) for p, v in params.items() if p != BACKEND]


def check_points(
    grid: Grid,
    model: str | os.PathLike[str],
    overrides: Sequence[str] = (),
    also: Callable[[Params, Model], None] | None = None,
) -> None:
    """Validate the model at every grid point: ``--set`` values, then the point's; before any trial is submitted.

    Loading a model takes a millisecond or two, so even a grid of thousands of points is checked in seconds.
    ``also(params, model)`` may check more of each point (e.g. its backend options) by raising a ``SpikebridgeError``.

    Parameters
    ----------
    grid : Grid
        The grid.
    model : str or os.PathLike
        A model file or bundled model name.
    overrides : sequence of str, optional
        ``--set`` strings applied before each point's.
    also : callable, optional
        ``also(params, model)``, called with each point's parameters and loaded model.

    Raises
    ------
    GridError
        Naming the first grid point whose model is invalid and the model error (field path and what was expected).
    """
    from ...errors import SpikebridgeError
    from ...models.io import load_model

    for params in grid:
        _, sets = split_params(params)
        try:
            loaded = load_model(model, (*overrides, *sets))
            if also is not None:
                also(params, loaded)
        except SpikebridgeError as err:
            point = ", ".join(f"{path}={json.dumps(value)}" for path, value in params.items())
            raise GridError(f"--grid point {point}: {err}" if point else str(err)) from None


def slug(index: int, params: Mapping[str, Any], names: Mapping[str, str], limit: int = 80) -> str:
    """A trial's directory name: ``t0003_A_plus=0.02_seed=2`` (characters outside ``[A-Za-z0-9._=+-]`` become ``-``).

    Parameters
    ----------
    index : int
        The trial's index in the grid.
    params : Mapping
        ``{path: value}`` of the trial.
    names : Mapping
        ``{path: name}`` used in the name (:func:`short_names`).
    limit : int, optional
        Longest name, in characters.

    Returns
    -------
    str
        The directory name.

    Examples
    --------
    >>> slug(3, {"projections.e2e.synapse.timing.A_plus": 0.02, "simulation.seed": 2}, {"simulation.seed": "seed"})
    't0003_projections.e2e.synapse.timing.A_plus=0.02_seed=2'
    """
    parts = [f"t{index:04d}"]
    for path, value in params.items():
        text = value if isinstance(value, str) else json.dumps(value)
        parts.append(f"{names.get(path, path)}={text}")
    name = re.sub(r"[^A-Za-z0-9._=+\-]+", "-", "_".join(parts))
    return name[:limit].rstrip("-_")
