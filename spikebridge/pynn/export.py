"""A PyNN script's network as a model file: what ``spikebridge export-model SCRIPT.py`` writes.

The script runs unchanged on a capturing module that stands in for every simulator module it may import
(``pyNN.nest``, ``pyNN.brian2``, ``spikebridge.pynn.*``, through ``import`` or PyNN's ``get_simulator``). That
module is :mod:`spikebridge.pynn.nest`, whose populations, projections and current sources are noted as the
script creates them, and whose ``run()`` only adds up the simulated time: nothing is simulated. At the end the
noted network is translated into the model schema, field by field, from the values the script gave (a
``RandomDistribution`` becomes the same distribution, drawn by the model's own seed); what the schema cannot
express (views, assemblies, per-cell arrays, distance-dependent rules, noise sources, ...) is listed, and
:func:`export` refuses to write a model without it.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import os
import runpy
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from pyNN import common
from pyNN.parameters import LazyArray
from pyNN.random import RandomDistribution

from ..errors import ModelError
from ..models.io import validate
from ..models.schema import Model

SIMULATOR_MODULES = (
    "pyNN.nest",
    "pyNN.brian2",
    "spikebridge.pynn.nest",
    "spikebridge.pynn.brian2",
    "spikebridge.pynn.brian2_cpp",
    "spikebridge.pynn.brian2_cuda",
)
CONNECTORS = {
    "AllToAllConnector": "all_to_all",
    "OneToOneConnector": "one_to_one",
    "FixedProbabilityConnector": "fixed_probability",
    "FixedNumberPreConnector": "fixed_indegree",
    "FixedNumberPostConnector": "fixed_outdegree",
    "FixedTotalNumberConnector": "fixed_total_number",
    "FromListConnector": "from_list",
}
WEIGHT_DEPENDENCES = {
    "AdditiveWeightDependence": "additive",
    "MultiplicativeWeightDependence": "multiplicative",
    "AdditivePotentiationMultiplicativeDepression": "additive_potentiation_multiplicative_depression",
    "GutigWeightDependence": "gutig",
}
DISTRIBUTIONS = {  # PyNN's name: (the schema's, {PyNN parameter: schema field})
    "uniform": ("uniform", {"low": "low", "high": "high"}),
    "normal": ("normal", {"mu": "mean", "sigma": "sd"}),
    "lognormal": ("lognormal", {"mu": "mu", "sigma": "sigma"}),
    "normal_clipped": ("normal", {"mu": "mean", "sigma": "sd"}),
    "normal_clipped_to_boundary": ("normal", {"mu": "mean", "sigma": "sd"}),
}


@dataclass
class Captured:
    """What a script created, in creation order, and the time it asked to simulate."""

    setup: dict[str, Any] = field(default_factory=dict)
    populations: list[Any] = field(default_factory=list)
    projections: list[Any] = field(default_factory=list)
    sources: list[tuple[Any, list[Any]]] = field(default_factory=list)
    sets: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    """``set()`` calls after creation: (population, view or projection; the values given), in order."""
    resets: int = 0
    duration: float = 0.0
    error: str | None = None


def capturing_module(captured: Captured) -> ModuleType:
    """:mod:`spikebridge.pynn.nest` noting what the script creates into ``captured``; ``run()`` simulates nothing."""
    from . import nest as base

    module = ModuleType("spikebridge.pynn.export.simulator", base.__doc__)
    module.__dict__.update({k: v for k, v in vars(base).items() if not k.startswith("__")})

    class PopulationView(base.PopulationView):
        __doc__ = base.PopulationView.__doc__

        def set(self, **parameters: Any) -> None:
            captured.sets.append((self, parameters))
            super().set(**parameters)

        def _get_view(self, selector: Any, label: str | None = None) -> PopulationView:
            return PopulationView(self, selector, label)

    class Population(base.Population):
        __doc__ = base.Population.__doc__

        def _create_cells(self) -> None:
            super()._create_cells()
            captured.populations.append(self)

        def set(self, **parameters: Any) -> None:
            captured.sets.append((self, parameters))
            super().set(**parameters)

        def _get_view(self, selector: Any, label: str | None = None) -> PopulationView:
            return PopulationView(self, selector, label)

    class Projection(base.Projection):
        __doc__ = base.Projection.__doc__

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            captured.projections.append(self)

        def set(self, **attributes: Any) -> None:
            captured.sets.append((self, attributes))
            super().set(**attributes)

    def setup(timestep: float = base._stock.control.DEFAULT_TIMESTEP, min_delay: Any = "auto", **extra: Any) -> int:
        """PyNN's ``setup``; the time step and ``rng_seed`` go into the model. A second ``setup()`` starts over."""
        vars(captured).update(vars(Captured()))
        extra.pop("same_network", None)  # a model file draws everything from its seed already
        captured.setup = {"timestep": timestep, **extra}
        return base.setup(timestep, min_delay, **extra)

    def reset(annotations: Any = None) -> None:
        """Noted: a model file simulates one segment."""
        captured.resets += 1

    def run(simtime: float, callbacks: Any = None) -> float:
        """Add ``simtime`` to the model's duration; nothing is simulated."""
        captured.duration += float(simtime)
        return captured.duration

    def run_until(time_point: float, callbacks: Any = None) -> float:
        """Extend the model's duration to ``time_point``; nothing is simulated."""
        captured.duration = max(captured.duration, float(time_point))
        return captured.duration

    def get_current_time() -> float:
        """The time the script has asked to simulate so far (loops over ``run()`` end as they would)."""
        return captured.duration

    def end(compatible_output: bool = True) -> None:
        """Nothing to write: nothing was simulated."""

    def noting(source_class: type) -> type:
        class Noted(source_class):
            __doc__ = source_class.__doc__

            def inject_into(self, cells: Any) -> None:
                super().inject_into(cells)
                captured.sources.append((self, list(cells)))

        Noted.__name__ = Noted.__qualname__ = source_class.__name__
        return Noted

    module.__dict__.update(
        Population=Population,
        PopulationView=PopulationView,
        Projection=Projection,
        setup=setup,
        reset=reset,
        get_current_time=get_current_time,
        run=run,
        run_for=run,
        run_until=run_until,
        end=end,
        create=common.build_create(Population),
        connect=common.build_connect(Projection, base._connectors["FixedProbabilityConnector"], base.StaticSynapse),
        **{name: noting(getattr(base, name)) for name in ("DCSource", "StepCurrentSource", "ACSource", "NoisyCurrentSource")},
    )
    module.get_simulator = lambda *arguments: (module, _script_options(*arguments))  # type: ignore[attr-defined]
    return module


