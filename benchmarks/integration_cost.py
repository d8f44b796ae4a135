"""What NEST's numerics cost on Brian2: the matched default integration against forward Euler, side by side.

Brian2 integrates ``IF_cond_exp`` as NEST's ``iaf_cond_exp`` does (GSL RKF45, absolute error 1e-3, step carried
over) unless option ``method`` says otherwise. This times the Vogels-Abbott network (in-degree kept, as in
scaling.py) at 4000 and 16000 cells, 1 s simulated, on ``brian2:cpp`` with compiled code cached (each variant
runs twice in one cache; the second run is reported) and, at 4000 cells, on the runtime device (after an unreported
warm-up), with ``method`` = the matched default and ``euler``; NEST's own run of the same network is the reference.
Times are build + run + reading the recordings (``_timing.build_and_run``), each variant in its own process.

    python benchmarks/integration_cost.py
    python benchmarks/integration_cost.py --cells 4000 --duration 500
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from typing import Any

from _timing import build_and_run
from scaling import network


def child(backend: str, cells: int, duration: float, method: str | None, build_dir: str, repeats: int) -> dict[str, Any]:
    from spikebridge.backends import create

    if backend == "nest":
        import pyNN.nest  # noqa: F401
    else:
        import pyNN.brian2  # noqa: F401
    options: dict[str, Any] = {}
    if backend != "nest":
        options |= {"method": method} if method else {}
        options |= {"build_dir": build_dir} if backend == "brian2:cpp" else {}
    out: dict[str, Any] = {}
    for _ in range(repeats):
        sim = create(backend, options)
        net, _draw = network("coba", cells, duration)
        t0 = time.perf_counter()
        block, built, done = build_and_run(sim, net)
        info = sim.info()
        sim.end()
        out = {
            "total_s": done - t0,
            "spikes": sum(len(st) for seg in block.segments for st in seg.spiketrains),
            "binary_s": info.get("build", {}).get("binary_s"),
            "integration": info.get("integration", {}).get("IF_cond_exp", ""),
        }
    return out


def measure(backend: str, cells: int, duration: float, method: str | None, build_dir: str, repeats: int) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", json.dumps([backend, cells, duration, method, build_dir, repeats])]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, nargs="+", default=[4000, 16000])
    parser.add_argument("--duration", type=float, default=1000.0)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*json.loads(args.child))))
        return
    print(f"{'cells':>6s} {'backend':11s} {'method':9s} {'total s':>8s} {'binary s':>9s} {'spikes':>7s} {'x euler':>8s} {'x nest':>7s}")
    with tempfile.TemporaryDirectory() as build_dir:
        for cells in args.cells:
            nest = measure("nest", cells, args.duration, None, build_dir, 1)
            blank = ""
            print(f"{cells:6d} {'nest':11s} {'(RKF45)':9s} {nest['total_s']:8.2f} {blank:>9s} {nest['spikes']:7d} {blank:>8s} {1.0:7.2f}")
            variants = [("brian2:cpp", 2)] + ([("brian2", 2)] if cells <= 4000 else [])
            for backend, repeats in variants:
                euler = measure(backend, cells, args.duration, "euler", build_dir, repeats)
                matched = measure(backend, cells, args.duration, None, build_dir, repeats)
                for name, row in (("euler", euler), ("matched", matched)):
                    binary = f"{row['binary_s']:9.2f}" if row["binary_s"] is not None else f"{'':>9s}"
                    ratio = row["total_s"] / euler["total_s"]
                    print(
                        f"{cells:6d} {backend:11s} {name:9s} {row['total_s']:8.2f} {binary} {row['spikes']:7d} {ratio:8.2f} "
                        f"{row['total_s'] / nest['total_s']:7.2f}",
                        flush=True,
                    )
    print("\nmatched: GSL RKF45 with NEST's tolerances (meta.json's integration record); euler: option method = 'euler'.")


if __name__ == "__main__":
    main()
