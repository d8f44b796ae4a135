"""Reading and writing model files (TOML or YAML), bundled models, and ``--set path=value`` overrides."""

from __future__ import annotations

import copy
import hashlib
import os
import re
import tomllib
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tomli_w
import yaml
from pydantic import BaseModel, ValidationError

from ..errors import ModelError
from .check import resolve
from .schema import Model, short

LIBRARY = Path(__file__).parent / "library"


def bundled_models() -> dict[str, Path]:
    """Names of the bundled models and their files.

    Returns
    -------
    dict of str to pathlib.Path
        ``{name: TOML file}``, sorted by name.

    Examples
    --------
    >>> sorted(bundled_models())[:3]
    ['binding', 'binding_adaptive', 'ei_weight_matrix']
    """
    return {p.stem: p for p in sorted(LIBRARY.glob("*.toml"))}


def find_model_file(name_or_path: str | os.PathLike[str]) -> Path:
    """A path to a model file, or the name of a bundled model.

    Parameters
    ----------
    name_or_path : str or os.PathLike
        A ``.toml``/``.yaml``/``.yml`` file or an existing path, else the name of a bundled model.

    Returns
    -------
    pathlib.Path
        The model file.

    Raises
    ------
    ModelError
        If the file does not exist, or the name is neither a file nor a bundled model.
    """
    path = Path(name_or_path)
    if path.suffix.lower() in (".toml", ".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ModelError("", "no such model file", str(path))
        return path
    library = bundled_models()
    if str(name_or_path) in library:
        return library[str(name_or_path)]
    raise ModelError("", f"neither a model file nor a bundled model (bundled: {', '.join(library)})", str(name_or_path))


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error (not last-wins)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping as :class:`yaml.SafeLoader` does, after refusing duplicate keys.

        Parameters
        ----------
        node : yaml.MappingNode
            The mapping being read.
        deep : bool, optional
            Build nested objects now (PyYAML's meaning).

        Returns
        -------
        dict
            The mapping.

        Raises
        ------
        DuplicateKeyError
            If a key occurs twice (``<<`` merge keys excepted).
        """
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # '<<: *anchor' may be overridden by the keys given
                continue
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise DuplicateKeyError(key, line, seen[key])
                seen[key] = line
            except TypeError:
                raise yaml.constructor.ConstructorError(None, None, "a mapping key must be a plain value", key_node.start_mark) from None
        return super().construct_mapping(node, deep=deep)


class DuplicateKeyError(yaml.YAMLError):
    """A YAML mapping gives one key twice; names the key and both lines.

    Parameters
    ----------
    key : object
        The repeated key.
    line, first : int
        The (1-based) lines of the repetition and of the first occurrence.
    """

    def __init__(self, key: Any, line: int, first: int) -> None:
        super().__init__(f"duplicate key {short(key)} at line {line} (first given at line {first})")


MAX_FILE_BYTES = 64 * 2**20
MAX_DEPTH = 32
"""Tables and lists nested deeper than this are not a model (and would exhaust the parsers' recursion)."""
MAX_VALUES = 10_000_000
"""Values a file may expand to; YAML aliases can make a small file expand exponentially ("billion laughs")."""


def _measure(data: Any) -> tuple[int, int]:
    """Nesting depth and number of values of parsed data, as expanded, without expanding shared (aliased) parts."""
    memo: dict[int, tuple[int, int]] = {}

    def visit(node: Any, level: int) -> tuple[int, int]:
        if not isinstance(node, (dict, list)):
            return 0, 1
        if id(node) in memo:
            return memo[id(node)]
        if level > MAX_DEPTH:
            return level, 1
        children = [visit(v, level + 1) for v in (node.values() if isinstance(node, dict) else node)]
        memo[id(node)] = result = (1 + max((d for d, _ in children), default=0), 1 + sum(n for _, n in children))
        return result

    return visit(data, 0)


_QUOTED = re.compile(r"(?<![^\s(])(?:'[^'<]{2,}?'|\"[^\"<]{2,}?\")|\(\s*'[^)]*\)")


def _redact(reason: str) -> str:
    """A parser's reason without the words of the file it quotes (keys, aliases, tags): a position says enough."""
    return _QUOTED.sub("(…)", reason)


def _yaml_reason(err: yaml.YAMLError) -> str:
    """A YAML error without the snippet of the file PyYAML quotes."""
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        return f"{_one_line(_redact(err.problem or err.context or 'invalid YAML'), 100)}{where}"
    return _one_line(str(err), 120)


def read_raw(path: Path) -> dict[str, Any]:
    """The top-level table of a TOML or YAML model file (UTF-8, with or without a byte-order mark).

    A file that is not text, does not parse, or nests absurdly deep gives one ModelError that names the file but
    never quotes its contents.

    Parameters
    ----------
    path : pathlib.Path
        The file; ``.yaml``/``.yml`` is read as YAML, anything else as TOML.

    Returns
    -------
    dict
        The file's top-level table, not yet validated.

    Raises
    ------
    ModelError
        If the file cannot be read or parsed, is too large, or is not a table.
    """
    source = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ModelError(
                "",
                f"{path.stat().st_size / 2**20:.0f} MiB is too large for a model file "
                f"(at most {MAX_FILE_BYTES / 2**20:.0f} MiB; put connections in a from_file file)",
                source,
            )
        data_bytes = path.read_bytes()
    except OSError as err:
        raise ModelError("", f"cannot read: {err.strerror or type(err).__name__}", source) from None
    try:
        text = data_bytes.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = "\0"
    if "\0" in text:
        raise ModelError("", "not a text model file (expected UTF-8 TOML or YAML)", source)
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            data = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
        else:
            data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ModelError("", f"cannot parse as TOML: {_one_line(_redact(str(err)), 120)}", source) from None
    except yaml.YAMLError as err:
        raise ModelError("", f"cannot parse as YAML: {_yaml_reason(err)}", source) from None
    except RecursionError:
        raise ModelError("", f"cannot parse: nested deeper than {MAX_DEPTH} levels", source) from None
    if not isinstance(data, dict):
        raise ModelError("", "expected a table of model fields at the top level", source)
    depth, values = _measure(data)
    if depth > MAX_DEPTH:
        raise ModelError("", f"nested deeper than {MAX_DEPTH} levels; not a model", source)
    if values > MAX_VALUES:
        raise ModelError("", f"expands to {values:.3g} values (more than {MAX_VALUES:.0e}; YAML aliases?); not a model", source)
    return data


_INDEX = re.compile(r"^(?P<key>[^\[\]]+)((\[(?P<i>\d+)\])?)$")


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``a.b.c=value`` settings (value parsed as YAML: numbers, lists, strings) to a raw model dict.

    Parameters
    ----------
    raw : dict
        A raw model (not changed: a copy is returned).
    overrides : iterable of str
        ``PATH=VALUE`` settings; a path element may index a list (``simulation.phases[1].duration=500``).

    Returns
    -------
    dict
        A copy of ``raw`` with the settings applied (missing tables are created).

    Raises
    ------
    ModelError
        For a setting without ``=``, an unreadable value, or a path through something that is not a table.

    Examples
    --------
    >>> apply_overrides({"simulation": {"dt": 0.1}}, ["simulation.dt=0.05", "simulation.seed=7"])
    {'simulation': {'dt': 0.05, 'seed': 7}}
    """
    data = copy.deepcopy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ModelError("", f"expected PATH=VALUE, got {item!r}", "--set")
        try:
            value = yaml.load(text, Loader=UniqueKeyLoader) if text.strip() else ""  # noqa: S506 (a SafeLoader)
        except yaml.YAMLError as err:
            raise ModelError(key.strip(), f"cannot read the value {text!r}: {_yaml_reason(err)}", "--set") from None
        parts = key.strip().split(".")
        node: Any = data
        for depth, part in enumerate(parts):
            m = _INDEX.match(part)
            if m is None:
                raise ModelError(key, f"cannot read path element {part!r}", "--set")
            last = depth == len(parts) - 1
            name, index = m.group("key"), m.group("i")
            if not isinstance(node, dict):
                raise ModelError(key, f"{'.'.join(parts[:depth])} is not a table", "--set")
            if index is None:
                if last:
                    node[name] = value
                else:
                    node = node.setdefault(name, {})
            else:
                seq = node.get(name)
                if not isinstance(seq, list) or int(index) >= len(seq):
                    raise ModelError(key, f"{name} has no element {index}", "--set")
                if last:
                    seq[int(index)] = value
                else:
                    node = seq[int(index)]
        _forget_nestml(data, parts)
    return data


def _forget_nestml(data: dict[str, Any], parts: list[str]) -> None:
    """A new synapse type or NESTML model: drop the NESTML text a resolved model carries, so it is read again."""
    found = data.get("projections")
    projections: dict[str, Any] = found if isinstance(found, dict) else {}
    if len(parts) >= 4 and parts[0] == "projections" and parts[2] == "synapse" and parts[3] == "type":
        synapse = projections.get(parts[1], {}).get("synapse")
        if isinstance(synapse, dict):
            synapse.pop("nestml", None)
    elif len(parts) >= 2 and parts[0] == "models":
        for prj in projections.values():
            synapse = prj.get("synapse") if isinstance(prj, dict) else None
            if isinstance(synapse, dict) and synapse.get("type") == parts[1]:
                synapse.pop("nestml", None)


def _inner_model(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return dict if origin is dict else None


def _allowed_fields(loc: tuple[Any, ...]) -> list[str] | None:
    """Walk the schema along ``loc[:-1]``, skipping dict keys and list indices, to list the allowed fields."""
    cls: Any = Model
    parts = list(loc[:-1])
    i = 0
    while i < len(parts):
        part = parts[i]
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            return None
        field = cls.model_fields.get(str(part))
        if field is None:
            return None
        annotation = field.annotation
        nxt = _inner_model(annotation)
        is_mapping = "dict[" in str(annotation)
        is_list = "list[" in str(annotation)
        cls = nxt
        if is_mapping or is_list:
            i += 1  # skip the key or index that follows
        i += 1
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        return list(cls.model_fields)
    return None


def format_loc(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a model field path: dotted names and ``[index]``, validator labels left out.

    Parameters
    ----------
    loc : tuple
        The ``loc`` of one of :meth:`pydantic.ValidationError.errors`.

    Returns
    -------
    str
        E.g. ``simulation.phases[0].duration``.

    Examples
    --------
    >>> format_loc(("simulation", "phases", 0, "duration"))
    'simulation.phases[0].duration'
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in str(part) and "(" in str(part):  # pydantic's internal validator labels
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _message(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    loc = tuple(err["loc"])
    if kind == "extra_forbidden":
        allowed = _allowed_fields(loc)
        return "unknown field" + (f" (expected one of: {', '.join(allowed)})" if allowed else "")
    if kind == "missing":
        return "required field missing"
    if kind == "literal_error":
        return f"{err['msg'].replace('Input should be', 'expected')}, got {short(err.get('input'))}"
    msg = str(err["msg"])
    msg = msg.removeprefix("Value error, ")
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        what = "an integer" if kind.startswith("int") else "a number"
        return f"expected {what}, got {short(err.get('input'))}"
    return msg[0].lower() + msg[1:] if msg else kind


def _one_line(text: str, limit: int = 400) -> str:
    """Control characters escaped, cut to ``limit``: an error is one line whatever the file's keys hold."""
    clean = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


def _clean(err: ModelError, source: str | None) -> ModelError:
    return ModelError(_one_line(err.path, 200), _one_line(err.message), err.source or source)


def validate(raw: Mapping[str, Any], source: str | None = None, *, folder: str | Path | None = None) -> Model:
    """Validate a raw dict (from a file or Python) and resolve units and physical limits: one ModelError on failure.

    Parameters
    ----------
    raw
        The model's fields, as read from a file or built in Python.
    source
        What the model was read from (a file name); errors found later (while drawing it) name it too.
    folder
        The folder its relative data files are read from (:attr:`~spikebridge.models.schema.Model.source_folder`); ``None``: none.

    Returns
    -------
    Model
        The resolved model.

    Raises
    ------
    ModelError
        Naming the first wrong field (and how many more errors there are).
    """
    try:
        model = Model.model_validate(raw)
    except ValidationError as err:
        errors = err.errors()
        first = errors[0]
        more = f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise _clean(ModelError(format_loc(tuple(first["loc"])), _message(first) + more), source) from None
    model.source_folder = folder  # NESTML files are read while resolving
    try:
        resolved = resolve(model)
    except ModelError as err:
        raise _clean(err, source) from None
    resolved._source = source
    resolved.source_folder = folder
    return resolved


def read_resolved(raw: Mapping[str, Any], source: str | None = None, *, folder: str | Path | None = None) -> Model:
    """A model as a run directory stored it (already resolved): the schema only, not today's physical limits.

    A run that was made is history: an older spikebridge may have accepted a value that is refused today (a delay
    below dt, which it raised to dt), and its run directory must stay readable. ``folder`` is the folder of the
    model file the run was made from, where the model's relative data files are (:attr:`~spikebridge.models.schema.Model.source_folder`).

    Parameters
    ----------
    raw : Mapping
        The model's fields as the run directory stored them.
    source : str, optional
        What it was read from, for errors.
    folder : str or pathlib.Path, optional
        The folder of the original model file.

    Returns
    -------
    Model
        The model, validated against the schema only.

    Raises
    ------
    ModelError
        If the stored model does not fit the schema.
    """
    try:
        model = Model.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        raise _clean(ModelError(format_loc(tuple(first["loc"])), _message(first)), source) from None
    model._source = source
    model.source_folder = folder
    return model


def load_model(name_or_path: str | os.PathLike[str], overrides: Iterable[str] = ()) -> Model:
    """Read, override, validate and resolve a model file or bundled model.

    Parameters
    ----------
    name_or_path
        A model file (TOML or YAML), or the name of a bundled model.
    overrides
        ``PATH=VALUE`` settings applied before validation (``--set``).

    Returns
    -------
    Model
        The resolved model; its :attr:`~spikebridge.models.schema.Model.source_folder` is the folder of the file (absolute), from which its
        relative data files are read.

    Raises
    ------
    ModelError
        If the file is missing or unreadable, an override is malformed, or the model is invalid.

    Examples
    --------
    >>> model = load_model("vogels_abbott_coba", ["simulation.duration=200", "simulation.seed=7"])
    >>> model.simulation.seed, [p.duration for p in model.simulation.phases]  # durations in ms
    (7, [200.0])
    """
    path = find_model_file(name_or_path)
    raw = apply_overrides(read_raw(path), overrides)
    return validate(raw, str(path), folder=path.parent)


def dumps_toml(model: Model) -> str:
    """A model as TOML text (unset fields left out), which :func:`load_model` reads back.

    Parameters
    ----------
    model : Model
        Any model, resolved or not.

    Returns
    -------
    str
        The TOML document.
    """
    return tomli_w.dumps(model.model_dump(mode="json", exclude_none=True))


def model_digest(model: Model) -> str:
    """SHA-256 of the model as resolved (its TOML text): equal digests mean the same model.

    Parameters
    ----------
    model : Model
        A resolved model.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    return hashlib.sha256(dumps_toml(model).encode()).hexdigest()
