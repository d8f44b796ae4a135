"""Weight inference on the recordings of a run directory, from any backend.

Bridges a run directory (:class:`spikebridge.rundir.Results`) and the
estimators of :mod:`spikebridge.analysis.inference`: reads the spike trains of
a presynaptic ("input") and a postsynaptic ("output") population, the input
membrane potential (for RDD), the neuron parameters of the inputs from the
run's model and the true weights of the projection between them from the run's
network; runs Akrout, RDD and STDWI on the recordings, optionally with
spike-train noise; and scores the running estimates against the true weights.

Everything is read from the run directory, never from a backend, so a run of
NEST, Brian2 or any other backend is analysed the same way.

Typical use::

    res = spikebridge.load(RUN_DIR)
    outcome = infer_run(res, noise_levels=(0.0, 0.05, 0.1, 0.2))
    write_outcome(outcome, res)      # RUN_DIR/inference/scores.csv + figures
    print(final_scores(outcome))

Units: times in ms (spike times, ``t_stop``, ``dt``, ``check_every``, the
``time`` column of the score tables), membrane potentials in mV, true weights
in the PyNN units of the projection (nA for current-based cells, uS for
conductance-based ones, with the sign of their effect: inhibitory weights are
negative). Noise levels are fractions in [0, 1] (0.05 = 5 %).
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import quantities as pq
import xarray as xr

from spikebridge.analysis import inference as inf
from spikebridge.analysis.inference import METHODS, InferenceInputError, best_parameters, tunable_parameters
from spikebridge.errors import RunDirectoryError
from spikebridge.models.check import population_size
from spikebridge.rundir import Results, atomic_file, load

__all__ = [
    "DEFAULT_GRID",
    "METHODS",
    "NOISE_LEVELS",
    "InferenceData",
    "InferenceOutcome",
    "best_parameters",
    "default_parameters",
    "final_scores",
    "format_final",
    "grid_search",
    "infer_run",
    "inference_data",
    "parse_parameters",
    "run_inference",
    "run_method",
    "tunable_parameters",
    "write_outcome",
]

#: Noise levels of the reference study (fractions of spikes deleted and inserted).
NOISE_LEVELS: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2)
#: A small grid per method, as the reference study scanned them (other parameters at the defaults).
DEFAULT_GRID: dict[str, list[dict[str, Any]]] = {
    "akrout": [{"batch": b, "decay": d} for b in (10, 100) for d in (0.1, 0.5)],
    "rdd": [{"alpha": a, "window": w} for a in (0.025, 0.05) for w in (20.0, 35.0)],
    "stdwi": [{"tau_slow": s, "decay": d} for s in (100.0, 200.0) for d in (0.1, 0.5)],
}

_NEURON = ("v_thresh", "v_reset", "tau_m")
_SPIKE_SOURCES = ("SpikeSourcePoisson", "SpikeSourceArray")


@dataclass(frozen=True)
class InferenceData:
    """What the estimators need from one run, read once.

    Attributes
    ----------
    pre, post : list of numpy.ndarray
        Spike times (ms from the start of the phase, float64, sorted), one
        array per cell of the pre / post population, by cell index.
    v_pre : numpy.ndarray or None
        Membrane potential (mV) of the pre cells, ``(n_samples, n_pre)``,
        sample ``k`` at ``k * v_dt``; ``None`` when not read.
    w_true : numpy.ndarray
        True weights, ``(n_post, n_pre)``, PyNN units with the sign of their
        effect (summed over multapses and over the chosen projections).
    t_stop : float
        Length of the analysed phase (ms).
    dt : float
        Simulation step (ms).
    v_dt : float or None
        Sampling interval of ``v_pre`` (ms).
    v_thresh, v_reset : float or None
        Threshold and reset (mV) of the pre cells; ``None`` if their cell type
        has none.
    tau_m : float or None
        Membrane time constant (ms) of the pre cells.
    stim_window : float or None
        Stimulus resampling period (ms) of the model, if it has one.
    source : dict
        Provenance: run directory, model, backend, seed, populations, projections, phase.
    """

    pre: list[np.ndarray]
    post: list[np.ndarray]
    v_pre: np.ndarray | None
    w_true: np.ndarray
    t_stop: float
    dt: float
    v_dt: float | None
    v_thresh: float | None
    v_reset: float | None
    tau_m: float | None
    stim_window: float | None
    source: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InferenceOutcome:
    """Result of :func:`infer_run`.

    Attributes
    ----------
    scores : pandas.DataFrame
        Tidy table, columns ``method`` (str), ``noise`` (fraction), ``time``
        (ms), ``pearson``, ``sign_alignment``; one row per method, noise level
        and check point.
    estimates : dict
        ``(method, noise) -> xarray.DataArray`` running estimates, dims
        ``("time", "post", "pre")`` on each method's own scale; the final
        estimate is ``.isel(time=-1)``.
    w_true : numpy.ndarray
        True weights, ``(n_post, n_pre)`` (see :class:`InferenceData`).
    parameters : dict
        ``method -> keyword arguments`` given to the estimator (besides the
        data, ``t_stop`` and ``dt``).
    seconds : dict
        ``(method, noise) -> wall-clock time`` (s) of the estimator.
    source : dict
        Provenance (see :class:`InferenceData`), plus ``noise_seed`` and
        ``check_every_ms``.
    """

    scores: pd.DataFrame
    estimates: dict[tuple[str, float], xr.DataArray]
    w_true: np.ndarray
    parameters: dict[str, dict[str, Any]]
    seconds: dict[tuple[str, float], float]
    source: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# reading a run
# ---------------------------------------------------------------------------


def _as_results(results: Results | str | os.PathLike[str]) -> Results:
    return results if isinstance(results, Results) else load(Path(results))


def _neuron_parameter(results: Results, population: str, name: str) -> float | None:
    """A parameter of a population's cells, the same for every cell, in PyNN units.

    Read from the values the run drew (``network.npz``), else the model, else
    PyNN's default for the cell type; ``None`` if the cell type has no such
    parameter.
    """
    drawn = results.network.get(f"pop/{population}/param/{name}")
    if drawn is not None and np.size(drawn):
        values = np.unique(np.asarray(drawn, dtype=float))
        if values.size > 1:
            raise InferenceInputError(
                f"{name} of population {population!r} differs between cells ({values.min():g} to "
                f"{values.max():g}); RDD needs one value per population"
            )
        return float(values[0])
    pop = results.model.populations[population]
    given = pop.parameters.get(name)
    if given is not None:
        if given.distribution != "constant" or not isinstance(given.value, float):
            raise InferenceInputError(
                f"{name} of population {population!r} is not a constant ({given!r}); RDD needs one value"
            )
        return float(given.value)
    import pyNN.standardmodels.cells as cells

    default = getattr(cells, pop.cell_type).default_parameters.get(name)
    return None if default is None else float(default)


def _stimulus_window(results: Results) -> float | None:
    """The model's stimulus resampling period (ms), if all stimuli that resample agree on one."""
    periods = {float(s.resample_every) for s in results.model.stimuli.values()
               if isinstance(s.resample_every, float)}
    return periods.pop() if len(periods) == 1 else None


