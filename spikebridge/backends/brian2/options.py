"""The options of the Brian2 backend, checked without importing Brian2."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from ..pynn.options import PositiveFloat, PositiveInt, PyNNOptions

CELL_TYPES = ("IF_cond_exp", "IF_curr_exp", "IF_cond_alpha", "IF_curr_alpha", "EIF_cond_exp_isfa_ista", "Izhikevich")
"""The spiking cell types of :mod:`~spikebridge.backends.brian2.cells` (``cells.SPIKING``), which option ``method`` may name."""
DEFAULT_METHODS = ("exact", "euler", "heun")
"""Brian2's own default: the first method that can integrate the equations (used for cell types not in MATCHED)."""


@dataclass(frozen=True)
class Integration:
    """How Brian2 integrates one cell type by default: the scheme of the NEST model PyNN maps it to.

    ``tolerances`` are GSL absolute errors per Brian2 state variable as (value, Brian2 unit name), NEST's own
    (NEST's GSL models use a relative error of 0, or a relative error at most as large, so an absolute-only
    control at the same value is at least as accurate). ``without_gsl`` is used on devices with no GSL support
    (brian2cuda).
    """

    method: str
    nest: str
    tolerances: dict[str, tuple[float, str]] = field(default_factory=dict)
    without_gsl: str = "rk4"

    def describe(self, method: str) -> str:
        """One line for ``meta.json``: the method, its tolerances, and what it matches in NEST."""
        if method.startswith("gsl") and self.tolerances:
            errors = ", ".join(f"{v} {e:g} {u}" for v, (e, u) in self.tolerances.items())
            return f"{method}, absolute error {errors}, step carried over between time steps (matches NEST {self.nest})"
        if method == self.method:
            return f"{method} (matches NEST {self.nest})"
        return f"{method} (NEST {self.nest})"


_COND_EXP = {"v": (1e-3, "mV"), "ge": (1e-3, "nS"), "gi": (1e-3, "nS")}
MATCHED: dict[str, Integration] = {
    "IF_cond_exp": Integration("gsl_rkf45", "iaf_cond_exp: GSL RKF45, gsl_odeiv_control_y_new(1e-3, 0)", _COND_EXP),
    "IF_curr_exp": Integration("exact", "iaf_psc_exp: exact integration"),
    "IF_cond_alpha": Integration(
        "gsl_rkf45",
        "iaf_cond_alpha: GSL RKF45, gsl_odeiv_control_y_new(1e-3, 0)",
        _COND_EXP | {"ye": (1e-3, "nS"), "yi": (1e-3, "nS")},
    ),
    "IF_curr_alpha": Integration("exact", "iaf_psc_alpha: exact integration"),
    "EIF_cond_exp_isfa_ista": Integration(
        "gsl_rkf45",
        "aeif_cond_exp: GSL RKF45, gsl_odeiv_control_yp_new(1e-6, 1e-6)",
        {"v": (1e-6, "mV"), "w": (1e-6, "pA"), "ge": (1e-6, "nS"), "gi": (1e-6, "nS")},
    ),
    "Izhikevich": Integration("euler", "izhikevich: forward Euler"),
}
"""The default integration of every spiking cell type: NEST's scheme for the model PyNN maps it to."""


def method_option(method: Any) -> str | dict[str, str] | None:
    """Option ``method``: one Brian2 method name for every cell type, or a table ``{cell_type: method}``."""
    if method is None or isinstance(method, str):
        return method
    if isinstance(method, Mapping):
        unknown = set(method) - set(CELL_TYPES)
        if unknown:
            raise ValueError(f"names unknown cell type(s) {sorted(unknown)}; known: {sorted(CELL_TYPES)}")
        return {str(k): str(v) for k, v in method.items()}
    raise ValueError(f"must be a method name or a table of cell type -> method, got {method!r}")


class Brian2Options(PyNNOptions):
    """Options of ``brian2``: ``method`` (a Brian2 integration method for every cell type, or a table
    ``{cell_type: method}``; default: NEST's scheme for each cell type, :data:`MATCHED`), ``threads`` (OpenMP threads of
    ``brian2:cpp``), ``nestml_substeps`` (classical Runge-Kutta steps per time step for the non-linear ODEs of a
    NESTML neuron, where NEST uses GSL's adaptive RKF45; default 10), ``build_dir`` (root of the compiled-code cache
    of the standalone variants, default ``~/.cache/spikebridge/brian2``), ``compile_jobs`` (parallel ``make`` jobs,
    default 2), ``compute_capability`` (``brian2:cuda``: the GPU architecture to compile for where no GPU can be
    asked)."""

    threads: PositiveInt = Field(1, description="OpenMP threads", json_schema_extra={"variants": ["cpp"]})
    method: Annotated[str | dict[str, str] | None, BeforeValidator(method_option)] = None
    nestml_substeps: PositiveInt = Field(10, description="RK4 steps per time step of a NESTML neuron's non-linear ODEs")
    build_dir: str | None = Field(None, description="root of the compiled-code cache", json_schema_extra={"variants": ["cpp", "cuda"]})
    compile_jobs: PositiveInt = Field(2, description="parallel make jobs", json_schema_extra={"variants": ["cpp", "cuda"]})
    compute_capability: PositiveFloat | None = Field(None, description="GPU architecture", json_schema_extra={"variants": ["cuda"]})

    def methods(self, gsl: bool = True) -> dict[str, str | tuple[str, ...]]:
        """The integration method (or methods to try, in order) of every spiking cell type.

        ``gsl=False``: a device without GSL integrators gets each matched type's ``without_gsl`` method instead.
        """
        table: dict[str, str | tuple[str, ...]] = {
            c: m.method if gsl or not m.method.startswith("gsl") else m.without_gsl for c, m in MATCHED.items()
        }
        if isinstance(self.method, str):
            return dict.fromkeys(table, self.method)
        return table | (self.method or {})


def method_options(cell_type: str, method: str) -> dict[str, Any] | None:
    """Brian2's ``method_options`` for ``method`` on ``cell_type``: NEST's GSL tolerances, or None.

    Values are (absolute error, Brian2 unit name) pairs; :mod:`~spikebridge.backends.brian2.cells` turns them into
    quantities.
    """
    matched = MATCHED.get(cell_type)
    if not method.startswith("gsl") or matched is None or not matched.tolerances:
        return None
    return {"absolute_error_per_variable": dict(matched.tolerances), "use_last_timestep": True}
