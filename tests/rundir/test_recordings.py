"""The recordings file (NWB): exact round trip of Neo Blocks, readable by pynwb alone, no pickle, and the migration
of old pickle run directories."""

from __future__ import annotations

import copy
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import neo
import numpy as np
import pytest
import quantities as pq
from neo.core.spiketrainlist import SpikeTrainList

import spikebridge
from spikebridge.cli import main
from spikebridge.errors import RunDirectoryError
from spikebridge.models import validate
from spikebridge.rundir import write as write_module
from spikebridge.rundir.checksums import digest_files
from spikebridge.rundir.layout import RECORDINGS
from spikebridge.rundir.recordings import LEGACY, read_recordings, write_recordings

RAW: dict[str, Any] = {
    "name": "two_phases",
    "populations": {
        "inputs": {"cell_type": "SpikeSourcePoisson", "size": 30, "parameters": {"rate": 30.0}},
        "post": {"cell_type": "IF_cond_exp", "size": 3, "parameters": {"tau_refrac": 2.0}},
    },
    "projections": {
        "ff": {
            "pre": "inputs",
            "post": "post",
            "connector": {"rule": "all_to_all"},
            "weight": {"distribution": "uniform", "low": 0.004, "high": 0.008},
            "delay": 1.0,
            "synapse": {
                "type": "stdp",
                "timing": {"tau_plus": 20.0, "tau_minus": 20.0, "A_plus": 0.05, "A_minus": 0.05},
                "weight_dependence": {"rule": "additive", "w_min": 0.0, "w_max": 0.01},
            },
        }
    },
    "recording": {
        "post": {"variables": ["spikes", "v", "gsyn_exc"], "cells": [0, 2]},
        "inputs": {"variables": ["spikes"], "cells": [0, 3, 7, 29]},
    },
    "simulation": {
        "dt": 0.1,
        "phases": [{"name": "train", "duration": 300.0}, {"name": "test", "duration": 200.0, "plasticity": False}],
        "seed": 3,
    },
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[spikebridge.Results, neo.Block]:
    """A two-phase NEST run directory and the Block the backend handed to the writer."""
    seen: list[neo.Block] = []
    real = write_module.write_recordings

    def capture(block: neo.Block, path: Path) -> None:
        seen.append(block)
        real(block, path)

    mp = pytest.MonkeyPatch()
    mp.setattr(write_module, "write_recordings", capture)
    try:
        res = spikebridge.run(validate(copy.deepcopy(RAW)), "nest", tmp_path_factory.mktemp("rec") / "run", progress=False, figure=False)
    finally:
        mp.undo()
    return res, seen[0]


def synthetic_block() -> neo.Block:
    """Two phases, two populations (one cell without spikes), times that do not survive ms -> s -> ms, two signals."""
    rng = np.random.default_rng(7)
    block = neo.Block(name="synthetic")
    for k, (t0, t1) in enumerate([(0.0, 333.3), (333.3, 1000.0)]):
        seg = neo.Segment(name=f"phase{k}", plasticity=bool(k == 0))
        offsets = {"a": 0, "b": 10}
        cells = np.array([0, 1, 2, 3, 10, 12])  # a: 0-3 (3 silent in phase 1), b: 0 and 2
        spiking = cells if k == 0 else cells[cells != 3]
        ids = rng.choice(spiking, 500)
        times = rng.uniform(t0, t1, 500)
        seg.annotations["channel_offsets"] = offsets
        seg.spiketrains = SpikeTrainList.from_spike_time_array(
            times * pq.ms, ids, cells, t_stop=t1 * pq.ms, units="ms", t_start=t0 * pq.ms,
            population=np.array(["a"] * 4 + ["b"] * 2), source_index=np.array([0, 1, 2, 3, 0, 2]),
        )
        seg.spiketrains.segment = seg
        for name, units in (("v", "mV"), ("gsyn_inh", "uS")):
            sig = neo.AnalogSignal(rng.normal(size=(50, 2)), units=units, sampling_period=0.1 * pq.ms, t_start=t0 * pq.ms, name=name,
                                   population="b", source_population="b", channel_ids=np.array([10, 12]))  # as Brian2 annotates
            sig.array_annotate(channel_index=np.array([0, 2]))
            seg.analogsignals.append(sig)
        block.segments.append(seg)
    return block


def same(x: Any, y: Any) -> bool:
    """Equal annotations: arrays with the same dtype and values, dicts and lists compared item by item."""
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.dtype == y.dtype and np.array_equal(x, y)
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
    return bool(type(x) is type(y) and x == y)


def assert_same_blocks(a: neo.Block, b: neo.Block) -> None:
    assert a.name == b.name and [s.name for s in a.segments] == [s.name for s in b.segments]
    for s1, s2 in zip(a.segments, b.segments, strict=True):
        assert same(s1.annotations, s2.annotations), (s1.annotations, s2.annotations)
        st1, st2 = s1.spiketrains, s2.spiketrains
        assert (st1.t_start, st1.t_stop) == (st2.t_start, st2.t_stop)
        assert list(st1.all_channel_ids) == list(st2.all_channel_ids)
        (i1, t1), (i2, t2) = st1.multiplexed, st2.multiplexed
        o1, o2 = np.lexsort((t1.magnitude, i1)), np.lexsort((t2.magnitude, i2))
        np.testing.assert_array_equal(i1[o1], i2[o2])
        np.testing.assert_array_equal(t1.rescale(pq.ms).magnitude[o1], t2.magnitude[o2])  # bit for bit
        trains = [[(t.annotations["population"], int(t.annotations["source_index"]), sorted(t.magnitude.tolist())) for t in s.spiketrains]
                  for s in (s1, s2)]
        assert trains[0] == trains[1]
        assert len(s1.analogsignals) == len(s2.analogsignals)
        for x, y in zip(s1.analogsignals, s2.analogsignals, strict=True):
            assert (x.name, x.units, x.t_start, x.sampling_period) == (y.name, y.units, y.t_start, y.sampling_period)
            assert same(x.annotations, y.annotations) and same(dict(x.array_annotations), dict(y.array_annotations))
            np.testing.assert_array_equal(x.magnitude, y.magnitude)


def test_synthetic_block_round_trips_bit_for_bit(tmp_path: Path) -> None:
    block = synthetic_block()
    write_recordings(block, tmp_path / RECORDINGS)
    back = read_recordings(tmp_path / RECORDINGS)
    assert_same_blocks(block, back)
    assert back.segments[0].annotations == {"channel_offsets": {"a": 0, "b": 10}, "plasticity": True}
    assert all(sig.segment is seg for seg in back.segments for sig in seg.analogsignals)


def test_results_identical_from_the_file_and_from_the_backend_block(run: tuple[spikebridge.Results, neo.Block]) -> None:
    res, block = run
    loaded = spikebridge.load(res.path)
    direct = spikebridge.Results(res.path)
    direct.__dict__["block"] = block  # what the backend recorded, never written
    assert_same_blocks(block, loaded.block)
    assert loaded.phases == direct.phases == ["train", "test"]
    for phase in loaded.phases:
        assert loaded.segment(phase).annotations == direct.segment(phase).annotations
        for pop in ("inputs", "post"):
            for a, b in zip(loaded.spikes(pop, phase), direct.spikes(pop, phase), strict=True):
                np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(loaded.counts(pop, phase), direct.counts(pop, phase))
            np.testing.assert_array_equal(loaded.rates(pop, phase), direct.rates(pop, phase))
            for x, y in zip(loaded.spiketrains(pop, phase), direct.spiketrains(pop, phase), strict=True):
                assert (x.annotations, x.t_start, x.t_stop) == (y.annotations, y.t_start, y.t_stop)
                np.testing.assert_array_equal(x.magnitude, y.magnitude)
        for var in ("v", "gsyn_exc"):
            x, y = loaded.signals("post", var, phase), direct.signals("post", var, phase)
            assert (x.units, x.t_start, x.sampling_period) == (y.units, y.t_start, y.sampling_period)
            np.testing.assert_array_equal(x.magnitude, y.magnitude)
            np.testing.assert_array_equal(x.array_annotations["channel_index"], [0, 2])
    assert len(loaded.spikes("inputs", "train")[0]) > 0 and sorted(set(loaded.spikes("inputs", "test")[0])) <= [0, 3, 7, 29]


PYNWB_ONLY = """
import json, sys
import pynwb
with pynwb.NWBHDF5IO(sys.argv[1], "r") as io:
    nwb = io.read()
    units = nwb.units
    out = {}
    for row in range(len(units)):
        key = f"{units['segment'][row]}/{units['population'][row]}"
        cells, times = out.setdefault(key, ([], []))
        spikes = list(units["spike_times"][row])
        cells.extend([int(units["source_index"][row])] * len(spikes))
        times.extend(float(t) for t in spikes)
    phases = list(nwb.epochs["segment"][:])
assert not any(m.startswith("spikebridge") for m in sys.modules), "spikebridge was imported"
print(json.dumps({"spikes": out, "phases": phases}))
"""


def test_pynwb_alone_reads_the_same_spikes(run: tuple[spikebridge.Results, neo.Block], tmp_path: Path) -> None:
    res, _ = run
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-c", PYNWB_ONLY, str(res.path / RECORDINGS)], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    loaded = spikebridge.load(res.path)
    assert got["phases"] == loaded.phases
    for phase in loaded.phases:
        for pop in loaded.populations:
            idx, t_ms = loaded.spikes(pop, phase)
            cells, t_s = (np.asarray(x) for x in got["spikes"][f"{phase}/{pop}"])
            order = np.lexsort((cells, t_s))
            np.testing.assert_array_equal(cells[order], idx)
            np.testing.assert_array_equal(t_s[order], t_ms / 1000.0)  # NWB's seconds: exactly the ms values / 1000


def test_reading_never_unpickles(run: tuple[spikebridge.Results, neo.Block], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    res, block = run

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pickle used while reading recordings")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    assert_same_blocks(block, read_recordings(res.path / RECORDINGS))
    # a pickle that would leave a file behind, under the recordings' name: refused, and it never runs
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (open, (str(marker), "w"))

    monkeypatch.undo()
    (tmp_path / RECORDINGS).write_bytes(pickle.dumps(Evil()))
    with pytest.raises(RunDirectoryError, match="not an HDF5"):
        read_recordings(tmp_path / RECORDINGS)
    assert not marker.exists()


def old_style(res: spikebridge.Results, block: neo.Block, dst: Path, checksums: bool = True) -> Path:
    """A copy of ``res`` as an older spikebridge wrote it: recordings pickled with Neo PickleIO."""
    shutil.copytree(res.path, dst)
    (dst / RECORDINGS).unlink()
    neo.io.PickleIO(str(dst / LEGACY)).write_block(block)
    meta = json.loads((dst / "meta.json").read_text())
    if checksums:
        meta["sha256"] = digest_files(dst)
    else:
        meta.pop("sha256", None)
    (dst / "meta.json").write_text(json.dumps(meta, indent=2))
    return dst


def test_old_pickle_directory_is_refused_with_the_migrate_command(run: tuple[spikebridge.Results, neo.Block], tmp_path: Path) -> None:
    old = old_style(*run, tmp_path / "old")
    with pytest.raises(RunDirectoryError, match=r"spikebridge migrate .*old --trust-pickle") as err:
        spikebridge.load(old)
    assert "\n" not in str(err.value)


def test_migrate_refuses_without_trust_then_converts_in_place(
    run: tuple[spikebridge.Results, neo.Block], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res, block = run
    old = old_style(res, block, tmp_path / "old")
    before = {p.name: p.read_bytes() for p in old.iterdir() if p.is_file()}
    assert main(["migrate", str(old)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "pickle" in err and "code" in err and "--trust-pickle" in err
    assert {p.name: p.read_bytes() for p in old.iterdir() if p.is_file()} == before

    assert main(["migrate", str(old), "--trust-pickle"]) == 0
    names = {p.name for p in old.iterdir()}
    assert RECORDINGS in names and LEGACY not in names and not any(n.startswith(".migrate-") for n in names)
    meta = json.loads((old / "meta.json").read_text())
    assert meta["sha256"] == digest_files(old) and LEGACY not in meta["sha256"]
    migrated = spikebridge.load(old)
    assert_same_blocks(block, migrated.block)
    assert main(["migrate", str(old), "--trust-pickle"]) == 2  # nothing left to do
    assert "nothing to migrate" in capsys.readouterr().err


def test_migrate_without_checksums_and_refusing_a_changed_pickle(run: tuple[spikebridge.Results, neo.Block], tmp_path: Path) -> None:
    res, block = run
    from spikebridge.cli.migrate import migrate

    older = old_style(res, block, tmp_path / "older", checksums=False)  # written before meta.json had checksums
    migrate(older, trust_pickle=True)
    assert_same_blocks(block, spikebridge.load(older).block)

    changed = old_style(res, block, tmp_path / "changed")
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (open, (str(marker), "w"))

    (changed / LEGACY).write_bytes(pickle.dumps(Evil()))
    with pytest.raises(RunDirectoryError, match="does not match its SHA-256"):
        migrate(changed, trust_pickle=True)
    assert not marker.exists() and (changed / LEGACY).is_file() and not (changed / RECORDINGS).exists()


def test_failed_migration_changes_nothing(
    run: tuple[spikebridge.Results, neo.Block], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spikebridge.rundir import recordings

    old = old_style(*run, tmp_path / "old")
    before = {p.name: p.read_bytes() for p in old.iterdir() if p.is_file()}
    entries = sorted(p.name for p in old.iterdir())

    def broken(block: neo.Block, path: Path) -> None:
        Path(path).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(recordings, "write_recordings", broken)
    from spikebridge.cli.migrate import migrate

    with pytest.raises(OSError, match="disk full"):
        migrate(old, trust_pickle=True)
    assert {p.name: p.read_bytes() for p in old.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in old.iterdir()) == entries  # no temporary file left behind


def test_what_the_format_does_not_hold_is_refused_and_damage_is_reported(tmp_path: Path) -> None:
    import h5py

    block = synthetic_block()
    block.segments[0].events.append(neo.Event(times=[1.0] * pq.ms, labels=["x"]))
    with pytest.raises(ValueError, match="events"):
        write_recordings(block, tmp_path / "x.nwb")
    write_recordings(synthetic_block(), tmp_path / RECORDINGS)
    with h5py.File(tmp_path / RECORDINGS, "r+") as f:
        del f["units/spike_times_index"]
    with pytest.raises(RunDirectoryError, match="not a readable spikebridge recordings file"):
        read_recordings(tmp_path / RECORDINGS)
    with h5py.File(tmp_path / "other.nwb", "w") as f:
        f["x"] = 1
    with pytest.raises(RunDirectoryError, match="not a spikebridge recordings file"):
        read_recordings(tmp_path / "other.nwb")
