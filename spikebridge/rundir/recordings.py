"""The recordings file of a run directory: an NWB 2 file (HDF5) that holds one Neo Block, one segment per phase.

Layout (every time in NWB's unit, seconds, unless the name says ms)::

    intervals/epochs   one row per phase (Neo segment), in order: start_time, stop_time (s); segment, _name, block
                       (the phase and Block names, as neo.io.NWBIO writes them); t_start_ms, t_stop_ms (the span
                       of the phase's spike trains, exact); annotations (JSON: the segment's annotations, e.g.
                       channel_offsets, plasticity; and whether the phase has spike trains)
    units              one row per recorded cell per phase, rows grouped by phase, then population, then cell:
                       spike_times (ragged, s, ascending), obs_intervals ([[t_start, t_stop]] in s), segment, block,
                       _name ("POPULATION:CELL"), population, source_index (the cell's index in its population), spike_times_ms_ulp (ragged
                       int8, see below)
    acquisition/NAME   one TimeSeries per analog signal ("K.PHASE.POPULATION.VARIABLE", K the phase's number): data [time, channel] in the
                       simulator's units, ``unit`` the SI unit and ``conversion`` the factor to it (mV: "volts",
                       1e-3), starting_time (s), rate (Hz); comments (JSON) holds block, segment, the Neo name,
                       units, t_start_ms, sampling_period_ms, annotations and array annotations (channel_index)

Spikes are written as whole arrays (one ragged column, never one object per cell) and read back into an array-backed
``neo.SpikeTrainList`` per phase. Simulators give times in ms; NWB wants seconds, and ``t / 1000 * 1000`` differs from
``t`` in the last bit for about 2 % of spike times, so ``spike_times_ms_ulp`` stores, per spike, what to add to the
int64 bits of ``float64(spike_times * 1000)`` to get the simulator's time back bit for bit (0 for ~98 % of spikes).

Writing needs pynwb; reading uses h5py only, never pickle, so opening a run directory runs no code from it. Any NWB
reader (pynwb, neo.io.NWBIO, MatNWB) opens the file.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h5py
import neo
import numpy as np
import quantities as pq
from neo.core.spiketrainlist import SpikeTrainList

from ..errors import RunDirectoryError
from .layout import RECORDINGS

FORMAT = "spikebridge-recordings"
VERSION = 1
LEGACY = "recordings.neo.pkl"
"""The former recordings file (Neo PickleIO), refused by :func:`refuse_legacy` and converted by ``spikebridge migrate``."""

_SI = (("volts", pq.V), ("amperes", pq.A), ("siemens", pq.S), ("seconds", pq.s), ("hertz", pq.Hz))


def _si_unit(units: pq.Quantity) -> tuple[str, float]:
    """NWB ``unit`` and ``conversion`` (multiply the data by it to get that unit) of a quantities unit."""
    for name, base in _SI:
        try:
            return name, float(units.rescale(base).magnitude)
        except ValueError:
            continue
    return units.dimensionality.string, 1.0


def _jsonable(value: Any) -> Any:
    """``value`` for JSON: numpy scalars as Python numbers, numpy arrays as ``{"__ndarray__": list, "dtype": str}``."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, pq.Quantity):
        raise TypeError(f"cannot store the quantity {value!r} as an annotation (give a plain number and say its unit in the name)")
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _from_json(d: dict[str, Any]) -> Any:
    """``json.loads`` object hook undoing :func:`_jsonable`'s arrays (a dtype string is data, not code)."""
    if set(d) == {"__ndarray__", "dtype"}:
        return np.asarray(d["__ndarray__"], dtype=np.dtype(d["dtype"]))
    return d


def _ms(q: Any) -> float:
    """A time quantity (or a plain number of ms) as float ms."""
    return float(q.rescale(pq.ms).magnitude) if isinstance(q, pq.Quantity) else float(q)


