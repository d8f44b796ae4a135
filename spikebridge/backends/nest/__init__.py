"""NEST through PyNN, with connections loaded in bulk."""

from .backend import NestBackend, create

__all__ = ["NestBackend", "create"]