def _script_options(*arguments: Any) -> Any:
    """``pyNN.utility.get_simulator``'s options for the script's own arguments (the simulator name is ignored)."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("simulator", nargs="?")
    for argument in arguments:
        name, help_text, *rest = (*argument, {}) if len(argument) == 2 else argument
        parser.add_argument(name, help=help_text, **(rest[0] if rest else {}))
    return parser.parse_known_args()[0]


@contextlib.contextmanager
def _standing_in(module: ModuleType) -> Iterator[None]:
    """Every simulator module, and PyNN's ``get_simulator``, answer with ``module`` while the script runs."""
    import pyNN.utility

    saved = {name: sys.modules.get(name) for name in SIMULATOR_MODULES}
    # "import pyNN.nest as sim" reads the attribute of the package, once it is imported
    parents = {name: importlib.import_module(name.rpartition(".")[0]) for name in SIMULATOR_MODULES}
    attributes = {name: getattr(parents[name], name.rpartition(".")[2], None) for name in SIMULATOR_MODULES}
    saved_get = pyNN.utility.get_simulator
    sys.modules.update(dict.fromkeys(SIMULATOR_MODULES, module))
    for name, parent in parents.items():
        setattr(parent, name.rpartition(".")[2], module)
    pyNN.utility.get_simulator = module.get_simulator
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old
            child = name.rpartition(".")[2]
            if attributes[name] is None:
                if getattr(parents[name], child, None) is module:
                    delattr(parents[name], child)
            else:
                setattr(parents[name], child, attributes[name])
        pyNN.utility.get_simulator = saved_get


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The script's and NEST's output (progress bars of every connection) silenced while the script runs."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            with contextlib.redirect_stdout(devnull):
                yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def capture(script: Path, argv: list[str]) -> Captured:
    """Run ``script`` (with ``argv``) on the capturing module; an error after its first ``run()`` ends it early."""
    captured = Captured()
    module = capturing_module(captured)
    old_argv, old_path = sys.argv, list(sys.path)
    sys.argv = [str(script), *argv]
    sys.path.insert(0, str(script.resolve().parent))  # as "python SCRIPT.py" would: its own modules import
    try:
        with _standing_in(module), _quiet():
            runpy.run_path(str(script), run_name="__main__")
    except SystemExit:
        pass
    except Exception as err:  # the script's own failure: after its network was built it no longer matters
        if captured.duration <= 0:
            raise ModelError("", f"the script failed before its first run(): {type(err).__name__}: {err}", str(script)) from None
        captured.error = f"{type(err).__name__}: {err}"
    finally:
        sys.argv, sys.path[:] = old_argv, old_path
    return captured


