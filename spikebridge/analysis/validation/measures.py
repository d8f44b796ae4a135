"""What is measured on one run: per-population and per-projection samples, one value per cell, pair or synapse.

A measure knows nothing about other runs; :mod:`spikebridge.analysis.validation.scores` compares two samples. This is the
split NetworkUnit makes between tests (what is measured) and scores (how two measurements are compared).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import quantities as pq
from elephant.conversion import BinnedSpikeTrain
from elephant.spike_train_correlation import correlation_coefficient
from elephant.utils import round_binning_errors

from ...models.schema import Model
from ...rundir import Results
from ..activity import cv_isi

Target = Literal["population", "projection"]
CORRELATION_CELLS = 200
CORRELATION_BIN_MS = 10.0
MIN_SAMPLE = 5
SILENCE_MS = 200.0
"""A population that has not spiked for this long before the end of a phase has stopped (its activity lifetime)."""


@dataclass(frozen=True)
class Measure:
    """A named quantity sampled on one run: ``sample(results, target, phase)`` returns one value per element.

    Measures read the run's spike arrays (:meth:`~spikebridge.rundir.Results.spikes`) and build no per-cell Python
    objects: a ``neo.SpikeTrain`` costs about 0.2 ms, 16 s for the 80k cells of the microcircuit.

    Parameters
    ----------
    name : str
        E.g. ``"rate"``.
    unit : str
        The unit of the values (``"Hz"``; ``""`` for dimensionless ones); a weight's depends on the target
        (:func:`unit`).
    target : {"population", "projection"}
        What the measure is taken on.
    description : str
        One line for reports, naming the method (the Elephant function).
    sample : callable
        ``sample(results, target, phase) -> numpy.ndarray``, one value per cell, pair or synapse.
    min_sample : int, optional
        The fewest finite values a run's sample needs to be judged.
    """

    name: str
    unit: str
    target: Target
    description: str
    sample: Callable[[Results, str, str], np.ndarray]
    min_sample: int = MIN_SAMPLE


def _rates(results: Results, population: str, phase: str) -> np.ndarray:
    return results.rates(population, phase)


def _cv_isi(results: Results, population: str, phase: str) -> np.ndarray:
    return cv_isi(results, population, phase)


def _bounds(results: Results, phase: str) -> tuple[float, float]:
    """A phase's start and stop (ms)."""
    st = results.segment(phase).spiketrains
    return float(st.t_start.rescale(pq.ms).magnitude), float(st.t_stop.rescale(pq.ms).magnitude)


def binned(results: Results, population: str, phase: str, bin_ms: float, cells: int | None = None) -> BinnedSpikeTrain:
    """Spike counts of the first ``cells`` recorded cells in ``bin_ms`` bins over a phase, as Elephant's
    ``BinnedSpikeTrain``, binned from the run's spike arrays.

    The same bins as ``BinnedSpikeTrain(results.spiketrains(...), bin_size=bin_ms * pq.ms)``: a spike within
    Elephant's tolerance of a bin's right edge counts in the next bin, and one at the phase's end in none.

    Parameters
    ----------
    results : Results
        A run directory.
    population : str
        A population that records spikes.
    phase : str
        The phase.
    bin_ms : float
        The bin width (ms).
    cells : int, optional
        Only the first this many recorded cells (``None``: all).

    Returns
    -------
    elephant.conversion.BinnedSpikeTrain
        One row per cell, in the order of :meth:`~spikebridge.rundir.Results.recorded_cells`.
    """
    t_start, t_stop = _bounds(results, phase)
    n_bins = int(round_binning_errors((t_stop - t_start) / bin_ms))
    recorded = results.recorded_cells(population)[:cells]
    idx, t = results.spikes(population, phase)
    row = np.searchsorted(recorded, idx)
    keep = (row < len(recorded)) & (recorded[np.minimum(row, len(recorded) - 1)] == idx) if len(recorded) else np.zeros(len(idx), bool)
    column = round_binning_errors((t[keep] - t_start) / bin_ms)
    inside = (column >= 0) & (column < n_bins)
    flat = row[keep][inside] * n_bins + column[inside].astype(np.int64)
    # dense: Elephant recognises a binned matrix by failing to iterate it down to spike trains, which a sparse one
    # never lets it do (infinite recursion)
    counts = np.bincount(flat, minlength=len(recorded) * n_bins).reshape(len(recorded), n_bins).astype(np.int32)
    return BinnedSpikeTrain(counts, bin_size=bin_ms * pq.ms, t_start=t_start * pq.ms, t_stop=t_stop * pq.ms)


