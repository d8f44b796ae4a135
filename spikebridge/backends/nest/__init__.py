"""NEST through PyNN, with connections loaded in bulk."""

import os

os.environ.setdefault("PYNEST_QUIET", "1")  # before anything imports nest: no start-up banner on stdout

from .backend import NestBackend, create  # noqa: E402

__all__ = ["NestBackend", "create"]