def _number(value: Any) -> float:
    """A float without the last-digit noise of PyNN's unit conversions (0.051000000000000004 -> 0.051)."""
    return float(f"{float(value):.14g}")


def _value(value: Any, where: str, missing: list[str]) -> Any:
    """A PyNN parameter value as the schema's (a number, or a distribution table); ``None`` where it has none."""
    if isinstance(value, LazyArray):
        if value.operations:
            missing.append(f"{where}: a value computed from others ({value.base_value!r} with operations)")
            return None
        value = value.base_value
    if isinstance(value, RandomDistribution):
        if value.name not in DISTRIBUTIONS:
            missing.append(f"{where}: the {value.name!r} distribution (the schema has uniform, normal, lognormal)")
            return None
        name, fields = DISTRIBUTIONS[value.name]
        table: dict[str, Any] = {"distribution": name}
        table.update({fields[k]: _number(v) for k, v in value.parameters.items() if k in fields})
        if value.name.startswith("normal_clipped"):
            table["bounds"] = [_number(value.parameters["low"]), _number(value.parameters["high"])]
            table["out_of_bounds"] = "redraw" if value.name == "normal_clipped" else "clip"
        return table
    if callable(value):
        missing.append(f"{where}: a function of position")
        return None
    array = np.asarray(value, dtype=float)
    if array.ndim == 0 or np.all(array == array.flat[0]):
        return _number(array.flat[0]) if array.size else None
    missing.append(f"{where}: different values per cell or synapse")
    return None


def _population(p: Any, missing: list[str]) -> dict[str, Any]:
    celltype = p.celltype
    table: dict[str, Any] = {"cell_type": type(celltype).__name__, "size": int(p.size)}
    defaults = celltype.default_parameters
    if type(celltype).__name__ == "SpikeSourceArray":
        times = copy.deepcopy(celltype.parameter_space["spike_times"])
        times.shape = (p.size,)
        per_cell = np.atleast_1d(times.evaluate(simplify=False))
        table["spike_times"] = [[_number(t) for t in np.atleast_1d(np.asarray(getattr(s, "value", s), dtype=float))] for s in per_cell]
    else:
        parameters = {}
        for name in celltype.parameter_space.keys():
            value = _value(celltype.parameter_space[name], f"population {p.label!r}: {name}", missing)
            if value is not None and not (isinstance(value, float) and np.isclose(value, defaults.get(name, np.nan))):
                parameters[name] = value
        table["parameters"] = parameters
    initial = {}
    for name, value in p.initial_values.items():
        exported = _value(value, f"population {p.label!r}: initial {name}", missing)
        default = celltype.default_initial_values.get(name, np.nan)
        if exported is not None and not (isinstance(exported, float) and np.isclose(exported, default)):
            initial[name] = exported
    if initial:
        table["initial"] = initial
    return table


def _connector(c: Any, synapse: Any, where: str, missing: list[str]) -> dict[str, Any] | None:
    kind = type(c).__name__
    if kind not in CONNECTORS:
        missing.append(f"{where}: {kind} (the schema's rules: {', '.join(sorted(set(CONNECTORS.values())))})")
        return None
    table: dict[str, Any] = {"rule": CONNECTORS[kind]}
    if hasattr(c, "allow_self_connections"):
        if not isinstance(c.allow_self_connections, bool):
            missing.append(f"{where}: allow_self_connections={c.allow_self_connections!r} (the schema's: true or false)")
            return None
        table["allow_self_connections"] = c.allow_self_connections
    if kind == "FixedProbabilityConnector":
        table["p"] = float(c.p_connect)
    elif kind in ("FixedNumberPreConnector", "FixedNumberPostConnector", "FixedTotalNumberConnector"):
        if not isinstance(c.n, int | np.integer):
            missing.append(f"{where}: a random number of connections")
            return None
        table["n"] = int(c.n)
        table["allow_multapses"] = bool(c.with_replacement)
    elif kind == "FromListConnector":
        columns = ["i", "j", *c.column_names]
        if set(columns) - {"i", "j", "weight", "delay"}:
            missing.append(f"{where}: list columns {columns} (the schema's: i, j, weight, delay)")
            return None
        rows = np.asarray(c.conn_list, dtype=float).reshape(-1, len(columns))
        wanted = ["i", "j"] + [name for name in ("weight", "delay") if name in columns]
        if wanted[-1] == "delay" and "weight" not in columns:  # the schema's rows are [pre, post, weight, delay]
            weight = _value(synapse.parameter_space["weight"], f"{where}: weight", missing)
            if weight is None or isinstance(weight, dict):
                missing.append(f"{where}: a list of delays without weights, and weights that are not one number")
                return None
            rows = np.column_stack([rows, np.full(len(rows), weight)])
            columns = [*columns, "weight"]
            wanted = ["i", "j", "weight", "delay"]
        table["connections"] = rows[:, [columns.index(name) for name in wanted]].tolist()
    return table


