"""Build and run time on Vogels-Abbott COBA: spikebridge vs a hand-written pyNN.nest script vs native NEST.

Each variant runs in its own process (a fresh NEST kernel), builds the same-sized network (4000 cells,
p = 0.02, 20 Poisson kick sources), simulates it recording all spikes, and reports wall-clock times.
Build time includes drawing the network; imports are excluded.

    python benchmarks/nest_build.py [--duration 1000] [--repeats 3]

Targets (issue 2): spikebridge build <= 1.5x native NEST and >= 3x faster than pyNN.nest; spikebridge
total within 10 % of native NEST's total.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from _timing import build_and_run

N_EXC, N_INH, N_KICK, P = 3200, 800, 20, 0.02
CELL = dict(
    cm=0.2, tau_m=20.0, v_rest=-60.0, v_thresh=-50.0, v_reset=-60.0, tau_refrac=5.0,
    tau_syn_E=5.0, tau_syn_I=10.0, e_rev_E=0.0, e_rev_I=-80.0,
)


def spikebridge_variant(duration: float) -> dict[str, float]:
    import pyNN.nest  # noqa: F401  (the simulator's import is not timed, as in the other variants)

    from spikebridge.backends import create
    from spikebridge.models import instantiate, load_model

    model = load_model("vogels_abbott_coba", [f"simulation.duration={duration}"])
    sim = create("nest")
    t0 = time.perf_counter()
    block, built, done = build_and_run(sim, instantiate(model))
    spikes = sum(len(st) for st in block.segments[0].spiketrains)
    return {"build": built - t0, "run": done - built, "spikes": spikes}


def nest_cell_params(p: dict[str, float]) -> dict[str, float]:
    """NEST ``iaf_cond_exp`` parameters (pF, nS, pA) for PyNN ``IF_cond_exp`` parameters (nF, uS, nA)."""
    out = {
        "C_m": p["cm"] * 1000.0, "g_L": p["cm"] / p["tau_m"] * 1000.0, "E_L": p["v_rest"], "V_th": p["v_thresh"],
        "V_reset": p["v_reset"], "t_ref": p["tau_refrac"], "tau_syn_ex": p["tau_syn_E"], "tau_syn_in": p["tau_syn_I"],
        "E_ex": p["e_rev_E"], "E_in": p["e_rev_I"],
    }
    if p.get("i_offset"):
        out["I_e"] = p["i_offset"] * 1000.0
    return out


def pynn_coba(sim: Any, n_exc: int, n_inh: int, p: float, duration: float) -> dict[str, float]:
    """The COBA network as a stock PyNN script on any PyNN backend module ``sim`` (e.g. ``pyNN.nest``)."""
    from pyNN.random import NumpyRNG, RandomDistribution

    t0 = time.perf_counter()
    sim.setup(timestep=0.1, min_delay=0.1, max_delay=1.0)
    rng = NumpyRNG(seed=1)
    exc = sim.Population(n_exc, sim.IF_cond_exp(**CELL))
    inh = sim.Population(n_inh, sim.IF_cond_exp(**CELL))
    kick = sim.Population(N_KICK, sim.SpikeSourcePoisson(rate=100.0, duration=50.0))
    for pop in (exc, inh):
        pop.initialize(v=RandomDistribution("uniform", (-60.0, -50.0), rng=rng))
    conn = sim.FixedProbabilityConnector(p, rng=rng)
    ex, ih = sim.StaticSynapse(weight=0.004, delay=0.2), sim.StaticSynapse(weight=0.051, delay=0.2)
    for pre, syn, rec in ((exc, ex, "excitatory"), (inh, ih, "inhibitory")):
        for post in (exc, inh):
            sim.Projection(pre, post, conn, syn, receptor_type=rec)
    for post in (exc, inh):
        sim.Projection(kick, post, sim.FixedProbabilityConnector(0.01, rng=rng), sim.StaticSynapse(weight=0.1, delay=0.2))
    exc.record("spikes")
    inh.record("spikes")
    t1 = time.perf_counter()
    sim.run(duration)
    spikes = sum(len(st) for pop in (exc, inh) for st in pop.get_data().segments[0].spiketrains)
    t2 = time.perf_counter()
    sim.end()
    return {"build": t1 - t0, "run": t2 - t1, "spikes": spikes}


def pynn_variant(duration: float) -> dict[str, float]:
    import pyNN.nest as sim

    return pynn_coba(sim, N_EXC, N_INH, P, duration)


def native_variant(duration: float) -> dict[str, float]:
    import nest

    t0 = time.perf_counter()
    nest.ResetKernel()
    nest.set(resolution=0.1, rng_seed=1, print_time=False)
    params = nest_cell_params(CELL)
    exc = nest.Create("iaf_cond_exp", N_EXC, params=params)
    inh = nest.Create("iaf_cond_exp", N_INH, params=params)
    for p in (exc, inh):
        p.V_m = nest.random.uniform(-60.0, -50.0)
    kick = nest.Create("poisson_generator", params={"rate": 100.0, "stop": 50.0})
    parrots = nest.Create("parrot_neuron", N_KICK)
    nest.Connect(kick, parrots)
    rule = {"rule": "pairwise_bernoulli", "p": P}
    for pre, w in ((exc, 4.0), (inh, -51.0)):
        for post in (exc, inh):
            nest.Connect(pre, post, rule, {"weight": w, "delay": 0.2})
    for post in (exc, inh):
        nest.Connect(parrots, post, {"rule": "pairwise_bernoulli", "p": 0.01}, {"weight": 100.0, "delay": 0.2})
    rec = nest.Create("spike_recorder")
    nest.Connect(exc + inh, rec)
    t1 = time.perf_counter()
    nest.Simulate(duration)
    spikes = len(rec.events["times"])
    t2 = time.perf_counter()
    return {"build": t1 - t0, "run": t2 - t1, "spikes": spikes}


VARIANTS = {"spikebridge": spikebridge_variant, "pyNN.nest": pynn_variant, "native NEST": native_variant}


def measure(variant: str, duration: float) -> dict[str, float]:
    env = {**os.environ, "PYNEST_QUIET": "1"}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--duration", str(duration)], capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{variant} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=1000.0, help="simulated time (ms)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per variant; the fastest is kept")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        import warnings

        warnings.filterwarnings("ignore")
        print(json.dumps(VARIANTS[args.child](args.duration)))
        return
    best: dict[str, dict[str, float]] = {}
    for _ in range(args.repeats):
        for name in VARIANTS:
            r = measure(name, args.duration)
            r["total"] = r["build"] + r["run"]
            if name not in best or r["total"] < best[name]["total"]:
                best[name] = r
    native = best["native NEST"]
    print(f"Vogels-Abbott COBA, {N_EXC + N_INH} cells, {args.duration:g} ms, best of {args.repeats} (seconds)")
    print(f"{'variant':<14}{'build':>9}{'run':>9}{'total':>9}{'spikes':>9}{'build/native':>14}{'total/native':>14}")
    for name, r in best.items():
        ratios = f"{r['build'] / native['build']:14.2f}{r['total'] / native['total']:14.3f}"
        print(f"{name:<14}{r['build']:9.3f}{r['run']:9.3f}{r['total']:9.3f}{r['spikes']:9.0f}{ratios}")
    sb, pynn = best["spikebridge"], best["pyNN.nest"]
    print()
    checks = [
        ("spikebridge build <= 1.5x native NEST build", sb["build"] <= 1.5 * native["build"], f"{sb['build'] / native['build']:.2f}x"),
        ("spikebridge build >= 3x faster than pyNN.nest", pynn["build"] >= 3 * sb["build"], f"{pynn['build'] / sb['build']:.1f}x faster"),
        (
            "spikebridge total within 10 % of native NEST",
            abs(sb["total"] / native["total"] - 1) <= 0.10,
            f"{100 * (sb['total'] / native['total'] - 1):+.1f} %",
        ),
    ]
    for what, ok, value in checks:
        print(f"[{'PASS' if ok else 'FAIL'}] {what}: {value}")


if __name__ == "__main__":
    main()
