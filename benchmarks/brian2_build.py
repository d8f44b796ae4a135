"""Build and run times of the Vogels-Abbott COBA network on Brian2, side by side.

    python benchmarks/brian2_build.py                       # everything at 4000 cells (stock PyNN takes minutes)
    python benchmarks/brian2_build.py --cells 1000          # stock pyNN.brian2 at 1000 cells, extrapolated
    python benchmarks/brian2_build.py --skip-stock

Every configuration runs in a fresh Python process, one after the other, on the same instantiated arrays
(connectivity, weights, delays, initial values, input spikes). Times exclude imports (shown apart) and drawing the arrays:

* stock ``pyNN.brian2``: ``setup``, populations, ``Projection`` with a ``FromListConnector`` of the arrays (build),
  ``run`` and ``get_data`` (run). Its build time grows with the number of synapses; with ``--cells`` below 4000 it is
  measured at that size and half of it, fitted as a * cells + b * synapses and extrapolated (marked as such).
* spikebridge ``brian2`` and ``brian2:cpp``: ``build`` (build), every phase, ``recordings()`` and ``connections()``
  (run; for ``brian2:cpp`` this includes generating, compiling if needed and running the binary).
* a hand-written Brian2 ``cpp_standalone`` script (objects, ``device.build``, reading the spike monitor).

The standalone variants run twice: first (compiling unless an earlier run left the code in the cache) and
again with the compiled code cached.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np
from _timing import build_and_run

FULL_CELLS = 4000


def network(cells: int, duration: float) -> Any:
    import spikebridge
    from spikebridge.models import instantiate

    exc, inh = int(round(0.8 * cells)), cells - int(round(0.8 * cells))
    overrides = [f"simulation.duration={duration}", f"populations.exc.size={exc}", f"populations.inh.size={inh}"]
    return instantiate(spikebridge.load_model("vogels_abbott_coba", overrides))


def stock(cells: int, duration: float) -> dict[str, float]:
    t0 = time.perf_counter()
    import pyNN.brian2 as sim

    imports = time.perf_counter() - t0

    net = network(cells, duration)
    t0 = time.perf_counter()
    sim.setup(timestep=net.dt, min_delay=net.dt, max_delay=1.0)
    pops: dict[str, Any] = {}
    for name, pop in net.populations.items():
        if pop.is_source:
            from pyNN.parameters import Sequence

            pops[name] = sim.Population(pop.size, sim.SpikeSourceArray(spike_times=[Sequence(t) for t in pop.spike_times]), label=name)
        else:
            pops[name] = sim.Population(pop.size, sim.IF_cond_exp(**pop.parameters), label=name)
            pops[name].initialize(v=pop.initial["v"])
            pops[name].record("spikes")
    for prj in net.projections.values():
        rows = list(zip(prj.pre_idx.tolist(), prj.post_idx.tolist(), prj.weight.tolist(), prj.delay.tolist(), strict=True))
        sim.Projection(
            pops[prj.pre],
            pops[prj.post],
            sim.FromListConnector(rows, column_names=["weight", "delay"]),
            sim.StaticSynapse(),
            receptor_type=prj.receptor,
        )
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim.run(duration)
    spikes = sum(len(st) for name in ("exc", "inh") for st in pops[name].get_data().segments[0].spiketrains)
    return {"build_s": build, "run_s": time.perf_counter() - t0, "synapses": net.n_synapses, "spikes": spikes, "import_s": imports}


def spikebridge_backend(backend: str, cells: int, duration: float, build_dir: str) -> dict[str, float]:
    t0 = time.perf_counter()
    import pyNN.brian2  # noqa: F401

    from spikebridge import backends
    from spikebridge.backends import brian2 as _  # noqa: F401

    imports = time.perf_counter() - t0
    net = network(cells, duration)
    # forward Euler, as the hand-written script integrates (the matched default's cost: integration_cost.py)
    options = {"method": "euler"} | ({"build_dir": build_dir} if backend != "brian2" else {})
    t0 = time.perf_counter()
    sim = backends.create(backend, options)
    block, built, done = build_and_run(sim, net, net.projections)
    build, run = built - t0, done - built
    info = sim.info()
    sim.end()
    spikes = sum(len(st) for st in block.segments[0].spiketrains)
    out = {"build_s": build, "run_s": run, "synapses": net.n_synapses, "spikes": spikes, "import_s": imports}
    out |= {f"standalone_{k}": v for k, v in info.get("build", {}).items() if k != "directory"}
    return out


COND_EXP_EQS = """
dv/dt = (v_rest - v)/tau_m + (ge*(e_rev_e - v) + gi*(e_rev_i - v))/c_m : volt (unless refractory)
dge/dt = -ge/tau_e : siemens
dgi/dt = -gi/tau_i : siemens
"""


def native_device(directory: str | None, dt: float) -> Any:
    """Import Brian2 for a hand-written script: ``cpp_standalone`` in ``directory`` (None: the runtime device)."""
    import brian2 as b2

    if directory is not None:
        b2.set_device("cpp_standalone", build_on_run=False, directory=directory)
        b2.prefs.devices.cpp_standalone.extra_make_args_unix = ["-j2"]
    b2.defaultclock.dt = dt * b2.ms
    return b2


def cond_exp_group(b2: Any, p: dict[str, Any], size: int, name: str) -> Any:
    """A hand-written Brian2 ``NeuronGroup`` of ``size`` IF_cond_exp cells with the PyNN parameters ``p`` (Euler)."""
    from brian2 import ms, mV, nF

    namespace = {
        "v_rest": p["v_rest"] * mV, "tau_m": p["tau_m"] * ms, "c_m": p["cm"] * nF, "e_rev_e": p["e_rev_E"] * mV,
        "e_rev_i": p["e_rev_I"] * mV, "tau_e": p["tau_syn_E"] * ms, "tau_i": p["tau_syn_I"] * ms,
    }
    return b2.NeuronGroup(size, COND_EXP_EQS, threshold=f"v > {p['v_thresh']}*mV", reset=f"v = {p['v_reset']}*mV",
                          refractory=p["tau_refrac"] * ms, method="euler", namespace=namespace, name=name)


def spike_source(b2: Any, pop: Any, name: str) -> Any:
    """A ``SpikeGeneratorGroup`` replaying a spikebridge source population's drawn spike times."""
    indices = np.concatenate([np.full(len(t), i) for i, t in enumerate(pop.spike_times)])
    return b2.SpikeGeneratorGroup(pop.size, indices, np.concatenate(pop.spike_times) * b2.ms, name=name)


