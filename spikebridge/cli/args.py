"""Arguments that several commands share, declared once, and the one comma-separated-list parser.

Each ``add_*`` function adds one argument to a command's parser; its help text defaults to the most common
wording and a command passes its own where it says more (``help=None``: no help text). :func:`comma_list` makes
the argparse ``type`` of every comma-separated option (``--noise 0,5,10``, ``--backends nest,brian2``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..errors import SpikebridgeError

MODEL_HELP = "a model file (.toml/.yaml) or the name of a bundled model"
QUIET_HELP = "no progress bar"


def split_list[T](text: str, convert: Callable[[str], T]) -> list[T]:
    """The items of a comma-separated list, stripped of blanks, empty ones dropped, each converted.

    Parameters
    ----------
    text
        For example ``"0, 5,,10"``.
    convert
        Applied to each stripped item (``str``, ``int``, ``float``); its ``ValueError`` propagates.

    Returns
    -------
    list
        For example ``[0.0, 5.0, 10.0]`` with ``convert=float``; ``[]`` for ``""`` or ``","``.
    """
    return [convert(item.strip()) for item in text.split(",") if item.strip()]


def comma_list[T](convert: Callable[[str], T], expected: str, at_least: int = 0) -> Callable[[str], list[T]]:
    """An argparse ``type`` reading a comma-separated list (:func:`split_list`).

    Parameters
    ----------
    convert
        Converts each item (``str``, ``int``, ``float``); a ``ValueError`` is bad input.
    expected
        What the option takes, for the error message ``expected EXPECTED, got 'TEXT'``.
    at_least
        The fewest items accepted.

    Returns
    -------
    Callable
        Text to list; raises :class:`argparse.ArgumentTypeError` (argparse prints it and exits 2).
    """

    def parse(text: str) -> list[T]:
        """The items of ``text``, converted; :class:`argparse.ArgumentTypeError` if one is bad or too few are given."""
        try:
            values = split_list(text, convert)
        except ValueError:
            values = None
        if values is None or len(values) < at_least:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return values

    return parse


names = comma_list(str, "comma-separated names", at_least=1)
"""An argparse ``type``: one or more comma-separated names (``--rules additive,gutig``)."""

_seed_list = comma_list(int, "a number of seeds (5) or a list of seeds (1,2,3)")


def seeds(text: str) -> int | list[int]:
    """An argparse ``type`` for ``--seeds``: one integer (a number of seeds) or a comma-separated list of seeds.

    Parameters
    ----------
    text
        ``"5"`` or ``"1,2,3"``.

    Returns
    -------
    int | list[int]
        ``5`` or ``[1, 2, 3]``.
    """
    values = _seed_list(text)
    return values[0] if len(values) == 1 else values


def require_at_least_one(
    flags: Iterable[tuple[str, int | None]], error: type[SpikebridgeError] = SpikebridgeError
) -> None:
    """Refuse the first counting flag below 1 (``None``: not given, left to its default), as ``error`` (exit 2)."""
    for flag, value in flags:
        if value is not None and value < 1:
            raise error(f"{flag} must be >= 1, got {value}")


def add_model(p: argparse.ArgumentParser, help: str | None = MODEL_HELP, **kwargs: Any) -> None:
    """Add the positional ``model``, a model file or a bundled model's name (``kwargs``: ``nargs``, ``default``)."""
    p.add_argument("model", help=help, **kwargs)


def add_overrides(p: argparse.ArgumentParser, help: str | None = "override a model field") -> None:
    """Add ``--set PATH=VALUE`` (repeatable; ``args.set`` is a list, empty by default)."""
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help=help)


def add_seed(
    p: argparse.ArgumentParser, help: str | None = "override simulation.seed", default: int | None = None
) -> None:
    """Add ``--seed N`` (an integer)."""
    p.add_argument("--seed", type=int, default=default, help=help)


def model_overrides(args: argparse.Namespace) -> list[str]:
    """The model overrides of ``--set``, then ``--seed`` as ``simulation.seed=N`` where given.

    Parameters
    ----------
    args
        Parsed arguments with ``set`` and (optionally) ``seed``.

    Returns
    -------
    list[str]
        ``PATH=VALUE`` strings for :func:`spikebridge.models.io.load_model`.
    """
    sets = list(args.set or [])
    if getattr(args, "seed", None) is not None:
        sets.append(f"simulation.seed={args.seed}")
    return sets


def add_backend(p: argparse.ArgumentParser, help: str | None) -> None:
    """Add ``--backend NAME`` (one backend; ``None`` when not given)."""
    p.add_argument("--backend", help=help)


def add_backends(
    p: argparse.ArgumentParser, help: str | None, default: list[str] | None = None, pair: bool = False
) -> None:
    """Add ``--backends A,B``: comma-separated backend names, at least two where ``pair`` (the first is a reference)."""
    kind = comma_list(str, "at least two comma-separated backends, e.g. nest,brian2", at_least=2) if pair else names
    p.add_argument("--backends", type=kind, default=default, metavar="A,B", help=help)


def add_threads(p: argparse.ArgumentParser, help: str | None) -> None:
    """Add ``--threads N`` (simulator threads; ``None`` when not given)."""
    p.add_argument("--threads", type=int, help=help)


def add_out(
    p: argparse.ArgumentParser, help: str | None, default: Path | None = None, metavar: str | None = None
) -> None:
    """Add ``--out PATH``: the folder a command writes."""
    p.add_argument("--out", type=Path, default=default, metavar=metavar, help=help)


def add_quiet(p: argparse.ArgumentParser, help: str | None = QUIET_HELP) -> None:
    """Add ``--quiet`` (no progress bar)."""
    p.add_argument("--quiet", action="store_true", help=help)
