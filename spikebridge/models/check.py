"""Checks the schema cannot express: references, units, parameter names, rule-specific fields, physical limits
(:mod:`.physics`: one table), finite numbers, ordered times, and delays >= dt (:mod:`.delays`).

:func:`resolve` returns a copy of the model with every quantity a float in PyNN's unit for its field,
or raises one :class:`~spikebridge.errors.ModelError` naming the field path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

import quantities as pq
from pyNN.standardmodels import cells as pynn_cells

from ..errors import ModelError
from . import connectors, delays, nestml_cells, physics
from .schema import CELL_TYPES, SOURCE_TYPES, Distribution, Model, NestmlModel, Population, Projection, WeightTie, as_float, short
from .spiketrains import FIRST_STEP

CONDUCTANCE_BASED = {
    name: bool(getattr(pynn_cells, name).conductance_based)
    for name in ("IF_cond_exp", "IF_cond_alpha", "EIF_cond_exp_isfa_ista")
} | {"IF_curr_exp": False, "IF_curr_alpha": False, "Izhikevich": False}

RULE_FIELDS: dict[str, tuple[str, ...]] = {
    "fixed_probability": ("p",),
    "fixed_indegree": ("n",),
    "fixed_outdegree": ("n",),
    "fixed_total_number": ("n",),
    "distance_patch": ("radius", "p"),
    "from_list": ("connections",),
    "from_file": ("file",),
}


def cell_class(cell_type: str) -> Any:
    """PyNN's standard cell class of that name.

    Parameters
    ----------
    cell_type : str
        A PyNN standard cell type, e.g. ``"IF_cond_exp"``.

    Returns
    -------
    type
        The class in :mod:`pyNN.standardmodels.cells` (its ``default_parameters`` and ``units`` are read).

    Raises
    ------
    AttributeError
        If PyNN has no such cell type.
    """
    return getattr(pynn_cells, cell_type)


def cell_units(cell_type: str) -> dict[str, str]:
    """PyNN's unit of every parameter and state variable of a cell type.

    Parameters
    ----------
    cell_type : str
        A PyNN standard cell type.

    Returns
    -------
    dict
        ``{name: unit}``, e.g. ``"tau_m": "ms"``, ``"v_rest": "mV"``, ``"cm": "nF"``, ``"i_offset": "nA"``.

    Examples
    --------
    >>> units = cell_units("IF_cond_exp")
    >>> units["tau_m"], units["v_thresh"], units["gsyn_exc"]
    ('ms', 'mV', 'uS')
    """
    return dict(cell_class(cell_type).units)


def weight_unit(post: Population) -> str:
    """The unit of a weight onto ``post``: ``"uS"`` onto conductance-based cells, else ``"nA"`` (PyNN's).

    Parameters
    ----------
    post : Population
        The postsynaptic population's description.

    Returns
    -------
    str
        ``"uS"`` or ``"nA"``.
    """
    return "uS" if CONDUCTANCE_BASED.get(post.cell_type, False) else "nA"


def population_size(pop: Population, path: str) -> int:
    """The number of cells of a population, from its ``size`` or the product of its ``shape``.

    Parameters
    ----------
    pop : Population
        The population's description.
    path : str
        Its field path, for errors (``populations.exc``).

    Returns
    -------
    int
        The number of cells.

    Raises
    ------
    ModelError
        If neither or both of ``size`` and ``shape`` are given, or ``shape`` has more than 3 dimensions.
    """
    if (pop.size is None) == (pop.shape is None):
        raise ModelError(path, "give exactly one of 'size' or 'shape'")
    if pop.shape is not None:
        if not 1 <= len(pop.shape) <= 3:
            raise ModelError(f"{path}.shape", f"expected 1 to 3 dimensions, got {len(pop.shape)}")
        return math.prod(pop.shape)
    assert pop.size is not None
    return pop.size


MAX_STEPS = 2.0**40
"""Time steps a run may take: beyond any simulation that could finish, and spike-time arithmetic stays exact."""

UNIT = re.compile(r"%|(?:[^\W\d_]+|1)(?:\*\*-?\d)?(?:\s*[*/]\s*[^\W\d_]+(?:\*\*-?\d)?)*")
"""What a unit may look like ('ms', 'nS', '1/s', 'mV/ms'): anything else never reaches the unit parser."""


@overload
def convert(value: float | str, unit: str, path: str) -> float: ...
@overload
def convert(value: float | str | None, unit: str, path: str) -> float | None: ...


def convert(value: float | str | None, unit: str, path: str) -> float | None:
    """A number is taken to be in ``unit`` already; a string such as '4 nS' is rescaled to ``unit``.

    The result is a finite float (NaN and infinities are refused, also after rescaling).

    Parameters
    ----------
    value : float, str or None
        A number, or a quantity written with its unit (``"4 nS"``, ``"0.02 s"``); None passes through.
    unit : str
        The unit of the result (PyNN's unit of the field: ``"ms"``, ``"mV"``, ``"uS"``, ``"nA"``, ...; ``"1"``
        for a dimensionless field).
    path : str
        The field's path, for errors.

    Returns
    -------
    float or None
        The value in ``unit``.

    Raises
    ------
    ModelError
        For an unknown unit, a unit of the wrong dimension, or a value that is not finite.

    Examples
    --------
    >>> convert("4 nS", "uS", "projections.ff.weight"), convert("0.02 s", "ms", "simulation.dt")
    (0.004, 20.0)
    >>> convert("4 mV", "uS", "projections.ff.weight")
    Traceback (most recent call last):
    spikebridge.errors.ModelError: projections.ff.weight: expected a quantity in uS, got '4 mV' (wrong dimension)
    """
    if value is None:
        return None
    if isinstance(value, float):
        number = value
    else:
        text, _, given = value.partition(" ")
        given = given.strip()
        try:
            if not UNIT.fullmatch(given):
                raise ValueError(given)
            q = pq.Quantity(float(text), given)
        except (LookupError, ValueError, TypeError, SyntaxError, ArithmeticError):
            raise ModelError(path, f"unknown unit {short(given)} in {short(value)}; expected a quantity in {unit}") from None
        try:
            number = float(q.rescale(unit).magnitude) if unit != "1" else float(q.rescale(pq.dimensionless).magnitude)
        except (ValueError, TypeError, ArithmeticError):
            raise ModelError(path, f"expected a quantity in {unit}, got {short(value)} (wrong dimension)") from None
    if not math.isfinite(number):
        raise ModelError(path, f"expected a finite number, got {short(value)}")
    return number + 0.0  # -0.0 becomes 0.0 (numpy refuses a scale of -0.0)


def _distribution(d: Distribution, unit: str, path: str) -> Distribution:
    # a constant was written as a bare value, so its errors belong to the field itself
    where = {
        name: path if (name == "value" and d.distribution == "constant") else f"{path}.{name}"
        for name in ("value", "low", "high", "mean", "sd")
    }
    fields = {name: convert(getattr(d, name), unit, where[name]) for name in where}
    bounds = None
    if d.bounds is not None:
        bounds = (convert(d.bounds[0], unit, f"{path}.bounds[0]"), convert(d.bounds[1], unit, f"{path}.bounds[1]"))
        if bounds[0] > bounds[1]:
            raise ModelError(f"{path}.bounds", f"expected low <= high, got {list(bounds)}")
    needed = {
        "constant": ("value",),
        "uniform": ("low", "high"),
        "normal": ("mean", "sd"),
        "lognormal": ("mu", "sigma"),
    }[d.distribution]
    values = fields | {"mu": d.mu, "sigma": d.sigma}
    for name in needed:
        if values[name] is None:
            raise ModelError(f"{path}.{name}", f"required for a {d.distribution} distribution")
    given = {name: value for name, value in values.items() if value is not None}  # holds every needed field
    if d.distribution == "uniform" and given["low"] > given["high"]:
        raise ModelError(path, f"expected low <= high, got low={given['low']}, high={given['high']}")
    if d.distribution == "uniform" and not math.isfinite(given["high"] - given["low"]):
        raise ModelError(path, f"the range from low={given['low']:g} to high={given['high']:g} is too wide to draw from")
    if d.distribution == "normal" and given["sd"] < 0:
        raise ModelError(f"{path}.sd", "expected a non-negative standard deviation")
    if d.distribution == "lognormal" and given["sigma"] < 0:
        raise ModelError(f"{path}.sigma", "expected a non-negative sigma")
    sigma = None if d.sigma is None else d.sigma + 0.0  # -0.0 becomes 0.0, as in convert
    return d.model_copy(update=fields | {"bounds": bounds, "sigma": sigma})


def _times(values: Sequence[float | str], path: str, earliest: float, strict: bool) -> list[float]:
    """Times (ms) in order (``strict``: increasing) and not before ``earliest``."""
    times = [convert(t, "ms", f"{path}[{k}]") for k, t in enumerate(values)]
    for k, t in enumerate(times):
        if t < earliest - 1e-9:
            raise ModelError(f"{path}[{k}]", f"expected a time >= {earliest:g} ms, got {t:g}")
        if k and (t < times[k - 1] or (strict and t == times[k - 1])):
            order = "increasing" if strict else "sorted"
            raise ModelError(f"{path}[{k}]", f"times must be {order}: {t:g} ms follows {times[k - 1]:g} ms")
    return times


def _resolve_population(name: str, pop: Population, dt: float, model: Model) -> Population:
    path = f"populations.{name}"
    population_size(pop, path)
    if pop.cell_type not in CELL_TYPES:
        return _resolve_nestml_population(name, pop, model)
    if pop.nestml is not None:
        raise ModelError(f"{path}.nestml", f"only a NESTML neuron carries NESTML text, not a {pop.cell_type}")
    cls = cell_class(pop.cell_type)
    units = cell_units(pop.cell_type)
    parameters = {}
    for pname, value in pop.parameters.items():
        if pname not in cls.default_parameters or pname == "spike_times":
            known = ", ".join(sorted(k for k in cls.default_parameters if k != "spike_times")) or "none"
            raise ModelError(f"{path}.parameters.{pname}", f"not a parameter of {pop.cell_type} (expected one of: {known})")
        parameters[pname] = _distribution(value, units.get(pname, "1"), f"{path}.parameters.{pname}")
        physics.check_distribution(pname, parameters[pname], f"{path}.parameters.{pname}")
    physics.check_order(parameters, dict(cls.default_parameters), f"{path}.parameters")
    initial = {}
    for vname, value in pop.initial.items():
        if vname not in cls.default_initial_values:
            known = ", ".join(sorted(cls.default_initial_values)) or "none"
            raise ModelError(f"{path}.initial.{vname}", f"not a state variable of {pop.cell_type} (expected one of: {known})")
        initial[vname] = _distribution(value, units.get(vname, "1"), f"{path}.initial.{vname}")
    spike_times = None
    if pop.spike_times is not None:
        if pop.cell_type != "SpikeSourceArray":
            raise ModelError(f"{path}.spike_times", f"only a SpikeSourceArray takes spike_times, not {pop.cell_type}")
        size = population_size(pop, path)
        if len(pop.spike_times) not in (1, size):
            raise ModelError(f"{path}.spike_times", f"expected 1 or {size} lists of times, got {len(pop.spike_times)}")
        # FIRST_STEP: the first step every backend can deliver a source spike at
        spike_times = [_times(ts, f"{path}.spike_times[{i}]", FIRST_STEP * dt, False) for i, ts in enumerate(pop.spike_times)]
    return pop.model_copy(update={"parameters": parameters, "initial": initial, "spike_times": spike_times})


def _resolve_nestml_population(name: str, pop: Population, model: Model) -> Population:
    """A population whose cell type is a NESTML neuron of the ``[models]`` table: parameters and initial values by
    their NESTML names, in NEST's units; the NESTML text carried in ``nestml``."""
    path = f"populations.{name}"
    entry = model.models.get(pop.cell_type)
    if entry is None and pop.nestml is None:
        known = ", ".join([*CELL_TYPES, *model.models])
        raise ModelError(
            f"{path}.cell_type",
            f"unknown cell type {short(pop.cell_type)}; expected a PyNN standard cell type or a [models] entry (known: {known})",
        )
    if pop.spike_times is not None:
        raise ModelError(f"{path}.spike_times", f"only a SpikeSourceArray takes spike_times, not the NESTML neuron {pop.cell_type!r}")
    if pop.nestml is not None:
        text, source = pop.nestml, f"{path}.nestml"
    else:
        assert entry is not None
        text, source = model_text(pop.cell_type, entry, model)
    info = nestml_cells.read_neuron(text, source)
    resolved: dict[str, dict[str, Distribution]] = {"parameters": {}, "initial": {}}
    for kind, declared, what in (("parameters", info.parameters, "parameter"), ("initial", info.state, "state variable")):
        for vname, value in getattr(pop, kind).items():
            where = f"{path}.{kind}.{vname}"
            if vname not in declared:
                known = ", ".join(declared) or "none"
                raise ModelError(where, f"not a {what} of the NESTML neuron {info.name} (models.{pop.cell_type}; expected one of: {known})")
            resolved[kind][vname] = _distribution(value, nestml_cells.nest_unit(declared[vname]), where)
    return pop.model_copy(update={**resolved, "nestml": text})


def _neuron_of(pop: Population) -> nestml_cells.NeuronInfo:
    info = nestml_neuron(pop)
    assert info is not None
    return info


def nestml_neuron(pop: Population) -> nestml_cells.NeuronInfo | None:
    """The NESTML neuron of a resolved population (its ports, parameters, state), or None for a PyNN cell type."""
    if pop.nestml is None:
        return None
    return nestml_cells.read_neuron(pop.nestml, f"models.{pop.cell_type}")


def _check_delay(d: Distribution, dt: float, path: str) -> None:
    """The delay policy's first half (see :mod:`.delays`): nothing below dt, including what a distribution can draw."""
    lo, _ = physics.support(d)
    if lo < dt * (1 - delays.TOLERANCE):
        if d.distribution == "constant":
            raise ModelError(path, f"expected a delay >= dt = {dt:g} ms, got {lo:g}")
        reach = f"reaches down to {lo:g} ms" if math.isfinite(lo) else "is unbounded below"
        raise ModelError(
            path, f"delays must be >= dt = {dt:g} ms, but the {d.distribution} distribution {reach}; give bounds = [{dt:g}, ...]"
        )


def _resolve_projection(name: str, prj: Projection, model: Model, dt: float) -> Projection:
    path = f"projections.{name}"
    for end in ("pre", "post"):
        ref = getattr(prj, end)
        if ref not in model.populations:
            known = ", ".join(model.populations)
            raise ModelError(f"{path}.{end}", f"no population named {ref!r} (known: {known})")
    post = model.populations[prj.post]
    if post.cell_type in SOURCE_TYPES:
        raise ModelError(f"{path}.post", f"{prj.post!r} is a {post.cell_type}; a spike source cannot receive connections")
    neuron = nestml_neuron(post)
    if neuron is not None:
        if prj.synapse.type == "stdp":
            raise ModelError(
                f"{path}.synapse.type",
                f"onto a NESTML neuron population ({prj.post!r} is {neuron.name}) a plastic synapse is a NESTML synapse "
                "(a bundled rule or a [models] entry), not 'stdp'",
            )
        port = nestml_cells.port_for(neuron, prj.receptor, prj.port, path)
        if prj.synapse.type != "static" and neuron.ports[port] == "inhibitory":
            raise ModelError(f"{path}.port", f"a NESTML synapse delivers positive weights; port {port!r} of {neuron.name} is inhibitory")
    elif prj.port is not None:
        raise ModelError(f"{path}.port", f"only a projection onto a NESTML neuron names a port; {prj.post!r} is a {post.cell_type}")
    conn = prj.connector
    for field in RULE_FIELDS.get(conn.rule, ()):
        if getattr(conn, field) is None:
            raise ModelError(f"{path}.connector.{field}", f"required for rule {conn.rule!r}")
    if conn.rule == "distance_patch":
        for end in ("pre", "post"):
            if model.populations[getattr(prj, end)].shape is None:
                raise ModelError(f"{path}.connector", f"rule 'distance_patch' needs a grid 'shape' on population {getattr(prj, end)!r}")
    if prj.receptor == "signed" and neuron is None:
        if CONDUCTANCE_BASED.get(post.cell_type, False):
            raise ModelError(
                f"{path}.receptor", f"'signed' needs current-based cells; {prj.post!r} is a conductance-based {post.cell_type}"
            )
        taus = []
        for tau in ("tau_syn_E", "tau_syn_I"):
            d = post.parameters.get(tau)
            if d is not None and d.distribution != "constant":
                raise ModelError(f"{path}.receptor", f"'signed' needs a constant {tau} on {prj.post!r}")
            # the post population is resolved already: a constant's value is a float
            taus.append(as_float(d.value) if d is not None else float(cell_class(post.cell_type).default_parameters[tau]))
        if taus[0] != taus[1]:
            raise ModelError(f"{path}.receptor", f"'signed' needs tau_syn_E == tau_syn_I on {prj.post!r}, got {taus[0]} and {taus[1]} ms")
    wunit = weight_unit(post) if neuron is None else "1"  # onto a NESTML neuron: a number in NEST's unit of the port
    update: dict[str, Any] = {"weight": _distribution(prj.weight, wunit, f"{path}.weight")}
    if neuron is not None:
        update["port"] = port
    if prj.delay is not None:
        update["delay"] = _distribution(prj.delay, "ms", f"{path}.delay")
        _check_delay(update["delay"], dt, f"{path}.delay")
    if conn.rule == "from_list":
        sizes = [population_size(model.populations[getattr(prj, end)], f"populations.{getattr(prj, end)}") for end in ("pre", "post")]
        connectors.check_list(conn.connections or [], sizes[0], sizes[1], dt, f"{path}.connector.connections")
    syn = prj.synapse
    if syn.type == "stdp":
        if syn.timing is None or syn.weight_dependence is None:
            missing = "timing" if syn.timing is None else "weight_dependence"
            raise ModelError(f"{path}.synapse.{missing}", "required for an stdp synapse")
        timing_taus = {tau: convert(getattr(syn.timing, tau), "ms", f"{path}.synapse.timing.{tau}") for tau in ("tau_plus", "tau_minus")}
        for tau, value in timing_taus.items():
            physics.check_value(tau, value, f"{path}.synapse.timing.{tau}")
        timing = syn.timing.model_copy(update=timing_taus)
        wd = syn.weight_dependence
        for mu in ("mu_plus", "mu_minus"):
            physics.check_value(mu, getattr(wd, mu), f"{path}.synapse.weight_dependence.{mu}")
        w_min = convert(wd.w_min, wunit, f"{path}.synapse.weight_dependence.w_min")
        w_max = convert(wd.w_max, wunit, f"{path}.synapse.weight_dependence.w_max")
        if w_min > w_max:
            raise ModelError(f"{path}.synapse.weight_dependence", f"expected w_min <= w_max, got {w_min} > {w_max}")
        if wd.rule == "gutig" and (wd.mu_plus is None or wd.mu_minus is None):
            raise ModelError(f"{path}.synapse.weight_dependence", "rule 'gutig' needs mu_plus and mu_minus")
        update["synapse"] = syn.model_copy(
            update={"timing": timing, "weight_dependence": wd.model_copy(update={"w_min": w_min, "w_max": w_max})}
        )
    elif syn.type != "static":
        update["synapse"] = _resolve_nestml(prj, model, f"{path}.synapse")
    elif syn.timing is not None or syn.weight_dependence is not None:
        raise ModelError(f"{path}.synapse.type", "timing/weight_dependence given but type is 'static'; use type = 'stdp'")
    if syn.type in ("static", "stdp") and (syn.parameters or syn.nestml is not None):
        raise ModelError(f"{path}.synapse.parameters", f"parameters belong to a NESTML synapse type; this one is {syn.type!r}")
    if prj.tie is not None:
        update["tie"] = _resolve_tie(prj, model, dt, path)
    return prj.model_copy(update=update)


def _resolve_tie(prj: Projection, model: Model, dt: float, path: str) -> WeightTie:
    """A weight tie with its interval in ms, checked against its source projection (the connections are checked when
    drawn: :func:`spikebridge.models.instantiate.instantiate`)."""
    tie = prj.tie
    assert tie is not None
    path = f"{path}.tie"
    if prj.synapse.type != "static":
        raise ModelError(f"{path}", f"a tied projection is static (its weights are copied); this one's synapse is {prj.synapse.type!r}")
    source = model.projections.get(tie.source)
    if source is None:
        known = ", ".join(model.projections)
        raise ModelError(f"{path}.source", f"no projection named {tie.source!r} (known: {known})")
    if source.tie is not None:
        raise ModelError(f"{path}.source", f"{tie.source!r} is tied itself; a tie follows an untied projection")
    if (source.pre, source.post) != (prj.post, prj.pre):
        raise ModelError(
            f"{path}.source",
            f"a tie is transposed: {tie.source!r} goes from {source.pre!r} to {source.post!r}, so the tied projection must go from "
            f"{source.post!r} to {source.pre!r} (it goes from {prj.pre!r} to {prj.post!r})",
        )
    interval = convert(tie.interval, "ms", f"{path}.interval")
    steps = interval / dt
    if interval <= 0 or abs(steps - round(steps)) > 1e-6:
        raise ModelError(f"{path}.interval", f"expected a positive whole number of time steps (dt = {dt:g} ms), got {interval:g} ms")
    return tie.model_copy(update={"interval": interval})


NESTML_POST_CELLS = ("IF_cond_exp", "IF_curr_exp", "IF_cond_alpha", "IF_curr_alpha")
"""PyNN cell types a NESTML synapse may end on: NEST runs them as NESTML's own neuron of the same equations,
generated together with the synapse (NESTML keeps a plastic synapse's post traces in its neuron). A NESTML neuron
population takes NESTML synapses too: NEST generates that neuron with the synapse."""


def nestml_text(type_name: str, model: Model, path: str) -> tuple[str, str]:
    """The NESTML text of a synapse type and where it came from: a ``[models]`` entry, else a bundled rule."""
    from . import nestml

    entry = model.models.get(type_name)
    if entry is None:
        library = {**nestml.bundled(), **nestml.dendritic_rules()}
        if type_name not in library:
            known = ", ".join(["static", "stdp", *library, *model.models])
            raise ModelError(f"{path}.type", f"unknown synapse type {type_name!r}; known: {known}")
        return library[type_name].read_text(), str(library[type_name])
    return model_text(type_name, entry, model)


def model_text(name: str, entry: NestmlModel, model: Model) -> tuple[str, str]:
    """The NESTML text of the model file's ``[models.NAME]`` entry and where it came from (its file, or ``models.NAME``)."""
    where = f"models.{name}"
    if (entry.file is None) == (entry.text is None):
        raise ModelError(where, "give 'file' (a .nestml file) or 'text', one of them")
    if entry.text is not None:
        return entry.text, where
    assert entry.file is not None
    file = Path(entry.file)
    if not file.is_absolute():
        if model.source_folder is None:
            raise ModelError(f"{where}.file", f"{entry.file!r} is relative, but the model was not read from a file")
        file = model.source_folder / file
    try:
        return file.read_text(), str(file)
    except OSError as err:
        raise ModelError(f"{where}.file", f"cannot read {str(file)!r}: {err.strerror or err}") from None


def _resolve_nestml(prj: Projection, model: Model, path: str) -> Any:
    from . import nestml

    syn = prj.synapse
    if syn.timing is not None or syn.weight_dependence is not None:
        raise ModelError(f"{path}.type", f"timing/weight_dependence belong to type 'stdp'; {syn.type!r} takes 'parameters'")
    text, source = (syn.nestml, f"{path}.nestml") if syn.nestml is not None else nestml_text(syn.type, model, path)
    rule = nestml.read(text, source)
    for name, value in syn.parameters.items():
        if name not in rule.parameters:
            raise ModelError(f"{path}.parameters.{name}", f"{rule.name} has no parameter {name!r}; it has {', '.join(rule.parameters)}")
        if not math.isfinite(value):
            raise ModelError(f"{path}.parameters.{name}", f"expected a finite number, got {value}")
    post = model.populations[prj.post]
    if post.cell_type not in NESTML_POST_CELLS and nestml_neuron(post) is None:
        cells = ", ".join(NESTML_POST_CELLS)
        raise ModelError(
            f"{path}.type", f"a NESTML synapse needs post cells of type {cells} or a NESTML neuron; {prj.post!r} is a {post.cell_type}"
        )
    if rule.post_reads:
        neuron = nestml_neuron(post)
        missing = [p for p in rule.post_reads if neuron is None or p not in neuron.state]
        if missing:
            has = f"the NESTML neuron {neuron.name}" if neuron is not None else f"a {post.cell_type}"
            raise ModelError(
                f"{path}.type",
                f"{rule.name} reads the post cell's state variable(s) {', '.join(missing)} through continuous ports; "
                f"{prj.post!r} is {has}, which has no such state variable",
            )
    if prj.receptor != "excitatory":
        raise ModelError(f"{path}.type", f"a NESTML synapse acts on the excitatory receptor; receptor is {prj.receptor!r}")
    return syn.model_copy(update={"nestml": text})


def _resolve_stimulus(name: str, stim: Any, model: Model, dt: float) -> Any:
    path = f"stimuli.{name}"
    if stim.target not in model.populations:
        raise ModelError(f"{path}.target", f"no population named {stim.target!r} (known: {', '.join(model.populations)})")
    target = model.populations[stim.target]
    size = population_size(target, f"populations.{stim.target}")
    is_source = target.cell_type in SOURCE_TYPES
    if stim.kind in ("poisson", "spike_array", "rate_schedule") and not is_source:
        raise ModelError(
            f"{path}.target",
            f"a {stim.kind} stimulus drives a spike-source population; {stim.target!r} is a {target.cell_type} "
            "(add a SpikeSourceArray population and a projection)",
        )
    if stim.kind in ("dc", "step", "poisson_input") and target.nestml is not None:
        raise ModelError(
            f"{path}.target",
            f"a {stim.kind} stimulus into a NESTML neuron population ({stim.target!r}) is not supported yet; drive it through a projection",
        )
    if stim.kind in ("dc", "step", "poisson_input") and is_source:
        what = "current" if stim.kind != "poisson_input" else "stimulus"
        raise ModelError(f"{path}.target", f"a {stim.kind} {what} needs a neuron population, not a {target.cell_type}")
    if stim.cells is not None and any(not 0 <= c < size for c in stim.cells):
        raise ModelError(f"{path}.cells", f"indices must lie in [0, {size})")
    update: dict[str, Any] = {}
    for field, unit in (("rate", "Hz"), ("start", "ms"), ("stop", "ms"), ("amplitude", "nA"), ("resample_every", "ms")):
        update[field] = convert(getattr(stim, field), unit, f"{path}.{field}")
        physics.check_value(field, update[field], f"{path}.{field}")
    if update["start"] is not None and update["stop"] is not None and update["stop"] < update["start"]:
        raise ModelError(f"{path}.stop", f"expected stop >= start = {update['start']:g} ms, got {update['stop']:g}")
    required = {
        "poisson": (),
        "spike_array": ("spike_times",),
        "dc": ("amplitude",),
        "step": ("times", "amplitudes"),
        "rate_schedule": ("file",),
        "poisson_input": ("rate", "n", "weight"),
    }
    for field in required[stim.kind]:
        if getattr(stim, field) is None:
            raise ModelError(f"{path}.{field}", f"required for a {stim.kind} stimulus")
    if stim.file is not None and stim.kind != "rate_schedule":
        raise ModelError(f"{path}.file", f"only a rate_schedule stimulus reads a file, not a {stim.kind}")
    if stim.kind == "poisson":
        if (stim.rate is None) == (stim.windows is None):
            raise ModelError(path, "a poisson stimulus needs either 'rate' (with optional start/stop) or 'windows'")
        if (stim.resample_every is None) != (stim.active_fraction is None):
            raise ModelError(path, "give both 'resample_every' (ms) and 'active_fraction', or neither")
        if stim.resample_every is not None and (stim.rate is None or update["resample_every"] < dt * (1 - delays.TOLERANCE)):
            raise ModelError(f"{path}.resample_every", f"needs a duration of at least dt = {dt:g} ms and a 'rate' (not 'windows')")
        if stim.windows is not None:
            update["windows"] = [_window(w, f"{path}.windows[{k}]") for k, w in enumerate(stim.windows)]
    if stim.spike_times is not None:
        update["spike_times"] = [_times(ts, f"{path}.spike_times[{i}]", FIRST_STEP * dt, False) for i, ts in enumerate(stim.spike_times)]
    if stim.kind == "poisson_input":
        for field in ("cells", "start", "stop", "windows"):
            if getattr(stim, field) is not None:
                raise ModelError(f"{path}.{field}", "a poisson_input drives every cell of its target for the whole run; remove it")
        update["weight"] = convert(stim.weight, weight_unit(target), f"{path}.weight")
        if not update["weight"] > 0:
            raise ModelError(f"{path}.weight", f"expected a positive (excitatory) weight, got {update['weight']:g}")
    else:
        for field in ("n", "weight"):
            if getattr(stim, field) is not None:
                raise ModelError(f"{path}.{field}", f"only a poisson_input has '{field}', not a {stim.kind}")
    if stim.kind == "step":
        assert stim.times is not None and stim.amplitudes is not None
        if len(stim.times) != len(stim.amplitudes):
            raise ModelError(f"{path}.amplitudes", f"expected {len(stim.times)} amplitudes (one per time), got {len(stim.amplitudes)}")
        update["times"] = _times(stim.times, f"{path}.times", 0.0, True)
        update["amplitudes"] = [convert(a, "nA", f"{path}.amplitudes[{k}]") for k, a in enumerate(stim.amplitudes)]
    return stim.model_copy(update=update)


def _window(w: Any, path: str) -> Any:
    fields = {
        "start": convert(w.start, "ms", f"{path}.start"),
        "stop": convert(w.stop, "ms", f"{path}.stop"),
        "rate": convert(w.rate, "Hz", f"{path}.rate"),
    }
    for field, value in fields.items():
        physics.check_value(field, value, f"{path}.{field}")
    if fields["stop"] < fields["start"]:
        raise ModelError(f"{path}.stop", f"expected stop >= start = {fields['start']:g} ms, got {fields['stop']:g}")
    return w.model_copy(update=fields)


def rescale(model: Model) -> Model:
    """The model at ``model.scale``: sizes scaled, connections thinned so that each cell keeps its in-degree.

    A population of cells given by ``size`` gets ``round(size * scale)`` cells (at least 1); grids (``shape``) and
    spike sources keep theirs (the network's input per cell stays what it was). Every projection then keeps the expected number of
    inputs per post cell: ``fixed_probability`` divides ``p`` by the pre population's factor, ``fixed_total_number``
    multiplies ``n`` by the post population's, ``fixed_outdegree`` by post's over pre's; ``fixed_indegree``,
    ``one_to_one`` and ``distance_patch`` need no change. This is how the cortical microcircuit is scaled when its
    in-degrees are kept (Potjans & Diesmann 2014; van Albada et al. 2015): the rates stay those of the full network,
    so no DC compensation is needed.

    Parameters
    ----------
    model : Model
        A model whose ``scale`` is not 1.

    Returns
    -------
    Model
        The scaled model, with ``scale`` 1.

    Raises
    ------
    ModelError
        For a projection whose in-degree cannot be kept: ``all_to_all`` or explicit connections from a scaled
        population, or a probability that would exceed 1.

    Examples
    --------
    >>> from spikebridge.models import load_model
    >>> m = load_model("vogels_abbott_cuba", ["scale=0.5"])   # resolving calls rescale
    >>> m.populations["exc"].size, m.projections["exc_exc"].connector.p, m.scale
    (1600, 0.04, 1.0)
    """
    factor: dict[str, float] = {}
    populations = {}
    for name, pop in model.populations.items():
        if pop.size is None or pop.cell_type in SOURCE_TYPES:
            factor[name] = 1.0
            populations[name] = pop
            continue
        size = max(1, round(pop.size * model.scale))
        factor[name] = size / pop.size
        populations[name] = pop.model_copy(update={"size": size})
    projections = {}
    for name, prj in model.projections.items():
        path = f"projections.{name}.connector"
        conn = prj.connector
        if prj.pre not in factor or prj.post not in factor:
            projections[name] = prj  # resolve names the unknown population
            continue
        f_pre, f_post = factor[prj.pre], factor[prj.post]
        update: dict[str, Any] = {}
        match conn.rule:
            case "fixed_probability" if conn.p is not None:
                p = float(conn.p) / f_pre
                if p > 1.0:
                    raise ModelError(f"{path}.p", f"scale {model.scale:g} would need a probability of {p:.3g} (> 1) to keep the in-degree")
                update["p"] = p
            case "fixed_total_number" if conn.n is not None:
                update["n"] = round(conn.n * f_post)
            case "fixed_outdegree" if conn.n is not None:
                update["n"] = round(conn.n * f_post / f_pre)
            case "all_to_all" if f_pre != 1.0:
                raise ModelError(
                    path, f"rule 'all_to_all' cannot keep its in-degrees at scale {model.scale:g}; use a probability or degree rule"
                )
            case "from_list" | "from_file" if f_pre != 1.0 or f_post != 1.0:
                raise ModelError(
                    path, f"rule {conn.rule!r} cannot keep its in-degrees at scale {model.scale:g}; use a probability or degree rule"
                )
        projections[name] = prj.model_copy(update={"connector": conn.model_copy(update=update)}) if update else prj
    recording = {}
    for name, rec in model.recording.items():
        recorded = populations.get(name)
        if isinstance(rec.cells, int) and recorded is not None and recorded.size is not None:
            rec = rec.model_copy(update={"cells": min(rec.cells, recorded.size)})
        recording[name] = rec
    return model.model_copy(update={"populations": populations, "projections": projections, "recording": recording, "scale": 1.0})


def resolve(model: Model) -> Model:
    """Check references and units; return the model with every quantity as a float in PyNN's units.

    Parameters
    ----------
    model : Model
        A model as read or built (quantities may still be strings with units).

    Returns
    -------
    Model
        A copy in which every quantity is a float in PyNN's unit for its field (ms, mV, nA, uS, nF, Hz).

    Raises
    ------
    ModelError
        Naming the first field path that is wrong: an unknown reference, unit, parameter or rule field, a value
        outside its physical limits, unordered times, or a delay below ``dt``.
    """
    if model.scale != 1.0:
        model = rescale(model)
    sim = model.simulation
    dt = convert(sim.dt, "ms", "simulation.dt")
    assert dt is not None
    physics.check_value("dt", dt, "simulation.dt")
    duration = convert(sim.duration, "ms", "simulation.duration")
    phases = sim.phases
    if phases is None:
        if duration is None:
            raise ModelError("simulation", "give 'duration' (ms) or a list of 'phases'")
        from .schema import Phase

        phases = [Phase(name="run", duration=duration)]
    elif duration is not None:
        raise ModelError("simulation.duration", "give either 'duration' or 'phases', not both")
    resolved_phases = []
    for k, phase in enumerate(phases):
        d = convert(phase.duration, "ms", f"simulation.phases[{k}].duration")
        where = "simulation.duration" if sim.phases is None else f"simulation.phases[{k}].duration"
        physics.check_value("duration", d, where)
        if d < dt * (1 - delays.TOLERANCE):
            raise ModelError("simulation.dt", f"expected a time step no longer than {where} = {d:g} ms, got {dt:g} ms")
        resolved_phases.append(phase.model_copy(update={"duration": d}))
    steps = sum(float(p.duration) for p in resolved_phases) / dt
    if steps > MAX_STEPS:
        raise ModelError(
            "simulation.dt",
            f"the run would take {steps:.3g} time steps of {dt:g} ms (at most {MAX_STEPS:.3g}); use a longer dt or a shorter run",
        )
    names = [p.name for p in resolved_phases]
    if len(set(names)) != len(names):
        raise ModelError("simulation.phases", f"phase names must be unique, got {names}")
    if not model.populations:
        raise ModelError("populations", "a model needs at least one population")
    populations = {n: _resolve_population(n, p, dt, model) for n, p in model.populations.items()}
    partial = model.model_copy(update={"populations": populations})
    projections = {n: _resolve_projection(n, p, partial, dt) for n, p in model.projections.items()}
    stimuli = {n: _resolve_stimulus(n, s, partial, dt) for n, s in model.stimuli.items()}
    recording = {}
    for pname, rec in model.recording.items():
        path = f"recording.{pname}"
        if pname not in populations:
            raise ModelError(path, f"no population named {pname!r} (known: {', '.join(populations)})")
        pop = populations[pname]
        allowed = list(cell_class(pop.cell_type).recordable) if pop.nestml is None else list(nestml_cells.recordable(_neuron_of(pop)))
        for var in rec.variables:
            if var not in allowed:
                raise ModelError(
                    f"{path}.variables", f"{var!r} cannot be recorded from a {pop.cell_type} (expected one of: {', '.join(allowed)})"
                )
        size = population_size(pop, f"populations.{pname}")
        if isinstance(rec.cells, int) and not 0 < rec.cells <= size:
            raise ModelError(f"{path}.cells", f"expected a count in [1, {size}], got {rec.cells}")
        if isinstance(rec.cells, list) and any(not 0 <= c < size for c in rec.cells):
            raise ModelError(f"{path}.cells", f"indices must lie in [0, {size})")
        interval = convert(rec.sampling_interval, "ms", f"{path}.sampling_interval")
        physics.check_value("sampling_interval", interval, f"{path}.sampling_interval")
        if interval is not None and interval < dt:
            raise ModelError(f"{path}.sampling_interval", f"expected at least dt = {dt} ms, got {interval}")
        recording[pname] = rec.model_copy(update={"sampling_interval": interval})
    record_weights = model.record_weights
    if record_weights is not None:
        path = "record_weights"
        if record_weights.projections != "all":
            for k, name in enumerate(record_weights.projections):
                if name not in projections:
                    known = ", ".join(projections) or "none"
                    raise ModelError(f"{path}.projections[{k}]", f"no projection named {name!r} (known: {known})")
        if record_weights.interval != "end":
            interval = convert(record_weights.interval, "ms", f"{path}.interval")
            assert interval is not None
            if interval <= 0 or abs(interval / dt - round(interval / dt)) > 1e-9:
                raise ModelError(f"{path}.interval", f"expected a positive multiple of dt = {dt} ms, got {interval}")
            record_weights = record_weights.model_copy(update={"interval": interval})
    simulation = sim.model_copy(update={"dt": dt, "duration": None, "phases": resolved_phases})
    return model.model_copy(
        update={
            "populations": populations,
            "projections": projections,
            "stimuli": stimuli,
            "recording": recording,
            "record_weights": record_weights,
            "simulation": simulation,
        }
    )