def _correlations(results: Results, population: str, phase: str) -> np.ndarray:
    counts = binned(results, population, phase, CORRELATION_BIN_MS, CORRELATION_CELLS)
    if counts.shape[0] < 2:
        return np.empty(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # silent cells give NaN pairs
        matrix = correlation_coefficient(counts)
    values = matrix[np.triu_indices(counts.shape[0], k=1)]
    return values[np.isfinite(values)]


def lifetime(spike_times: np.ndarray, t_start: float, t_stop: float, silence: float = SILENCE_MS) -> float:
    """How long a population's activity lasted in a phase (ms from its start).

    The time of its last spike when at least ``silence`` ms of the phase follow it without a spike; the whole
    phase when the population was still active near its end; 0 when it never spiked.

    Examples
    --------
    >>> lifetime(np.array([10.0, 250.0, 1390.0]), 0.0, 5000.0), lifetime(np.array([10.0, 4900.0]), 0.0, 5000.0)
    (1390.0, 5000.0)
    """
    if len(spike_times) == 0:
        return 0.0
    last = float(np.max(spike_times))
    return last - t_start if t_stop - last >= silence else t_stop - t_start


def _lifetime(results: Results, population: str, phase: str) -> np.ndarray:
    t_start, t_stop = _bounds(results, phase)
    _, times = results.spikes(population, phase)
    return np.array([lifetime(times, t_start, t_stop)])


def _final_weights(results: Results, projection: str, phase: str) -> np.ndarray:
    return np.asarray(results.connections(projection).weight, dtype=float)


MEASURES: tuple[Measure, ...] = (
    Measure("rate", "Hz", "population", "mean firing rate of each recorded cell (elephant.statistics.mean_firing_rate)", _rates),
    Measure("cv_isi", "", "population", "CV of the inter-spike intervals of each cell with >= 3 spikes (elephant.statistics.cv)", _cv_isi),
    Measure(
        "correlation",
        "",
        "population",
        f"pairwise spike-count correlation, {CORRELATION_BIN_MS:g} ms bins, first {CORRELATION_CELLS} recorded cells "
        "(spike arrays binned into elephant BinnedSpikeTrain + correlation_coefficient)",
        _correlations,
    ),
    Measure(
        "lifetime",
        "ms",
        "population",
        f"activity lifetime: time of the population's last spike when {SILENCE_MS:g} ms of silence follow it, else the "
        "phase's duration (one value per run)",
        _lifetime,
        min_sample=1,
    ),
    Measure(
        "weight",
        "",
        "projection",
        "final weight of each synapse of a plastic projection (uS, nA onto current-based cells, the model's number onto NESTML cells)",
        _final_weights,
    ),
)


def targets(results: Results) -> Iterator[tuple[str, Measure]]:
    """(target, measure) pairs that apply to this run: spiking recorded populations, plastic projections.

    Spike sources are left out: their trains are the same arrays on every backend by construction.

    Parameters
    ----------
    results : Results
        A run directory.

    Yields
    ------
    tuple
        ``(target name, Measure)``, populations first.
    """
    model = results.model
    for name, rec in model.recording.items():
        if "spikes" in rec.variables and model.populations[name].cell_type not in ("SpikeSourcePoisson", "SpikeSourceArray"):
            for m in MEASURES:
                if m.target == "population":
                    yield name, m
    for name, prj in model.projections.items():
        if prj.synapse.type != "static":
            for m in MEASURES:
                if m.target == "projection":
                    yield name, m


def default_phase(results: Results) -> str:
    """The phase a run is measured in unless another is named: its last.

    Parameters
    ----------
    results : Results
        A run directory.

    Returns
    -------
    str
        The name of the run's last phase.
    """
    return results.phases[-1]


def measure_run(results: Results, phase: str | None = None) -> dict[tuple[str, str], np.ndarray]:
    """Every applicable measure of one run, keyed by (target, measure name).

    Parameters
    ----------
    results : Results
        A run directory.
    phase : str, optional
        The phase measured; default: the run's last (:func:`default_phase`).

    Returns
    -------
    dict
        ``{(target, measure name): sample}``, each sample a 1-D array in the measure's unit (:func:`unit`).
    """
    phase = phase or default_phase(results)
    out = {}
    for target, m in targets(results):
        out[(target, m.name)] = m.sample(results, target, phase)
    return out


def unit(model: Model, target: str, measure: str) -> str:
    """The unit of a measure on one target: a weight's is the post cells' synapse type's (PyNN: uS or nA).

    Parameters
    ----------
    model : Model
        The model the run simulated.
    target : str
        A population name, or a projection name for ``weight``.
    measure : str
        A measure's name (see :data:`MEASURES`).

    Returns
    -------
    str
        ``"Hz"``, ``""`` (dimensionless; also a weight onto a NESTML neuron, a number its model interprets), ``"uS"``
        (conductance-based PyNN cells) or ``"nA"``.
    """
    if measure == "weight":
        cell_type = model.populations[model.projections[target].post].cell_type
        if cell_type in model.models:
            return ""
        return "uS" if "cond" in cell_type else "nA"
    return by_name(measure).unit


def min_samples() -> dict[str, int]:
    """The fewest finite values each measure needs in a run's sample, by measure name."""
    return {m.name: m.min_sample for m in MEASURES}


def by_name(name: str) -> Measure:
    """The measure called ``name``.

    Parameters
    ----------
    name : str
        ``"rate"``, ``"cv_isi"``, ``"correlation"`` or ``"weight"``.

    Returns
    -------
    Measure
        The entry of :data:`MEASURES` with that name.

    Raises
    ------
    StopIteration
        If no measure has that name.

    Examples
    --------
    >>> by_name("rate").unit
    'Hz'
    """
    return next(m for m in MEASURES if m.name == name)


def counts(results: Results, population: str, phase: str | None = None) -> np.ndarray:
    """Spike count of every recorded cell (for exact-mode, per-neuron comparisons).

    Parameters
    ----------
    results : Results
        A run directory.
    population : str
        A population that records spikes.
    phase : str, optional
        The phase counted; default: the run's last.

    Returns
    -------
    numpy.ndarray
        One count per recorded cell, as floats.
    """
    return results.counts(population, phase or default_phase(results)).astype(float)
