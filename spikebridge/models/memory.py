"""How much memory a model's arrays will take, estimated from the resolved model before anything is drawn.

:func:`check_memory` refuses a model whose drawn arrays (cells, synapses, input spikes) plus its recordings, weight
snapshots and the simulator's delay buffers would not fit in the memory available now, with one
:class:`~spikebridge.errors.ModelError` that gives the estimate in GiB and the item that dominates it. The numbers
are deliberately rough (a factor of two either way): the point is that ``check`` of a model with 10^9 cells or
10^8 ms answers at once instead of swapping.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from ..errors import ModelError
from .check import population_size
from .physics import support
from .schema import Distribution, Model, Population, Stimulus, as_float

GIB = 1024.0**3
BYTES_PER_CELL = 64.0  # indices, drawn parameters and their temporaries
BYTES_PER_SOURCE_CELL = 200.0  # one numpy array of spike times per cell
BYTES_PER_SYNAPSE = 96.0  # pre, post, weight, delay (32 B) and the sort and draw temporaries
BYTES_PER_SPIKE = 48.0  # cell index, time, grid step and the sort key while snapping to the grid
BYTES_PER_SAMPLE = 8.0
BYTES_PER_SNAPSHOT_SYNAPSE = 32.0
BYTES_PER_BUFFER_STEP = 32.0  # NEST's ring buffers: a slot per step of the longest delay, per receptor, per cell
BUFFER_STEPS_OF_A_CELL = 64.0  # buffer steps counted with the cells; longer delays are counted against the delay
RECORDED_RATE_HZ = 100.0  # a generous firing rate for recorded spikes of neurons


def available_bytes() -> float:
    """Memory available to a new allocation now: MemAvailable from /proc/meminfo, else physical pages x page size.

    Returns
    -------
    float
        Bytes.
    """
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def _f(value: float | int) -> float:
    """A float, infinite where a (Python) integer is too large for one."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _size(pop: Population) -> float:
    return _f(population_size(pop, ""))


def _upper(d: Distribution | None, default: float) -> float:
    """The largest value a distribution draws; the mean-ish scale for unbounded ones."""
    if d is None:
        return default
    hi = support(d)[1]
    if math.isfinite(hi):
        return hi
    if d.distribution == "normal":
        return as_float(d.mean) + 4 * as_float(d.sd)
    return math.exp(min(as_float(d.mu) + 4 * as_float(d.sigma), 700.0))


def expected_synapses(model: Model, name: str) -> float:
    """Expected number of synapses of a projection, from its connector (floats: no overflow)."""
    prj = model.projections[name]
    pre, post = model.populations[prj.pre], model.populations[prj.post]
    n_pre, n_post = _size(pre), _size(post)
    conn = prj.connector
    match conn.rule:
        case "all_to_all":
            return n_pre * n_post
        case "one_to_one":
            return n_pre
        case "fixed_probability":
            return as_float(conn.p) * n_pre * n_post
        case "fixed_indegree":
            assert conn.n is not None  # resolve checked it
            return _f(conn.n) * n_post
        case "fixed_outdegree":
            assert conn.n is not None
            return _f(conn.n) * n_pre
        case "fixed_total_number":
            assert conn.n is not None
            return _f(conn.n)
        case "distance_patch":
            shape = post.shape or [1]
            area = _f(shape[-1]) * (_f(shape[-2]) if len(shape) > 1 else 1.0)
            reach = min(1.0, math.pi * as_float(conn.radius) * as_float(conn.radius) / area)
            # plus the distance matrix of one block of post cells against every pre cell
            return as_float(conn.p) * reach * n_pre * n_post + n_pre
        case "from_list":
            return float(len(conn.connections or []))
    return 0.0  # from_file: its size is the file's, read when drawn


def _source_spikes(pop: Population, n: float, stimuli: list[Stimulus], t_stop: float) -> float:
    """Expected input spikes of a spike-source population over the whole run."""
    spikes = 0.0
    if pop.cell_type == "SpikeSourcePoisson":
        rate = _upper(pop.parameters.get("rate"), 1.0)
        start = _upper(pop.parameters.get("start"), 0.0)
        length = min(_upper(pop.parameters.get("duration"), t_stop), max(t_stop - start, 0.0))
        spikes += rate * length / 1000.0 * n
    for stim in stimuli:
        cells = float(len(stim.cells)) if stim.cells is not None else n
        if stim.kind == "poisson" and stim.windows is not None:
            spikes += sum(float(w.rate) * max(min(float(w.stop), t_stop) - float(w.start), 0.0) for w in stim.windows) / 1000.0 * cells
        elif stim.kind == "poisson":
            stop = min(float(stim.stop) if stim.stop is not None else t_stop, t_stop)
            spikes += as_float(stim.rate) * max(stop - float(stim.start or 0.0), 0.0) / 1000.0 * cells
        elif stim.spike_times is not None:
            spikes += sum(len(ts) for ts in stim.spike_times) * (cells if len(stim.spike_times) == 1 else 1.0)
    return spikes