def _ulp_correction(t_ms: np.ndarray, t_s: np.ndarray) -> np.ndarray:
    """Per spike, the int64 bit difference between ``t_ms`` and ``t_s * 1000``: small (within a few ulps)."""
    diff = t_ms.view(np.int64) - (t_s * 1000.0).view(np.int64)
    if len(diff) and np.abs(diff).max() > 127:  # cannot happen for finite times; fail rather than store a wrong value
        raise ValueError("spike times did not survive ms -> s within a few ulps")
    return diff.astype(np.int8)


def _spike_rows(seg: neo.Segment) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(row of each spike, spike time in ms, channel of each row, source index of each row, population of each row)
    of one segment, rows in the order of the spike train list's channels."""
    stl = seg.spiketrains
    channels = np.asarray(stl.all_channel_ids if len(stl) else [], dtype=np.int64)
    offsets: dict[str, int] = seg.annotations.get("channel_offsets", {})
    if len(channels) and not offsets:
        raise ValueError(f"segment {seg.name!r} has spike trains but no 'channel_offsets' annotation")
    names = sorted(offsets, key=lambda n: offsets[n])
    starts = np.asarray([offsets[n] for n in names], dtype=np.int64)
    which = np.searchsorted(starts, channels, side="right") - 1
    if np.any(which < 0):
        raise ValueError(f"segment {seg.name!r}: channel ids below every population's offset")
    populations = [names[k] for k in which]
    source = channels - starts[which]
    ids, times = stl.multiplexed
    ids = np.asarray(ids, dtype=np.int64)
    t = np.asarray(times.rescale(pq.ms).magnitude if isinstance(times, pq.Quantity) else times, dtype=np.float64)
    order = np.argsort(channels, kind="stable")
    pos = np.searchsorted(channels[order], ids)
    pos = np.minimum(pos, max(len(channels) - 1, 0))
    if len(ids) and (len(channels) == 0 or np.any(channels[order][pos] != ids)):
        raise ValueError(f"segment {seg.name!r} has spikes of channels that are not among its spike trains")
    rows = order[pos] if len(ids) else np.empty(0, np.int64)
    return rows, t, channels, source, populations


def _phase_span(seg: neo.Segment) -> tuple[bool, float, float]:
    """(has spike trains, t_start ms, t_stop ms) of a segment: the spike trains' span, else the segment's."""
    try:
        return True, _ms(seg.spiketrains.t_start), _ms(seg.spiketrains.t_stop)
    except (ValueError, TypeError, AttributeError):
        pass
    t0, t1 = seg.t_start, seg.t_stop
    return False, (_ms(t0) if t0 is not None else 0.0), (_ms(t1) if t1 is not None else 0.0)