def _true_weights(results: Results, pre: str, post: str, projections: Sequence[str],
                  n_pre: int, n_post: int) -> np.ndarray:
    w = np.zeros((n_post, n_pre))
    for name in projections:
        prj = results.model.projections[name]
        if (prj.pre, prj.post) != (pre, post):
            raise InferenceInputError(
                f"projection {name!r} goes from {prj.pre!r} to {prj.post!r}, not from {pre!r} to {post!r}"
            )
        con = results.connections(name)
        weight = np.asarray(con.weight, dtype=float)
        if prj.receptor == "inhibitory":
            # Conductances are stored positive; current-based inhibitory weights already negative.
            weight = -np.abs(weight)
        np.add.at(w, (np.asarray(con.post, dtype=np.int64), np.asarray(con.pre, dtype=np.int64)), weight)
    return w


def _trains_ms(results: Results, population: str, phase: str | None, t_start: float,
               t_stop: float) -> list[np.ndarray]:
    idx, times = results.spikes(population, phase)
    n = population_size(results.model.populations[population], population)
    recorded = results.recorded_cells(population)
    if recorded.size != n:
        raise InferenceInputError(
            f"the spikes of only {recorded.size} of the {n} cells of {population!r} were recorded; "
            f"inference needs all of them (record 'spikes' of all cells)"
        )
    times = np.clip(times - t_start, 0.0, t_stop)
    order = np.lexsort((times, idx))
    bounds = np.searchsorted(idx[order], np.arange(n + 1))
    ordered = times[order]
    return [ordered[bounds[k]:bounds[k + 1]].copy() for k in range(n)]