def native_run(b2: Any, network: Any, duration: float, directory: str | None) -> dict[str, float]:
    """Simulate a hand-written network: at once (runtime), or generate, compile and run the standalone project.

    Returns ``standalone_build_s`` (code generation and compilation) and ``standalone_make_s`` for standalone."""
    if directory is None:
        network.run(duration * b2.ms, namespace={})
        return {}
    t0 = time.perf_counter()
    b2.device.build(directory=directory, compile=True, run=False, with_output=False)
    compiled = time.perf_counter() - t0
    b2.device.run(directory=directory, with_output=False)
    return {"standalone_build_s": compiled, "standalone_make_s": b2.device.timers["compile"]["make"]}


def native_coba(net: Any, duration: float, directory: str | None) -> dict[str, float]:
    """The instantiated COBA network ``net`` as a hand-written Brian2 script (``directory`` None: runtime device)."""
    from brian2 import uS

    b2 = native_device(directory, net.dt)
    t0 = time.perf_counter()
    exc, inh = net.populations["exc"], net.populations["inh"]
    cells_group = cond_exp_group(b2, exc.parameters, exc.size + inh.size, "cells")
    cells_group.v = np.concatenate([exc.initial["v"], inh.initial["v"]]) * b2.mV
    # a source's spike at t reaches its targets at t + d, as NEST (and spikebridge) deliver it
    source = spike_source(b2, net.populations["kick"], "kick")
    offset = {"exc": 0, "inh": exc.size}
    objects: list[Any] = [cells_group, source]
    for name, prj in net.projections.items():
        from_source = prj.pre == "kick"
        target = "ge" if prj.receptor == "excitatory" else "gi"
        syn = b2.Synapses(source if from_source else cells_group, cells_group, "w : siemens", on_pre=f"{target}_post += w", name=name)
        syn.connect(i=prj.pre_idx + (0 if from_source else offset[prj.pre]), j=prj.post_idx + offset[prj.post])
        syn.w[:] = prj.weight * uS
        syn.delay[:] = (prj.delay - (net.dt if from_source else 0.0)) * b2.ms
        objects.append(syn)
    monitor = b2.SpikeMonitor(cells_group, name="spikes")
    network = b2.Network(*objects, monitor)
    if directory is not None:
        network.run(duration * b2.ms, namespace={})  # only recorded: the binary runs it at native_run
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = native_run(b2, network, duration, directory)
    spikes = int(len(monitor.t[:]))
    run = time.perf_counter() - t0
    return {"build_s": build, "run_s": run, "synapses": net.n_synapses, "spikes": spikes, **out}


def native(cells: int, duration: float, build_dir: str) -> dict[str, float]:
    t0 = time.perf_counter()
    import brian2  # noqa: F401

    imports = time.perf_counter() - t0
    net = network(cells, duration)
    return native_coba(net, duration, os.path.join(build_dir, f"native-{cells}")) | {"import_s": imports}


def worker(args: argparse.Namespace) -> None:
    if args.worker == "stock":
        result = stock(args.cells, args.duration)
    elif args.worker == "native":
        result = native(args.cells, args.duration, args.build_dir)
    else:
        result = spikebridge_backend(args.worker, args.cells, args.duration, args.build_dir)
    print("RESULT " + json.dumps(result), flush=True)