def write_recordings(block: neo.Block, path: Path) -> None:
    """Write ``block`` (one segment per phase, spikes as an array-backed ``SpikeTrainList`` whose channel ids are
    ``channel_offsets[population] + cell``) to ``path`` as NWB.

    Parameters
    ----------
    block
        Segments named after the phases; spike times and signal times in any time unit (stored in s and exactly in ms).
    path
        The file to write (replaced if it exists).
    """
    import pynwb
    from hdmf.common import ElementIdentifiers, VectorData, VectorIndex
    from pynwb.misc import Units

    block_name = block.name or ""
    nwb = pynwb.NWBFile(
        session_description=f"spikebridge recordings of {block_name or 'a model'}: one epoch per phase",
        identifier=str(uuid.uuid4()),
        session_start_time=block.rec_datetime or datetime.now(UTC),
        notes=json.dumps({"format": FORMAT, "version": VERSION, "block": block_name}),
    )
    for column, text in (
        ("segment", "the phase (Neo segment) name"),
        ("_name", "the phase name"),
        ("block", "the Neo Block name (the model)"),
        ("t_start_ms", "start of the phase's spike trains (ms, exact)"),
        ("t_stop_ms", "end of the phase's spike trains (ms, exact)"),
        ("annotations", "JSON: the segment's annotations (channel_offsets, ...) and has_spiketrains"),
    ):
        nwb.add_epoch_column(column, text)

    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("row", "t", "source", "t0", "t1")}
    populations: list[str] = []
    phase_of_row: list[str] = []
    n_rows = 0
    used_names: set[str] = set()
    width = len(str(max(len(block.segments) - 1, 0)))
    for number, seg in enumerate(block.segments):
        others = [kind for kind in ("irregularlysampledsignals", "events", "epochs", "imagesequences") if getattr(seg, kind, None)]
        if others:
            raise ValueError(f"segment {seg.name!r} holds {', '.join(others)}: the recordings file stores spikes and analog signals only")
        has_trains, t0, t1 = _phase_span(seg)
        annotations = {"annotations": _jsonable(dict(seg.annotations)), "has_spiketrains": has_trains}
        nwb.add_epoch(start_time=t0 / 1000.0, stop_time=t1 / 1000.0, tags=[seg.name], segment=seg.name, _name=seg.name, block=block_name,
                      t_start_ms=t0, t_stop_ms=t1, annotations=json.dumps(annotations))
        if has_trains:
            rows, t, channels, source, pops = _spike_rows(seg)
            parts["row"].append(rows + n_rows)
            parts["t"].append(t)
            parts["source"].append(source)
            parts["t0"].append(np.full(len(channels), t0))
            parts["t1"].append(np.full(len(channels), t1))
            populations.extend(pops)
            phase_of_row.extend([seg.name] * len(channels))
            n_rows += len(channels)
        for k, sig in enumerate(seg.analogsignals):
            nwb.add_acquisition(_timeseries(pynwb, sig, seg.name, block_name, number, width, k, used_names))

    if n_rows:
        row = np.concatenate(parts["row"]).astype(np.int64)
        t_ms = np.concatenate(parts["t"])
        order = np.lexsort((t_ms, row))
        row, t_ms = row[order], t_ms[order]
        t_s = t_ms / 1000.0
        ends = np.cumsum(np.bincount(row, minlength=n_rows)).astype(np.int64)
        source = np.concatenate(parts["source"])
        spans = np.column_stack([np.concatenate(parts["t0"]), np.concatenate(parts["t1"])]) / 1000.0
        one = np.arange(1, n_rows + 1, dtype=np.int64)
        st = VectorData(name="spike_times", description="spike times of each cell in one phase (s)", data=t_s)
        ulp = VectorData(
            name="spike_times_ms_ulp",
            description="per spike: add to the int64 bits of float64(spike_times * 1000) to get the simulator's time in ms exactly",
            data=_ulp_correction(t_ms, t_s),
        )
        obs = VectorData(name="obs_intervals", description="the phase: [[start, stop]] (s)", data=spans)
        columns = [
            st, VectorIndex(name="spike_times_index", data=ends, target=st),
            obs, VectorIndex(name="obs_intervals_index", data=one, target=obs),
            VectorData(name="segment", description="the phase (Neo segment) name", data=phase_of_row),
            VectorData(name="block", description="the Neo Block name (the model)", data=[block_name] * n_rows),
            VectorData(name="_name", description="POPULATION:CELL (the name neo.io.NWBIO gives the spike train)",
                       data=[f"{p}:{c}" for p, c in zip(populations, source.tolist(), strict=True)]),
            VectorData(name="population", description="the cell's population", data=populations),
            VectorData(name="source_index", description="the cell's index in its population", data=source),
            ulp, VectorIndex(name="spike_times_ms_ulp_index", data=ends, target=ulp),
        ]
        nwb.units = Units(name="units", description="one row per recorded cell per phase",
                          id=ElementIdentifiers(name="id", data=np.arange(n_rows, dtype=np.int64)),
                          columns=columns, colnames=[c.name for c in columns if not isinstance(c, VectorIndex)])
    path = Path(path)
    path.unlink(missing_ok=True)
    with pynwb.NWBHDF5IO(str(path), mode="w") as io:
        io.write(nwb)