def _projection(prj: Any, names: dict[int, str], missing: list[str]) -> tuple[str, dict[str, Any]] | None:
    where = f"projection {prj.label!r}"
    if id(prj.pre) not in names or id(prj.post) not in names:
        missing.append(f"{where}: from or to a view or an assembly (the schema connects whole populations)")
        return None
    synapse = prj.synapse_type
    connector = _connector(prj._connector, synapse, where, missing)
    if connector is None:
        return None
    table: dict[str, Any] = {"pre": names[id(prj.pre)], "post": names[id(prj.post)], "connector": connector}
    if prj.receptor_type in ("excitatory", "inhibitory"):
        table["receptor"] = prj.receptor_type
    else:
        missing.append(f"{where}: receptor type {prj.receptor_type!r}")
    for name in ("weight", "delay"):
        value = _value(synapse.parameter_space[name], f"{where}: {name}", missing)
        table[name] = value if value is not None else 0.0
    kind = type(synapse).__name__
    if kind == "STDPMechanism":
        timing, dependence = synapse.timing_dependence, synapse.weight_dependence
        if type(timing).__name__ != "SpikePairRule" or type(dependence).__name__ not in WEIGHT_DEPENDENCES:
            missing.append(f"{where}: {type(timing).__name__} with {type(dependence).__name__}")
        else:
            rule = {k: float(timing.parameter_space[k].base_value) for k in ("tau_plus", "tau_minus", "A_plus", "A_minus")}
            weights = {k: float(v.base_value) for k, v in dependence.parameter_space.items()}
            table["synapse"] = {
                "type": "stdp",
                "timing": {"rule": "spike_pair", **rule},
                "weight_dependence": {"rule": WEIGHT_DEPENDENCES[type(dependence).__name__], **weights},
                "delay_semantics": "dendritic" if synapse.dendritic_delay_fraction == 1 else "axonal",
            }
    elif kind != "StaticSynapse":
        missing.append(f"{where}: synapse type {kind} (the schema's: static, stdp, NESTML rules)")
    label = prj.label if prj.label and prj.label.isidentifier() else f"{table['pre']}_{table['post']}"
    return label, table


def _unique(label: str, taken: Any) -> str:
    """``label``, or ``label_2``, ``label_3``, ... if it is taken."""
    k, out = 1, label
    while out in taken:
        k += 1
        out = f"{label}_{k}"
    return out


def _apply_sets(captured: Captured, names: dict[int, str], tables: dict[int, dict[str, Any]], missing: list[str]) -> None:
    """``set()`` calls after creation, applied to the tables of whole populations and projections."""
    for target, values in captured.sets:
        table = tables.get(id(target))
        what = f"population {names[id(target)]!r}" if id(target) in names else f"projection {getattr(target, 'label', '')!r}"
        if table is None:
            missing.append(f"set() on a view of population {target.grandparent.label!r} (the schema sets whole populations)")
            continue
        for name, value in values.items():
            exported = _value(value, f"{what}: set({name}=...)", missing)
            if exported is None:
                continue
            if name in ("weight", "delay") and "connector" in table:
                table[name] = exported
            elif "connector" in table or "spike_times" in table:
                missing.append(f"{what}: set({name}=...) after creation")
            else:
                table.setdefault("parameters", {})[name] = exported


def _stimulus(source: Any, cells: list[Any], names: dict[int, str], missing: list[str]) -> dict[str, Any] | None:
    kind = type(source).__name__
    parents = {id(c.parent) for c in cells}
    if len(parents) != 1 or next(iter(parents)) not in names:
        missing.append(f"{kind}: injected into cells of several populations")
        return None
    parent = cells[0].parent
    table: dict[str, Any] = {"target": names[id(parent)]}
    indices = sorted(int(parent.id_to_index(c)) for c in cells)
    if indices != list(range(parent.size)):
        table["cells"] = indices
    ps = source.parameter_space
    if kind == "DCSource":
        table.update(kind="dc", amplitude=float(ps["amplitude"].base_value), start=float(ps["start"].base_value))
        table["stop"] = float(ps["stop"].base_value)
    elif kind == "StepCurrentSource":
        table.update(kind="step", times=[float(t) for t in ps["times"].base_value.value])
        table["amplitudes"] = [float(a) for a in ps["amplitudes"].base_value.value]
    else:
        missing.append(f"{kind}: the schema's current sources are dc and step")
        return None
    return table