def inference_data(
    results: Results | str | os.PathLike[str],
    *,
    pre: str = "inputs",
    post: str = "outputs",
    projection: str | Sequence[str] | None = "inputs_outputs",
    phase: str | None = None,
    with_v: bool = True,
) -> InferenceData:
    """Read what the estimators need from a run directory.

    Parameters
    ----------
    results : Results or path
        A run directory of any backend.
    pre, post : str
        Presynaptic ("input") and postsynaptic ("output") populations; the
        spikes of all their cells must be recorded.
    projection : str, sequence of str or None
        Projection(s) from ``pre`` to ``post`` whose weights (at the end of
        the run, summed) are the truth; ``None``: every projection from
        ``pre`` to ``post``.
    phase : str, optional
        Phase (Neo segment) to analyse; the only one by default. Times are
        taken from the start of the phase.
    with_v : bool
        Read the membrane potential ``v`` of ``pre`` and its neuron
        parameters (needed by RDD only; 8 bytes per cell and sample).

    Returns
    -------
    InferenceData
        Spike trains (ms), ``v`` (mV), true weights, durations (ms) and the
        neuron parameters of ``pre``.

    Raises
    ------
    InferenceInputError
        A population or projection is missing or does not match, spikes of
        some cells were not recorded, or (``with_v``) ``v`` is missing or the
        neuron parameters of ``pre`` differ between cells.
    """
    results = _as_results(results)
    model = results.model
    for name in (pre, post):
        if name not in model.populations:
            raise InferenceInputError(f"no population {name!r} in {results.path} (populations: {', '.join(model.populations)})")
    if projection is None:
        projections = [n for n, p in model.projections.items() if (p.pre, p.post) == (pre, post)]
        if not projections:
            raise InferenceInputError(f"no projection from {pre!r} to {post!r} in {results.path}")
    else:
        projections = [projection] if isinstance(projection, str) else list(projection)
        for name in projections:
            if name not in model.projections:
                raise InferenceInputError(
                    f"no projection {name!r} in {results.path} (projections: {', '.join(model.projections)})"
                )

    seg = results.segment(phase)
    t_start = float(seg.t_start.rescale(pq.ms).magnitude)
    t_stop = float(seg.t_stop.rescale(pq.ms).magnitude) - t_start
    pre_trains = _trains_ms(results, pre, phase, t_start, t_stop)
    post_trains = _trains_ms(results, post, phase, t_start, t_stop)

    v_pre, v_dt = None, None
    if with_v:
        try:
            sig = results.signals(pre, "v", phase)
        except RunDirectoryError as exc:
            raise InferenceInputError(
                f"the membrane potential 'v' of {pre!r} was not recorded; RDD needs it, best at every step "
                f"(add 'v' to recording.{pre}.variables) -- or leave RDD out"
            ) from exc
        v_dt = float(sig.sampling_period.rescale(pq.ms).magnitude)
        offset = float(sig.t_start.rescale(pq.ms).magnitude) - t_start
        if abs(offset) > 1e-6 * max(v_dt, 1.0):
            raise InferenceInputError(f"'v' of {pre!r} starts at {offset} ms into the phase, not at its start")
        # rescale copies (8 bytes per cell and sample): only when needed.
        same = sig.units.dimensionality.string == "mV"
        v_pre = np.asarray(sig.magnitude if same else sig.rescale(pq.mV).magnitude)
        if v_pre.shape[1] != len(pre_trains):
            raise InferenceInputError(
                f"'v' of {pre!r} was recorded from {v_pre.shape[1]} of its {len(pre_trains)} cells; RDD needs all"
            )

    # Only RDD (which needs v) uses the neuron parameters: without v, heterogeneous ones are no error.
    neuron = ({name: _neuron_parameter(results, pre, name) for name in _NEURON} if with_v
              else dict.fromkeys(_NEURON))
    return InferenceData(
        pre=pre_trains,
        post=post_trains,
        v_pre=v_pre,
        w_true=_true_weights(results, pre, post, projections, len(pre_trains), len(post_trains)),
        t_stop=t_stop,
        dt=float(results.meta.get("dt_ms", model.simulation.dt)),
        v_dt=v_dt,
        v_thresh=neuron["v_thresh"],
        v_reset=neuron["v_reset"],
        tau_m=neuron["tau_m"],
        stim_window=_stimulus_window(results),
        source={
            "run_dir": str(results.path),
            "model": results.meta.get("model"),
            "backend": results.meta.get("backend"),
            "run_seed": results.meta.get("seed"),
            "pre": pre,
            "post": post,
            "projections": projections,
            "phase": seg.name,
            "t_stop_ms": t_stop,
            "dt_ms": float(results.meta.get("dt_ms", model.simulation.dt)),
        },
    )


