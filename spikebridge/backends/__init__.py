"""Backends by name, found through the ``spikebridge.backends`` entry-point group.

A third party adds one in its own package's ``pyproject.toml``::

    [project.entry-points."spikebridge.backends"]
    mysim = "mypackage.backend:create"

where ``create(variant, options)`` returns an object implementing :class:`~spikebridge.backends.base.Backend`.
A name such as ``brian2:cpp`` selects entry point ``brian2`` with variant ``cpp``.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from ..errors import BackendError, BackendNotInstalledError
from .base import Backend, BackendFactory, Connections

GROUP = "spikebridge.backends"
_BUILTIN = {"nest": "spikebridge.backends.nest:create"}


def _entry_points() -> dict[str, str]:
    found = {ep.name: ep.value for ep in entry_points(group=GROUP)}
    return {**_BUILTIN, **found}


def available() -> list[str]:
    """Names of the registered backends (entry points, plus the built-in ones)."""
    return sorted(_entry_points())


def split_name(name: str) -> tuple[str, str | None]:
    base, _, variant = name.partition(":")
    return base, (variant or None)


def factory(name: str) -> BackendFactory:
    base, _ = split_name(name)
    targets = _entry_points()
    if base not in targets:
        raise BackendError(f"unknown backend {name!r}; known backends: {', '.join(available())}")
    module_name, _, attr = targets[base].partition(":")
    try:
        module = __import__(module_name, fromlist=[attr])
    except ImportError as err:
        raise BackendNotInstalledError(f"backend {name!r} is registered but cannot be imported: {err}") from None
    return getattr(module, attr)


def create(name: str, options: Mapping[str, Any] | None = None) -> Backend:
    """A fresh backend instance for ``name`` (e.g. ``nest``, ``brian2:cpp``)."""
    base, variant = split_name(name)
    return factory(name)(variant, dict(options or {}))


__all__ = ["Backend", "BackendError", "Connections", "available", "create", "factory", "split_name"]
