"""``spikebridge models``: list the bundled models with the first line of their descriptions."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``models`` command to ``spikebridge``'s subparsers."""
    p = subparsers.add_parser("models", help="list the bundled models")
    p.set_defaults(func=cmd_models)


def cmd_models(args: argparse.Namespace) -> int:
    """Print one line per bundled model: its name and the first line of its description; return 0."""
    from ..models.io import bundled_models, read_raw

    for name, path in bundled_models().items():
        first = str(read_raw(path).get("description", "")).strip().splitlines()
        print(f"{name:24s} {first[0] if first else ''}")
    return 0
