"""NESTML synapse models read with pynestml's own front end: checked, then described for every simulator.

:func:`read` parses a model's text with pynestml (its parser, symbol table and context conditions), and turns a
plastic synapse into a :class:`SynapseRule`: parameters and initial values in NEST's units (ms, mV, pA, nS, pF),
the exact propagators of its ODEs from ODE-toolbox (the analysis NESTML's NEST target uses) and its
``onReceive`` handlers as straight-line statements. The NEST backend compiles the text itself
(:mod:`spikebridge.backends.nest.nestml`); the Brian2 backend runs the description
(:mod:`spikebridge.backends.brian2.nestml`). Every quantity is a number in NEST's unit of its dimension, as in
the C++ code NESTML writes for NEST, so both simulators do the same arithmetic.

A statement list is Brian2-style abstract code (``x = expr``, one per line, no ``if``): NESTML ``if``/``elif``/
``else`` become guarded assignments, ``min``/``max`` become ``clip``, ``emit_spike(w)`` becomes the marker line
``EMIT``. A NESTML error (syntax, an undefined symbol, a unit mismatch) raises :class:`~spikebridge.errors.ModelError`
naming the model file, the model and the line.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import ModelError

LIBRARY = Path(__file__).parent / "library" / "nestml"
"""The bundled NESTML rules (``NAME.nestml``), each documented with its source."""

EMIT = "EMIT"
"""The statement that stands for ``emit_spike(w)``: deliver the (current) weight to the post-synaptic cell."""

# Names Brian2 reserves in synaptic code, or reads as pre/post-synaptic variables
_RESERVED = {"t", "dt", "i", "j", "N", "xi", "lastupdate", "lastspike", "not_refractory", "weight", "plasticity"}
_UNSUPPORTED_CALLS = {"random_normal", "random_uniform", "random_poisson", "delta", "convolve", "steps", "timestep"}


@dataclass(frozen=True)
class SynapseRule:
    """A plastic NESTML synapse, in NEST's units, ready to be written for a simulator.

    Parameters
    ----------
    name
        The NESTML model name.
    source
        Where the text came from (a file path, or ``models.NAME`` of a model file).
    text
        The NESTML text (what NEST compiles).
    parameters
        Default parameter values (NEST units: ms, mV, pA, nS, pF; ``real`` as is).
    state
        Initial values of the state variables other than the weight.
    weight
        The weight variable (``w``) and its initial value.
    weight_unit
        The weight's NESTML unit (``nS``, ``pA`` or ``real``).
    pre_port, post_port
        The spike input ports of the pre-synaptic and the post-synaptic cell.
    propagators
        ``__P__x__y`` -> expression in ``__h`` (ms) and parameters (ODE-toolbox's exact solution).
    updates
        State variable -> its value ``__h`` later, in terms of the propagators and the state.
    on_pre, on_post
        The handlers as abstract code in NESTML's names (``EMIT`` where the weight is sent).
    post_owned
        State variables NESTML moves into the post-synaptic neuron (post traces): updated only at post spikes.
    post_reads
        The synapse's continuous input ports (``d real <- continuous``): each reads the post-synaptic NESTML neuron's
        state variable of the same name (a third factor, such as a dendritic state), at the pre spike's arrival in a
        pre handler.
    """

    name: str
    source: str
    text: str
    parameters: dict[str, float]
    state: dict[str, float]
    weight: tuple[str, float]
    weight_unit: str
    pre_port: str
    post_port: str
    propagators: dict[str, str] = field(repr=False)
    updates: dict[str, str] = field(repr=False)
    on_pre: tuple[str, ...] = field(repr=False)
    on_post: tuple[str, ...] = field(repr=False)
    post_owned: tuple[str, ...] = ()
    post_reads: tuple[str, ...] = ()

    @property
    def digest(self) -> str:
        """sha256 of the text: what a compiled module is cached under, with the NEST version."""
        return hashlib.sha256(self.text.encode()).hexdigest()


DENDRITIC = LIBRARY / "dendritic"
"""The learning-rule comparison's NESTML models: ``dendritic_neuron.nestml`` and the rules that read its state."""
DENDRITIC_NEURON = DENDRITIC / "dendritic_neuron.nestml"


def bundled() -> dict[str, Path]:
    """The bundled NESTML rules that run onto any post cell: name -> file."""
    return {p.stem: p for p in sorted(LIBRARY.glob("*.nestml"))}


def dendritic_rules() -> dict[str, Path]:
    """The bundled NESTML rules that read the state of a :data:`DENDRITIC_NEURON` post cell: name -> file."""
    return {p.stem: p for p in sorted(DENDRITIC.glob("*.nestml")) if p != DENDRITIC_NEURON}


def model_name(text: str) -> str | None:
    """The name in a NESTML text's first ``model NAME:`` line, or None."""
    match = re.search(r"^\s*model\s+(\w+)\s*:", text, flags=re.M)
    return match.group(1) if match else None


@functools.cache
def _front_end() -> None:
    from pynestml.frontend.pynestml_frontend import init_predefined
    from pynestml.utils.logger import Logger, LoggingLevel

    Logger.init_logger(LoggingLevel.NO)
    init_predefined()


def parse(text: str, source: str) -> Any:
    """pynestml's checked AST of the one model in ``text``; NESTML errors as one :class:`ModelError` line."""
    _front_end()
    from pynestml.cocos.co_cos_manager import CoCosManager
    from pynestml.symbol_table.symbol_table import SymbolTable
    from pynestml.utils.logger import Logger, LoggingLevel
    from pynestml.utils.model_parser import ModelParser

    name = model_name(text) or "?"
    Logger.init_logger(LoggingLevel.NO)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.nestml"
        path.write_text(text)
        ast = ModelParser.parse_file(str(path))
        models = ast.get_model_list() if ast is not None else []
        for model in models:
            Logger.set_current_node(model)
            CoCosManager.check_cocos(model)
            Logger.set_current_node(None)
    errors = [entry for entry in Logger.get_log().values() if entry[2] == LoggingLevel.ERROR]
    if errors:
        _, _, _, _, position, message = errors[0]
        line = f"line {position.start_line}: " if position is not None else ""
        raise ModelError(f"models.{name}", f"{line}{_plain(message)}", source)
    if len(models) != 1:
        raise ModelError(f"models.{name}", f"expected one NESTML model, found {len(models)}", source)
    if hasattr(SymbolTable, "delete_model_scope"):  # pynestml keeps every parsed model's scope in a global table
        SymbolTable.delete_model_scope(models[0].get_name())
    return models[0]


def _plain(message: str) -> str:
    return " ".join(str(message).replace('"', "'").split())


_READ: dict[str, SynapseRule] = {}
"""Rules read in this process, by text: pynestml takes about a second to parse and check one, and a model names the
same rule in many projections (each with its own ``source``)."""
_READ_MAX = 64


def read(text: str, source: str) -> SynapseRule:
    """Parse and check a NESTML synapse and describe it for the simulators (see :class:`SynapseRule`).

    A text is parsed once per process; the rule returned carries this call's ``source``.

    Raises
    ------
    ModelError
        A NESTML error, or a construct the Brian2 translation does not cover (named, with its line).
    """
    rule = _READ.get(text)
    if rule is None:
        rule = _read(text, source)
        if len(_READ) >= _READ_MAX:
            del _READ[next(iter(_READ))]
        _READ[text] = rule
    return rule if rule.source == source else replace(rule, source=source)


def _read(text: str, source: str) -> SynapseRule:
    model = parse(text, source)
    name = model.get_name()
    where = f"models.{name}"
    printer = _Printer(where, source)
    values: dict[str, float] = {}
    parameters = {}
    for block in model.get_parameters_blocks():
        for decl in block.get_declarations():
            for var in decl.get_variables():
                parameters[var.get_name()] = values[var.get_name()] = printer.value(decl.get_expression(), values)
    for block in model.get_internals_blocks():
        for decl in block.get_declarations():
            raise ModelError(where, f"line {decl.get_source_position().start_line}: internals blocks are not supported yet", source)
    state: dict[str, float] = {}
    units: dict[str, str] = {}
    for block in model.get_state_blocks():
        for decl in block.get_declarations():
            for var in decl.get_variables():
                state[var.get_name()] = printer.value(decl.get_expression(), values)
                units[var.get_name()] = str(decl.get_data_type())
    ports = [p.get_symbol_name() if hasattr(p, "get_symbol_name") else p.name for p in model.get_spike_input_ports()]
    handlers = {block.get_port_name(): block for block in model.get_on_receive_blocks()}
    emitting = [port for port, block in handlers.items() if "emit_spike(" in str(block)]
    if len(ports) != 2 or len(emitting) != 1:
        what = "a synapse needs two spike input ports (pre and post) and emit_spike(w) in the pre port's onReceive"
        raise ModelError(where, what, source)
    pre_port = emitting[0]
    post_port = next(p for p in ports if p != pre_port)
    weight = _weight_variable(model, state, where, source)
    for block in model.get_update_blocks():
        body = [str(s).strip() for s in block.get_stmts_body().get_stmts()]
        if any(line != "integrate_odes()" for line in body):
            raise ModelError(where, f"line {block.get_source_position().start_line}: an update block other than integrate_odes()", source)
    odes = [ode for eqs in model.get_equations_blocks() for ode in eqs.get_ode_equations()]
    for eqs in model.get_equations_blocks():
        if eqs.get_kernels() or eqs.get_inline_expressions():
            raise ModelError(where, f"line {eqs.get_source_position().start_line}: kernels and inline expressions in a synapse", source)
    printer.code = True
    propagators, updates = _propagators(odes, state, parameters, printer, where, source)
    on_pre = printer.statements(handlers[pre_port].get_stmts_body().get_stmts())
    on_post = printer.statements(handlers[post_port].get_stmts_body().get_stmts()) if post_port in handlers else ()
    post_owned = tuple(
        v
        for v in state
        if v != weight and _assigned(on_post, v) and not _assigned(on_pre, v) and _ode_reads(updates.get(v, v), state) <= {v}
    )
    _check_post_reads(on_post, post_owned, where, source)
    post_reads = tuple(p.get_symbol_name() for p in model.get_continuous_input_ports())
    for port in post_reads:
        if port in state or port in parameters:
            raise ModelError(where, f"the continuous port {port!r} has the name of a variable of the synapse", source)
        if any(port in _ode_reads(expr, {port: 0.0}) for expr in updates.values()):
            raise ModelError(where, f"the synapse's ODEs read the continuous port {port!r}; read it in onReceive handlers only", source)
    return SynapseRule(
        name=name,
        source=source,
        text=text,
        parameters=parameters,
        state={k: v for k, v in state.items() if k != weight},
        weight=(weight, state[weight]),
        weight_unit=units[weight],
        pre_port=pre_port,
        post_port=post_port,
        propagators=propagators,
        updates=updates,
        on_pre=on_pre,
        on_post=on_post,
        post_owned=post_owned,
        post_reads=post_reads,
    )


def _check_post_reads(on_post: tuple[str, ...], post_owned: tuple[str, ...], where: str, source: str) -> None:
    """NEST reads post traces in the post handler as they were before this spike, whatever the statement order
    (NESTML moves their increments into the neuron): refuse a handler that reads one after changing it."""
    changed: set[str] = set()
    for line in on_post:
        target, _, rhs = line.partition(" = ")
        read = set(re.findall(r"(?<![\w.])[A-Za-z_]\w*", rhs)) & changed
        if target not in post_owned and read:
            raise ModelError(
                where,
                f"onReceive of the post port reads {', '.join(sorted(read))} after changing it; NEST would read the value "
                "before this spike (NESTML keeps post traces in the neuron): change it after its last use",
                source,
            )
        if target in post_owned:
            changed.add(target)


def _weight_variable(model: Any, state: dict[str, float], where: str, source: str) -> str:
    for block in model.get_on_receive_blocks():
        match = re.search(r"emit_spike\(\s*(\w+)\s*\)", str(block))
        if match:
            if match.group(1) not in state:
                raise ModelError(where, f"emit_spike({match.group(1)}): the weight must be a state variable", source)
            return match.group(1)
    raise ModelError(where, "no emit_spike(w)", source)


def _assigned(lines: tuple[str, ...], name: str) -> bool:
    return any(re.match(rf"{name}\s*=", line) for line in lines)


def _ode_reads(expression: str, state: dict[str, float]) -> set[str]:
    names = set(re.findall(r"[A-Za-z_]\w*", expression))
    return {n for n in names if n in state}


def _propagators(
    odes: list[Any], state: dict[str, float], parameters: dict[str, float], printer: _Printer, where: str, source: str
) -> tuple[dict[str, str], dict[str, str]]:
    """ODE-toolbox's exact propagators of the synapse's ODEs (linear, constant coefficients)."""
    if not odes:
        return {}, {}
    import odetoolbox

    dynamics = []
    for ode in odes:
        lhs = ode.get_lhs()
        if lhs.get_differential_order() != 1:
            raise ModelError(where, f"line {ode.get_source_position().start_line}: only first-order ODEs in a synapse", source)
        var = lhs.get_name()
        dynamics.append({"expression": f"{var}' = {printer.expression(ode.get_rhs())}", "initial_value": repr(state[var])})
    try:
        solvers = odetoolbox.analysis(
            {"dynamics": dynamics, "parameters": {k: repr(v) for k, v in parameters.items()}},
            disable_stiffness_check=True,
            log_level="ERROR",
        )
    except Exception as err:  # ODE-toolbox raises plain exceptions for malformed input
        raise ModelError(where, f"ODE-toolbox could not analyse the equations: {err}", source) from None
    propagators: dict[str, str] = {}
    updates: dict[str, str] = {}
    for solver in solvers:
        if solver["solver"] != "analytical":
            variables = ", ".join(solver["state_variables"])
            raise ModelError(where, f"the ODEs of {variables} have no exact solution; a synapse's ODEs must be linear", source)
        propagators.update(solver["conditions"]["default"]["propagators"] if "conditions" in solver else solver["propagators"])
        updates.update(solver["conditions"]["default"]["update_expressions"] if "conditions" in solver else solver["update_expressions"])
    return propagators, updates


class _Printer:
    """NESTML expressions as unitless Brian2 expressions in NEST's units (pynestml's unit factors)."""

    def __init__(self, where: str, source: str) -> None:
        self.where = where
        self.source = source
        self.guard = 0
        self.code = False
        """Printing equations and handlers (NEST gets their numbers from NESTML's C++), not default values."""

    def fail(self, node: Any, what: str) -> ModelError:
        line = node.get_source_position().start_line if node is not None and node.get_source_position() else "?"
        return ModelError(self.where, f"line {line}: {what}", self.source)

    def value(self, expr: Any, known: dict[str, float]) -> float:
        if expr.get_implicit_conversion_factor() not in (None, 1, 1.0):
            # NESTML 9.0 converts such a literal to NEST's unit and then multiplies by the conversion factor again
            raise self.fail(expr, f"write {expr} in the declared unit: NESTML 9.0 converts a default given in another unit twice")
        text = self.expression(expr)
        try:
            return float(
                eval(
                    text,
                    {"__builtins__": {}},
                    {**known, "exp": math.exp, "log": math.log, "sqrt": math.sqrt, "clip": _clip, "inf": math.inf, "abs": abs, "int": int},
                )
            )
        except Exception as err:
            raise self.fail(expr, f"cannot evaluate {text!r} as a default value: {err}") from None

    def expression(self, node: Any) -> str:
        from pynestml.meta_model.ast_expression import ASTExpression
        from pynestml.meta_model.ast_simple_expression import ASTSimpleExpression

        factor = node.get_implicit_conversion_factor() if hasattr(node, "get_implicit_conversion_factor") else None
        if isinstance(node, ASTSimpleExpression):
            text = self._simple(node)
        elif isinstance(node, ASTExpression):
            text = self._compound(node)
        else:
            raise self.fail(node, f"unsupported expression {node}")
        return f"({factor!r} * {text})" if factor not in (None, 1, 1.0) else text

    def _simple(self, node: Any) -> str:
        from pynestml.codegeneration.nest_unit_converter import NESTUnitConverter
        from pynestml.symbols.predefined_units import PredefinedUnits

        if node.is_numeric_literal_with_unit():
            if node.get_variable() is not None:
                factor = NESTUnitConverter.get_factor(PredefinedUnits.get_unit(node.get_variable().get_complete_name()).get_unit())
            else:
                import astropy.units

                factor = NESTUnitConverter.get_factor(astropy.units.Unit(str(node.unitType)))
            self._literal(node, node.get_numeric_literal())
            return repr(float(factor * node.get_numeric_literal()))
        if node.is_numeric_literal():
            return self._literal(node, node.get_numeric_literal())
        if node.is_inf_literal:
            return "inf"
        if node.is_boolean_true:
            return "True"
        if node.is_boolean_false:
            return "False"
        if node.is_function_call():
            return self._call(node.get_function_call())
        if node.is_variable():
            var = node.get_variable()
            name = var.get_complete_name()
            if not _is_variable(var) and PredefinedUnits.is_unit(name):
                return repr(float(NESTUnitConverter.get_factor(PredefinedUnits.get_unit(name).get_unit())))
            if name == "e":
                return repr(math.e)
            if name == "t":
                raise self.fail(node, "the time t in a synapse is not supported yet")
            if name in _RESERVED:
                raise self.fail(node, f"the name {name!r} is reserved by Brian2; rename it")
            if var.get_differential_order():
                raise self.fail(node, f"{name}{chr(39) * var.get_differential_order()} outside an ODE")
            return name
        raise self.fail(node, f"unsupported expression {node}")

    def _literal(self, node: Any, value: float) -> str:
        """A number, refused where NESTML 9.0 would write another one into NEST's C++ (its ConstantPrinter strips
        trailing zeros from the exponent too: 5e-10 becomes 5e-1). Parameters and initial values are safe: spikebridge
        sets them on NEST itself."""
        printed = f"{value:#.9g}".rstrip("0") if isinstance(value, float) else str(value)
        if self.code and float(printed) != float(f"{value:.9g}"):
            raise self.fail(node, f"NESTML 9.0 writes the number {value!r} into NEST's code as {printed}; write it as a parameter")
        return repr(value)

    def _call(self, call: Any) -> str:
        name = call.get_name()
        args = [self.expression(a) for a in call.get_args()]
        if name in ("exp", "log", "sqrt", "abs", "sin", "cos", "tan", "sinh", "cosh", "tanh", "floor", "ceil", "log10"):
            return f"{name}({', '.join(args)})"
        if name == "ln":
            return f"log({args[0]})"
        if name == "min":
            return f"clip({args[0]}, -inf, {args[1]})"
        if name == "max":
            return f"clip({args[0]}, {args[1]}, inf)"
        if name == "clip":
            return f"clip({', '.join(args)})"
        if name == "pow":
            return f"(({args[0]})**({args[1]}))"
        if name == "resolution":
            return "(dt/ms)"
        if name in _UNSUPPORTED_CALLS:
            raise self.fail(call, f"{name}() in a synapse is not supported yet")
        raise self.fail(call, f"unknown function {name}()")

    def _compound(self, node: Any) -> str:
        if node.is_unary_operator():
            op = node.get_unary_operator()
            return f"({'-' if op.is_unary_minus else '+'}{self.expression(node.get_expression())})"
        if node.is_encapsulated:
            return f"({self.expression(node.get_expression())})"
        if node.is_logical_not:
            return f"(not {self.expression(node.get_expression())})"
        if node.is_ternary_operator():
            c, a, b = self.expression(node.get_condition()), self.expression(node.get_if_true()), self.expression(node.if_not)
            return f"(int({c})*({a}) + (1 - int({c}))*({b}))"
        if node.is_compound_expression():
            lhs, rhs, op = self.expression(node.get_lhs()), self.expression(node.get_rhs()), node.get_binary_operator()
            return f"{lhs} {_operator(op)} {rhs}"
        if node.is_expression():
            return self.expression(node.get_expression())
        raise self.fail(node, f"unsupported expression {node}")

    def statements(self, stmts: list[Any], guard: str | None = None) -> tuple[str, ...]:
        """Straight-line abstract code; statements under ``guard`` change their target only where it holds."""
        out: list[str] = []
        for stmt in stmts:
            if stmt.is_small_stmt():
                out.extend(self._small(stmt.small_stmt, guard))
                continue
            compound = stmt.compound_stmt
            if not compound.is_if_stmt():
                raise self.fail(stmt, "loops in a synapse are not supported")
            out.extend(self._if(compound.get_if_stmt(), guard))
        return tuple(out)

    def _if(self, node: Any, guard: str | None) -> list[str]:
        clauses = [(node.get_if_clause().get_condition(), node.get_if_clause().get_stmts_body())]
        clauses += [(c.get_condition(), c.get_stmts_body()) for c in node.get_elif_clauses()]
        bodies = [body for _, body in clauses]
        # every condition is evaluated before any branch runs: a branch must not change which later branch is taken
        out: list[str] = []
        guards: list[str] = []
        taken = "1"
        for condition, _ in clauses:
            self.guard += 1
            cond, name = f"_cond{self.guard}", f"_guard{self.guard}"
            out.append(f"{cond} = int({self.expression(condition)})")
            out.append(f"{name} = {cond} * {taken}" + (f" * {guard}" if guard else ""))
            taken = f"{taken} * (1 - {cond})"
            guards.append(name)
        if node.get_else_clause() is not None:
            self.guard += 1
            name = f"_guard{self.guard}"
            out.append(f"{name} = {taken}" + (f" * {guard}" if guard else ""))
            guards.append(name)
            bodies.append(node.get_else_clause().get_stmts_body())
        for name, body in zip(guards, bodies, strict=True):
            out.extend(self.statements(body.get_stmts(), name))
        return out

    def _small(self, node: Any, guard: str | None) -> list[str]:
        if node.is_function_call():
            call = node.get_function_call()
            if call.get_name() == "emit_spike":
                if guard:
                    raise self.fail(node, "emit_spike() inside an if block is not supported")
                return [EMIT]
            if call.get_name() == "integrate_odes":
                raise self.fail(node, "integrate_odes() in an onReceive block is not supported")
            raise self.fail(node, f"a call to {call.get_name()}() as a statement is not supported")
        if node.is_declaration():
            decl = node.get_declaration()
            return [self._assign(v.get_name(), self.expression(decl.get_expression()), guard, local=True) for v in decl.get_variables()]
        if node.is_assignment():
            a = node.get_assignment()
            target, rhs = a.get_variable().get_complete_name(), self.expression(a.get_expression())
            if a.is_compound_sum:
                rhs = f"{target} + ({rhs})"
            elif a.is_compound_minus:
                rhs = f"{target} - ({rhs})"
            elif a.is_compound_product:
                rhs = f"{target} * ({rhs})"
            elif a.is_compound_quotient:
                rhs = f"{target} / ({rhs})"
            elif not a.is_direct_assignment:
                raise self.fail(node, f"unsupported assignment {a}")
            return [self._assign(target, rhs, guard)]
        raise self.fail(node, f"unsupported statement {node}")

    @staticmethod
    def _assign(target: str, rhs: str, guard: str | None, local: bool = False) -> str:
        if guard is None:
            return f"{target} = {rhs}"
        if local:  # a local declared under a guard: its value only matters where the guard holds
            return f"{target} = {rhs}"
        return f"{target} = {target} + {guard} * (({rhs}) - {target})"


def _operator(op: Any) -> str:
    from pynestml.meta_model.ast_arithmetic_operator import ASTArithmeticOperator
    from pynestml.meta_model.ast_comparison_operator import ASTComparisonOperator
    from pynestml.meta_model.ast_logical_operator import ASTLogicalOperator

    if isinstance(op, ASTArithmeticOperator):
        for attr, text in (
            ("is_plus_op", "+"),
            ("is_minus_op", "-"),
            ("is_times_op", "*"),
            ("is_div_op", "/"),
            ("is_pow_op", "**"),
            ("is_modulo_op", "%"),
        ):
            if getattr(op, attr):
                return text
    if isinstance(op, ASTComparisonOperator):
        comparisons = (("is_lt", "<"), ("is_le", "<="), ("is_eq", "=="), ("is_ne", "!="), ("is_ne2", "!="), ("is_ge", ">="), ("is_gt", ">"))
        for attr, text in comparisons:
            if getattr(op, attr):
                return text
    if isinstance(op, ASTLogicalOperator):
        return "and" if op.is_logical_and else "or"
    raise ValueError(f"unsupported operator {op}")


def _is_variable(var: Any) -> bool:
    from pynestml.symbols.symbol import SymbolKind

    scope = var.get_scope()
    return scope is not None and scope.resolve_to_symbol(var.get_complete_name(), SymbolKind.VARIABLE) is not None


def _clip(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)