def _timeseries(
    pynwb: Any, sig: neo.AnalogSignal, phase: str, block_name: str, segment_order: int, width: int, k: int, used: set[str]
) -> Any:
    """One analog signal as an NWB TimeSeries (data unchanged, in the signal's units)."""
    population = str(sig.annotations.get("population", ""))
    # the phase's number first: NWB lists acquisitions by name, and neo.io.NWBIO orders its segments that way
    base = ".".join(x for x in (f"{segment_order:0{width}d}", phase, population, sig.name or f"signal{k}") if x).replace("/", "_")
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}.{n}"
    used.add(name)
    unit, conversion = _si_unit(sig.units)
    t_start, period = _ms(sig.t_start), _ms(sig.sampling_period)
    comments = {
        "block": block_name, "segment": phase, "segment_order": segment_order, "order": k, "name": sig.name,
        "units": sig.units.dimensionality.string, "t_start_ms": t_start, "sampling_period_ms": period,
        "annotations": _jsonable(dict(sig.annotations)), "array_annotations": _jsonable(dict(sig.array_annotations)),
    }
    return pynwb.TimeSeries(
        name=name,
        data=np.asarray(sig.magnitude),
        unit=unit,
        conversion=conversion,
        starting_time=t_start / 1000.0,
        rate=1000.0 / period,
        comments=json.dumps(comments),
        description=f"{sig.name} of {population or 'a population'} in phase {phase} ({sig.units.dimensionality.string})",
    )


def _strings(ds: h5py.Dataset) -> list[str]:
    return list(ds.asstr()[()]) if ds.shape else [ds.asstr()[()]]


def read_recordings(path: Path) -> neo.Block:
    """Read the Block written by :func:`write_recordings` (with h5py only; no code in the file runs).

    Returns
    -------
    neo.Block
        One segment per phase, in order, with the segment annotations written; spikes as an array-backed
        ``neo.SpikeTrainList`` (times in ms, channel = ``channel_offsets[population] + source_index``, each train
        annotated ``population`` and ``source_index``); analog signals with their units, t_start and
        sampling period (ms), annotations and array annotations.
    """
    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise RunDirectoryError(f"{path} is not an HDF5 (NWB) file: {err}") from None
    with f:
        try:
            notes = json.loads(f["general/notes"][()]) if "general/notes" in f else {}
        except (ValueError, TypeError):
            notes = {}
        if not isinstance(notes, dict) or notes.get("format") != FORMAT:
            raise RunDirectoryError(f"{path} is not a spikebridge recordings file")
        if notes.get("version", 0) > VERSION:
            raise RunDirectoryError(f"{path} has recordings format {notes['version']}; this spikebridge reads up to {VERSION}: upgrade it")
        try:
            block = _read_block(f, notes)
        except (KeyError, ValueError, TypeError, IndexError) as err:  # a damaged or hand-edited file
            raise RunDirectoryError(f"{path} is not a readable spikebridge recordings file ({type(err).__name__}: {err})") from None
    for seg in block.segments:
        seg.block = block
    return block


def _read_block(f: h5py.File, notes: dict[str, Any]) -> neo.Block:
    """The Block of an open recordings file whose format was checked."""
    block = neo.Block(name=notes.get("block", ""))
    epochs = f["intervals/epochs"]
    names = _strings(epochs["segment"])
    t0s, t1s = epochs["t_start_ms"][()], epochs["t_stop_ms"][()]
    extras = [json.loads(x, object_hook=_from_json) for x in _strings(epochs["annotations"])]
    units = _read_units(f["units"]) if "units" in f else None
    for k, name in enumerate(names):
        seg = neo.Segment(name=name, **extras[k]["annotations"])
        if extras[k]["has_spiketrains"]:
            seg.spiketrains = _spiketrain_list(units, name, seg.annotations.get("channel_offsets", {}), t0s[k], t1s[k])
            seg.spiketrains.segment = seg
        block.segments.append(seg)
    signals = [_read_signal(ts) for ts in f["acquisition"].values()] if "acquisition" in f else []
    for (seg_order, _), sig in sorted(signals, key=lambda s: s[0]):
        seg = block.segments[seg_order]
        sig.segment = seg
        seg.analogsignals.append(sig)
    return block


