"""Option types shared by the PyNN backends' options models: checked once, with one line naming what was expected.

A validator raises ``ValueError(message)``; :func:`spikebridge.backends.check` turns it into
``BackendError("<backend> option '<name>' <message>")``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def positive_int(value: Any) -> int:
    """An integer >= 1 given as an int or a string of digits (``--set ...threads=2`` arrives as either).

    Parameters
    ----------
    value
        What the caller gave.

    Returns
    -------
    int
        The value as an integer.

    Raises
    ------
    ValueError
        ``must be an integer >= 1, got ...`` or ``must be >= 1, got ...``.
    """
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().lstrip("+-").isdigit():
        raise ValueError(f"must be an integer >= 1, got {value!r}")
    if int(value) < 1:
        raise ValueError(f"must be >= 1, got {int(value)}")
    return int(value)


def positive_float(value: Any) -> float:
    """A number > 0 (e.g. a duration in ms); ``ValueError`` naming what was given otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number > 0, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number > 0, got {value!r}") from None
    if not number > 0:
        raise ValueError(f"must be > 0, got {number:g}")
    return number


PositiveInt = Annotated[int, BeforeValidator(positive_int)]
PositiveFloat = Annotated[float, BeforeValidator(positive_float)]


class PyNNOptions(BaseModel):
    """Options every PyNN backend takes: ``threads``, the simulator's threads (default 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threads: PositiveInt = Field(1, description="threads the simulator runs on")
