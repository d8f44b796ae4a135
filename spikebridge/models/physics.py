"""Physical limits of model fields, in one table: what a value must satisfy to mean anything.

:data:`FIELD_LIMITS` maps a field name (the last element of its path, wherever it appears: a cell parameter,
an STDP time constant, a stimulus rate) to its limit; every ``tau_*`` not listed is a time constant and must be
positive. :data:`ORDER` lists pairs of cell parameters that must be ordered (``v_reset < v_thresh``).

A distribution is checked on its support when the model is resolved (a constant, a ``uniform``, or anything with
``bounds``). An unbounded ``normal`` (or ``lognormal``) can still draw a meaningless value, so its drawn values
are checked again by :func:`check_drawn` when the network is instantiated. Both raise one
:class:`~spikebridge.errors.ModelError` naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from .schema import Distribution, as_float


@dataclass(frozen=True)
class Limit:
    """A lower limit: values must be > ``low`` (``strict``) or >= ``low``.

    Parameters
    ----------
    low : float
        The limit, in the field's PyNN unit.
    strict : bool
        Whether ``low`` itself is refused.
    what : str
        What a valid value is, for messages (``"a positive time constant in ms"``).

    Examples
    --------
    >>> limit = limit_for("tau_m")
    >>> limit.describe(), limit.holds(0.0), limit.holds(20.0)
    ('a positive time constant in ms (> 0)', False, True)
    """

    low: float
    strict: bool
    what: str

    def holds(self, value: float) -> bool:
        """Whether ``value`` (in the field's unit) satisfies the limit.

        Parameters
        ----------
        value : float
            The value.

        Returns
        -------
        bool
            True if it is above (or, unless strict, at) ``low``.
        """
        return value > self.low if self.strict else value >= self.low

    def describe(self) -> str:
        """What the limit asks for, with the bound: ``"a positive value (> 0)"``.

        Returns
        -------
        str
            The description.
        """
        return f"{self.what} ({'>' if self.strict else '>='} {self.low:g})"


POSITIVE = Limit(0.0, True, "a positive value")
NON_NEGATIVE = Limit(0.0, False, "a non-negative value")

FIELD_LIMITS: dict[str, Limit] = {
    "cm": Limit(0.0, True, "a positive capacitance in nF"),
    "tau_refrac": Limit(0.0, False, "a non-negative refractory period in ms"),
    "delta_T": Limit(0.0, False, "a non-negative slope factor in mV"),
    "rate": Limit(0.0, False, "a non-negative rate in Hz"),
    "start": Limit(0.0, False, "a non-negative time in ms"),
    "stop": Limit(0.0, False, "a non-negative time in ms"),
    "duration": Limit(0.0, True, "a positive duration in ms"),
    "dt": Limit(0.0, True, "a positive time step in ms"),
    "resample_every": Limit(0.0, True, "a positive duration in ms"),
    "sampling_interval": Limit(0.0, True, "a positive interval in ms"),
    "interval": Limit(0.0, True, "a positive interval in ms"),
    "times": Limit(0.0, False, "non-negative times in ms"),
    "spike_times": Limit(0.0, False, "non-negative times in ms"),
    "mu_plus": NON_NEGATIVE,
    "mu_minus": NON_NEGATIVE,
    "sd": NON_NEGATIVE,
    "sigma": NON_NEGATIVE,
}
TIME_CONSTANT = Limit(0.0, True, "a positive time constant in ms")

ORDER: tuple[tuple[str, str, bool], ...] = (
    # (lower, upper, strict): a cell resets below its threshold, and NEST's aeif needs V_reset < V_peak >= V_th
    ("v_reset", "v_thresh", True),
    ("v_reset", "v_spike", True),
    ("v_thresh", "v_spike", False),
)


def limit_for(field: str) -> Limit | None:
    """The limit on a field named ``field`` (e.g. ``tau_m``, ``cm``, ``rate``), or None if any finite value goes.

    Parameters
    ----------
    field : str
        The field's name (its last path element), e.g. ``tau_m``, ``cm``, ``rate``.

    Returns
    -------
    Limit or None
        Every ``tau_*`` field is a positive time constant (ms).
    """
    if field in FIELD_LIMITS:
        return FIELD_LIMITS[field]
    return TIME_CONSTANT if field.startswith("tau_") else None


def support(d: Distribution) -> tuple[float, float]:
    """The interval a resolved distribution draws from (``-inf``/``inf`` where it is unbounded).

    Parameters
    ----------
    d : Distribution
        A resolved distribution (floats in the field's unit), bounds included.

    Returns
    -------
    tuple of float
        ``(low, high)``, in the field's unit.
    """
    match d.distribution:
        case "constant":
            lo = hi = as_float(d.value)
        case "uniform":
            lo, hi = as_float(d.low), as_float(d.high)
        case "normal":
            lo, hi = (-math.inf, math.inf) if d.sd else (as_float(d.mean), as_float(d.mean))
        case _:  # lognormal: strictly positive
            lo, hi = math.nextafter(0.0, 1.0), math.inf
    if d.bounds is not None:
        lo, hi = max(lo, float(d.bounds[0])), min(hi, float(d.bounds[1]))
    return lo, hi


def check_value(field: str, value: float | None, path: str) -> None:
    """Refuse a single number that breaks the limit of ``field``.

    Parameters
    ----------
    field : str
        The field's name (its last path element), e.g. ``tau_m``, ``cm``, ``rate``.
    value : float or None
        The value in the field's unit (None: not given, nothing to check).
    path : str
        The field's path in the model, for the error.

    Raises
    ------
    ModelError
        If the value breaks the limit.
    """
    limit = limit_for(field)
    if value is not None and limit is not None and not limit.holds(value):
        raise ModelError(path, f"expected {limit.describe()}, got {value:g}")


def check_values(field: str, values: list[float] | None, path: str) -> None:
    """Refuse a list of numbers any of which breaks the limit of ``field``.

    Parameters
    ----------
    field : str
        The field's name (its last path element), e.g. ``tau_m``, ``cm``, ``rate``.
    values : list of float or None
        The values in the field's unit.
    path : str
        The field's path in the model, for the error.

    Raises
    ------
    ModelError
        If a value breaks the limit.
    """
    for k, value in enumerate(values or []):
        check_value(field, value, f"{path}[{k}]")


def check_distribution(field: str, d: Distribution, path: str) -> None:
    """Refuse a distribution whose bounded support breaks the limit of ``field``.

    An unbounded lower end is left to :func:`check_drawn`: ``normal(20, 2)`` is a fine ``tau_m`` in practice.

    Parameters
    ----------
    field : str
        The field's name (its last path element), e.g. ``tau_m``, ``cm``, ``rate``.
    d : Distribution
        The resolved distribution.
    path : str
        The field's path in the model, for the error.

    Raises
    ------
    ModelError
        If the distribution's finite lower end breaks the limit.
    """
    limit = limit_for(field)
    if limit is None:
        return
    lo, _ = support(d)
    if math.isfinite(lo) and not limit.holds(lo):
        if d.distribution == "constant":
            raise ModelError(path, f"expected {limit.describe()}, got {lo:g}")
        raise ModelError(
            path,
            f"expected {limit.describe()}, but the {d.distribution} distribution reaches down to {lo:g}; "
            "raise its lower end or give bounds",
        )


def check_drawn(field: str, values: np.ndarray, path: str) -> None:
    """Refuse drawn values that are not finite or break the limit of ``field`` (from an unbounded distribution).

    Parameters
    ----------
    field : str
        The field's name (its last path element), e.g. ``tau_m``, ``cm``, ``rate``.
    values : numpy.ndarray
        The drawn values, in the field's unit.
    path : str
        The field's path in the model, for the error.

    Raises
    ------
    ModelError
        If a value is not finite or breaks the limit.
    """
    if values.size and not np.all(np.isfinite(values)):
        raise ModelError(path, "drew values that are not finite numbers; narrow the distribution")
    limit = limit_for(field)
    if limit is None or values.size == 0:
        return
    bad = ~(values > limit.low if limit.strict else values >= limit.low)
    if bad.any():
        raise ModelError(
            path, f"expected {limit.describe()}, but {int(bad.sum())} drawn values are not (min {values.min():.4g}); give bounds"
        )


def check_order(parameters: dict[str, Distribution], defaults: dict[str, float], path: str) -> None:
    """Refuse cell parameters (given or PyNN's defaults) that are out of order, e.g. ``v_thresh <= v_reset``.

    Supports that could overlap are left to :func:`check_drawn_order`.

    Parameters
    ----------
    parameters : dict of str to Distribution
        The population's given cell parameters (resolved, mV).
    defaults : dict of str to float
        PyNN's defaults for the cell type (mV).
    path : str
        The population's parameters path, for the error.

    Raises
    ------
    ModelError
        If no draw can be in order (e.g. ``v_thresh`` entirely below ``v_reset``).
    """
    for lower, upper, strict in ORDER:
        if lower not in defaults or upper not in defaults:
            continue
        lo_range = support(parameters[lower]) if lower in parameters else (defaults[lower], defaults[lower])
        up_range = support(parameters[upper]) if upper in parameters else (defaults[upper], defaults[upper])
        # refuse when no draw can be in order
        if up_range[1] < lo_range[0] or (strict and up_range[1] <= lo_range[0]):
            where = f"{path}.{upper}" if upper in parameters else f"{path}.{lower}"
            relation = "above" if strict else "at or above"
            raise ModelError(where, f"expected {upper} {relation} {lower}, got {upper} = {up_range[1]:g} and {lower} = {lo_range[0]:g}")


def check_drawn_order(values: dict[str, float | np.ndarray], defaults: dict[str, float], path: str) -> None:
    """Refuse drawn cell parameters that are out of order in any cell.

    Parameters
    ----------
    values : dict
        Drawn parameters: a float (homogeneous) or one value per cell (mV).
    defaults : dict of str to float
        PyNN's defaults for the cell type (mV).
    path : str
        The population's parameters path, for the error.

    Raises
    ------
    ModelError
        Naming how many cells are out of order.
    """
    for lower, upper, strict in ORDER:
        if lower not in defaults or upper not in defaults:
            continue
        lo = np.asarray(values.get(lower, defaults[lower]), dtype=np.float64)
        up = np.asarray(values.get(upper, defaults[upper]), dtype=np.float64)
        bad = ~(up > lo if strict else up >= lo)
        if bad.any():
            where = f"{path}.{upper}" if upper in values else f"{path}.{lower}"
            relation = "above" if strict else "at or above"
            raise ModelError(where, f"expected {upper} {relation} {lower} in every cell; {int(bad.sum())} cells are not")