def estimate(model: Model) -> dict[str, float]:
    """Bytes by item (``populations.X``, ``projections.Y``, ``recording.X``, ...) for a resolved model.

    Parameters
    ----------
    model : Model
        A resolved model (phases filled in).

    Returns
    -------
    dict of str to float
        Estimated bytes by field path: cells and their spike buffers, synapses, recordings (analog samples and
        spikes at an assumed rate), weight snapshots. Floats, so that a huge model gives ``inf``, not an overflow.

    Examples
    --------
    >>> from spikebridge.models import load_model
    >>> items = estimate(load_model("vogels_abbott_coba"))
    >>> sorted(items)[:3], sum(items.values()) > 0
    (['populations.exc', 'populations.inh', 'populations.kick'], True)
    """
    sim = model.simulation
    dt = float(sim.dt)
    t_stop = sum(float(p.duration) for p in sim.phases or [])
    steps = t_stop / dt
    items: dict[str, float] = {}
    longest, max_delay = "", dt
    for name, prj in model.projections.items():
        if _upper(prj.delay, dt) > max_delay:
            longest, max_delay = name, _upper(prj.delay, dt)
    buffer_steps = max_delay / dt
    for name, pop in model.populations.items():
        n = _size(pop)
        if pop.cell_type in ("SpikeSourcePoisson", "SpikeSourceArray"):
            stimuli = [s for s in model.stimuli.values() if s.target == name]
            items[f"populations.{name}"] = n * BYTES_PER_SOURCE_CELL + _source_spikes(pop, n, stimuli, t_stop) * BYTES_PER_SPIKE
        else:
            state = BYTES_PER_CELL * (1 + len(pop.parameters) + len(pop.initial))
            cell = state + BYTES_PER_BUFFER_STEP * min(buffer_steps, BUFFER_STEPS_OF_A_CELL)
            items[f"populations.{name}"] = n * cell
    for name in model.projections:
        items[f"projections.{name}"] = expected_synapses(model, name) * BYTES_PER_SYNAPSE
    if buffer_steps > BUFFER_STEPS_OF_A_CELL:
        neurons = sum(_size(p) for p in model.populations.values() if p.cell_type not in ("SpikeSourcePoisson", "SpikeSourceArray"))
        items[f"projections.{longest}.delay"] = neurons * BYTES_PER_BUFFER_STEP * (buffer_steps - BUFFER_STEPS_OF_A_CELL)
    for name, rec in model.recording.items():
        pop = model.populations[name]
        size = _size(pop)
        cells = size if rec.cells == "all" else _f(rec.cells) if isinstance(rec.cells, int) else float(len(rec.cells))
        samples = t_stop / float(rec.sampling_interval or dt)
        analog = sum(1 for v in rec.variables if v != "spikes")
        spikes = RECORDED_RATE_HZ * t_stop / 1000.0 * cells if "spikes" in rec.variables else 0.0
        items[f"recording.{name}"] = (cells * analog * samples + spikes) * BYTES_PER_SAMPLE
    spec = model.record_weights
    if spec is not None:
        names = list(model.projections) if spec.projections == "all" else list(spec.projections)
        snapshots = 1.0 if spec.interval == "end" else steps * dt / float(spec.interval) + 2
        synapses = sum(expected_synapses(model, n) for n in names)
        items["record_weights"] = snapshots * (synapses * BYTES_PER_SNAPSHOT_SYNAPSE + 8.0)
    return items


def check_memory(model: Model, available: float | None = None) -> None:
    """Refuse (one ModelError) a resolved model whose estimated arrays exceed the available memory.

    Parameters
    ----------
    model : Model
        A resolved model.
    available : float, optional
        Bytes available; default: :func:`available_bytes`.

    Raises
    ------
    ModelError
        Naming the largest item, if the estimate (:func:`estimate`) exceeds ``available``.
    """
    items = {k: math.inf if math.isnan(v) else v for k, v in estimate(model).items()}  # nan: 0 x inf
    total = sum(items.values())
    limit = available_bytes() if available is None else available
    if not total <= limit:  # also catches an infinite or NaN estimate
        top, size = max(items.items(), key=lambda kv: kv[1])
        raise ModelError(
            top,
            f"the model needs about {total / GIB:.3g} GiB ({size / GIB:.3g} GiB of it here), "
            f"more than the {limit / GIB:.3g} GiB of memory available; make it smaller or shorter",
        )