def _read_units(g: h5py.Group) -> dict[str, np.ndarray]:
    """The units table as arrays: spike times (ms, exact), per-spike row, per-row segment, population, source index."""
    t_s = g["spike_times"][()]
    ends = g["spike_times_index"][()].astype(np.int64)
    ulp = g["spike_times_ms_ulp"][()].astype(np.int64) if "spike_times_ms_ulp" in g else np.zeros(len(t_s), np.int64)
    t_ms = ((t_s * 1000.0).view(np.int64) + ulp).view(np.float64)
    counts = np.diff(ends, prepend=0)
    return {
        "t": t_ms,
        "row": np.repeat(np.arange(len(ends)), counts),
        "segment": np.asarray(_strings(g["segment"])),
        "population": np.asarray(_strings(g["population"])),
        "source_index": g["source_index"][()].astype(np.int64),
    }


def _spiketrain_list(units: dict[str, np.ndarray] | None, phase: str, offsets: dict[str, int], t0: float, t1: float) -> SpikeTrainList:
    """The array-backed spike train list of one phase (times in ms, channel = offset of the population + cell)."""
    if units is None:
        units = {"t": np.empty(0), "row": np.empty(0, np.int64), "segment": np.empty(0, str),
                 "population": np.empty(0, str), "source_index": np.empty(0, np.int64)}
    rows = np.flatnonzero(units["segment"] == phase)
    pops, source = units["population"][rows], units["source_index"][rows]
    channel_of_row = np.full(len(units["segment"]), -1, np.int64)
    channel_of_row[rows] = np.asarray([offsets[p] for p in pops], dtype=np.int64).reshape(-1) + source
    spike_channel = channel_of_row[units["row"]]
    keep = spike_channel >= 0
    return SpikeTrainList.from_spike_time_array(
        units["t"][keep] * pq.ms, spike_channel[keep], channel_of_row[rows], t_stop=t1 * pq.ms, units="ms", t_start=t0 * pq.ms,
        population=pops, source_index=source,
    )


def _read_signal(ts: h5py.Group) -> tuple[tuple[int, int], neo.AnalogSignal]:
    """((segment order, order in segment), signal) of one TimeSeries written by :func:`_timeseries`."""
    c = json.loads(ts.attrs["comments"], object_hook=_from_json)
    sig = neo.AnalogSignal(ts["data"][()], units=c["units"], t_start=c["t_start_ms"] * pq.ms,
                           sampling_period=c["sampling_period_ms"] * pq.ms, name=c["name"], **c["annotations"])
    if c["array_annotations"]:
        sig.array_annotate(**{k: np.asarray(v) for k, v in c["array_annotations"].items()})
    return (int(c["segment_order"]), int(c["order"])), sig


def refuse_legacy(run_dir: Path) -> None:
    """Raise :class:`RunDirectoryError` if ``run_dir`` holds old pickle recordings and no NWB file: loading a pickle
    can run any code, so only ``spikebridge migrate RUN --trust-pickle`` converts it, on request."""
    run_dir = Path(run_dir)
    if (run_dir / LEGACY).is_file() and not (run_dir / RECORDINGS).is_file():
        raise RunDirectoryError(
            f"{run_dir} holds recordings in the old pickle format ({LEGACY}), which can run code when opened; "
            f"if you trust its source, convert it with: spikebridge migrate {run_dir} --trust-pickle"
        )
