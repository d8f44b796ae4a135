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

Each phase is also measured in CPU seconds of the process (meta.json's ``cpu_s``), in user space and in the kernel.
Exponents are fitted over the sizes where the phase takes at least 0.1 s; below that, fixed costs and the 10 ms tick
of the CPU clock make the slope.

Target (issue #18): no superlinear term in spikebridge's own phases (draw, build, collect, write), judged on their
work in user space: k <= 1.1. The wall-clock exponents are printed beside it, with what the kernel adds: page faults,
zeroing and compacting memory for numpy's huge pages, and flushing a run directory of several GB to disk.
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
PHASES = {"instantiate": "draw", "build": "build", "run": "run", "collect": "collect", "write": "write"}  # meta.json's names
LIMIT = 1.1
FLOOR = 0.1  # seconds: below it fixed costs and the 10 ms CPU clock tick set the slope


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
    t, cpu = meta["timings"], meta["cpu_s"]
    row = {
        "family": family, "size": size, "backend": backend, "synapses": meta["synapses"], "cells": meta["cells"],
        "draw": t["instantiate_s"], "build": t["build_s"], "run": t["run_s"], "collect": t["collect_s"], "write": t["write_s"],
        "memory": peak_mb,
    }  # fmt: skip
    for phase, key in PHASES.items():
        row[f"{key} user"], row[f"{key} kernel"] = cpu[phase]["user"], cpu[phase]["system"]
    return row


def exponent(rows: list[dict[str, Any]], key: str, floor: float = FLOOR) -> float:
    """The slope of log(key) on log(synapses) over the sizes where key is at least ``floor`` (nan: fewer than 2)."""
    kept = [r for r in rows if r[key] >= floor]
    if len(kept) < 2:
        return float("nan")
    return float(np.polyfit(np.log([r["synapses"] for r in kept]), np.log([r[key] for r in kept]), 1)[0])


def table(rows: list[dict[str, Any]], groups: list[tuple[str, str]], keys: list[str]) -> None:
    print("| network | backend | " + " | ".join(keys) + " |")
    print("|---|---|" + "---|" * len(keys))
    for family, backend in groups:
        mine = [r for r in rows if r["family"] == family and r["backend"] == backend]
        ks = [exponent(mine, k) for k in keys]
        print(f"| {family} | {backend} | " + " | ".join(f"{k:.2f}" if np.isfinite(k) else "-" for k in ks) + " |")


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
    print("wall clock, and in brackets CPU seconds of the process in user space / in the kernel")
    print("| network | size | backend | synapses | draw | build | run | collect | write | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cells = " | ".join(f"{r[k]:.2f} ({r[k + ' user']:.2f} / {r[k + ' kernel']:.2f})" for k in PHASES.values())
        print(f"| {r['family']} | {r['size']:g} | {r['backend']} | {r['synapses']} | {cells} | {r['memory']:.0f} |")
    print(f"\nexponent k of time (or peak memory) = a * synapses^k, over the sizes where it is >= {FLOOR:g} s (-: fewer than 2):")
    print("\nwall clock:")
    table(rows, groups, [*PHASES.values(), "memory"])
    print("\nCPU time of spikebridge's process in user space (the code's own work; a standalone binary's run is its own process):")
    table(rows, groups, [f"{k} user" for k in PHASES.values()])
    print("\nCPU time in the kernel for the process (page faults, zeroing and compacting memory, writing files):")
    table(rows, groups, [f"{k} kernel" for k in PHASES.values()])
    worst, worst_wall = 0.0, 0.0
    for family, backend in groups:
        mine = [r for r in rows if r["family"] == family and r["backend"] == backend]
        worst = max([worst, *[k for k in (exponent(mine, f"{p} user") for p in OURS) if np.isfinite(k)]])
        worst_wall = max([worst_wall, *[k for k in (exponent(mine, p) for p in OURS) if np.isfinite(k)]])
    print(f"\nfigure: {', '.join(str(p) for p in figure(rows, groups))}")
    print(
        f"[{'PASS' if worst <= LIMIT else 'FAIL'}] spikebridge's own phases (draw, build, collect, write) do at most "
        f"synapses^{worst:.2f} of work in user space (target <= {LIMIT}); their wall clock grows at most as "
        f"synapses^{worst_wall:.2f}, the kernel's memory and disk work included"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
