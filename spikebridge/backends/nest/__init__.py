"""NEST through PyNN, with connections loaded in bulk (entry point: :class:`NestBackend`)."""

import os

os.environ.setdefault("PYNEST_QUIET", "1")  # before anything imports nest: no start-up banner on stdout

from .backend import NestBackend, NestOptions  # noqa: E402

__all__ = ["NestBackend", "NestOptions"]
