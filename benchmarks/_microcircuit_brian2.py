"""A native Brian2 script of the cortical microcircuit (cpp_standalone or runtime), written from the paper.

The Brian2 reference beside which ``microcircuit.py`` times spikebridge's ``brian2:cpp``: plain ``NeuronGroup``,
``Synapses`` and ``PoissonInput`` objects, no PyNN and no spikebridge. Connectivity is drawn in numpy by the same
rule (``fixed_total_number`` with multapses and autapses; normal weights and delays redrawn at their bounds),
integration is exact (the linear current-based LIF, as NEST's ``iaf_psc_exp``), every spike is recorded and saved
(``.npz``). It prints one JSON line of timings (s) and peak memory; with ``--build-dir`` the compiled project is
kept and reused, as spikebridge's cache does.

    python benchmarks/_microcircuit_brian2.py --scale 0.1 --build-dir /tmp/mc_brian2 --out /tmp/mc.npz
"""

from __future__ import annotations

import argparse
import time

t_start = time.perf_counter()

import _microcircuit as mc  # noqa: E402
import brian2 as b2  # noqa: E402
import numpy as np  # noqa: E402

EQS = """
dv/dt = (E_L - v) / tau_m + (I_exc + I_inh + I_offset) / C_m : volt (unless refractory)
dI_exc/dt = -I_exc / tau_syn : amp
dI_inh/dt = -I_inh / tau_syn : amp
I_offset : amp
"""


def redrawn_normal(rng: np.random.Generator, mean: float, sd: float, low: float, high: float, n: int) -> np.ndarray:
    """Normal draws, each outside [low, high] drawn again."""
    out = rng.normal(mean, sd, n)
    bad = (out < low) | (out > high)
    while bad.any():
        out[bad] = rng.normal(mean, sd, int(bad.sum()))
        bad = (out < low) | (out > high)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=20140101)
    parser.add_argument("--warmup", type=float, default=1000.0, help="ms")
    parser.add_argument("--duration", type=float, default=1000.0, help="ms, after the warm-up")
    parser.add_argument("--dc", action="store_true", help="DC background instead of Poisson")
    parser.add_argument("--device", choices=["cpp_standalone", "runtime"], default="cpp_standalone")
    parser.add_argument("--build-dir", default="/tmp/spikebridge_native_microcircuit")
    parser.add_argument("--out", help="save the spikes here (.npz)")
    args = parser.parse_args()
    imported = time.perf_counter()

    if args.device == "cpp_standalone":
        b2.set_device("cpp_standalone", directory=args.build_dir, build_on_run=False)
    b2.defaultclock.dt = mc.DT * b2.ms
    b2.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    n, k = mc.scaled(args.scale)
    nr = mc.NEURON
    namespace = {
        "E_L": nr["E_L"] * b2.mV, "tau_m": nr["tau_m"] * b2.ms, "C_m": nr["C_m"] * b2.pF, "tau_syn": nr["tau_syn"] * b2.ms,
        "V_th": nr["V_th"] * b2.mV, "V_reset": nr["V_reset"] * b2.mV,
    }  # fmt: skip
    dc = mc.dc_background() * 1e-9  # A
    groups = []
    for p in range(8):
        g = b2.NeuronGroup(
            int(n[p]), EQS, threshold="v > V_th", reset="v = V_reset", refractory=nr["t_ref"] * b2.ms,
            method="exact", namespace=namespace, name=f"pop_{mc.POPULATIONS[p]}",
        )  # fmt: skip
        g.v = rng.normal(mc.V0_MEAN, mc.V0_SD, int(n[p])) * b2.mV
        g.I_offset = (dc[p] if args.dc else 0.0) * b2.amp
        groups.append(g)
    w = mc.weight_means()
    synapses = []
    for t in range(8):
        for s in range(8):
            if k[t, s] == 0:
                continue
            count = int(k[t, s])
            pre = rng.integers(0, n[s], count)
            post = rng.integers(0, n[t], count)
            mean, d = w[t, s], mc.DELAY_I if s % 2 else mc.DELAY_E
            low, high = (-np.inf, 0.0) if mean < 0 else (0.0, np.inf)
            weight = redrawn_normal(rng, mean, abs(mean) * mc.PSP_REL_SD, low, high, count)
            delay = np.round(redrawn_normal(rng, d, d * mc.DELAY_REL_SD, mc.DT, np.inf, count) / mc.DT) * mc.DT
            target = "I_inh" if mean < 0 else "I_exc"
            syn = b2.Synapses(groups[s], groups[t], "w : amp", on_pre=f"{target}_post += w", name=f"syn_{s}_{t}")
            syn.connect(i=pre, j=post)
            syn.w = weight * b2.pA
            syn.delay = delay * b2.ms
            synapses.append(syn)
    inputs = []
    if not args.dc:
        for p in range(8):
            inputs.append(b2.PoissonInput(groups[p], "I_exc", N=int(mc.K_EXT[p]), rate=mc.BG_RATE * b2.Hz, weight=mc.W_E * b2.pA))
    monitors = [b2.SpikeMonitor(g) for g in groups]
    net = b2.Network(groups, synapses, inputs, monitors)
    built = time.perf_counter()
    net.run((args.warmup + args.duration) * b2.ms)
    if args.device == "cpp_standalone":
        b2.device.build(directory=args.build_dir, compile=True, run=True)
    ran = time.perf_counter()
    recorded = [
        (name, len(g), np.asarray(mon.i[:]), np.asarray(mon.t[:] / b2.ms)) for name, g, mon in zip(mc.POPULATIONS, groups, monitors)
    ]
    stamps = {"start": t_start, "imported": imported, "built": built, "ran": ran}
    mc.report(recorded, args.warmup, args.duration, args.out, int(k.sum()), stamps)


if __name__ == "__main__":
    main()
