"""``instantiate(model)``: draw every random thing once, in numpy, from the model's seed."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import ModelError, ModelWarning
from . import connectors, delays, physics, rate_schedule, spiketrains
from .check import CONDUCTANCE_BASED, cell_class, nestml_neuron, population_size
from .memory import check_memory, expected_synapses
from .network import CurrentData, Network, PoissonInputData, PopulationData, ProjectionData, TieData
from .random import draw, is_constant, stream
from .schema import Distribution, Model, Population, Stimulus, as_float


def _population(name: str, pop: Population, model: Model) -> PopulationData:
    seed = model.simulation.seed
    n = population_size(pop, f"populations.{name}")
    shape = tuple(pop.shape) if pop.shape is not None else (n,)
    values: dict[str, dict[str, float | np.ndarray]] = {"parameters": {}, "initial": {}}
    for kind in ("parameters", "initial"):
        for pname, dist in getattr(pop, kind).items():
            if is_constant(dist):
                values[kind][pname] = as_float(dist.value)
            else:
                path = f"populations.{name}.{kind}.{pname}"
                values[kind][pname] = drawn = draw(dist, n, stream(seed, "pop", name, kind, pname), path)
                # a NESTML neuron's parameters have NESTML's names, which the physical limits do not know
                physics.check_drawn(pname if kind == "parameters" and pop.nestml is None else "", drawn, path)
    if pop.nestml is None:
        defaults = dict(cell_class(pop.cell_type).default_parameters)
        physics.check_drawn_order(values["parameters"], defaults, f"populations.{name}.parameters")
    return PopulationData(
        name=name,
        cell_type=pop.cell_type,
        size=n,
        shape=shape,
        parameters=values["parameters"],
        initial=values["initial"],
        record=model.recording.get(name),
    )


def _explicit_note(lists: Sequence[Sequence[float | str]], dt: float, path: str, notes: list[str]) -> None:
    """Say how many explicit spike times go off the dt grid or share a step (two spikes in one step become one)."""
    off = merged = 0
    for ts in lists:
        ratio = np.asarray(ts, dtype=np.float64) / dt
        steps = np.rint(ratio)
        off += int(np.count_nonzero(np.abs(ratio - steps) > delays.TOLERANCE))
        merged += int(np.count_nonzero(np.diff(steps) == 0))
    if off or merged:
        notes.append(f"{path}: {off} spike times rounded to the dt = {dt:g} ms grid, {merged} merged with another in the same step")


def _source_trains(
    name: str,
    pop: Population,
    size: int,
    stimuli: list[tuple[str, Stimulus]],
    model: Model,
    t_stop: float,
    base: Path | None,
    notes: list[str],
) -> list[np.ndarray]:
    """All spikes of a spike-source population: its own (Poisson rate or explicit times) plus stimuli."""
    seed, dt = model.simulation.seed, float(model.simulation.dt)
    cells: list[np.ndarray] = []
    times: list[np.ndarray] = []

    def add_poisson(rate: float | np.ndarray, start: float, stop: float, idx: np.ndarray, key: tuple[str, ...]) -> None:
        c, t = spiketrains.poisson(len(idx), rate, start, min(stop, t_stop), stream(seed, *key))
        cells.append(idx[c])
        times.append(t)

    everyone = np.arange(size, dtype=np.int64)
    if pop.cell_type == "SpikeSourcePoisson":
        params = {k: as_float(v.value) for k, v in pop.parameters.items() if is_constant(v)}
        varying = [k for k, v in pop.parameters.items() if not is_constant(v)]
        if set(varying) - {"rate"}:
            first = sorted(set(varying) - {"rate"})[0]
            raise ModelError(f"populations.{name}.parameters.{first}", "only 'rate' may vary across cells of a SpikeSourcePoisson")
        rate: float | np.ndarray = params.get("rate", 1.0)
        if "rate" in varying:
            rng = stream(seed, "pop", name, "parameters", "rate")
            rate = draw(pop.parameters["rate"], size, rng, f"populations.{name}.parameters.rate")
        start = params.get("start", 0.0)
        add_poisson(rate, start, start + params.get("duration", t_stop), everyone, ("pop", name, "poisson"))
    # explicit spike times were checked (sorted, from spiketrains.FIRST_STEP * dt on) when the model was resolved
    if pop.spike_times is not None:
        _explicit_note(pop.spike_times, dt, f"populations.{name}.spike_times", notes)
        lists = pop.spike_times if len(pop.spike_times) == size else pop.spike_times * size
        cells.append(np.repeat(everyone, [len(ts) for ts in lists]))
        times.append(np.array([t for ts in lists for t in ts], dtype=np.float64))
    for sname, stim in stimuli:
        idx = np.asarray(stim.cells, dtype=np.int64) if stim.cells is not None else everyone
        if stim.kind == "poisson" and stim.resample_every is not None:
            c, t = spiketrains.resampled_poisson(
                len(idx),
                as_float(stim.rate),
                float(stim.start or 0.0),
                min(float(stim.stop if stim.stop is not None else t_stop), t_stop),
                float(stim.resample_every),
                as_float(stim.active_fraction),
                stream(seed, "stim", sname, "resampled"),
            )
            cells.append(idx[c])
            times.append(t)
        elif stim.kind == "rate_schedule":
            path = f"stimuli.{sname}.file"
            edges, rates = rate_schedule.read(str(stim.file), base, path, len(idx))
            c, t = rate_schedule.poisson(edges, rates, stream(seed, "stim", sname, "schedule"))
            cells.append(idx[c])
            times.append(t)
        elif stim.kind == "poisson":
            windows = (
                [(float(w.start), float(w.stop), float(w.rate)) for w in stim.windows]
                if stim.windows is not None
                else [(float(stim.start or 0.0), float(stim.stop if stim.stop is not None else t_stop), as_float(stim.rate))]
            )
            for k, (start, stop, rate) in enumerate(windows):
                add_poisson(rate, start, stop, idx, ("stim", sname, str(k)))
        else:  # spike_array
            assert stim.spike_times is not None
            _explicit_note(stim.spike_times, dt, f"stimuli.{sname}.spike_times", notes)
            lists = stim.spike_times if len(stim.spike_times) == len(idx) else stim.spike_times * len(idx)
            if len(lists) != len(idx):
                raise ModelError(f"stimuli.{sname}.spike_times", f"expected 1 or {len(idx)} lists of times, got {len(stim.spike_times)}")
            cells.append(np.repeat(idx, [len(ts) for ts in lists]))
            times.append(np.array([t for ts in lists for t in ts], dtype=np.float64))
    all_cells = np.concatenate(cells) if cells else np.empty(0, dtype=np.int64)
    all_times = np.concatenate(times) if times else np.empty(0)
    keep = all_times < t_stop
    return spiketrains.on_grid(all_cells[keep], all_times[keep], size, dt)


def _check_sign(name: str, weight: np.ndarray, receptor: str, conductance: bool) -> None:
    if weight.size == 0 or receptor == "signed":
        return
    path = f"projections.{name}.weight"
    if conductance and weight.min() < 0:
        raise ModelError(path, f"drew negative conductances (min {weight.min():.4g} uS); conductances must be >= 0: add bounds = [0, ...]")
    if not conductance and receptor == "inhibitory" and weight.max() > 0:
        raise ModelError(path, "inhibitory weights onto current-based cells must be <= 0 nA (PyNN's sign convention)")
    if not conductance and receptor == "excitatory" and weight.min() < 0:
        raise ModelError(path, "excitatory weights must be >= 0 (give inhibition its own projection with receptor = 'inhibitory')")


def _check_weights(name: str, weight: np.ndarray, model: Model, drew: str = "drew") -> None:
    """PyNN's sign convention onto PyNN cells; magnitudes (>= 0) onto a NESTML neuron's port declared excitatory or
    inhibitory."""
    prj = model.projections[name]
    post_pop = model.populations[prj.post]
    neuron = nestml_neuron(post_pop)
    if neuron is None:
        _check_sign(name, weight, prj.receptor, CONDUCTANCE_BASED.get(post_pop.cell_type, False))
    elif neuron.ports.get(prj.port or "") and weight.size and weight.min() < 0:
        raise ModelError(
            f"projections.{name}.weight",
            f"port {prj.port!r} of {neuron.name} is declared {neuron.ports[prj.port or '']}: it takes a weight's magnitude, "
            f"so weights must be >= 0 ({drew} down to {weight.min():.4g})",
        )


def _projection(name: str, model: Model, base: Path | None, notes: list[str]) -> ProjectionData:
    prj = model.projections[name]
    seed, dt = model.simulation.seed, float(model.simulation.dt)
    pre_pop, post_pop = model.populations[prj.pre], model.populations[prj.post]
    shape = lambda p, n: list(p.shape) if p.shape is not None else [population_size(p, f"populations.{n}")]  # noqa: E731
    pre, post, w_list, d_list = connectors.connect(
        prj.connector,
        shape(pre_pop, prj.pre),
        shape(post_pop, prj.post),
        prj.pre == prj.post,
        stream(seed, "prj", name, "connect"),
        f"projections.{name}.connector",
        base,
        dt=dt,
    )
    n = len(pre)
    weight = w_list if w_list is not None else draw(prj.weight, n, stream(seed, "prj", name, "weight"), f"projections.{name}.weight")
    physics.check_drawn("weight", weight, f"projections.{name}.weight")
    delay_dist = prj.delay if prj.delay is not None else Distribution(value=dt)
    delay = d_list if d_list is not None else draw(delay_dist, n, stream(seed, "prj", name, "delay"), f"projections.{name}.delay")
    # The delay policy (see .delays): nothing below dt reaches here; off-grid delays are rounded, and said so
    # where the model gave them exactly (a drawn distribution is continuous: its rounding is expected).
    delay, rounded = delays.snap(delay, dt, f"projections.{name}.delay")
    if rounded and (d_list is not None or delay_dist.distribution == "constant"):
        notes.append(f"projections.{name}.delay: rounded {rounded} of {n} delays to the dt = {dt:g} ms grid (nearest step, halves up)")
    _check_weights(name, weight, model)
    return ProjectionData(
        name=name,
        pre=prj.pre,
        post=prj.post,
        receptor=prj.receptor,
        synapse=prj.synapse,
        pre_idx=pre,
        post_idx=post,
        weight=np.asarray(weight, dtype=np.float64),
        delay=delay,
        port=prj.port,
    )


def _tie(data: ProjectionData, projections: dict[str, ProjectionData], model: Model) -> ProjectionData:
    """A tied projection with its source's connection per connection and its weights at t = 0; ModelError where a
    connection has no source connection the other way."""
    tie = model.projections[data.name].tie
    assert tie is not None
    source = projections[tie.source]
    # the source's connections are sorted by (pre, post): (post, pre) of the tied ones, found by binary search
    n_post = int(max(source.post_idx.max(initial=-1), data.pre_idx.max(initial=-1))) + 1
    keys = source.pre_idx * n_post + source.post_idx
    wanted = data.post_idx * n_post + data.pre_idx
    index = np.searchsorted(keys, wanted)
    found = index < len(keys)
    found[found] = keys[index[found]] == wanted[found]
    if not found.all():
        k = int(np.flatnonzero(~found)[0])
        raise ModelError(
            f"projections.{data.name}.tie",
            f"its connection {data.pre_idx[k]} -> {data.post_idx[k]} has no connection {data.post_idx[k]} -> {data.pre_idx[k]} in "
            f"{tie.source!r} to follow ({int((~found).sum())} of {len(data)} have none)",
        )
    if len(data) != len(source) or len(np.unique(index)) < len(data):
        raise ModelError(
            f"projections.{data.name}.tie",
            f"a tie is a whole transpose: each of {tie.source!r}'s {len(source)} connections once the other way (this projection "
            f"has {len(data)} connections, {len(np.unique(index))} of them distinct pairs of the source's)",
        )
    weight = tie.scale * source.weight[index]
    _check_weights(data.name, weight, model, drew=f"scale x {tie.source!r}'s weights go")
    tied = TieData(tie.source, float(tie.scale), as_float(tie.interval), index.astype(np.int64))
    return replace(data, weight=weight, tie=tied)


def _current(name: str, stim: Stimulus, size: int) -> CurrentData:
    cells = np.asarray(stim.cells if stim.cells is not None else range(size), dtype=np.int64)
    if stim.kind == "dc":
        start = float(stim.start or 0.0)
        times = [start] if stim.stop is None else [start, float(stim.stop)]
        amps = [as_float(stim.amplitude)] if stim.stop is None else [as_float(stim.amplitude), 0.0]
    else:
        assert stim.times is not None and stim.amplitudes is not None  # a step current: resolve requires both
        times = [float(t) for t in stim.times]
        amps = [float(a) for a in stim.amplitudes]
    return CurrentData(name, stim.target, cells, np.asarray(times), np.asarray(amps))


def instantiate(model: Model, base: Path | None = None) -> Network:
    """Draw every random array of a resolved model (connectivity, weights, delays, initial values, inputs).

    The same model and seed give byte-identical arrays (see :meth:`Network.digest`). ``base`` is the
    folder relative to which connection and rate-schedule files are read.

    A model whose arrays would not fit in the available memory is refused before anything is drawn
    (:mod:`.memory`). Errors found while drawing are ModelErrors naming the model's file. Off-grid delays are
    rounded to the dt grid with a :class:`~spikebridge.errors.ModelWarning` per projection (:mod:`.delays`),
    issued once the whole network is drawn.

    Parameters
    ----------
    model : Model
        A model, resolved or not (it is resolved first if needed: :func:`spikebridge.models.check.resolve`).
    base : pathlib.Path, optional
        The folder of the model file, for relative data-file names.

    Returns
    -------
    Network
        Every array a backend loads: cell parameters and initial values (PyNN units), spike-source trains (ms),
        connections with weights (uS or nA) and delays (ms), injected currents (nA).

    Raises
    ------
    ModelError
        If the model is invalid, names a missing data file, or would not fit in memory.

    Examples
    --------
    >>> from spikebridge.models import load_model
    >>> model = load_model("stdp_bimodal", ["simulation.duration=100"])
    >>> net = instantiate(model)
    >>> net.n_cells, net.n_synapses, list(net.projections)
    (1001, 1000, ['input_post'])
    >>> instantiate(model).digest() == net.digest()   # the same model and seed: the same arrays
    True
    """
    source = model._source
    notes: list[str] = []
    try:
        network = _instantiate(model, base, notes)
    except ModelError as err:
        raise (err.with_source(source) if source and not err.source else err) from None
    for note in notes:
        # attributed to the model file (line 0: nothing of the file is quoted), not to the code that instantiated it
        warnings.warn_explicit(note, ModelWarning, source or "<model>", 0)
    return network


def _instantiate(model: Model, base: Path | None, notes: list[str]) -> Network:
    if model.simulation.phases is None:
        from .check import resolve

        model = resolve(model)
    check_memory(model)
    t_stop = sum(float(p.duration) for p in model.simulation.phases or [])
    populations = {}
    for name, pop in model.populations.items():
        data = _population(name, pop, model)
        if data.is_source:
            stims = [
                (s, st) for s, st in model.stimuli.items() if st.target == name and st.kind in ("poisson", "spike_array", "rate_schedule")
            ]
            trains = _source_trains(name, pop, data.size, stims, model, t_stop, base, notes)
            data = PopulationData(**{**data.__dict__, "spike_times": trains})
        populations[name] = data
    projections = _projections(model, base, notes)
    projections |= {name: _tie(projections[name], projections, model) for name, prj in model.projections.items() if prj.tie is not None}
    currents = {
        name: _current(name, stim, populations[stim.target].size) for name, stim in model.stimuli.items() if stim.kind in ("dc", "step")
    }
    inputs = {name: _poisson_input(name, stim) for name, stim in model.stimuli.items() if stim.kind == "poisson_input"}
    return Network(model=model, populations=populations, projections=projections, currents=currents, inputs=inputs)


# below this many synapses in all, threads cost more than they save
PARALLEL_FROM = 1e6


def _projections(model: Model, base: Path | None, notes: list[str]) -> dict[str, ProjectionData]:
    """Every projection; above ``PARALLEL_FROM`` synapses in all, drawn on a thread per usable CPU.

    Each projection draws from streams of its own (:func:`~spikebridge.models.random.stream`), so the order in which
    they are drawn does not change a single value; numpy releases the GIL while it fills large arrays. Notes and the
    first error come in the model's order, as drawn one after the other.
    """
    names = list(model.projections)
    workers = min(len(names), len(os.sched_getaffinity(0)))
    if workers < 2 or sum(expected_synapses(model, n) for n in names) < PARALLEL_FROM:
        return {name: _projection(name, model, base, notes) for name in names}

    def one(name: str) -> tuple[ProjectionData, list[str]]:
        mine: list[str] = []
        return _projection(name, model, base, mine), mine

    for name in {model.projections[n].post for n in names}:
        nestml_neuron(model.populations[name])  # parses (and caches) NESTML text before threads share the parser
    out = {}
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        for name, (data, mine) in zip(names, pool.map(one, names), strict=True):
            out[name] = data
            notes.extend(mine)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # an error or Ctrl-C does not wait for the projections queued
    return out


def _poisson_input(name: str, stim: Stimulus) -> PoissonInputData:
    assert stim.n is not None and stim.rate is not None and stim.weight is not None  # check.resolve requires them
    return PoissonInputData(name, stim.target, int(stim.n), as_float(stim.rate), as_float(stim.weight))
