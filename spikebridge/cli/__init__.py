"""The ``spikebridge`` command line: one module per command, assembled in :mod:`spikebridge.cli.app`."""

from .app import main

__all__ = ["main"]