# ---------------------------------------------------------------------------
# running the estimators
# ---------------------------------------------------------------------------


def default_parameters(data: InferenceData, method: str) -> dict[str, Any]:
    """Reference parameters of a method for this run: :func:`~spikebridge.analysis.inference.reference_parameters`
    with the run's stimulus period as Akrout's window.

    Parameters
    ----------
    data : InferenceData
        The run.
    method : {"akrout", "rdd", "stdwi"}
        The estimator.

    Returns
    -------
    dict
        Keyword arguments (ms for times).
    """
    return inf.reference_parameters(method, stim_window=data.stim_window)


def run_method(
    data: InferenceData,
    method: str,
    *,
    pre: Sequence[np.ndarray] | None = None,
    post: Sequence[np.ndarray] | None = None,
    check_every: float = 1000.0,
    **parameters: Any,
) -> xr.DataArray:
    """Run one estimator on a run's recordings.

    Parameters
    ----------
    data : InferenceData
        The run (:func:`inference_data`).
    method : {"akrout", "rdd", "stdwi"}
        The estimator.
    pre, post : sequence of numpy.ndarray, optional
        Spike trains (ms) to use instead of ``data.pre`` / ``data.post``
        (e.g. perturbed ones).
    check_every : float
        Interval (ms) between returned estimates.
    **parameters
        Keyword arguments of the estimator, e.g. ``tau_slow=100.0``; the
        run's ``t_stop``, ``dt`` and (RDD) neuron parameters are filled in.

    Returns
    -------
    xarray.DataArray
        Running estimate, dims ``("time", "post", "pre")``.
    """
    pre = data.pre if pre is None else pre
    post = data.post if post is None else post
    if method == "akrout":
        return inf.akrout(pre, post, data.t_stop, check_every=check_every, **parameters)
    if method == "stdwi":
        return inf.stdwi(pre, post, data.t_stop, dt=data.dt, check_every=check_every, **parameters)
    if method == "rdd":
        if data.v_pre is None or data.v_dt is None:
            raise InferenceInputError("RDD needs the membrane potential of the pre cells: read it with with_v=True")
        if data.v_thresh is None or data.v_reset is None or data.tau_m is None:
            missing = [n for n in _NEURON if getattr(data, n) is None]
            raise InferenceInputError(f"RDD needs {', '.join(missing)} of the pre cells, which their cell type lacks")
        return inf.rdd(pre, post, data.v_pre, data.t_stop, v_thresh=data.v_thresh, v_reset=data.v_reset,
                       dt=data.v_dt, tau_m=data.tau_m, check_every=check_every, **parameters)
    raise InferenceInputError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")


