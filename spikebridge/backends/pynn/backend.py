"""The base class of the PyNN backends: what NEST and Brian2 share in how they describe themselves, keep their
state, report versions and options, and hand back recordings."""

from __future__ import annotations

import logging
import warnings
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType
from typing import Any, ClassVar

import neo

from ...models.network import Network
from .options import PyNNOptions


class PyNNBackend:
    """A backend that simulates through a ``pyNN.<simulator>`` module.

    Subclasses set ``name``, ``variants``, ``Options``, ``PACKAGES`` and ``SIMULATOR`` and implement ``build``,
    ``run``, ``connections``, ``weight_snapshots`` and ``end``; ``info`` adds their own entries to
    :meth:`base_info`.
    """

    name: ClassVar[str]
    variants: ClassVar[tuple[str | None, ...]] = (None,)
    exercised: ClassVar[tuple[str | None, ...]] = (None,)
    Options: ClassVar[type[PyNNOptions]] = PyNNOptions
    PACKAGES: ClassVar[tuple[str, ...]] = ("PyNN",)
    """Distributions every variant simulates with."""
    SIMULATOR: ClassVar[str] = ""
    """The simulator's name as shown in a run's metadata."""
    ALWAYS_REPORTED: ClassVar[tuple[str, ...]] = ("threads",)
    """Options reported in :meth:`info` at their default values too; the others only where given."""

    @classmethod
    def packages(cls, variant: str | None) -> tuple[str, ...]:
        """The distributions ``variant`` simulates with (``importlib.metadata`` names)."""
        return cls.PACKAGES

    @classmethod
    def prepare(cls, variant: str | None) -> None:
        """Nothing to refuse by default: every variant runs where the backend imports."""

    @classmethod
    def create(cls, variant: str | None, options: PyNNOptions) -> PyNNBackend:
        """A fresh instance; ``options`` validated by :func:`spikebridge.backends.check`."""
        return cls(variant, options)

    def __init__(self, variant: str | None, options: PyNNOptions) -> None:
        self.variant = variant
        self.label = self.name if variant is None else f"{self.name}:{variant}"
        self.options = options
        self.network: Network | None = None
        self.sim: ModuleType | None = None
        self.populations: dict[str, Any] = {}

    def complete(self) -> None:
        """In-process simulators have simulated each phase in :meth:`run`: nothing is left to do."""

    @staticmethod
    def quiet_pynn() -> None:
        """Silence PyNN's warnings about simulator defaults it cannot set (initial values, deprecations)."""
        warnings.filterwarnings("ignore", module=r"pyNN(\..*)?")
        logging.getLogger("PyNN").setLevel(logging.ERROR)

    @staticmethod
    def max_delay(network: Network) -> float:
        """PyNN's ``max_delay`` (ms) for ``network``: its longest delay, at least two steps."""
        dt = network.dt
        longest = max((float(p.delay.max()) for p in network.projections.values() if len(p)), default=dt)
        return max(longest, 2 * dt)

    def inject_and_record(self, network: Network) -> None:
        """Inject the network's current sources and set up recording of every recorded population."""
        from .cells import inject_current, setup_recording

        assert self.sim is not None
        for cur in network.currents.values():
            inject_current(self.sim, self.populations[cur.target], cur)
        for name, pop in network.populations.items():
            setup_recording(self.populations[name], pop, network.dt)

    def versions(self) -> dict[str, str | None]:
        """Installed versions of :meth:`packages` (``None`` where one is missing)."""
        out: dict[str, str | None] = {}
        for package in self.packages(self.variant):
            try:
                out[package] = version(package)
            except PackageNotFoundError:
                out[package] = None
        return out

    def reported_options(self) -> dict[str, Any]:
        """The options as they go into the metadata: ``ALWAYS_REPORTED`` ones, then those given."""
        given = self.options.model_dump(exclude_unset=True)
        always = {k: getattr(self.options, k) for k in self.ALWAYS_REPORTED}
        return {**always, **{k: v for k, v in given.items() if k not in always}}

    def base_info(self) -> dict[str, Any]:
        """The entries of :meth:`info` every PyNN backend has: simulator, versions, options."""
        return {"simulator": self.SIMULATOR, "versions": self.versions(), "options": self.reported_options()}

    def block(self, segments: list[neo.Segment]) -> neo.Block:
        """A Neo block named after the model, holding ``segments``."""
        block = neo.Block(name=self.network.model.name if self.network else "")
        block.segments.extend(segments)
        return block
