"""A native NEST script of the cortical microcircuit, written from the paper (no spikebridge, no PyNN).

The reference beside which ``microcircuit.py`` times spikebridge. It builds the network of ``_microcircuit``
with NEST's own connection rule and random draws (``fixed_total_number``, normal weights and delays redrawn at
their bounds), records every spike, simulates the warm-up and the measured second, and saves the spikes (``.npz``:
per population ``senders`` and ``times``) as ``spikebridge run`` saves its run directory. It prints one JSON line of
timings (s) and peak memory. The background is Poisson (one ``poisson_generator`` per population, as the bundled
``microcircuit`` and NEST's example), or DC with ``--dc``.

    python benchmarks/_microcircuit_nest.py --scale 0.1 --threads 2 --out /tmp/mc.npz
    python benchmarks/_microcircuit_nest.py --scale 0.1 --dc     # DC background (the bundled microcircuit_dc)
"""

from __future__ import annotations

import argparse
import time

t_start = time.perf_counter()

import _microcircuit as mc  # noqa: E402
import nest  # noqa: E402
import numpy as np  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=20140101)
    parser.add_argument("--warmup", type=float, default=1000.0, help="ms")
    parser.add_argument("--duration", type=float, default=1000.0, help="ms, after the warm-up")
    parser.add_argument("--dc", action="store_true", help="DC background instead of Poisson")
    parser.add_argument("--out", help="save the spikes here (.npz)")
    args = parser.parse_args()
    imported = time.perf_counter()

    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": mc.DT, "local_num_threads": args.threads, "rng_seed": args.seed % 2**31 or 1})
    n, k = mc.scaled(args.scale)
    nr = mc.NEURON
    dc = mc.dc_background() * 1e3  # pA
    params = {
        "C_m": nr["C_m"], "tau_m": nr["tau_m"], "tau_syn_ex": nr["tau_syn"], "tau_syn_in": nr["tau_syn"],
        "t_ref": nr["t_ref"], "E_L": nr["E_L"], "V_th": nr["V_th"], "V_reset": nr["V_reset"],
    }  # fmt: skip
    pops = []
    for p in range(8):
        pop = nest.Create("iaf_psc_exp", int(n[p]), params={**params, "I_e": float(dc[p]) if args.dc else 0.0})
        pop.V_m = nest.random.normal(mean=mc.V0_MEAN, std=mc.V0_SD)
        pops.append(pop)
    w = mc.weight_means()
    for t in range(8):
        for s in range(8):
            if k[t, s] == 0:
                continue
            mean, d = w[t, s], mc.DELAY_I if s % 2 else mc.DELAY_E
            bounded = {"min": -np.inf, "max": 0.0} if mean < 0 else {"min": 0.0, "max": np.inf}
            nest.Connect(
                pops[s],
                pops[t],
                {"rule": "fixed_total_number", "N": int(k[t, s]), "allow_autapses": True, "allow_multapses": True},
                {
                    "synapse_model": "static_synapse",
                    "weight": nest.math.redraw(nest.random.normal(mean=mean, std=abs(mean) * mc.PSP_REL_SD), **bounded),
                    "delay": nest.math.redraw(nest.random.normal(mean=d, std=d * mc.DELAY_REL_SD), min=mc.DT, max=np.inf),
                },
            )
    if not args.dc:
        for p in range(8):
            gen = nest.Create("poisson_generator", params={"rate": mc.BG_RATE * float(mc.K_EXT[p])})
            nest.Connect(gen, pops[p], "all_to_all", {"weight": mc.W_E, "delay": mc.DT})
    recorders = []
    for pop in pops:
        rec = nest.Create("spike_recorder")
        nest.Connect(pop, rec)
        recorders.append(rec)
    built = time.perf_counter()
    nest.Simulate(args.warmup + args.duration)
    ran = time.perf_counter()
    recorded = []
    for name, pop, rec in zip(mc.POPULATIONS, pops, recorders):
        ev = rec.get("events")
        recorded.append((name, len(pop), np.asarray(ev["senders"]) - pop[0].global_id, np.asarray(ev["times"])))
    stamps = {"start": t_start, "imported": imported, "built": built, "ran": ran}
    mc.report(recorded, args.warmup, args.duration, args.out, int(k.sum()), stamps)


if __name__ == "__main__":
    main()