@dataclass
class Export:
    """A script's network as a model, what could not be expressed, and what the script did after its network."""

    raw: dict[str, Any]
    missing: list[str]
    notes: list[str]


def translate(captured: Captured, name: str) -> Export:
    """The captured network as a raw model (the schema's fields), listing what the schema cannot express."""
    missing: list[str] = []
    names: dict[int, str] = {}
    by_object: dict[int, dict[str, Any]] = {}
    populations: dict[str, dict[str, Any]] = {}
    for k, p in enumerate(captured.populations):
        label = _unique(p.label if p.label and p.label.isidentifier() else f"population{k}", populations)
        names[id(p)] = label
        populations[label] = by_object[id(p)] = _population(p, missing)
    projections: dict[str, dict[str, Any]] = {}
    for prj in captured.projections:
        named = _projection(prj, names, missing)
        if named is not None:
            projections[_unique(named[0], projections)] = by_object[id(prj)] = named[1]
    _apply_sets(captured, names, by_object, missing)
    if captured.resets:
        missing.append(f"simulation: reset() ({captured.resets}x; a model file simulates one segment from t = 0)")
    stimuli: dict[str, dict[str, Any]] = {}
    for k, (source, cells) in enumerate(captured.sources):
        stimulus = _stimulus(source, cells, names, missing)
        if stimulus is not None:
            stimuli[f"{stimulus['kind']}{k}"] = stimulus
    recording, notes = {}, []
    for p in captured.populations:
        recorded = {variable.name: ids for variable, ids in p.recorder.recorded.items() if ids}
        if not recorded:
            continue
        cells = sorted({int(p.id_to_index(i)) for ids in recorded.values() for i in ids})
        table: dict[str, Any] = {"variables": sorted(recorded)}
        if cells != list(range(p.size)):
            table["cells"] = cells
        if "spikes" not in recorded or len(recorded) > 1:
            interval = float(p.recorder.sampling_interval)
            if not np.isclose(interval, float(captured.setup.get("timestep", 0.1))):
                table["sampling_interval"] = _number(interval)
        if len({frozenset(ids) for ids in recorded.values()}) > 1:  # a model records one set of cells per population
            notes.append(f"{names[id(p)]}: {', '.join(sorted(recorded))} are recorded from the same {len(cells)} cells")
        recording[names[id(p)]] = table
    if captured.duration <= 0:
        missing.append("simulation: the script never called run()")
    simulation: dict[str, Any] = {"dt": float(captured.setup.get("timestep", 0.1)), "duration": captured.duration or 1.0}
    if captured.setup.get("rng_seed") is not None:
        simulation["seed"] = int(captured.setup["rng_seed"])
    raw: dict[str, Any] = {"name": name, "description": f"exported from the PyNN script {name}.py by spikebridge export-model"}
    tables = {"populations": populations, "projections": projections, "stimuli": stimuli, "recording": recording}
    raw.update({key: table for key, table in tables.items() if table})
    raw["simulation"] = simulation
    if captured.error:
        notes.append(f"the script stopped after building its network ({captured.error})")
    return Export(raw, missing, notes)


def export(script: str | Path, argv: list[str] | None = None) -> tuple[Model, Export]:
    """Run ``script`` on the capturing module and translate its network into a validated :class:`Model`.

    Raises
    ------
    ModelError
        The script failed before its first ``run()``, or its network holds what the schema cannot express
        (each such thing named).
    """
    path = Path(script)
    if not path.is_file():
        raise ModelError("", "no such script", str(script))
    name = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in path.stem) or "exported"
    result = translate(capture(path, list(argv or [])), name)
    if result.missing:
        raise ModelError("", "cannot be expressed as a model file: " + "; ".join(result.missing), str(script))
    return validate(result.raw, f"{script} (exported)"), result


def write(raw: dict[str, Any], out: Path) -> None:
    """Write a model's fields as TOML to ``out`` (a temporary name, then renamed), as a person would write them."""
    import tomli_w

    from ..atomic import atomic_file

    with atomic_file(out) as f:
        f.write(tomli_w.dumps(raw).encode())
