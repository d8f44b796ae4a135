"""A NESTML neuron as a Brian2 ``NeuronGroup`` that does, step by step, what NESTML's generated NEST code does.

:func:`describe` runs pynestml's own NEST pipeline on the model (its transformers, then the NEST code generator's
analysis: inline expressions expanded, every ``convolve(kernel, port)`` turned into kernel state variables, ODE-toolbox
propagators for the linear parts, the right-hand sides of the rest) and writes one NEST time step as Brian2 abstract
code (:class:`NeuronModel`), in NEST's order (``NeuronClass.jinja2`` of NESTML's NEST target):

1. the kernel state variables' exact values at the end of the step are computed ("step 1");
2. the ``update:`` block runs; ``integrate_odes(x, ...)`` advances the analytic variables among its arguments with
   ODE-toolbox's propagators, and the numeric ones (all of them, the kernels' too, the others held) with
   ``substeps`` steps of classical Runge-Kutta (``method="rk4"``) or forward Euler (``method="euler"``) where NEST
   uses GSL's adaptive RKF45 (absolute and relative tolerance 1e-6); delta-kernel inputs are added here;
3. ``onReceive`` blocks of ports that received a spike this step;
4. the kernel variables take their step-1 values and the spikes' weights ("step 2");
5. ``onCondition`` blocks in order; ``emit_spike()`` marks a spike.

Everything runs in one ``run_regularly`` scheduled after the synapses, and the threshold (the spike mark) after it,
so spikes delivered in a step count in that step as in NEST. As everywhere in spikebridge, a Brian2 spike is stamped
with the start of its step and NEST's with its end (NEST's stamp = Brian2's + dt), and an input NEST delivers at
``t`` must reach the ports in the Brian2 step that starts at ``t - dt`` (a source's pathway runs with ``d - dt``).

Every quantity is a plain number in NEST's units (ms, mV, pA, nS, pF); every NESTML name gets the prefix ``nml_``.
A spike input port ``p`` is two variables: ``nml_p`` sums the weights (NEST's units, as NEST's ``weight``) and
``nml_p__n`` counts the spikes of the current step (``NeuronModel.on_pre`` writes the synaptic code). NEST routes
a negative weight to a port declared ``inhibitory`` as its magnitude; a Brian2 pathway writes the port directly.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...errors import ModelError
from ...models.nestml import _Printer, model_name, parse
from .nestml import PREFIX, _prefixed

EMIT = "__emit"
"""The spike mark of the current step (1 where the neuron fires)."""

METHODS = ("rk4", "euler")
SELECT = "nestml_select"
"""``nestml_select(guard, value, old)``: a guarded assignment's new value. ``old + guard * (value - old)`` would turn a
value the guard discards into NaN where that value is NaN or infinite (iaf_chxk_2008's ``sigma``, 0/0 at rest)."""
_KEEP = {"clip", "exp", "log", "sqrt", "abs", "sin", "cos", "tan", "sinh", "cosh", "tanh", "floor", "ceil", "log10", "int",
         "inf", "True", "False", "and", "or", "not", "rand", "randn", SELECT}
_WORD = re.compile(r"(?<![\w.])([A-Za-z_]\w*)")
_STAGES = {"rk4": ((0.0, 1.0 / 6.0), (0.5, 1.0 / 3.0), (0.5, 1.0 / 3.0), (1.0, 1.0 / 6.0)), "euler": ((0.0, 1.0),)}


@dataclass(frozen=True)
class NeuronModel:
    """A NESTML neuron as one NEST time step of Brian2 abstract code, in NEST's units and NESTML's names.

    Parameters
    ----------
    name, source, text
        The NESTML model's name, where it came from and its text.
    dt_ms
        The time step the code is written for (propagators and ``resolution()`` depend on it).
    parameters
        Default parameter values.
    internals
        The ``internals:`` values, ODE-toolbox's propagators (``__P__x__y``) and ``__h`` among them.
    state
        Initial values of every state variable, kernel state variables (``g__X__port``) included.
    ports
        Spike input port -> ``"excitatory"``, ``"inhibitory"`` or ``""`` (receives any sign).
    continuous
        Continuous input ports (state variables held at 0 unless set).
    step
        One NEST step as abstract code in NESTML's names (see the module's docstring for the order).
    integrator
        ``"analytic"`` (propagators only), else ``"<method> x <substeps>"``: what integrates the non-linear ODEs.
    stochastic
        Whether the step draws random numbers (then the two simulators draw different ones).
    """

    name: str
    source: str
    text: str = field(repr=False)
    dt_ms: float
    parameters: dict[str, float]
    internals: dict[str, float] = field(repr=False)
    state: dict[str, float]
    ports: dict[str, str]
    continuous: tuple[str, ...]
    step: tuple[str, ...] = field(repr=False)
    integrator: str = "analytic"
    stochastic: bool = False

    def equations(self) -> str:
        """The Brian2 model string: every state variable, port buffer and the spike mark, all dimensionless."""
        names = [*self.state, *self.continuous, *self.ports, *(f"{p}__n" for p in self.ports), EMIT]
        return "\n".join(f"{PREFIX}{v} : 1" for v in names)

    def code(self) -> str:
        """The step as Brian2 code (prefixed names)."""
        keep = _KEEP | {"dt", "ms"}
        return "\n".join(_prefixed(line, keep) for line in self.step) + "\n"

    def namespace(self) -> dict[str, Any]:
        """Parameters and internals by their Brian2 names (constants of the code), and the guarded-assignment function."""
        return {SELECT: select_function(), **{PREFIX + k: float(v) for k, v in {**self.parameters, **self.internals}.items()}}

    def port_variable(self, port: str) -> str:
        """The Brian2 variable that sums the weights arriving on ``port`` in a step."""
        if port not in self.ports:
            raise KeyError(f"{self.name} has no spike input port {port!r} (it has {', '.join(self.ports)})")
        return PREFIX + port

    def on_pre(self, port: str, weight: str = "w", side: str = "post") -> str:
        """``Synapses`` code that delivers ``weight`` (a number in NEST's unit of the port) to ``port``; of the
        synapses' ``pre`` cells where ``side`` says so (a pathway run by the post cells' spikes)."""
        var = self.port_variable(port)
        return f"{var}_{side} += {weight}\n{var}__n_{side} += 1"


def describe(text: str, source: str, dt_ms: float, method: str = "rk4", substeps: int = 10) -> NeuronModel:
    """Translate a NESTML neuron into one NEST time step of Brian2 abstract code.

    Parameters
    ----------
    text
        The NESTML text of one neuron model.
    source
        Where it came from (for messages).
    dt_ms
        The simulation's time step in ms.
    method
        ``"rk4"`` or ``"euler"``: the fixed-step integrator for ODEs that have no exact solution.
    substeps
        Integrator steps per time step for those ODEs.

    Raises
    ------
    ModelError
        A NESTML error, or a construct this translation does not cover (one line, with the NESTML line).

    Notes
    -----
    pynestml's analysis is slow (up to minutes for the Hodgkin-Huxley models, mostly its ANTLR lexer re-parsing
    expanded expressions and ODE-toolbox's sympy), so the last few results are kept: :func:`neuron_group` after
    ``describe`` of the same text costs nothing.
    """
    return _describe(text, source, dt_ms, method, substeps)


@functools.lru_cache(maxsize=8)
def _describe(text: str, source: str, dt_ms: float, method: str, substeps: int) -> NeuronModel:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    name = model_name(text) or "?"
    model = parse(text, source)
    where = f"models.{model.get_name()}"
    if model.get_name().endswith("_synapse"):
        raise ModelError(where, "a synapse, not a neuron", source)
    model, metadata = _analyse(model, where, source)
    printer = _NeuronPrinter(where, source, dt_ms, model)
    parameters, internals, state = _defaults(model, printer)
    printer.code = True
    printer.state = set(state)
    solver = _Solvers(metadata, model, printer, method, substeps)
    printer.solver = solver
    step = (f"{EMIT} = 0", *solver.step_one())  # before the update block, which may emit_spike() (ignore_and_fire_neuron)
    for block in model.get_update_blocks():
        step += printer.statements(block.get_stmts_body().get_stmts())
    for block in model.get_on_receive_blocks():
        port = block.get_port_name()
        printer.guard += 1
        guard = f"_guard{printer.guard}"
        step += (f"{guard} = int({port}__n > 0)", *printer.statements(block.get_stmts_body().get_stmts(), guard))
    step += solver.step_two()
    for block in model.get_on_condition_blocks():
        printer.guard += 1
        guard = f"_guard{printer.guard}"
        condition = f"{guard} = int({printer.expression(block.get_cond_expr())})"
        step += (condition, *printer.statements(block.get_stmts_body().get_stmts(), guard))
    step += tuple(f"{p} = 0" for p in _ports(model)) + tuple(f"{p}__n = 0" for p in _ports(model))
    if not any(EMIT in line for line in step[:-1] if not line.startswith(f"{EMIT} = 0")):
        raise ModelError(where, "the model never calls emit_spike()", source)
    return NeuronModel(
        name=name,
        source=source,
        text=text,
        dt_ms=dt_ms,
        parameters=parameters,
        internals=internals,
        state=state,
        ports=_ports(model),
        continuous=tuple(p.get_name() for p in _input_ports(model) if p.is_continuous()),
        step=step,
        integrator=f"{method} x {substeps}" if solver.numeric else "analytic",
        stochastic=printer.stochastic,
    )


def neuron_group(
    text: str, source: str, n: int, dt_ms: float, name: str | None = None, method: str = "rk4", substeps: int = 10
) -> Any:
    """A Brian2 ``NeuronGroup`` of ``n`` cells of the NESTML neuron in ``text`` (see :func:`describe`).

    Its variables are the NESTML names with the prefix ``nml_`` (numbers in NEST's units); connect inputs with
    ``Synapses(..., on_pre=group.nestml.on_pre("exc_spikes", "w"))`` and a pathway delay of NEST's delay minus
    ``dt``. The description is ``group.nestml`` (a :class:`NeuronModel`).
    """
    import brian2

    described = describe(text, source, dt_ms, method, substeps)
    group = brian2.NeuronGroup(
        n,
        described.equations(),
        threshold=f"{PREFIX}{EMIT} > 0.5",
        namespace=described.namespace(),
        name=name or f"{described.name}*",
        dt=dt_ms * brian2.ms,
    )
    group.run_regularly(described.code(), when="after_synapses", order=0, name=f"{group.name}_step")
    group.thresholder["spike"].when = "after_synapses"
    group.thresholder["spike"].order = 1
    for var, value in described.state.items():
        setattr(group, PREFIX + var, value)
    group.add_attribute("nestml")
    group.nestml = described
    return group


def _analyse(model: Any, where: str, source: str) -> tuple[Any, dict[str, Any]]:
    """Run pynestml's NEST transformers and the NEST code generator's analysis on ``model`` (in place)."""
    from pynestml.codegeneration.nest_code_generator import NESTCodeGenerator
    from pynestml.frontend.frontend_configuration import FrontendConfiguration
    from pynestml.frontend.pynestml_frontend import transformers_from_target_name

    FrontendConfiguration.logging_level = "ERROR"
    metadata: dict[str, Any] = {}
    try:
        transformers, _ = transformers_from_target_name("NEST", {})
        models = [model]
        for transformer in transformers:
            models = transformer.transform(models, metadata)
        NESTCodeGenerator().analyse_transform_neurons(list(models), metadata)
    except Exception as err:  # pynestml raises plain exceptions for what its NEST target does not support
        raise ModelError(where, f"NESTML's NEST analysis failed: {' '.join(str(err).split())[:200]}", source) from None
    model = list(models)[0]
    return model, metadata.get(model.get_name(), {})


def _input_ports(model: Any) -> list[Any]:
    return [port for block in model.get_input_blocks() for port in block.get_input_ports()]


def _ports(model: Any) -> dict[str, str]:
    ports = {}
    for port in (p for p in _input_ports(model) if p.is_spike()):
        if port.has_size_parameter():
            line = port.get_source_position().start_line
            raise ModelError(f"models.{model.get_name()}", f"line {line}: vector input ports are not supported", "")
        kind = "inhibitory" if port.is_inhibitory() and not port.is_excitatory() else "excitatory" if port.is_excitatory() else ""
        ports[port.get_name()] = kind
    return ports


def _declarations(blocks: list[Any], printer: _NeuronPrinter) -> list[tuple[str, Any]]:
    out = []
    for block in blocks:
        for decl in block.get_declarations():
            if decl.get_expression() is None:
                continue
            for var in decl.get_variables():
                if var.get_vector_parameter() is not None or decl.get_size_parameter() is not None:
                    raise printer.fail(decl, f"vector variable {var.get_name()} is not supported")
                out.append((var.get_name(), decl.get_expression()))
    return out


def _defaults(model: Any, printer: _NeuronPrinter) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Parameters, internals and initial state, in order within a block; a value may read any block's (parameters
    of NESTML's HH models read the initial ``V_m``)."""
    blocks = {"parameters": model.get_parameters_blocks(), "internals": model.get_internals_blocks(), "state": model.get_state_blocks()}
    pending = {kind: _declarations(b, printer) for kind, b in blocks.items()}
    values: dict[str, dict[str, float]] = {kind: {} for kind in blocks}

    def known() -> dict[str, float]:
        return {**values["parameters"], **values["internals"], **values["state"]}

    while any(pending.values()):
        progress = False
        for kind in blocks:
            while pending[kind]:
                var, expr = pending[kind][0]
                try:
                    values[kind][var] = printer.value(expr, known())
                except ModelError:
                    break
                pending[kind].pop(0)
                progress = True
        if not progress:
            var, expr = next(p[0] for p in pending.values() if p)
            printer.value(expr, known())  # raises, saying why
    return values["parameters"], values["internals"], values["state"]


class _Solvers:
    """What ``integrate_odes`` and the kernel updates of NESTML's NEST code become, from ODE-toolbox's results."""

    def __init__(self, metadata: Mapping[str, Any], model: Any, printer: _NeuronPrinter, method: str, substeps: int) -> None:
        self.model, self.printer, self.method, self.substeps = model, printer, method, substeps
        analytic, numeric = metadata.get("analytic_solver"), metadata.get("numeric_solver")
        self.analytic: dict[str, str] = {v: self._print(e) for v, e in (analytic or {}).get("update_expressions", {}).items()}
        self.numeric: dict[str, str] = {v: self._print(e) for v, e in (numeric or {}).get("update_expressions", {}).items()}
        self.spike_updates = {port: list(updates) for port, updates in metadata.get("spike_updates", {}).items()}
        self.count = 0

    def _print(self, text: str) -> str:
        from pynestml.utils.model_parser import ModelParser
        from pynestml.utils.ode_toolbox_utils import ODEToolboxUtils
        from pynestml.visitors.ast_symbol_table_visitor import ASTSymbolTableVisitor

        expr = ModelParser.parse_expression(ODEToolboxUtils._rewrite_piecewise_into_ternary(text))
        if expr is None:
            raise self.printer.fail(None, f"cannot read ODE-toolbox's expression {text!r}")
        blocks = self.model.get_equations_blocks()
        if blocks:
            expr.update_scope(blocks[0].get_scope())
            expr.accept(ASTSymbolTableVisitor())
        return self.printer.expression(expr)

    @property
    def convolutions(self) -> list[str]:
        return [v for v in self.analytic if "__X__" in v]

    def step_one(self) -> tuple[str, ...]:
        return tuple(f"{v}__tmp_ = {self.analytic[v]}" for v in self.convolutions)

    def step_two(self) -> tuple[str, ...]:
        lines = [f"{v} = {v}__tmp_" for v in self.convolutions]
        for updates in self.spike_updates.values():
            for assignment in updates:
                if "__X__" in assignment.get_variable().get_name():
                    lines += self._assignment(assignment)
        return tuple(lines)

    def _assignment(self, assignment: Any) -> list[str]:
        from pynestml.meta_model.ast_node_factory import ASTNodeFactory

        small = ASTNodeFactory.create_ast_small_stmt(assignment=assignment, source_position=assignment.get_source_position())
        return list(self.printer._small(small, None))

    def integrate(self, args: list[str], guard: str | None) -> list[str]:
        """``integrate_odes(args)`` (all variables where ``args`` is empty), changing its targets where ``guard`` holds."""
        if args:
            unknown = [a for a in args if a not in self.analytic and a not in self.numeric]
            if unknown:
                raise self.printer.fail(None, f"integrate_odes({', '.join(args)}): no ODE for {', '.join(unknown)}")
        chosen = _filter(list(self.analytic), args)
        analytic = [v for v in chosen if "__X__" not in v]
        numeric = _filter(list(self.numeric), args) if self.numeric else []
        lines = [f"{v}__atmp = {self.analytic[v]}" for v in analytic]
        new: dict[str, str] = {}
        if numeric:
            stages, new = self._numeric(set(numeric) | {v for v in self.numeric if "__X__" in v})
            lines += stages
        for v, value in new.items():
            lines.append(_assign(v, value, guard))
        lines += [_assign(v, f"{v}__atmp", guard) for v in analytic]
        for updates in self.spike_updates.values():
            for assignment in updates:
                target = assignment.get_variable().get_name()
                if "__X__" not in target and target in set(analytic) | set(numeric):
                    for line in self._assignment(assignment):
                        lhs, _, rhs = line.partition(" = ")
                        lines.append(_assign(lhs, rhs, guard))
        return lines

    def _numeric(self, moving: set[str]) -> tuple[list[str], dict[str, str]]:
        """``substeps`` fixed steps of the whole numeric system; variables outside ``moving`` are held."""
        self.count += 1
        tag = f"_i{self.count}"
        h = self.printer.dt_ms / self.substeps
        current = {v: v for v in self.numeric}
        lines: list[str] = []
        for sub in range(self.substeps):
            slopes: list[dict[str, str]] = []
            for k, (c, _) in enumerate(_STAGES[self.method]):
                point = current if k == 0 else {
                    v: f"{tag}_{sub}_y{k}_{v}" for v in self.numeric
                }
                if k > 0:
                    for v in self.numeric:
                        if v in moving:
                            lines.append(f"{point[v]} = {current[v]} + {c * h!r} * {slopes[-1][v]}")
                        else:
                            point[v] = current[v]
                slope = {}
                for v in sorted(moving):
                    slope[v] = f"{tag}_{sub}_k{k}_{v}"
                    lines.append(f"{slope[v]} = {_rename(self.numeric[v], point)}")
                slopes.append(slope)
            following = dict(current)
            for v in sorted(moving):
                following[v] = f"{tag}_{sub}_{v}"
                total = " + ".join(f"{w!r} * {s[v]}" for (_, w), s in zip(_STAGES[self.method], slopes))
                lines.append(f"{following[v]} = {current[v]} + {h!r} * ({total})")
            current = following
        return lines, {v: current[v] for v in sorted(moving)}


class _NeuronPrinter(_Printer):
    """:class:`~spikebridge.models.nestml._Printer` for a neuron: ports, ``integrate_odes``, guarded spikes, time."""

    def __init__(self, where: str, source: str, dt_ms: float, model: Any) -> None:
        super().__init__(where, source)
        self.dt_ms = dt_ms
        self.ports = {p.get_name() for p in _input_ports(model) if p.is_spike()}
        self.functions = {f.get_name(): f for f in model.get_functions()}
        self.state: set[str] = set()
        self.solver: _Solvers | None = None
        self.stochastic = False

    @staticmethod
    def _assign(target: str, rhs: str, guard: str | None, local: bool = False) -> str:
        return _assign(target, rhs, None if local else guard)

    def _compound(self, node: Any) -> str:
        if node.is_logical_not:
            # a boolean state variable is a number here, and Brian2 refuses ``not`` on a number (hill_tononi's g_spike)
            return f"(int({self.expression(node.get_expression())}) == 0)"
        return str(super()._compound(node))

    def value(self, expr: Any, known: dict[str, float]) -> float:
        text = self.expression(expr)
        names = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "clip": lambda x, lo, hi: min(max(x, lo), hi), "inf": math.inf,
                 "abs": abs, "int": int, "floor": math.floor, "ceil": math.ceil, "log10": math.log10, "tanh": math.tanh}
        try:
            return float(eval(text, {"__builtins__": {}}, {**known, **names}))
        except Exception as err:
            raise self.fail(expr, f"cannot evaluate {text!r}: {err}") from None

    def _simple(self, node: Any) -> str:
        if node.is_boolean_true or node.is_boolean_false:
            # a boolean state variable is a number here: sympy (Brian2's code analysis) cannot subtract a boolean
            # literal from one (``g_spike + guard * (False - g_spike)`` fails in hill_tononi_neuron)
            return "1.0" if node.is_boolean_true else "0.0"
        if node.is_variable() and not node.is_numeric_literal_with_unit():
            name = node.get_variable().get_complete_name()
            if name in self.ports:
                return f"(0.001 * {name})"  # NEST's buffer: the weight in units of 1/s of NESTML's spike train
            if name == "t":
                raise self.fail(node, "the time t in a neuron is not supported")
            if name in self.state or name in self.ports or "__" in name:
                return name
        return str(super()._simple(node))

    def _call(self, call: Any) -> str:
        name = call.get_name()
        args = [self.expression(a) for a in call.get_args()]
        if name in ("resolution", "timestep"):
            return repr(self.dt_ms)
        if name == "steps":
            return f"int(floor(({args[0]}) / {self.dt_ms!r} + 0.5))"
        if name == "random_normal":
            self.stochastic = True
            return f"(({args[0]}) + ({args[1]}) * randn())"
        if name == "random_uniform":
            self.stochastic = True
            return f"(({args[0]}) + (({args[1]}) - ({args[0]})) * rand())"
        if name in self.functions:
            return self._inlined(call, self.functions[name], args)
        return str(super()._call(call))

    def _inlined(self, call: Any, function: Any, args: list[str]) -> str:
        """A function of local declarations and a return, as one expression."""
        names = {p.get_name(): f"({a})" for p, a in zip(function.get_parameters(), args)}
        for stmt in function.get_stmts_body().get_stmts():
            small = stmt.small_stmt if stmt.is_small_stmt() else None
            if small is not None and small.is_declaration():
                decl = small.get_declaration()
                for var in decl.get_variables():
                    names[var.get_name()] = f"({_rename(self.expression(decl.get_expression()), names)})"
            elif small is not None and small.is_return_stmt():
                return f"({_rename(self.expression(small.get_return_stmt().get_expression()), names)})"
            else:
                raise self.fail(stmt, f"function {function.get_name()}(): only declarations and a return are supported")
        raise self.fail(call, f"function {function.get_name()}() returns nothing")

    def statements(self, stmts: list[Any], guard: str | None = None) -> tuple[str, ...]:
        out: list[str] = []
        for stmt in stmts:
            if not stmt.is_small_stmt() and not stmt.compound_stmt.is_if_stmt():
                raise self.fail(stmt, "loops are not supported")
            out.extend(super().statements([stmt], guard))
        return tuple(out)

    def _if(self, node: Any, guard: str | None) -> list[str]:
        """Every clause's guard first: C++ tests ``else if``/``else`` before any branch has changed the state."""
        clauses = [(node.get_if_clause().get_condition(), node.get_if_clause().get_stmts_body())]
        clauses += [(c.get_condition(), c.get_stmts_body()) for c in node.get_elif_clauses()]
        heads: list[str] = []
        bodies: list[tuple[str, Any]] = []
        earlier: list[str] = []
        for condition, body in clauses:
            self.guard += 1
            name = f"_guard{self.guard}"
            own = " * ".join([f"int({self.expression(condition)})", *(f"(1 - {e})" for e in earlier)])
            heads.append(f"{name} = {own}" + (f" * {guard}" if guard else ""))
            earlier.append(name if guard is None else f"int({self.expression(condition)})")
            bodies.append((name, body))
        if node.get_else_clause() is not None:
            self.guard += 1
            name = f"_guard{self.guard}"
            rest = " * ".join(f"(1 - {e})" for e in earlier)
            heads.append(f"{name} = {rest}" + (f" * {guard}" if guard else ""))
            bodies.append((name, node.get_else_clause().get_stmts_body()))
        out = list(heads)
        for name, body in bodies:
            out.extend(self.statements(body.get_stmts(), name))
        return out

    def _small(self, node: Any, guard: str | None) -> list[str]:
        if node.is_function_call():
            call = node.get_function_call()
            if call.get_name() == "emit_spike":
                if call.get_args():
                    raise self.fail(node, "emit_spike() with arguments in a neuron is not supported")
                return [_assign(EMIT, "1", guard)]
            if call.get_name() == "integrate_odes":
                assert self.solver is not None
                return self.solver.integrate([str(a) for a in call.get_args()], guard)
        return list(super()._small(node, guard))


