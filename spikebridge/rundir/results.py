"""The run directory: Neo recordings, the resolved model, the drawn network, final weights and metadata.

A run directory is written under a hidden temporary name beside its destination and swapped into place
only when every file is complete, so a run killed mid-way leaves nothing that :func:`load` accepts; meta.json
holds the SHA-256 of every other file, and :func:`load` refuses a directory whose files changed since.

Layout::

    RUN_DIR/
      model.toml           the model as resolved (units converted, defaults filled in)
      meta.json            seed, hashes, backend and options, versions, timings, host; "complete": true;
                           "sha256": {file: SHA-256} of every other file
      .spikebridge-run     marker: this folder is a spikebridge run directory (written first)
      recordings.nwb       NWB file: one Neo Block (one segment per phase); see :mod:`spikebridge.rundir.recordings`
      network.npz          every array instantiate() drew (connectivity, weights, delays, inputs, initial values)
      connections.npz      each projection's weights and delays at the end of the run
      weights.parquet      weight snapshots of the projections named in ``record_weights`` (if any)
      figures/             summary.png and summary.pdf

Recordings are NWB, not Neo pickles (which run code when opened): for 4,000 spike trains written 0.2 s, read
0.02 s (1.6 MB); NixIO took 52 s and 28 s (88 MB), measured here with Neo 0.14 and nixio 1.5.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import neo
import numpy as np
import pandas as pd
import quantities as pq

from ..backends.base import Connections
from ..errors import CorruptRunError, ModelError, RunDirectoryError, one_line
from ..models.check import population_size
from ..models.io import read_resolved
from ..models.schema import Model
from .checksums import verify
from .connections import read_connections, widened
from .layout import CONNECTIONS, META, MODEL, NETWORK, RECORDINGS, REQUIRED, WEIGHTS
from .recordings import read_recordings, refuse_legacy


class Results:
    """A complete run directory, read lazily. Spike times are in ms, rates in Hz.

    Open one with :func:`load`, which verifies it; ``Results(path)`` reads meta.json and checks nothing.
    """

    def __init__(self, path: str | os.PathLike[str], meta: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.meta: dict[str, Any] = meta if meta is not None else json.loads((self.path / META).read_text(encoding="utf-8"))
        self.verified = False
        """Whether :func:`load` checked that the directory is complete and every file has its recorded SHA-256."""

    @classmethod
    def partial(cls, path: str | os.PathLike[str], meta: dict[str, Any]) -> Results:
        """A run directory being written, seen before its meta.json is: what is in ``path`` so far, and ``meta``.

        For what draws a run's files while they are written (the summary figure); nothing is verified.
        """
        return cls(path, dict(meta))

    def __repr__(self) -> str:
        return f"Results({str(self.path)!r}, model={self.meta.get('model')!r}, backend={self.meta.get('backend')!r})"

    @cached_property
    def model(self) -> Model:
        """The model as resolved for this run; its ``source_folder`` is that of the model file it was made from."""
        import tomllib

        text = (self.path / MODEL).read_text(encoding="utf-8")
        return read_resolved(tomllib.loads(text), str(self.path / MODEL), folder=self.meta.get("model_folder"))

    @cached_property
    def block(self) -> neo.Block:
        """The run's recordings (recordings.nwb): one Neo Block, one segment per phase, read on first use."""
        return read_recordings(self.path / RECORDINGS)

    @property
    def phases(self) -> list[str]:
        """The names of the recorded phases, in the order they ran (one per segment of :attr:`block`)."""
        return [seg.name for seg in self.block.segments]

    @property
    def populations(self) -> list[str]:
        """The names of the model's populations, in model order."""
        return list(self.model.populations)

    def segment(self, phase: str | None = None) -> neo.Segment:
        """The recordings of one phase.

        Parameters
        ----------
        phase
            The phase's name; ``None`` for the only phase of a run that has one.

        Returns
        -------
        neo.Segment
            Its spike trains (times in ms) and analog signals.

        Raises
        ------
        RunDirectoryError
            No such phase, or ``phase=None`` and the run has several.
        """
        segments = self.block.segments
        if phase is None:
            if len(segments) != 1:
                raise RunDirectoryError(f"this run has phases {self.phases}; name one")
            return segments[0]
        for seg in segments:
            if seg.name == phase:
                return seg
        raise RunDirectoryError(f"no phase {phase!r} in {self.path} (phases: {self.phases})")

    def _check_population(self, population: str) -> int:
        if population not in self.model.populations:
            raise RunDirectoryError(f"no population {population!r} (populations: {self.populations})")
        return population_size(self.model.populations[population], population)

    def spikes(self, population: str, phase: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every recorded spike of one population in one phase, sorted by time (then cell).

        Parameters
        ----------
        population
            The population's name.
        phase
            The phase's name; ``None`` for the only phase of a run that has one.

        Returns
        -------
        cells : numpy.ndarray
            The spiking cell's index in the population (int64), one per spike.
        times : numpy.ndarray
            The spike time (ms from the start of the run, float64), one per spike.

        Raises
        ------
        RunDirectoryError
            No such population or phase.
        """
        size = self._check_population(population)
        seg = self.segment(phase)
        offsets = seg.annotations.get("channel_offsets", {})
        if population not in offsets:
            return np.empty(0, np.int64), np.empty(0)
        ids, times = seg.spiketrains.multiplexed
        ids = np.asarray(ids, dtype=np.int64)
        t = np.asarray(times.rescale(pq.ms).magnitude if hasattr(times, "rescale") else times, dtype=np.float64)
        keep = (ids >= offsets[population]) & (ids < offsets[population] + size)
        idx, t = ids[keep] - offsets[population], t[keep]
        order = np.lexsort((idx, t))
        return idx[order], t[order]

    def recorded_cells(self, population: str) -> np.ndarray:
        """Indices of the cells whose spikes were recorded, ascending.

        Parameters
        ----------
        population
            The population's name.

        Returns
        -------
        numpy.ndarray
            Cell indices in the population (int64); empty when its spikes are not recorded.
        """
        size = self._check_population(population)
        rec = self.model.recording.get(population)
        if rec is None or "spikes" not in rec.variables:
            return np.empty(0, np.int64)
        if rec.cells == "all":
            return np.arange(size)
        if isinstance(rec.cells, int):
            return np.arange(rec.cells)
        return np.asarray(sorted(rec.cells), dtype=np.int64)

    def spiketrains(self, population: str, phase: str | None = None, cells: int | None = None) -> list[neo.SpikeTrain]:
        """The recorded spike trains of one population in one phase, one per recorded cell, by cell index.

        Parameters
        ----------
        population
            The population's name.
        phase
            The phase's name; ``None`` for the only phase of a run that has one.
        cells
            Only the first this many recorded cells (``None``: all).

        Returns
        -------
        list of neo.SpikeTrain
            Times in ms between the phase's start and stop, annotated with ``population`` and ``source_index``
            (the cell's index); a cell that did not spike has an empty train.
        """
        idx, t = self.spikes(population, phase)
        seg = self.segment(phase)
        t_start, t_stop = seg.spiketrains.t_start, seg.spiketrains.t_stop
        recorded = self.recorded_cells(population)[:cells]
        order = np.lexsort((t, idx))
        bounds = np.searchsorted(idx[order], np.append(recorded, recorded[-1] + 1) if len(recorded) else [0])
        times = t[order]
        return [
            neo.SpikeTrain(
                times[bounds[k] : bounds[k + 1]], units="ms", t_start=t_start, t_stop=t_stop, population=population, source_index=int(c)
            )
            for k, c in enumerate(recorded)
        ]

    def counts(self, population: str, phase: str | None = None) -> np.ndarray:
        """Spike count of each recorded cell in one phase.

        Parameters
        ----------
        population
            The population's name.
        phase
            The phase's name; ``None`` for the only phase of a run that has one.

        Returns
        -------
        numpy.ndarray
            One count per cell of :meth:`recorded_cells`, in that order.
        """
        idx, _ = self.spikes(population, phase)
        cells = self.recorded_cells(population)
        return np.bincount(idx, minlength=int(cells.max(initial=-1)) + 1)[cells] if len(cells) else np.empty(0)

    def rates(self, population: str, phase: str | None = None) -> np.ndarray:
        """Mean firing rate of each recorded cell: spike count over the phase's duration.

        Parameters
        ----------
        population
            The population's name.
        phase
            The phase's name; ``None`` for the only phase of a run that has one.

        Returns
        -------
        numpy.ndarray
            One rate (Hz) per cell of :meth:`recorded_cells`, in that order.
        """
        seg = self.segment(phase)
        duration_s = float((seg.spiketrains.t_stop - seg.spiketrains.t_start).rescale(pq.s).magnitude)
        return self.counts(population, phase) / duration_s

    def signals(self, population: str, variable: str, phase: str | None = None) -> neo.AnalogSignal:
        """One recorded state variable of one population in one phase.

        Parameters
        ----------
        population
            The population's name.
        variable
            The recorded variable as the model names it (``v``: membrane potential in mV; ``gsyn_exc``,
            ``gsyn_inh``: synaptic conductances in µS).
        phase
            The phase's name; ``None`` for the only phase of a run that has one.

        Returns
        -------
        neo.AnalogSignal
            Time by recorded cell, with its units and sampling period (ms).

        Raises
        ------
        RunDirectoryError
            The variable was not recorded for that population.
        """
        for sig in self.segment(phase).analogsignals:
            if sig.annotations.get("population") == population and sig.name == variable:
                return sig
        raise RunDirectoryError(f"no recorded {variable!r} for population {population!r}")

    @cached_property
    def network(self) -> dict[str, np.ndarray]:
        """Every array instantiate() drew, by name (e.g. ``prj/exc_exc/weight``)."""
        with np.load(self.path / NETWORK) as data:
            return {k.replace("__", "/"): widened(data[k]) for k in data.files}

    @cached_property
    def _snapshots(self) -> pd.DataFrame | None:
        from .weights import read_table

        return read_table(self.path / WEIGHTS) if (self.path / WEIGHTS).is_file() else None

    def weights(self, projection: str | Sequence[str] | None = None, t: float | Sequence[float] | None = None) -> pd.DataFrame:
        """Weights (uS or nA) and delays (ms) as a table indexed by (projection, pre, post), one column block
        (``w``, ``delay``) per snapshot time ``t`` (ms).

        Projections without snapshots appear with their final weights at the end of the run.

        Parameters
        ----------
        projection
            One projection's name, several, or ``None`` for every projection of the model.
        t
            Keep only the snapshots at these times (ms); ``None`` keeps every snapshot.

        Returns
        -------
        pandas.DataFrame
            Rows (projection, pre, post); columns (``t``, ``var``) with ``var`` ``w`` (uS for conductance-based
            post cells, else nA) or ``delay`` (ms).

        Raises
        ------
        RunDirectoryError
            No such projection, or no snapshot at a requested time.
        """
        from .weights import table_from_arrays

        names = list(self.model.projections) if projection is None else [projection] if isinstance(projection, str) else list(projection)
        for name in names:
            if name not in self.model.projections:
                raise RunDirectoryError(f"no projection {name!r} (projections: {', '.join(self.model.projections)})")
        snaps = self._snapshots
        in_snaps = [n for n in names if snaps is not None and n in snaps.index.get_level_values("projection")]
        finals = [n for n in names if n not in in_snaps]
        parts = []
        if in_snaps:
            assert snaps is not None
            parts.append(snaps[snaps.index.get_level_values("projection").isin(in_snaps)])
        if finals:
            end = float(self.meta["duration_ms"])
            arrays = {n: (c.pre, c.post, c.weight, c.delay) for n in finals for c in [self.connections(n)]}
            parts.append(table_from_arrays({end: arrays}))
        table = pd.concat(parts, axis=0) if len(parts) > 1 else parts[0]
        table = table.loc[names] if len(names) > 1 else table
        if t is not None:
            wanted = np.atleast_1d(np.asarray(t, dtype=float))
            have = table.columns.get_level_values("t").astype(float)
            missing = [x for x in wanted if not np.any(np.isclose(have, x))]
            if missing:
                raise RunDirectoryError(f"no weight snapshot at t = {missing} ms (snapshots: {sorted(set(have.tolist()))})")
            table = table.loc[:, np.any(np.isclose(have.to_numpy()[:, None], wanted[None, :]), axis=1)]
        return table

    def connections(self, projection: str) -> Connections:
        """Weights (uS or nA) and delays (ms) of a projection at the end of the run.

        Parameters
        ----------
        projection
            The projection's name.

        Returns
        -------
        Connections
            One entry per synapse: ``pre`` and ``post`` cell indices, ``weight`` (uS or nA) and ``delay`` (ms).
        """
        return read_connections(self.path / CONNECTIONS, projection)


# what `spikebridge info` and the analyses read from meta.json without checking
META_KEYS = (
    "model",
    "backend",
    "seed",
    "duration_ms",
    "phases",
    "cells",
    "synapses",
    "created",
    "host",
    "timings",
    "versions",
    "backend_info",
)


def _absent(p: Path) -> str:
    aside = sorted(p.parent.glob(f".{glob.escape(p.name)}.old-*")) if not p.exists() else []
    if aside:
        return (
            f"{p} is missing: replacing it was interrupted; the previous run is in {aside[0].name}, "
            f"and the next run written to {p} puts it back"
        )
    return f"{p} is not a directory"


def _read_meta(p: Path) -> dict[str, Any]:
    try:
        meta = json.loads((p / META).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise CorruptRunError(f"{p} is corrupt: {META} cannot be read ({one_line(err)})") from None
    except json.JSONDecodeError as err:
        raise CorruptRunError(f"{p} is corrupt: {META} is not valid JSON ({one_line(err)})") from None
    if not isinstance(meta, dict):
        raise CorruptRunError(f"{p} is corrupt: {META} does not hold a JSON object")
    return meta


def _digests(p: Path, meta: dict[str, Any]) -> dict[str, str]:
    digests = meta.get("sha256")
    if digests is None:
        raise RunDirectoryError(
            f"{p} has no SHA-256 checksums in {META} (written by an older spikebridge), so it cannot be verified; run it again"
        )
    if not isinstance(digests, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in digests.items()):
        raise CorruptRunError(f"{p} is corrupt: its SHA-256 list in {META} is malformed")
    for name in digests:
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise CorruptRunError(f"{p} is corrupt: {META} lists a file outside the directory ({name})")
    for name in REQUIRED:
        if name != META and name not in digests:
            raise CorruptRunError(f"{p} is corrupt: {name} has no SHA-256 in {META}")
    return digests


def _read_model(p: Path, meta: Mapping[str, Any]) -> Model:
    import tomllib

    try:
        raw = tomllib.loads((p / MODEL).read_text(encoding="utf-8"))
        return read_resolved(raw, str(p / MODEL), folder=meta.get("model_folder"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ModelError) as err:
        raise CorruptRunError(f"{p} is corrupt: {MODEL} cannot be read as a model ({one_line(err)})") from None


def load(path: str | Path) -> Results:
    """Open a complete run directory; refuses a partial, foreign or corrupt one with one line saying why.

    Every file listed in meta.json's ``sha256`` must have the bytes it had when the run was written.
    """
    p = Path(path)
    if not p.is_dir():
        raise RunDirectoryError(_absent(p))
    before = _inode(p)
    try:
        return _load(p)
    except RunDirectoryError:
        # A writer swapped a new run in while we read (meta.json of one, files of the other): read the new one.
        if _inode(p) in (None, before):
            raise
        return _load(p)


def _inode(p: Path) -> int | None:
    try:
        return os.stat(p).st_ino
    except OSError:
        return None


def _load(p: Path) -> Results:
    refuse_legacy(p)  # old pickle recordings: one line naming `spikebridge migrate`
    missing = [f for f in REQUIRED if not (p / f).is_file()]
    if missing:
        raise RunDirectoryError(f"{p} is not a complete spikebridge run directory (missing {', '.join(missing)})")
    meta = _read_meta(p)
    if meta.get("complete") is not True:
        raise RunDirectoryError(f"{p} is not marked complete in {META}")
    absent = [k for k in META_KEYS if k not in meta]
    if absent:
        raise CorruptRunError(f"{p} is corrupt: {META} lacks {', '.join(absent)}")
    verify(p, _digests(p, meta))
    results = Results(p, meta)
    results.__dict__["model"] = _read_model(p, meta)  # fills the cached property
    results.verified = True
    return results
