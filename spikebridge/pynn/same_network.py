"""``setup(..., same_network=True, rng_seed=S)``: every random thing a script leaves to chance, drawn in numpy from
``S``, so ``spikebridge.pynn.nest`` and the Brian2 modules simulate the same network on the same input.

Off by default: unchanged scripts behave as on stock PyNN. On, three things change:

- a ``NumpyRNG`` made without a seed (``RandomDistribution``'s default) gets one drawn from ``S``, in the order
  the script makes them;
- a connector given no ``rng`` draws from ``S`` (stock PyNN uses one fixed seed, 151985012, whatever the script);
- a ``SpikeSourcePoisson`` population becomes a ``SpikeSourceArray`` population whose spikes are drawn in numpy,
  one Bernoulli trial per cell and time step (probability ``rate * dt``) in ``[start, start + duration)``. Its
  ``rate``, ``start`` and ``duration`` are read and set through ``get``/``set`` as before.

Each ``run()`` draws its spikes before the simulator runs, and a little beyond its end (``dt + min_delay``): NEST
drops a spike given to a generator for the next ``dt + min_delay`` ms, so those are loaded one run ahead (and the
first ``dt + min_delay`` ms have none). A rate set between runs therefore applies from that far after the run's
end, on every backend alike. A step's draw depends only on the seed, the source, the cell and the step, not on how
the simulation is cut into runs. A NEST ``NativeRNG`` still draws in NEST; ``reset()`` is refused while it is on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyNN.connectors
from pyNN.parameters import LazyArray, Sequence
from pyNN.random import NumpyRNG

POISSON = ("rate", "start", "duration")
"""The parameters of a ``SpikeSourcePoisson``, kept here once its population draws its spikes in numpy."""


BLOCK = 1024
"""Time steps per block of uniform draws: a step's draw depends only on the seed, the source, the cell and the
step, not on how the simulation is cut into runs."""


class SameNetwork:
    """The draws of one ``setup(same_network=True)``: seeds for the script's generators, and its Poisson sources."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self.streams = 0
        self.sources: list[Any] = []
        self.drawn = -1
        """The last time step whose spikes are drawn (-1: none yet)."""

    def next_seed(self) -> int:
        """A seed for the script's next unseeded generator, drawn from the setup's seed."""
        self.streams += 1
        return int(np.random.SeedSequence(self.seed, spawn_key=(0, self.streams)).generate_state(1)[0])

    def poisson(self, population: Any, celltype: Any) -> None:
        """Keep ``celltype``'s rate, start and duration per cell for ``population``, which draws its spikes here."""
        space = celltype.parameter_space
        space.shape = (population.size,)
        space.evaluate(simplify=False)
        population._poisson = {name: np.array(space[name], dtype=float) for name in POISSON}
        population._poisson_source = len(self.sources)
        population._poisson_spikes = [np.empty(0) for _ in range(population.size)]
        self.sources.append(population)

    def uniform(self, source: int, size: int, first: int, last: int) -> np.ndarray:
        """Uniform draws of ``size`` cells for the time steps ``first`` to ``last``, one block seed per ``BLOCK`` steps."""
        blocks = range(first // BLOCK, last // BLOCK + 1)
        seeds = (np.random.SeedSequence(self.seed, spawn_key=(1, source, b)) for b in blocks)
        draws = np.concatenate([np.random.default_rng(seed).random((size, BLOCK)) for seed in seeds], axis=1)
        offset = first - blocks[0] * BLOCK
        return draws[:, offset : offset + last - first + 1]

    def draw(self, t_stop: float, dt: float, lead: float) -> None:
        """Draw every source's spikes up to ``t_stop + lead`` and load them (``_load_drawn``). The first ``lead``
        ms have none: NEST cannot emit them."""
        first = max(self.drawn + 1, int(np.floor(lead / dt + 1e-9)) + 1)
        last = int(np.floor((t_stop + lead) / dt + 1e-9))
        if last < first:
            return
        times = np.round(np.arange(first, last + 1) * dt, 10)
        for population in self.sources:
            p = population._poisson
            on = (times >= p["start"][:, None]) & (times < (p["start"] + p["duration"])[:, None])
            chance = np.clip(p["rate"] * dt / 1000.0, 0.0, 1.0)[:, None]
            hits = on & (self.uniform(population._poisson_source, population.size, first, last) < chance)
            for k in range(population.size):
                population._poisson_spikes[k] = np.concatenate([population._poisson_spikes[k], times[hits[k]]])
            population._load_drawn()
        self.drawn = last


_ACTIVE: SameNetwork | None = None


def active() -> SameNetwork | None:
    """The draws of the last ``setup()``, ``None`` unless it asked for ``same_network=True``."""
    return _ACTIVE


def start(extra_params: dict[str, Any]) -> dict[str, Any]:
    """At ``setup()``: take ``same_network`` out of its parameters and begin (or end) drawing in numpy."""
    global _ACTIVE
    params = dict(extra_params)
    wanted = params.pop("same_network", False)
    if wanted not in (True, False):
        raise ValueError(f"same_network={wanted!r}: expected True or False")
    _ACTIVE = None
    if wanted:
        if params.get("rng_seed") is None:
            raise ValueError("setup(same_network=True) needs rng_seed=...: every backend draws the network from that seed")
        _ACTIVE = SameNetwork(int(params["rng_seed"]))
    return params


def before_run(t_stop: float, dt: float, min_delay: float) -> None:
    """Before a run to ``t_stop`` (ms): the Poisson sources' spikes, drawn to ``t_stop + dt + min_delay``."""
    if _ACTIVE is not None:
        _ACTIVE.draw(t_stop, dt, lead=dt + min_delay)


def refuse_reset(module: str) -> None:
    """``reset()`` is not offered while the network is drawn here."""
    if _ACTIVE is not None:
        raise NotImplementedError(f"{module} cannot reset() after setup(same_network=True); run a new setup() for each segment")


def population_args(cellclass: Any, cellparams: Any, array_type: type) -> tuple[Any, Any]:
    """(the cell type a population is made of, the Poisson type it replaces or ``None``): a ``SpikeSourcePoisson``
    becomes an empty ``array_type`` (the module's ``SpikeSourceArray``) while ``same_network`` is on."""
    celltype = cellclass(**(cellparams or {})) if isinstance(cellclass, type) else cellclass
    if _ACTIVE is None or type(celltype).__name__ != "SpikeSourcePoisson":
        return cellclass, None
    return array_type(spike_times=[]), celltype


class DrawnPoisson:
    """``get``/``set`` of ``rate``, ``start`` and ``duration`` for populations (and their views) whose Poisson
    spikes are drawn here; everything else as PyNN's."""

    size: int

    def _drawn(self) -> tuple[dict[str, np.ndarray] | None, Any]:
        root = getattr(self, "grandparent", self)
        return getattr(root, "_poisson", None), getattr(self, "mask", slice(None))

    def get(self, parameter_names: Any, gather: bool = False, simplify: bool = True) -> Any:
        """PyNN's ``get``; a drawn Poisson source's ``rate``, ``start`` and ``duration`` come from what was given."""
        drawn, mask = self._drawn()
        names = [parameter_names] if isinstance(parameter_names, str) else list(parameter_names)
        if drawn is None or not set(names) & set(POISSON):
            return super().get(parameter_names, gather, simplify)  # type: ignore[misc]
        values = []
        for name in names:
            if name not in POISSON:
                values.append(super().get(name, gather, simplify))  # type: ignore[misc]
                continue
            value = drawn[name][mask]
            values.append(value[0] if simplify and value.size and np.all(value == value[0]) else value.copy())
        return values[0] if isinstance(parameter_names, str) else values

    def set(self, **parameters: Any) -> None:
        """PyNN's ``set``; a drawn Poisson source keeps ``rate``, ``start`` and ``duration`` for its next draws."""
        drawn, mask = self._drawn()
        if drawn is not None:
            for name in [n for n in parameters if n in POISSON]:
                drawn[name][mask] = LazyArray(parameters.pop(name), shape=(self.size,), dtype=float).evaluate(simplify=False)
        if parameters:
            super().set(**parameters)  # type: ignore[misc]


class DrawnPoissonPopulation(DrawnPoisson):
    """A population whose ``SpikeSourcePoisson`` is made an ``_array_type`` (the module's ``SpikeSourceArray``)
    drawing its spikes here while ``same_network`` is on."""

    _array_type: type

    def __init__(
        self, size: Any, cellclass: Any, cellparams: Any = None, structure: Any = None, initial_values: Any = None, label: str | None = None
    ) -> None:
        cellclass, poisson = population_args(cellclass, cellparams, self._array_type)
        cellparams = None if poisson is not None else cellparams
        super().__init__(size, cellclass, cellparams, structure, initial_values or {}, label)  # type: ignore[call-arg]
        if poisson is not None and _ACTIVE is not None:
            _ACTIVE.poisson(self, poisson)


def spike_sequences(population: Any, after: float = -np.inf, scale: float = 1.0) -> np.ndarray:
    """The drawn spikes of each cell later than ``after`` (ms), as PyNN ``Sequence`` objects, times ``scale``."""
    return np.array([Sequence(times[times > after] * scale) for times in population._poisson_spikes], dtype=Sequence)


_numpy_rng_init = NumpyRNG.__init__
_get_rng = pyNN.connectors._get_rng


def _seeded_numpy_rng_init(self: NumpyRNG, seed: int | None = None, parallel_safe: bool = True) -> None:
    _numpy_rng_init(self, seed if seed is not None or _ACTIVE is None else _ACTIVE.next_seed(), parallel_safe)


def _seeded_get_rng(rng: Any) -> Any:
    if rng is None and _ACTIVE is not None:
        return NumpyRNG(seed=_ACTIVE.next_seed())
    return _get_rng(rng)


NumpyRNG.__init__ = _seeded_numpy_rng_init
pyNN.connectors._get_rng = _seeded_get_rng
