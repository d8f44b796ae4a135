"""Benchmark: writing and reading a run directory's recordings, NWB (today's format) beside Neo PickleIO (the former).

Runs the bundled Vogels-Abbott COBA model (4000 cells, 1 s, every spike recorded) on NEST once, then times, best of
``--repeat``, writing and reading its recordings in both formats, and ``spikebridge.load(RUN)`` followed by
``spikes()`` of every population (a new ``load`` each time), and the first NWB read and write of a fresh process
(where importing spikebridge, and pynwb for writing, dominates). Target: at most 1 s each for the NWB write and read.

Usage::

    python benchmarks/rundir_io.py [--repeat 3] [--duration 1000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import neo

import spikebridge
from spikebridge.models import load_model
from spikebridge.rundir.layout import RECORDINGS
from spikebridge.rundir.recordings import read_recordings, write_recordings

TARGET_S = 1.0
COLD = """
import sys, time
t0 = time.perf_counter()
from spikebridge.rundir.recordings import read_recordings, write_recordings
t1 = time.perf_counter()
block = read_recordings(sys.argv[1])
t2 = time.perf_counter()
write_recordings(block, sys.argv[1])
t3 = time.perf_counter()
print(f"import spikebridge {t1 - t0:.2f} s, first read {t2 - t1:.3f} s, first write (imports pynwb) {t3 - t2:.2f} s")
"""


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, float]:
    """(first, best) wall time in s of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times[0], min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--duration", type=float, default=1000.0, help="simulated time (ms)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        res = spikebridge.run(load_model("vogels_abbott_coba", [f"simulation.duration={args.duration}"]), "nest", tmp / "coba",
                              progress=False, figure=False)
        t_run = time.perf_counter() - t0
        block = res.block
        n_spikes = sum(len(seg.spiketrains.multiplexed[0]) for seg in block.segments)
        n_trains = sum(len(seg.spiketrains) for seg in block.segments)
        print(f"COBA {args.duration:g} ms on nest: {n_trains} spike trains, {n_spikes} spikes; run + write {t_run:.1f} s")

        nwb, pkl = tmp / RECORDINGS, tmp / "recordings.neo.pkl"
        rows = []
        formats: list[tuple[str, Path, Callable[[], object], Callable[[], object]]] = [
            ("NWB (pynwb write, h5py read)", nwb, lambda: write_recordings(block, nwb), lambda: read_recordings(nwb)),
            (
                "Neo PickleIO (former)",
                pkl,
                lambda: neo.io.PickleIO(str(pkl)).write_block(block),
                lambda: neo.io.PickleIO(str(pkl)).read_block(),
            ),
        ]
        for name, path, write, read in formats:
            w_first, w_best = best_of(args.repeat, write)
            r_first, r_best = best_of(args.repeat, read)
            rows.append((name, w_first, w_best, r_first, r_best, path.stat().st_size / 1e6))

        def load_and_spikes() -> None:
            r = spikebridge.load(res.path)
            for pop in r.populations:
                r.spikes(pop)

        l_first, l_best = best_of(args.repeat, load_and_spikes)
        cold = subprocess.run([sys.executable, "-c", COLD, str(nwb)], capture_output=True, text=True, check=True).stdout.strip()

    print(f"\nbest of {args.repeat} (first call of the process in parentheses)\n")
    print("| format | write (s) | read (s) | size (MB) |")
    print("|---|---|---|---|")
    for name, w_first, w_best, r_first, r_best, size in rows:
        print(f"| {name} | {w_best:.3f} ({w_first:.3f}) | {r_best:.3f} ({r_first:.3f}) | {size:.2f} |")
    print(f"\nspikebridge.load(RUN) + spikes() of every population: {l_best:.3f} s ({l_first:.3f})")
    print(f"in a fresh process: {cold}")
    ok = rows[0][2] <= TARGET_S and rows[0][4] <= TARGET_S
    print(f"NWB write and read within {TARGET_S:g} s: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
