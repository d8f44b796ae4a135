"""The cortical microcircuit (Potjans & Diesmann 2014) as the standard benchmark: spikebridge beside native scripts.

For each scale (in-degrees kept, Poisson background, 1 s warm-up + 1 s measured, dt 0.1 ms) four variants run,
each as the whole command a user waits for, in its own process, one after another:

* ``spikebridge nest``: ``spikebridge run microcircuit --backend nest --set scale=S --threads T`` (drawing,
  building, simulating, collecting, writing the run directory and its figure);
* ``native NEST``: ``_microcircuit_nest.py``, NEST's own connection rules and random draws, spikes saved (``.npz``);
* ``spikebridge brian2:cpp``: the same command on ``brian2:cpp``, twice in one code cache (``first`` compiles,
  ``cached`` reuses it: what a user sees from the second run of a model on);
* ``native Brian2 cpp``: ``_microcircuit_brian2.py`` (``cpp_standalone``, plain Brian2 objects), twice in one build
  directory.

Reported per variant: wall time of the whole process, its phases (spikebridge's from the run's ``meta.json``, the
native scripts' from their own timers; ``build`` includes drawing the network), the real-time factor of the run
phase (run seconds per simulated second, 2 s simulated), peak resident memory of the process tree (GNU time), and
the ratio of the whole command to its native counterpart (cpp: cached against cached). Rates (Hz, measured second)
are printed beside the full-scale means that PyNN's and NEST's examples list.

    python benchmarks/microcircuit.py                         # scales 0.1 and 0.5 (about half an hour)
    python benchmarks/microcircuit.py --scales 0.05 --variants nest
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import _microcircuit as mc
import numpy as np
from _installed import as_installed

HERE = Path(__file__).resolve().parent
SIMULATED_S = 2.0


@dataclass
class Row:
    variant: str
    scale: float
    total_s: float
    peak_mb: float
    phases: dict[str, float] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)
    cells: int = 0
    synapses: int = 0


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall time (s), peak RSS (MB) of the process tree, and stdout of ``command`` under GNU time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tf.name, *command], capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
        peak_kb = float(re.findall(r"\d+", tf.read())[-1])
    return wall, peak_kb / 1024, proc.stdout


def spikebridge_run(backend: str, scale: float, threads: int, out: Path, label: str, env: dict[str, str] | None = None) -> Row:
    exe = Path(sys.executable).with_name("spikebridge")
    command = [
        str(exe),
        "run",
        "microcircuit",
        "--backend",
        backend,
        "--set",
        f"scale={scale}",
        "--out",
        str(out),
        "--overwrite",
        "--quiet",
    ]
    if backend == "nest":
        command += ["--threads", str(threads)]
    wall, peak, _ = timed(command, env)
    meta = json.loads((out / "meta.json").read_text())
    t = meta["timings"]
    phases = {
        "build": t["instantiate_s"] + t["build_s"],
        "run": t["run_s"],
        "collect": t.get("collect_s", 0.0),
        "write": t["write_s"],
        "figure": t.get("figure_s", 0.0),
    }
    import spikebridge

    res = spikebridge.load(out)
    rates = {p: float(np.mean(res.rates(p, "run"))) for p in mc.POPULATIONS}
    return Row(label, scale, wall, peak, phases, rates, meta["cells"], meta["synapses"])


def native_run(script: str, args: list[str], label: str, scale: float) -> Row:
    wall, peak, stdout = timed([sys.executable, str(HERE / script), "--scale", str(scale), *args])
    line = json.loads([ln for ln in stdout.splitlines() if ln.startswith("{")][-1])
    phases = {"build": line["build_s"], "run": line["run_s"], "collect": line["collect_s"], "write": line["write_s"], "figure": 0.0}
    return Row(label, scale, wall, peak, phases, line["rates"], line["cells"], line["synapses"])


def counterpart(row: Row, rows: list[Row]) -> Row | None:
    """The native row a spikebridge row is compared with: same scale, same simulator, same cache state."""
    if not row.variant.startswith("spikebridge"):
        return None
    native = "native NEST" if row.variant == "spikebridge nest" else row.variant.replace("spikebridge brian2:cpp", "native Brian2 cpp")
    return next((r for r in rows if r.variant == native and r.scale == row.scale), None)


def table(rows: list[Row]) -> str:
    lines = [
        "| scale | variant | cells | synapses | total s | build s | run s | collect s | write s | figure s | RTF | peak MB | x native |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        native = counterpart(r, rows)
        ratio = f"{r.total_s / native.total_s:.2f}" if native is not None else "-"
        p = r.phases
        lines.append(
            f"| {r.scale:g} | {r.variant} | {r.cells} | {r.synapses / 1e6:.1f}M | {r.total_s:.1f} | {p['build']:.1f} | "
            f"{p['run']:.1f} | {p['collect']:.2f} | {p['write']:.2f} | {p['figure']:.2f} | {p['run'] / SIMULATED_S:.1f} | "
            f"{r.peak_mb:.0f} | {ratio} |"
        )
    return "\n".join(lines)


def rates_table(rows: list[Row]) -> str:
    lines = ["| population | full scale (published) | " + " | ".join(f"{r.variant} @ {r.scale:g}" for r in rows) + " |"]
    lines.append("|---" * (len(rows) + 2) + "|")
    for k, p in enumerate(mc.POPULATIONS):
        lines.append(f"| {p} | {mc.FULL_MEAN_RATES[k]:.3f} | " + " | ".join(f"{r.rates.get(p, float('nan')):.3f}" for r in rows) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.1,0.5")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="NEST threads (default: every CPU)")
    parser.add_argument("--variants", default="nest,cpp", help="nest, cpp or both")
    args = parser.parse_args()
    variants = set(args.variants.split(","))
    rows: list[Row] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mc_bench_") as tmp:
        work = Path(tmp)
        # spikebridge's compiled-code cache starts empty (a first run compiles), with what installing leaves there
        xdg = work / "xdg"
        xdg.mkdir()
        as_installed(xdg)
        cold_env = {**os.environ, "XDG_CACHE_HOME": str(xdg)}
        for scale in [float(s) for s in args.scales.split(",")]:
            out = work / f"run_{scale:g}"
            jobs: list[tuple[str, Callable[[], Row]]] = []
            if "nest" in variants:
                native = ["--threads", str(args.threads), "--out", str(work / "n.npz")]
                jobs.append(("native NEST", partial(native_run, "_microcircuit_nest.py", native, "native NEST", scale)))
                jobs.append(("spikebridge nest", partial(spikebridge_run, "nest", scale, args.threads, out, "spikebridge nest")))
            if "cpp" in variants:
                native = ["--build-dir", str(work / f"native_cpp_{scale:g}"), "--out", str(work / "b.npz")]
                for when in ("first", "cached"):
                    label = f"native Brian2 cpp ({when})"
                    jobs.append((label, partial(native_run, "_microcircuit_brian2.py", native, label, scale)))
                for when in ("first", "cached"):
                    label = f"spikebridge brian2:cpp ({when})"
                    jobs.append((label, partial(spikebridge_run, "brian2:cpp", scale, args.threads, out, label, cold_env)))
            for label, job in jobs:
                try:
                    rows.append(job())
                    print(f"{label} @ {scale:g}: {rows[-1].total_s:.1f} s, {rows[-1].peak_mb:.0f} MB", flush=True)
                except RuntimeError as err:
                    failed.append(f"{label} @ {scale:g}: {str(err).strip().splitlines()[-1]}")
                    print(failed[-1], flush=True)
            shutil.rmtree(out, ignore_errors=True)  # a run directory at scale 0.5 is several GB
    print(f"Microcircuit, {SIMULATED_S:g} s simulated (1 s warm-up + 1 s), dt 0.1 ms, Poisson background, NEST threads {args.threads}.")
    print("x native: the whole command against its native counterpart at the same scale (cpp: cached against cached).\n")
    print(table(rows))
    print("\nMean rates (Hz) over the measured second, one seed (20140101) per variant:\n")
    print(rates_table([r for r in rows if "first" not in r.variant]))
    if failed:
        print("\nNot measured:\n" + "\n".join(f"- {f}" for f in failed))


if __name__ == "__main__":
    main()
