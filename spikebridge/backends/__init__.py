"""Backends by name, found through the ``spikebridge.backends`` entry-point group.

A third party adds one in its own package's ``pyproject.toml``::

    [project.entry-points."spikebridge.backends"]
    mysim = "mypackage.backend:MySimBackend"

where ``MySimBackend`` describes itself (:class:`~spikebridge.backends.base.BackendClass`: ``name``, ``variants``,
an ``Options`` model, ``packages``, ``prepare``, ``create``) and its instances implement
:class:`~spikebridge.backends.base.Backend`. A name such as ``brian2:cpp`` selects entry point ``brian2`` with
variant ``cpp``. :func:`register` adds a class from code (tests, a mock backend).

Callers ask this module, never a backend's name: :func:`check` validates a name and its options (one
``BackendError`` line naming what was expected), :func:`create` makes an instance, :func:`accepts` says whether a
variant uses an option, :func:`packages` lists the distributions it simulates with, and :func:`exercised` lists the
names that cross-backend checks run by default.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import BackendError, BackendNotInstalledError
from .base import Backend, BackendClass, Connections

GROUP = "spikebridge.backends"
_BUILTIN: dict[str, str] = {
    "nest": "spikebridge.backends.nest:NestBackend",
    "brian2": "spikebridge.backends.brian2:Brian2Backend",
}
"""The bundled backends, for a source tree used without installing it (its entry points are the same)."""
_REGISTERED: dict[str, type[BackendClass]] = {}
"""Classes added by :func:`register`; they take precedence over entry points of the same name."""
_LOADED: dict[str, type[BackendClass]] = {}
"""Entry points loaded so far, by their value."""


def _entry_points() -> dict[str, str | EntryPoint]:
    """Name -> what to load (an entry point, or ``module:attribute``), warning once per name given twice."""
    found: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, []).append(ep)
    out: dict[str, str | EntryPoint] = dict(_BUILTIN)
    for name, eps in found.items():
        values = list(dict.fromkeys(ep.value for ep in eps))
        if len(values) > 1:
            # as xarray's backends/plugins.py: keep the first, and say which
            warnings.warn(
                f"found {len(values)} entry points for backend name {name!r}: {', '.join(values)}; using {values[0]}",
                RuntimeWarning,
                stacklevel=3,
            )
        out[name] = eps[0]
    return out


def _load(name: str, target: str | EntryPoint) -> type[BackendClass]:
    value = target if isinstance(target, str) else target.value
    if value not in _LOADED:
        try:
            if isinstance(target, str):
                module_name, _, attr = target.partition(":")
                loaded = getattr(importlib.import_module(module_name), attr)
            else:
                loaded = target.load()
        except ImportError as err:
            raise BackendNotInstalledError(f"backend {name!r} is registered but cannot be imported: {err}") from None
        _LOADED[value] = loaded
    return _LOADED[value]


def register(name: str, cls: type[BackendClass]) -> None:
    """Make ``cls`` the backend called ``name`` in this process (a name already known is replaced, with a warning).

    Parameters
    ----------
    name
        The name before ':' that selects it; must equal ``cls.name``.
    cls
        A class that describes itself as :class:`~spikebridge.backends.base.BackendClass` does.
    """
    if ":" in name or name != cls.name:
        raise BackendError(f"register backend {name!r}: the name must be the class's name {cls.name!r}, without ':'")
    if name in _REGISTERED or name in _entry_points():
        warnings.warn(f"backend {name!r} is registered twice; using {cls.__module__}.{cls.__qualname__}", RuntimeWarning, stacklevel=2)
    _REGISTERED[name] = cls


def unregister(name: str) -> None:
    """Forget a backend added by :func:`register` (entry points stay)."""
    _REGISTERED.pop(name, None)


def available() -> list[str]:
    """Names of the known backends (entry points, built-in and registered ones), without variants."""
    return sorted({*_entry_points(), *_REGISTERED})


def split_name(name: str) -> tuple[str, str | None]:
    """``brian2:cpp`` -> ``("brian2", "cpp")``; ``nest`` -> ``("nest", None)``."""
    base, _, variant = name.partition(":")
    return base, (variant or None)


def _full(base: str, variant: str | None) -> str:
    return base if variant is None else f"{base}:{variant}"


def backend_class(name: str) -> type[BackendClass]:
    """The class of backend ``name`` (variant allowed, and checked).

    Raises
    ------
    BackendError
        An unknown name or variant.
    BackendNotInstalledError
        A known name whose module cannot be imported.
    """
    base, variant = split_name(name)
    if base in _REGISTERED:
        cls = _REGISTERED[base]
    else:
        targets = _entry_points()
        if base not in targets:
            raise BackendError(f"unknown backend {name!r}; known backends: {', '.join(available())}")
        cls = _load(name, targets[base])
    if variant not in cls.variants:
        names = [f"'{_full(base, v)}'" for v in cls.variants]
        choices = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        raise BackendError(f"backend {base!r} has no variant {variant!r}; use {choices}")
    return cls


factory = backend_class
"""The former name of :func:`backend_class`."""


def check(name: str, options: Mapping[str, Any] | None = None) -> BaseModel:
    """Validate a backend name and its options without building anything.

    Parameters
    ----------
    name
        A backend name, e.g. ``nest`` or ``brian2:cpp``.
    options
        The backend options (``simulation.backend_options`` merged with the caller's).

    Returns
    -------
    pydantic.BaseModel
        The backend's options model, validated (``"2"`` became ``2``; defaults filled in).

    Raises
    ------
    BackendError
        One line naming the unknown name, variant or option, or the option and what it must be.
    BackendNotInstalledError
        The backend is registered but cannot be imported.
    """
    base, variant = split_name(name)
    cls = backend_class(name)
    given = dict(options or {})
    fields = cls.Options.model_fields
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise BackendError(f"unknown {base} backend option(s) {unknown}; known: {sorted(fields)}")
    try:
        validated = cls.Options.model_validate(given)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"][:1])
        cause = first.get("ctx", {}).get("error")
        message = str(cause) if cause is not None else f"{first['msg'][:1].lower()}{first['msg'][1:]}, got {first['input']!r}"
        raise BackendError(f"{base} option {where!r} {message}") from None
    cls.prepare(variant)
    return validated


def create(name: str, options: Mapping[str, Any] | None = None) -> Backend:
    """A fresh backend instance for ``name`` (e.g. ``nest``, ``brian2:cpp``), its options checked by :func:`check`."""
    validated = check(name, options)
    return backend_class(name).create(split_name(name)[1], validated)


def accepts(name: str, option: str) -> bool:
    """Whether backend ``name`` (variant included) uses ``option``: its options model has the field, and the
    field is not reserved to other variants (``json_schema_extra={"variants": [...]}``)."""
    base, variant = split_name(name)
    field = backend_class(name).Options.model_fields.get(option)
    if field is None:
        return False
    extra = field.json_schema_extra
    used_by = extra.get("variants") if isinstance(extra, dict) else None
    return used_by is None or (isinstance(used_by, list) and variant in used_by)


def packages(name: str) -> tuple[str, ...]:
    """The distributions backend ``name`` simulates with (``importlib.metadata`` names), e.g. for versions."""
    return backend_class(name).packages(split_name(name)[1])


def import_in_main_thread(names: list[str] | tuple[str, ...]) -> None:
    """Import the modules that backends ``names`` must first import in a process's main thread (a class's
    ``MAIN_THREAD_MODULES``, e.g. Brian2, which installs a signal handler). Call it in a worker's main thread (Dask's
    ``Client.run``) before tasks run there in other threads."""
    for name in names:
        for module in getattr(backend_class(name), "MAIN_THREAD_MODULES", ()):
            importlib.import_module(module)


def exercised() -> list[str]:
    """Every backend name that cross-backend checks run by default: each backend's ``exercised`` variants.

    Backends come in the order of :func:`available` except that the default backend of a model
    (:class:`~spikebridge.models.schema.Simulation`'s ``backend``) comes first, as the reference.
    """
    from ..models.schema import Simulation

    default = Simulation.model_fields["backend"].default
    order = sorted(available(), key=lambda base: base != default)
    out: list[str] = []
    for base in order:
        try:
            cls = backend_class(base)
        except BackendNotInstalledError:
            continue
        out.extend(_full(base, v) for v in cls.exercised)
    return out


__all__ = [
    "Backend",
    "BackendClass",
    "BackendError",
    "Connections",
    "accepts",
    "available",
    "backend_class",
    "check",
    "create",
    "exercised",
    "factory",
    "packages",
    "register",
    "split_name",
    "unregister",
]
