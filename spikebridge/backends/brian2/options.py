"""The options of the Brian2 backend, checked without importing Brian2."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from ..pynn.options import PositiveFloat, PositiveInt, PyNNOptions

CELL_TYPES = ("IF_cond_exp", "IF_curr_exp", "IF_cond_alpha", "IF_curr_alpha", "EIF_cond_exp_isfa_ista", "Izhikevich")
"""The spiking cell types of :mod:`~spikebridge.backends.brian2.cells` (``cells.SPIKING``), which option ``method`` may name."""
DEFAULT_METHODS = ("exact", "euler", "heun")
"""Brian2's own default: the first method that can integrate the equations."""


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
    ``{cell_type: method}``; default: Brian2's first fitting of exact, euler, heun), ``threads`` (OpenMP threads of
    ``brian2:cpp``), ``build_dir`` (root of the compiled-code cache of the standalone variants, default
    ``~/.cache/spikebridge/brian2``), ``compile_jobs`` (parallel ``make`` jobs, default 2), ``compute_capability``
    (``brian2:cuda``: the GPU architecture to compile for where no GPU can be asked)."""

    threads: PositiveInt = Field(1, description="OpenMP threads", json_schema_extra={"variants": ["cpp"]})
    method: Annotated[str | dict[str, str] | None, BeforeValidator(method_option)] = None
    build_dir: str | None = Field(None, description="root of the compiled-code cache", json_schema_extra={"variants": ["cpp", "cuda"]})
    compile_jobs: PositiveInt = Field(2, description="parallel make jobs", json_schema_extra={"variants": ["cpp", "cuda"]})
    compute_capability: PositiveFloat | None = Field(None, description="GPU architecture", json_schema_extra={"variants": ["cuda"]})

    def methods(self) -> dict[str, str | tuple[str, ...]]:
        """The integration method (or methods to try, in order) of every spiking cell type."""
        table: dict[str, str | tuple[str, ...]] = dict.fromkeys(CELL_TYPES, DEFAULT_METHODS)
        if isinstance(self.method, str):
            return dict.fromkeys(table, self.method)
        return table | (self.method or {})
