"""An instantiated network: every array a backend loads, drawn once from the model's seed.

Backends build from these arrays and nothing else, so two backends simulate the same network on the
same input; only their numerics differ.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from .schema import Model, Phase, Record, Synapse


@dataclass(frozen=True)
class PopulationData:
    """One population. ``parameters``/``initial``: a float (homogeneous) or a per-cell float64 array, PyNN units.

    ``spike_times``: per-cell sorted times (ms, on the dt grid) for spike sources, else None.

    Parameters
    ----------
    name : str
        The population's name in the model.
    cell_type : str
        A PyNN standard cell type.
    size : int
        Cells.
    shape : tuple of int
        Its grid (``(size,)`` for a plain population).
    parameters, initial : dict
        Cell parameters and initial values by name, in PyNN units (mV, ms, nF, nA, uS, Hz).
    spike_times : list of numpy.ndarray, optional
        One array of spike times (ms) per cell, for spike sources.
    record : Record, optional
        What the model records from it.
    """

    name: str
    cell_type: str
    size: int
    shape: tuple[int, ...]
    parameters: dict[str, float | np.ndarray]
    initial: dict[str, float | np.ndarray]
    spike_times: list[np.ndarray] | None = None
    record: Record | None = None

    @property
    def is_source(self) -> bool:
        """Whether the population is a spike source (Poisson or array), whose trains are drawn here."""
        return self.cell_type in ("SpikeSourcePoisson", "SpikeSourceArray")


@dataclass(frozen=True)
class TieData:
    """A tied projection's link to its source: connection k carries ``scale`` times the weight of the source's
    connection ``source_index[k]`` (the same two cells the other way), copied at t = 0 and every ``interval`` ms."""

    source: str
    scale: float
    interval: float
    source_index: np.ndarray


@dataclass(frozen=True)
class ProjectionData:
    """One projection as arrays of equal length: pre and post cell indices, weight (uS or nA), delay (ms).

    Parameters
    ----------
    name, pre, post : str
        The projection's name and its populations.
    receptor : str
        ``"excitatory"``, ``"inhibitory"`` or ``"signed"``.
    synapse : Synapse
        Static or STDP, as the model gives it.
    pre_idx, post_idx : numpy.ndarray
        Cell indices (int64), sorted by (pre, post).
    weight : numpy.ndarray
        Weights: uS onto conductance-based cells, nA onto current-based ones.
    delay : numpy.ndarray
        Delays (ms), on the dt grid and >= dt.
    port : str, optional
        Onto a NESTML neuron: the spike input port the weights go to.
    tie : TieData, optional
        Where the weights follow another projection's (transposed); ``weight`` is then their value at t = 0.
    """

    name: str
    pre: str
    post: str
    receptor: str
    synapse: Synapse
    pre_idx: np.ndarray
    post_idx: np.ndarray
    weight: np.ndarray
    delay: np.ndarray
    port: str | None = None
    tie: TieData | None = None

    def __len__(self) -> int:
        return len(self.pre_idx)


@dataclass(frozen=True)
class CurrentData:
    """A current injected into ``cells`` of ``target``: ``times`` (ms) at which the amplitude (nA) changes.

    Parameters
    ----------
    name, target : str
        The stimulus's name and the population it drives.
    cells : numpy.ndarray
        Indices of the driven cells.
    times : numpy.ndarray
        Times (ms) at which the amplitude changes.
    amplitudes : numpy.ndarray
        The amplitude (nA) from each time on.
    """

    name: str
    target: str
    cells: np.ndarray
    times: np.ndarray
    amplitudes: np.ndarray


@dataclass(frozen=True)
class PoissonInputData:
    """Background noise the simulator draws: ``n`` Poisson inputs at ``rate`` (Hz) onto every cell of ``target``.

    Parameters
    ----------
    name, target : str
        The stimulus's name and the population it drives.
    n : int
        Inputs per cell.
    rate : float
        Rate of each input (Hz).
    weight : float
        Weight of each input spike (nA or uS, the target's weight unit), excitatory.
    """

    name: str
    target: str
    n: int
    rate: float
    weight: float


@dataclass(frozen=True)
class Network:
    """A model with every random quantity drawn: what :func:`~spikebridge.models.instantiate` returns.

    Parameters
    ----------
    model : Model
        The resolved model (every quantity a float in PyNN's units, phases filled in).
    populations : dict of str to PopulationData
        By population name.
    projections : dict of str to ProjectionData
        By projection name.
    currents : dict of str to CurrentData
        Injected currents by stimulus name.
    inputs : dict of str to PoissonInputData
        Background Poisson inputs that the simulator draws, by stimulus name.
    """

    model: Model
    populations: dict[str, PopulationData]
    projections: dict[str, ProjectionData]
    currents: dict[str, CurrentData] = field(default_factory=dict)
    inputs: dict[str, PoissonInputData] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        """The model's seed (``simulation.seed``), from which every array was drawn."""
        return self.model.simulation.seed

    @property
    def dt(self) -> float:
        """The simulation step (ms)."""
        return float(self.model.simulation.dt)

    @property
    def phases(self) -> list[Phase]:
        """The run's phases, in order (each with a name and a duration in ms)."""
        assert self.model.simulation.phases is not None
        return list(self.model.simulation.phases)

    @property
    def duration(self) -> float:
        """The whole run's duration (ms): the sum of the phases'."""
        return float(sum(float(p.duration) for p in self.phases))

    @property
    def weight_projections(self) -> list[str]:
        """Projections whose weights are snapshotted during the run."""
        spec = self.model.record_weights
        if spec is None:
            return []
        return list(self.projections) if spec.projections == "all" else list(spec.projections)

    def snapshot_times(self) -> np.ndarray:
        """Times (ms) of weight snapshots: 0, interval, 2 interval, ... and the end; or only the end.

        Returns
        -------
        numpy.ndarray
            Snapshot times in ms (empty when the model records no weights).
        """
        spec = self.model.record_weights
        if spec is None:
            return np.empty(0)
        if spec.interval == "end":
            return np.array([self.duration])
        steps = np.arange(0, int(round(self.duration / self.dt)) + 1, int(round(float(spec.interval) / self.dt)))
        times = steps * self.dt
        if not np.isclose(times[-1], self.duration):
            times = np.append(times, self.duration)
        return np.round(times, 10)

    @property
    def n_cells(self) -> int:
        """Cells in all populations, spike sources included."""
        return sum(p.size for p in self.populations.values())

    @property
    def n_synapses(self) -> int:
        """Connections in all projections."""
        return sum(len(p) for p in self.projections.values())

    def arrays(self) -> dict[str, np.ndarray]:
        """Every drawn array by a stable name (for hashing, saving and comparing).

        Returns
        -------
        dict of str to numpy.ndarray
            Names such as ``pop/exc/param/tau_m``, ``pop/inputs/spikes/times``, ``prj/ff/weight``,
            ``cur/step/amplitudes``; values in PyNN units (ms, mV, nA, uS, nF, Hz).
        """
        out: dict[str, np.ndarray] = {}
        for pop in self.populations.values():
            for kind, values in (("param", pop.parameters), ("init", pop.initial)):
                for name, value in sorted(values.items()):
                    out[f"pop/{pop.name}/{kind}/{name}"] = np.atleast_1d(np.asarray(value, dtype=np.float64))
            if pop.spike_times is not None:
                lengths = np.array([len(t) for t in pop.spike_times], dtype=np.int64)
                out[f"pop/{pop.name}/spikes/counts"] = lengths
                out[f"pop/{pop.name}/spikes/times"] = np.concatenate(pop.spike_times) if len(pop.spike_times) else np.empty(0)
        for prj in self.projections.values():
            for name in ("pre_idx", "post_idx", "weight", "delay"):
                out[f"prj/{prj.name}/{name}"] = getattr(prj, name)
        for cur in self.currents.values():
            for name in ("cells", "times", "amplitudes"):
                out[f"cur/{cur.name}/{name}"] = getattr(cur, name)
        for inp in self.inputs.values():
            out[f"inp/{inp.name}/n_rate_weight"] = np.array([inp.n, inp.rate, inp.weight], dtype=np.float64)
        return out

    def digest(self) -> str:
        """SHA-256 over every drawn array (names, dtypes and bytes): equal digests mean identical networks.

        Returns
        -------
        str
            64 hexadecimal digits.
        """
        h = hashlib.sha256()
        for name, arr in sorted(self.arrays().items()):
            a = np.ascontiguousarray(arr)
            h.update(name.encode())
            h.update(str(a.dtype).encode())
            h.update(memoryview(a).cast("B"))  # the array's own buffer: tobytes() would copy it first
        return h.hexdigest()