def _noise_levels(levels: Iterable[float]) -> list[float]:
    out = [float(x) for x in levels]
    if not out:
        raise InferenceInputError("noise_levels is empty; use (0.0,) for no noise")
    for x in out:
        if not 0.0 <= x <= 1.0:
            raise InferenceInputError(f"noise level {x} is not a fraction in [0, 1] (5 % is 0.05)")
    return list(dict.fromkeys(out))


def infer_run(
    results: Results | InferenceData | str | os.PathLike[str],
    methods: Sequence[str] = METHODS,
    *,
    pre: str = "inputs",
    post: str = "outputs",
    projection: str | Sequence[str] | None = "inputs_outputs",
    noise_levels: Iterable[float] = (0.0,),
    seed: int = 0,
    check_every: float = 1000.0,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    phase: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> InferenceOutcome:
    """Infer the weights of a run's projection with each method and noise level, and score them over time.

    Noise at level ``f`` deletes ``round(f * n)`` random spikes from every
    pre and post train of ``n`` spikes and inserts as many uniformly over the
    recording (:func:`spikebridge.analysis.inference.perturb`), seeded by
    ``seed`` and the level. RDD's membrane potentials are not perturbed; its
    pre spike times (used to find events and add back resets) are.

    Parameters
    ----------
    results : Results, InferenceData or path
        A run directory of any backend, or data already read with
        :func:`inference_data` (then ``pre``, ``post``, ``projection`` and
        ``phase`` are ignored).
    methods : sequence of {"akrout", "rdd", "stdwi"}
        Estimators to run.
    pre, post, projection, phase
        See :func:`inference_data`.
    noise_levels : iterable of float
        Fractions in [0, 1] of spikes replaced (0.05 = 5 %).
    seed : int
        Seed of the spike noise.
    check_every : float
        Interval (ms) between scored estimates; a multiple of Akrout's window.
    params : mapping, optional
        ``method -> keyword arguments`` overriding :func:`default_parameters`,
        e.g. ``{"stdwi": {"tau_slow": 100.0}}``.
    progress : callable, optional
        Called with a short message before each estimator runs (e.g. ``print``).

    Returns
    -------
    InferenceOutcome
        Scores over time (``time`` in ms), running estimates, true weights,
        parameters used and timings (s).

    Examples
    --------
    On a run directory (a simulator run, so not run as a doctest)::

        outcome = infer_run("runs/weight_inference/nest_seed2021", noise_levels=(0.0, 0.2))
        final_scores(outcome)

    On 20 s of a small LIF network simulated in numpy (:mod:`spikebridge.analysis.synthetic`):

    >>> from spikebridge.analysis.synthetic import simulate_lif_network
    >>> net = simulate_lif_network(t_stop=20_000.0, seed=0)
    >>> data = InferenceData(net.pre, net.post, net.v_pre, net.w_true, t_stop=net.t_stop, dt=net.dt, v_dt=net.dt,
    ...                      v_thresh=net.v_thresh, v_reset=net.v_reset, tau_m=net.tau_m, stim_window=100.0)
    >>> last = final_scores(infer_run(data, noise_levels=(0.0, 0.2), check_every=5000.0))
    >>> last[["method", "noise", "time"]]
       method  noise     time
    0  akrout    0.0  20000.0
    1     rdd    0.0  20000.0
    2   stdwi    0.0  20000.0
    3  akrout    0.2  20000.0
    4     rdd    0.2  20000.0
    5   stdwi    0.2  20000.0
    >>> bool((last["pearson"] > 0.5).all())
    True
    """
    methods = list(dict.fromkeys(methods))
    for m in methods:
        if m not in METHODS:
            raise InferenceInputError(f"unknown method {m!r}; expected some of {', '.join(METHODS)}")
    params = dict(params or {})
    unknown = set(params) - set(METHODS)
    if unknown:
        raise InferenceInputError(f"params for unknown method(s) {sorted(unknown)}; expected {', '.join(METHODS)}")
    levels = _noise_levels(noise_levels)
    if isinstance(results, InferenceData):
        data = results
        if "rdd" in methods and data.v_pre is None:
            raise InferenceInputError("RDD needs the membrane potential of the pre cells: read it with with_v=True")
    else:
        data = inference_data(results, pre=pre, post=post, projection=projection, phase=phase,
                              with_v="rdd" in methods)

    used = {m: {**default_parameters(data, m), **params.get(m, {})} for m in methods}
    estimates: dict[tuple[str, float], xr.DataArray] = {}
    seconds: dict[tuple[str, float], float] = {}
    frames = []
    for level in levels:
        noisy_pre, noisy_post = inf.noisy_trains(data.pre, data.post, level, seed, data.t_stop)
        for m in methods:
            if progress is not None:
                progress(f"{m} at noise {level:.0%}")
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                # Perturbed trains may start late by chance; the seconds-vs-ms hint does not apply.
                warnings.filterwarnings("ignore", message=".*are the spike times in seconds.*")
                est = run_method(data, m, pre=noisy_pre, post=noisy_post, check_every=check_every, **used[m])
            seconds[(m, level)] = time.perf_counter() - t0
            est.attrs["noise"] = level
            estimates[(m, level)] = est
            table = inf.score(est, data.w_true)
            table.insert(1, "noise", level)
            frames.append(table)
    scores = pd.concat(frames, ignore_index=True)
    return InferenceOutcome(
        scores=scores,
        estimates=estimates,
        w_true=data.w_true,
        parameters=used,
        seconds=seconds,
        source={**data.source, "noise_seed": seed, "check_every_ms": float(check_every)},
    )


def final_scores(outcome: InferenceOutcome | pd.DataFrame) -> pd.DataFrame:
    """The last check point of every method and noise level.

    Parameters
    ----------
    outcome : InferenceOutcome or pandas.DataFrame
        An outcome, or its ``scores`` table.

    Returns
    -------
    pandas.DataFrame
        Columns ``method``, ``noise`` (fraction), ``time`` (ms), ``pearson``,
        ``sign_alignment`` (plus ``seconds`` of the estimator for an outcome).
    """
    scores = outcome.scores if isinstance(outcome, InferenceOutcome) else outcome
    last = inf.final_scores(scores)
    if isinstance(outcome, InferenceOutcome):
        last["seconds"] = [outcome.seconds.get((m, n), np.nan) for m, n in zip(last["method"], last["noise"], strict=True)]
    return last


# ---------------------------------------------------------------------------
# parameter grid
# ---------------------------------------------------------------------------


def grid_search(
    data: InferenceData,
    grid: Mapping[str, Sequence[Mapping[str, Any]]] = DEFAULT_GRID,
    *,
    check_every: float = 1000.0,
) -> pd.DataFrame:
    """Final scores (no noise) of every parameter variant of a small grid per method.

    Parameters
    ----------
    data : InferenceData
        The run (with ``v`` if RDD is in the grid).
    grid : mapping
        ``method -> list of parameter changes`` from :func:`default_parameters`.
    check_every : float
        Interval (ms) between estimates.

    Returns
    -------
    pandas.DataFrame
        Columns ``method``, ``parameters`` (JSON of the changes), ``pearson``,
        ``sign_alignment``, ``seconds``; one row per variant.
    """
    rows = []
    for method, variants in grid.items():
        base = default_parameters(data, method)
        for change in variants:
            t0 = time.perf_counter()
            est = run_method(data, method, check_every=check_every, **{**base, **change})
            last = est.isel(time=-1)
            rows.append({
                "method": method,
                "parameters": json.dumps(dict(change), sort_keys=True),
                "pearson": float(inf.pearson(last, data.w_true)),
                "sign_alignment": float(inf.sign_alignment(last, data.w_true)),
                "seconds": time.perf_counter() - t0,
            })
    return pd.DataFrame(rows, columns=["method", "parameters", "pearson", "sign_alignment", "seconds"])


def _checked_value(method: str, name: str, default: Any, value: Any, item: str) -> Any:
    """``value`` if it has the type ``default`` implies: an int >= 1 (a count), a number, or (default None) a number or null."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)
    if isinstance(default, int) and not isinstance(default, bool):
        ok, expected = is_number and float(value).is_integer() and value >= 1, "an integer >= 1"
        value = int(value) if ok else value
    elif default is None:
        ok, expected = value is None or is_number, "a finite number or null"
    else:
        ok, expected = is_number, "a finite number"
    if not ok:
        raise InferenceInputError(f"--param {item!r}: {method} parameter {name!r} must be {expected}, got {value!r}")
    return value


def parse_parameters(items: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Estimator parameters from ``METHOD.NAME=VALUE`` strings (as a command line gives them).

    Values are parsed as JSON (numbers, ``null``) and must suit the parameter
    (see :func:`~spikebridge.analysis.inference.tunable_parameters`).

    Parameters
    ----------
    items : iterable of str
        E.g. ``["stdwi.tau_slow=100", "akrout.batch=100"]``.

    Returns
    -------
    dict
        ``{"stdwi": {"tau_slow": 100}, "akrout": {"batch": 100}}``.

    Raises
    ------
    InferenceInputError
        For a malformed item, an unknown method or parameter (naming the known ones), or a value of the wrong type.

    Examples
    --------
    >>> parse_parameters(["stdwi.tau_slow=100", "rdd.max_drive=null"])
    {'stdwi': {'tau_slow': 100}, 'rdd': {'max_drive': None}}
    """
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        method, dot, name = key.strip().partition(".")
        method, name = method.strip(), name.strip()
        if not sep or not dot or not name:
            raise InferenceInputError(f"expected METHOD.NAME=VALUE (e.g. stdwi.tau_slow=100), got {item!r}")
        if method not in METHODS:
            raise InferenceInputError(f"unknown method {method!r} in {item!r}; expected one of {', '.join(METHODS)}")
        known = tunable_parameters(method)
        if name not in known:
            raise InferenceInputError(f"--param {item!r}: {method} has no parameter {name!r}; known: {', '.join(sorted(known))}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw.strip()
        out.setdefault(method, {})[name] = _checked_value(method, name, known[name], value, item)
    return out


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------


def _atomic_text(path: Path, text: str) -> None:
    with atomic_file(path) as fh:
        fh.write(text.encode("utf-8"))


def write_outcome(
    outcome: InferenceOutcome,
    results: Results | str | os.PathLike[str] | None = None,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    extra_tables: Mapping[str, pd.DataFrame] | None = None,
) -> list[Path]:
    """Write scores, parameters and figures of an outcome into ``RUN_DIR/inference``.

    Files (each written under a temporary name and renamed into place):

    * ``scores.csv`` -- :attr:`InferenceOutcome.scores` (``time`` in ms);
    * ``final.csv`` -- :func:`final_scores` (with the estimator's seconds);
    * ``inference.json`` -- parameters per method, noise seed, provenance;
    * ``scatter.png/.pdf`` -- true vs inferred weights per method (no noise);
    * ``over_time.png/.pdf`` -- r and sign alignment vs simulated time (no noise);
    * ``noise.png/.pdf`` -- final r and sign alignment vs noise level, and
      ``over_time_by_noise.png/.pdf`` -- the curves at every noise level (if
      more than one level was run).

    Parameters
    ----------
    outcome : InferenceOutcome
        Output of :func:`infer_run`.
    results : Results or path, optional
        The run; its directory gets ``inference/``. Default: the run the
        outcome came from.
    out_dir : path, optional
        Write here instead of ``RUN_DIR/inference``.
    extra_tables : mapping, optional
        ``file stem -> table`` written as CSV beside the scores (e.g. ``{"grid": grid_table}``).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from spikebridge.plotting.figures import save_figure
    from spikebridge.plotting.inference import inference_figures

    if out_dir is None:
        run_dir = _as_results(results).path if results is not None else Path(outcome.source["run_dir"])
        target = run_dir / "inference"
    else:
        target = Path(out_dir)
    written: list[Path] = []
    for stem, table in {"scores": outcome.scores, "final": final_scores(outcome), **dict(extra_tables or {})}.items():
        path = target / f"{stem}.csv"
        _atomic_text(path, table.to_csv(index=False, float_format="%.6g"))
        written.append(path)
    info = {
        "parameters": outcome.parameters,
        "seconds": [{"method": m, "noise": n, "seconds": s} for (m, n), s in outcome.seconds.items()],
        "source": outcome.source,
    }
    path = target / "inference.json"
    _atomic_text(path, json.dumps(info, indent=2, default=str) + "\n")
    written.append(path)

    title = f"{outcome.source.get('model', 'run')} on {outcome.source.get('backend', '?')}"
    for stem, fig in inference_figures(outcome, title=title).items():
        written += save_figure(fig, target / stem, close=True)
    return written


def format_final(outcome: InferenceOutcome) -> str:
    """The final scores as a plain-text table (noise in %, time in s, estimator time in s).

    Parameters
    ----------
    outcome : InferenceOutcome
        Output of :func:`infer_run`.

    Returns
    -------
    str
        One row per method and noise level: ``method noise time_s r sign seconds``.
    """
    final = final_scores(outcome)
    table = pd.DataFrame({
        "method": final["method"],
        "noise": [f"{100 * n:g} %" for n in final["noise"]],
        "time_s": final["time"] / 1000.0,
        "r": final["pearson"],
        "sign": final["sign_alignment"],
        "seconds": final["seconds"],
    })
    return table.to_string(index=False, float_format=lambda x: f"{x:.3f}")


def run_inference(
    run_dir: Results | str | os.PathLike[str],
    methods: Sequence[str] = METHODS,
    *,
    noise_percent: Iterable[float] = (0.0,),
    out_dir: str | os.PathLike[str] | None = None,
    **kwargs: Any,
) -> tuple[InferenceOutcome, list[Path]]:
    """:func:`infer_run` then :func:`write_outcome`: what ``spikebridge infer RUN_DIR`` does.

    Parameters
    ----------
    run_dir : Results or path
        A run directory of any backend.
    methods : sequence of str
        Estimators (``akrout``, ``rdd``, ``stdwi``).
    noise_percent : iterable of float
        Noise levels in percent (0-100), e.g. ``(0, 5, 10, 20)``.
    out_dir : path, optional
        Where to write (default ``RUN_DIR/inference``).
    **kwargs
        Passed to :func:`infer_run`: ``pre``, ``post``, ``projection``,
        ``seed``, ``check_every`` (ms), ``params``, ``phase``, ``progress``.

    Returns
    -------
    tuple
        The outcome and the files written.
    """
    levels = [float(x) for x in noise_percent]
    bad = [x for x in levels if not 0.0 <= x <= 100.0]
    if bad:
        raise InferenceInputError(f"noise levels are percentages in [0, 100], got {bad}")
    if out_dir is not None and Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise InferenceInputError(f"--out {out_dir}: exists and is not a directory")
    results = _as_results(run_dir)
    outcome = infer_run(results, methods, noise_levels=[x / 100.0 for x in levels], **kwargs)
    return outcome, write_outcome(outcome, results, out_dir=out_dir)
