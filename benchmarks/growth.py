"""Growth with network size: draw, build, run and peak memory of ``spikebridge run`` on every backend, on log-log axes.

Each point is the whole command in its own process (``--no-figure``; peak resident memory of the process tree from
GNU time), its phases read from the run's ``meta.json``. On COBA brian2 and brian2:cpp integrate with Euler, as in
``scaling.py``; the microcircuit keeps its own method. brian2:cpp is timed on its second run of each size
(compiled code cached), brian2 after a warm-up that compiles its Cython code once.

    python benchmarks/growth.py                                   # COBA 1k to 64k cells, microcircuit 0.05 to 0.5 on nest and brian2:cpp
    python benchmarks/growth.py --coba 1000,4000 --scales "" --backends nest

The exponent k of ``time = a * synapses^k`` is fitted per backend and phase over the sizes given (least squares on
the logs); memory is fitted as measured, the interpreter's and libraries' fixed footprint included, so its
exponent reads low for small networks. Writes
``docs/figures/growth.png`` and ``.pdf``.

Target (issue #18): no superlinear term in spikebridge's own phases (draw, build, collect, write): k <= 1.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from _installed import as_installed
from microcircuit import timed
from scaling import overrides

HERE = Path(__file__).resolve().parent
FIGURE = HERE.parent / "docs" / "figures" / "growth"
OURS = ("draw", "build", "collect", "write")
LIMIT = 1.1


def point(family: str, size: float, backend: str, duration: float, work: Path, env: dict[str, str]) -> dict[str, Any]:
    if family == "coba":
        model, sets = overrides("coba", int(size), duration)
    else:
        model, sets = "microcircuit", [f"scale={size}"]
    if backend != "nest" and family == "coba":
        sets.append("simulation.backend_options.method=euler")
    out = work / "run"
    command = [str(Path(sys.executable).with_name("spikebridge")), "run", model, "--backend", backend, "--out", str(out)]
    command += ["--overwrite", "--quiet", "--no-figure", *[a for s in sets for a in ("--set", s)]]
    runs = 2 if backend == "brian2:cpp" else 1  # the first compiles
    for _ in range(runs):
        _, peak_mb, _ = timed(command, env)
    meta = json.loads((out / "meta.json").read_text())
    t = meta["timings"]
    return {
        "family": family, "size": size, "backend": backend, "synapses": meta["synapses"], "cells": meta["cells"],
        "draw": t["instantiate_s"], "build": t["build_s"], "run": t["run_s"], "collect": t["collect_s"], "write": t["write_s"],
        "memory": peak_mb,
    }  # fmt: skip


def exponent(rows: list[dict[str, Any]], key: str) -> float:
    x = np.log([r["synapses"] for r in rows])
    y = np.array([r[key] for r in rows], dtype=float)
    if len(rows) < 2 or np.any(y <= 0):
        return float("nan")
    return float(np.polyfit(x, np.log(y), 1)[0])


def figure(rows: list[dict[str, Any]], groups: list[tuple[str, str]]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    from spikebridge.plotting.figures import Figure, save_figure

    fig = Figure(figsize=(13, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    markers = {"coba": "o", "microcircuit": "s"}
    colours = {"nest": "tab:blue", "brian2": "tab:green", "brian2:cpp": "tab:red"}
    for ax, (key, label) in zip(axes, [("build", "draw + build (s)"), ("run", "run (s)"), ("memory", "peak memory (MB)")], strict=True):
        for family, backend in groups:
            mine = [r for r in rows if r["family"] == family and r["backend"] == backend]
            xs = [r["synapses"] for r in mine]
            ys = [r["draw"] + r["build"] if key == "build" else r[key] for r in mine]
            ax.loglog(xs, ys, marker=markers[family], color=colours[backend], label=f"{family}, {backend}")
        ax.set_xlabel("synapses")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    ref = np.array([min(r["synapses"] for r in rows), max(r["synapses"] for r in rows)])
    axes[0].loglog(ref, ref / ref[0] * min(r["draw"] + r["build"] for r in rows), "k--", lw=0.8, label="slope 1")
    axes[0].legend(fontsize=8)
    fig.suptitle("spikebridge run: growth with network size (2 cores)")
    return save_figure(fig, FIGURE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coba", default="1000,4000,16000,64000", help="COBA cell counts")
    parser.add_argument("--scales", default="0.05,0.1,0.2,0.5", help="microcircuit scales (empty: none)")
    parser.add_argument("--backends", default="nest,brian2,brian2:cpp", help="backends of COBA")
    parser.add_argument("--mc-backends", default="nest,brian2:cpp", help="backends of the microcircuit")
    parser.add_argument("--duration", type=float, default=200.0, help="simulated ms of COBA")
    args = parser.parse_args(argv)
    coba = [int(c) for c in args.coba.split(",") if c]
    scales = [float(s) for s in args.scales.split(",") if s]
    backends = args.backends.split(",")
    rows: list[dict[str, Any]] = []
    groups: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="spikebridge-growth-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "PYNEST_QUIET": "1", "XDG_CACHE_HOME": str(work / "cache")}
        as_installed(work / "cache")
        plan = [("coba", float(c), b) for b in backends for c in coba]
        plan += [("microcircuit", s, b) for b in args.mc_backends.split(",") if b for s in scales]
        if "brian2" in backends and coba:
            point("coba", 100.0, "brian2", args.duration, work, env)  # compiles the runtime's Cython code once
        for family, size, backend in plan:
            print(f"{family} {size:g} on {backend}", flush=True)
            rows.append(point(family, size, backend, args.duration, work, env))
            shutil.rmtree(work / "run", ignore_errors=True)  # a microcircuit run directory at scale 0.5 is several GB
            if (family, backend) not in groups:
                groups.append((family, backend))
    print(f"\nCOBA {args.duration:g} ms simulated (p keeps ~80 inputs per cell); microcircuit 2 s; seconds, peak MB")
    print("| network | size | backend | synapses | draw | build | run | collect | write | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['family']} | {r['size']:g} | {r['backend']} | {r['synapses']} | {r['draw']:.2f} | {r['build']:.2f} | "
            f"{r['run']:.2f} | {r['collect']:.2f} | {r['write']:.2f} | {r['memory']:.0f} |"
        )
    print("\nexponent k of time (or peak memory) = a * synapses^k:")
    print("| network | backend | draw | build | run | collect | write | memory |")
    print("|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for family, backend in groups:
        mine = [r for r in rows if r["family"] == family and r["backend"] == backend]
        ks = {key: exponent(mine, key) for key in ("draw", "build", "run", "collect", "write", "memory")}
        # phases under 50 ms at every size are fixed costs whose noise makes any slope
        judged = [ks[k] for k in OURS if max(r[k] for r in mine) >= 0.05 and np.isfinite(ks[k])]
        worst = max([worst, *judged])
        print(f"| {family} | {backend} | " + " | ".join(f"{ks[k]:.2f}" for k in ks) + " |")
    print(f"\nfigure: {', '.join(str(p) for p in figure(rows, groups))}")
    print(f"[{'PASS' if worst <= LIMIT else 'FAIL'}] spikebridge's own phases grow at most as synapses^{worst:.2f} (target <= {LIMIT})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