def _filter(variables: list[str], args: list[str]) -> list[str]:
    """NESTML's ``filter_variables_list``: the variables named in ``args`` and their higher orders (all if none)."""
    if not args:
        return list(variables)
    chosen = []
    for var in variables:
        if var in args:
            chosen.append(var)
            chosen += [v for v in variables if v.count("__d") and v.split("__d")[0] == var and v not in args and v not in chosen]
    return chosen


def _assign(target: str, value: str, guard: str | None) -> str:
    return f"{target} = {value}" if guard is None else f"{target} = {SELECT}({guard}, {value}, {target})"


@functools.cache
def select_function() -> Any:
    """The Brian2 ``Function`` behind :data:`SELECT`, for numpy, Cython, C++ and CUDA code."""
    import brian2
    import numpy as np

    def select(guard: Any, value: Any, old: Any) -> Any:
        return np.where(np.asarray(guard) != 0, value, old)

    function = brian2.Function(select, arg_units=[1, 1, 1], return_unit=1, arg_types=["any", "any", "any"], return_type="float")
    c = f"static inline double {SELECT}(const int guard, const double value, const double old) {{ return guard ? value : old; }}"
    function.implementations.add_implementation("cpp", {"support_code": c}, name=SELECT)
    function.implementations.add_implementation("cuda", {"support_code": "__host__ __device__ " + c}, name=SELECT)
    cython = f"cdef double {SELECT}(int guard, double value, double old):\n    return value if guard else old"
    function.implementations.add_implementation("cython", cython, name=SELECT)
    return function


def _rename(code: str, names: Mapping[str, str]) -> str:
    return _WORD.sub(lambda m: names.get(m.group(1), m.group(1)), code)