def launch(kind: str, cells: int, duration: float, build_dir: str, timeout: float | None) -> dict[str, Any] | str:
    cmd = [sys.executable, __file__, "--worker", kind, "--cells", str(cells), "--duration", str(duration), "--build-dir", build_dir]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s"
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    return f"failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=FULL_CELLS, help="network size for stock pyNN.brian2 (others always run 4000)")
    parser.add_argument("--skip-stock", action="store_true", help="do not run stock pyNN.brian2")
    parser.add_argument("--stock-timeout", type=float, default=1800.0, help="give up on stock pyNN.brian2 after this many seconds")
    parser.add_argument("--duration", type=float, default=1000.0, help="simulated time (ms)")
    parser.add_argument(
        "--build-dir", default=None, help="compiled-code cache (default: a fresh temporary folder, so the first run compiles)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    build_dir = args.build_dir or tempfile.mkdtemp(prefix="spikebridge-brian2-bench-")
    rows: list[tuple[str, dict[str, Any] | str, str]] = []
    small: list[tuple[int, dict[str, Any]]] = []
    if not args.skip_stock:
        sizes = [args.cells] if args.cells >= FULL_CELLS else [args.cells // 2, args.cells]
        for cells in sizes:
            got = launch("stock", cells, args.duration, build_dir, args.stock_timeout)
            rows.append((f"stock pyNN.brian2 ({cells} cells)", got, "measured"))
            if isinstance(got, dict):
                small.append((cells, got))
    rows.append(("spikebridge brian2 (runtime)", launch("brian2", FULL_CELLS, args.duration, build_dir, None), "measured"))
    for label in ("first", "cached"):
        rows.append((f"spikebridge brian2:cpp ({label})", launch("brian2:cpp", FULL_CELLS, args.duration, build_dir, None), "measured"))
    for label in ("first", "cached"):
        rows.append((f"native Brian2 cpp_standalone ({label})", launch("native", FULL_CELLS, args.duration, build_dir, None), "measured"))

    full = next((r for label, r, _ in rows if isinstance(r, dict) and label.startswith("spikebridge")), None)
    if len(small) == 2 and full is not None:
        # stock build time = a * cells (one connect call per post cell) + b * synapses (a Python loop over each)
        (n1, r1), (n2, r2) = small
        a, b = np.linalg.solve([[n1, r1["synapses"]], [n2, r2["synapses"]]], [r1["build_s"], r2["build_s"]])
        estimate = a * FULL_CELLS + b * full["synapses"]
        label = f"stock pyNN.brian2 (4000 cells, EXTRAPOLATED: {a * 1e3:.2f} ms/cell + {b * 1e3:.3f} ms/synapse)"
        rows.insert(len(small), (label, {"build_s": estimate, "synapses": full["synapses"]}, "extrapolated"))

    synapses = full["synapses"] if full else "?"
    print(f"\nVogels-Abbott COBA, {FULL_CELLS} cells, {synapses} synapses, {args.duration:g} ms simulated, dt 0.1 ms; cache {build_dir}")
    print(f"{'configuration':58s} {'import s':>9s} {'build s':>9s} {'run s':>9s} {'total s':>9s} {'make s':>8s} {'spikes':>8s}")
    for label, r, _ in rows:
        if isinstance(r, str):
            print(f"{label:58s} {r}")
            continue
        run = r.get("run_s")
        total = r["build_s"] + run if run is not None else None
        fmt = lambda v: f"{v:9.2f}" if v is not None else f"{'-':>9s}"  # noqa: E731
        make = r.get("standalone_make_s")
        make_text = f"{make:8.2f}" if make is not None else "-"
        print(f"{label:58s} {fmt(r.get('import_s'))} {fmt(r['build_s'])} {fmt(run)} {fmt(total)} {make_text:>8s} {r.get('spikes', '-'):>8}")
    table = {label: r for label, r, _ in rows if isinstance(r, dict)}
    stock_key = next((k for k in table if k.startswith("stock pyNN.brian2 (4000 cells")), None)
    sb = table.get("spikebridge brian2 (runtime)")
    cpp = table.get("spikebridge brian2:cpp (cached)")
    nat = table.get("native Brian2 cpp_standalone (cached)")
    if stock_key and sb:
        stock_build = table[stock_key]["build_s"]
        if cpp:
            print(
                f"build speed-up over stock pyNN.brian2: brian2 x{stock_build / sb['build_s']:.0f}, "
                f"brian2:cpp x{stock_build / cpp['build_s']:.0f}"
            )
        else:
            print()
    if cpp and nat:
        print(f"brian2:cpp cached total / native cached total: {(cpp['build_s'] + cpp['run_s']) / (nat['build_s'] + nat['run_s']):.2f}")


if __name__ == "__main__":
    main()
