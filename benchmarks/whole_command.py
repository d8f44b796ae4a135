"""The whole command a user waits for, against a hand-written native script of the same network.

``spikebridge run vogels_abbott_coba`` (import, draw, build, run, collect, write the run directory, summary figure)
is timed as a process, wall clock, beside ``native/coba_nest.py`` and ``native/coba_brian2.py``: scripts a NEST or
Brian2 user writes by hand, which build the very network spikebridge drew (its arrays, saved once beforehand and
not timed), simulate it, and save every spike. Equal spike counts show that both simulated the same thing.

    python benchmarks/whole_command.py [--durations 1000,5000] [--repeats 2] [--variants nest,brian2:cpp,brian2:cpp/euler]

brian2:cpp rows are cached: each command runs once untimed first, so both compile nothing when timed. Two numerics:
spikebridge's default for IF_cond_exp (GSL RKF45 with NEST's tolerances; the native script asks for the same) and
``euler`` (``--set simulation.backend_options.method=euler``).

Targets (issue #18): the whole command <= 1.2x the native script on nest and on brian2:cpp (cached), COBA 4k at
1 s and 5 s, on the model as it is (its default method; the Euler rows are shown beside them, not judged);
collecting a standalone run's results <= 10 % of its simulation time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _installed import as_installed

HERE = Path(__file__).resolve().parent
MODEL = "vogels_abbott_coba"
TARGET = 1.2
COLLECT_SHARE = 0.10


def write_network(duration: float, path: Path) -> None:
    """The drawn network as arrays plus a JSON spec: what the native scripts read (NEST units for NEST)."""
    sys.path.insert(0, str(HERE))
    from nest_build import nest_cell_params

    from spikebridge.models import instantiate, load_model

    net = instantiate(load_model(MODEL, [f"simulation.duration={duration}"]))
    arrays: dict[str, Any] = {}
    spec: dict[str, Any] = {"dt": net.dt, "seed": net.seed, "populations": {}, "projections": {}}
    for name, pop in net.populations.items():
        entry: dict[str, Any] = {"size": pop.size, "source": pop.is_source}
        if pop.is_source:
            arrays[f"{name}_index"] = np.concatenate([np.full(len(t), i) for i, t in enumerate(pop.spike_times)]).astype(np.int64)
            arrays[f"{name}_times"] = np.concatenate(pop.spike_times)
        else:
            entry["pynn"] = {k: float(v) for k, v in pop.parameters.items()}
            entry["params"] = nest_cell_params(entry["pynn"])
            arrays[f"{name}_v"] = np.asarray(pop.initial["v"], dtype=float)
        spec["populations"][name] = entry
    for name, prj in net.projections.items():
        spec["projections"][name] = {"pre": prj.pre, "post": prj.post, "receptor": prj.receptor}
        sign = -1000.0 if prj.receptor == "inhibitory" else 1000.0  # uS -> nS; NEST's inhibition is a negative weight
        arrays |= {f"{name}_pre": prj.pre_idx, f"{name}_post": prj.post_idx, f"{name}_delay": prj.delay}
        arrays[f"{name}_weight"] = prj.weight * sign
    np.savez(path, spec=json.dumps(spec), **arrays)


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall


def native_spikes(path: Path) -> int:
    with np.load(path) as data:
        return sum(data[k].shape[-1] for k in data.files if k != "times")


def measure(duration: float, backend: str, method: str | None, repeats: int, work: Path, env: dict[str, str]) -> dict[str, Any]:
    net = work / f"network-{duration:g}.npz"
    run_dir = work / "run"
    ours = [
        str(Path(sys.executable).parent / "spikebridge"),
        "run",
        MODEL,
        "--backend",
        backend,
        "--set",
        f"simulation.duration={duration}",
        "--out",
        str(run_dir),
        "--overwrite",
        "--quiet",
    ]
    native_out = work / "native.npz"
    if backend == "nest":
        native = [sys.executable, str(HERE / "native" / "coba_nest.py"), str(net), str(duration), str(native_out)]
    else:
        if method == "euler":
            ours += ["--set", "simulation.backend_options.method=euler"]
        native = [
            sys.executable,
            str(HERE / "native" / "coba_brian2.py"),
            str(net),
            str(duration),
            str(native_out),
            str(work / f"native-{method}"),
            "euler" if method == "euler" else "gsl",
        ]
        timed(ours, env)  # compile both once: the timed runs are cached ones
        timed(native, env)
    walls: dict[str, list[float]] = {"spikebridge": [], "native": []}
    for _ in range(repeats):  # alternated, so drifting load hits both alike
        walls["spikebridge"].append(timed(ours, env))
        walls["native"].append(timed(native, env))
    meta = json.loads((run_dir / "meta.json").read_text())
    build = meta["backend_info"].get("build", {})
    return {
        "duration": duration,
        "backend": backend,
        "method": method or "(RKF45)",
        "ours": min(walls["spikebridge"]),
        "native": min(walls["native"]),
        "phases": meta["timings"],
        "binary_s": build.get("binary_s"),
        "spikes": int(sum(len(t) for t in _spike_counts(run_dir))),
        "native_spikes": native_spikes(native_out),
    }


def _spike_counts(run_dir: Path) -> list[np.ndarray]:
    from spikebridge.rundir import load

    res = load(run_dir)
    return [res.spikes(p)[0] for p in ("exc", "inh")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--durations", default="1000,5000", help="simulated ms, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each command (best kept)")
    parser.add_argument("--variants", default="nest,brian2:cpp,brian2:cpp/euler", help="backend[/method], comma-separated")
    args = parser.parse_args(argv)
    variants = [(v.split("/")[0], v.split("/")[1] if "/" in v else None) for v in args.variants.split(",") if v]
    durations = [float(d) for d in args.durations.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="spikebridge-whole-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "PYNEST_QUIET": "1", "XDG_CACHE_HOME": str(work / "cache")}
        as_installed(work / "cache")
        for duration in durations:
            write_network(duration, work / f"network-{duration:g}.npz")
            for backend, method in variants:
                print(f"[{time.strftime('%H:%M:%S')}] {backend} {method or ''} {duration:g} ms", flush=True)
                rows.append(measure(duration, backend, method, args.repeats, work, env))
    print(f"\nVogels-Abbott COBA, 4000 cells; wall clock of the whole process, best of {args.repeats}; brian2:cpp cached")
    print(
        "| simulated | backend | method | spikebridge s | native s | x native | spikes (ours / native) | "
        "instantiate | build | run | collect | write | figure | collect / binary |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ok = True
    for r in rows:
        p = r["phases"]
        ratio = r["ours"] / r["native"]
        ok &= ratio <= TARGET or r["method"] == "euler"  # the target is on the model as it is (its default method)
        share = f"{p['collect_s'] / r['binary_s']:.1%}" if r["binary_s"] else "-"
        if r["binary_s"]:
            ok &= p["collect_s"] <= COLLECT_SHARE * r["binary_s"]
        print(
            f"| {r['duration'] / 1000:g} s | {r['backend']} | {r['method']} | {r['ours']:.2f} | {r['native']:.2f} | {ratio:.2f} | "
            f"{r['spikes']} / {r['native_spikes']} | {p['instantiate_s']:.2f} | {p['build_s']:.2f} | {p['run_s']:.2f} | "
            f"{p['collect_s']:.2f} | {p['write_s']:.2f} | {p.get('figure_s', 0.0):.2f} | {share} |"
        )
    print(
        "\nphases: spikebridge's own timings (meta.json) of the last timed run; run includes a standalone binary's build and "
        "run; write: the run directory's files (recordings, network, weights, checksums, fsync), figure: the summary figure"
    )
    for r in rows:
        if r["backend"] == "nest" and r["duration"] == 1000.0:
            write, run = r["phases"]["write_s"], r["phases"]["run_s"]
            print(
                f"[{'PASS' if write <= 0.1 * run else 'FAIL'}] writing the run directory of make run's model: {write:.2f} s, "
                f"{write / run:.1%} of its simulation ({run:.2f} s; target <= 10 %)"
            )
    print(
        f"[{'PASS' if ok else 'FAIL'}] whole command <= {TARGET}x native on the model's default method (the Euler rows are "
        f"information: a 0.5 s simulation beside 2-3 s of imports, writing and the figure), collect <= {COLLECT_SHARE:.0%} of "
        "the binary's time"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
