"""Spike records of image presentations: an ``xarray.DataArray`` (dims ``img, rep, layer, nrn_cls``) of
:class:`SpikeRecord`, saved to one ``.npz`` file and read back into the same array.

Spike times are in ms from the presentation's onset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ...rundir import atomic_file

DIMS = ("img", "rep", "layer", "nrn_cls")
FORMAT = "spikebridge.workflows.selectivity.records/1"


@dataclass(frozen=True)
class SpikeRecord:
    """Spikes of one population during one presentation: ``cells`` (index) and ``times`` (ms from onset).

    ``shape`` is the population's grid; ``duration`` (ms) the presentation's length.

    Parameters
    ----------
    cells : numpy.ndarray
        Cell index of every spike (int).
    times : numpy.ndarray
        Time of every spike (ms from the onset).
    shape : tuple of int
        The population's grid.
    duration : float
        The presentation's length (ms).

    Examples
    --------
    >>> record = SpikeRecord(np.array([0, 0, 2]), np.array([10.0, 150.0, 20.0]), (2, 2), 200.0)
    >>> record.n_cells, record.rates(), record.rates(100.0)   # Hz over 200 ms, then over the first 100 ms
    (4, array([10.,  0.,  5.,  0.]), array([10.,  0., 10.,  0.]))
    """

    cells: np.ndarray
    times: np.ndarray
    shape: tuple[int, ...]
    duration: float

    @property
    def n_cells(self) -> int:
        """Cells of the population: the product of ``shape``."""
        return int(np.prod(self.shape)) if self.shape else 0

    def rates(self, duration: float | None = None, offset: float = 0.0) -> np.ndarray:
        """Rate of every cell (Hz) over ``[offset, offset + duration)`` ms (default: the rest of the presentation).

        Parameters
        ----------
        duration : float, optional
            Length of the window (ms).
        offset : float, optional
            Start of the window (ms from the onset).

        Returns
        -------
        numpy.ndarray
            One rate per cell (Hz).
        """
        duration = self.duration - offset if duration is None else duration
        keep = (self.times >= offset) & (self.times < offset + duration)
        return np.bincount(self.cells[keep], minlength=self.n_cells)[: self.n_cells] * 1000.0 / duration


def empty_record(duration: float) -> SpikeRecord:
    """A record of a population that is not there (e.g. the input layer's INH class).

    Parameters
    ----------
    duration : float
        The presentation's length (ms).

    Returns
    -------
    SpikeRecord
        No cells, no spikes.
    """
    return SpikeRecord(np.empty(0, np.int64), np.empty(0), (0,), duration)


def records_array(records: np.ndarray, img: list[int], reps: list[int], layers: list[int], attrs: dict[str, Any]) -> xr.DataArray:
    """Wrap an object array ``[img, rep, layer, nrn_cls]`` of :class:`SpikeRecord` as a DataArray.

    Parameters
    ----------
    records : numpy.ndarray
        Object array of :class:`SpikeRecord`; the last axis is ``EXC, INH``.
    img, reps, layers : list of int
        Coordinates of the first three axes.
    attrs : dict
        Attributes kept with the records (e.g. the protocol).

    Returns
    -------
    xarray.DataArray
        Dims ``img, rep, layer, nrn_cls``.

    Examples
    --------
    >>> cells = np.empty((1, 1, 1, 2), dtype=object)
    >>> cells[0, 0, 0] = SpikeRecord(np.array([0, 0, 2]), np.array([10.0, 150.0, 20.0]), (2, 2), 200.0), empty_record(200.0)
    >>> records = records_array(cells, [0], [0], [1], {"present_ms": 200.0})
    >>> records.sel(img=0, rep=0, layer=1, nrn_cls="EXC").item().rates()
    array([10.,  0.,  5.,  0.])
    """
    coords = {"img": img, "rep": reps, "layer": layers, "nrn_cls": ["EXC", "INH"]}
    return xr.DataArray(records, dims=DIMS, coords=coords, attrs=attrs)


def save_records(records: xr.DataArray, path: str | Path) -> Path:
    """Write ``records`` to one ``.npz`` (atomically): spikes concatenated, offsets, coordinates and attrs.

    Parameters
    ----------
    records : xarray.DataArray
        Dims ``img, rep, layer, nrn_cls`` (:func:`records_array`).
    path : str or pathlib.Path
        The file.

    Returns
    -------
    pathlib.Path
        The file written; :func:`load_records` reads it back.
    """
    arr = records.transpose(*DIMS)
    flat = arr.values.ravel()
    counts = np.array([len(r.cells) for r in flat], dtype=np.int64)
    header = {
        "format": FORMAT,
        "coords": {d: [v.item() for v in arr[d].values] for d in DIMS},
        "shapes": [list(r.shape) for r in flat],
        "durations": [float(r.duration) for r in flat],
        "attrs": arr.attrs,
    }
    target = Path(path)
    with atomic_file(target) as fh:
        np.savez(
            fh,
            header=np.array(json.dumps(header, default=str)),
            counts=counts,
            cells=np.concatenate([r.cells for r in flat]) if len(flat) else np.empty(0, np.int64),
            times=np.concatenate([r.times for r in flat]) if len(flat) else np.empty(0),
        )
    return target


def load_records(path: str | Path) -> xr.DataArray:
    """Read records written by :func:`save_records`.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.npz`` file.

    Returns
    -------
    xarray.DataArray
        Dims ``img, rep, layer, nrn_cls`` of :class:`SpikeRecord`, with the attrs saved.

    Raises
    ------
    ValueError
        If the file is not a spike-records file.
    """
    with np.load(Path(path), allow_pickle=False) as data:
        header = json.loads(str(data["header"]))
        counts, cells, times = data["counts"], data["cells"], data["times"]
    if header.get("format") != FORMAT:
        raise ValueError(f"{path}: not a spike-records file (format {header.get('format')!r})")
    bounds = np.concatenate([[0], np.cumsum(counts)])
    items = [
        SpikeRecord(cells[bounds[k] : bounds[k + 1]], times[bounds[k] : bounds[k + 1]], tuple(shape), duration)
        for k, (shape, duration) in enumerate(zip(header["shapes"], header["durations"], strict=True))
    ]
    coords = header["coords"]
    out = np.empty(tuple(len(coords[d]) for d in DIMS), dtype=object)
    for k, item in enumerate(items):
        out[np.unravel_index(k, out.shape)] = item
    return xr.DataArray(out, dims=DIMS, coords=coords, attrs=header["attrs"])
