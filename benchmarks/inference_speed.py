"""Benchmark: weight inference (Akrout, RDD, STDWI) on 200 s of a 100 -> 10 LIF network.

Simulates the reference protocol in numpy (:func:`spikebridge.analysis.synthetic.simulate_lif_network`:
100 input LIF neurons driven by 200 Hz Poisson sources, a random 20 % of them active in each 100 ms
window, 10 output LIF neurons, dt 0.25 ms, seeded), then times the three methods of
:mod:`spikebridge.analysis.inference` with the reference parameters against a 10 s target for all
three together, and prints the final Pearson r and sign alignment beside the values and timings of
the authors' code (Ahmad, Ambrogioni & van Gerven 2021). The simulation is not timed.

``--grid`` adds a small parameter grid per method (as in the paper's parameter scans), ``--noise``
the spike-train noise sweep (random deletion + insertion of 0, 5, 10, 20 % of the spikes).

Usage::

    python benchmarks/inference_speed.py [--t-stop 200000] [--seed 1] [--repeat 3] [--grid] [--noise]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import xarray as xr

from spikebridge.analysis import inference as inf
from spikebridge.analysis.synthetic import SyntheticNetwork, simulate_lif_network

TARGET_S = 10.0
# Authors' code on their 100 -> 10 network, 200 s, dt 0.25 ms: (r, sign alignment, wall time).
REFERENCE = {
    "akrout": (0.937, 0.851, "2 s"),
    "rdd": (0.888, 0.861, "7-8 s"),
    "stdwi": (0.956, 0.928, "24-31 s"),
}
DEFAULTS = {
    "akrout": {"window": 100.0, "batch": 10, "decay": 0.5},
    "rdd": {"alpha": 0.025, "window": 35.0, "ridge": 1000.0},
    "stdwi": {"tau_fast": 10.0, "tau_slow": 200.0, "decay": 0.1},
}
GRID = {
    "akrout": [{"batch": b} for b in (10, 100)] + [{"decay": 0.1}],
    "rdd": [{"alpha": 0.01}, {"alpha": 0.05}, {"window": 20.0}, {"window": 50.0}, {"ridge": 0.0}, {"ridge": 100.0}],
    "stdwi": [{"tau_fast": f, "tau_slow": s} for f, s in ((5.0, 200.0), (20.0, 200.0), (40.0, 200.0), (10.0, 100.0), (10.0, 500.0))],
}


def runner(method: str, net: SyntheticNetwork) -> Callable[..., xr.DataArray]:
    if method == "akrout":
        return lambda **kw: inf.akrout(net.pre, net.post, net.t_stop, **kw)
    if method == "stdwi":
        return lambda **kw: inf.stdwi(net.pre, net.post, net.t_stop, dt=net.dt, **kw)
    return lambda **kw: inf.rdd(net.pre, net.post, net.v_pre, net.t_stop, v_thresh=net.v_thresh,
                                v_reset=net.v_reset, dt=net.dt, tau_m=net.tau_m, **kw)


def final_scores(est: xr.DataArray, w_true: np.ndarray) -> tuple[float, float]:
    last = est.isel(time=-1)
    return float(inf.pearson(last, w_true)), float(inf.sign_alignment(last, w_true))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--t-stop", type=float, default=200_000.0, help="simulated time, ms")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per method (median reported)")
    parser.add_argument("--grid", action="store_true", help="also run a small parameter grid per method")
    parser.add_argument("--noise", action="store_true", help="also run the spike-noise sweep")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    net = simulate_lif_network(100, 10, t_stop=args.t_stop, dt=0.25, seed=args.seed)
    t_sim = time.perf_counter() - t0
    rate_in = np.mean([t.size for t in net.pre]) / net.t_stop * 1e3
    rate_out = np.mean([t.size for t in net.post]) / net.t_stop * 1e3
    print(f"network: 100 -> 10 LIF, {net.t_stop / 1e3:.0f} s at dt {net.dt} ms, seed {args.seed}; "
          f"mean rates in {rate_in:.1f} Hz, out {rate_out:.1f} Hz; {(net.w_true < 0).mean():.0%} negative weights; "
          f"simulated in {t_sim:.1f} s (not timed)")

    print(f"\n{'method':8s} {'time (s)':>9s} {'ref time':>9s} {'r':>7s} {'ref r':>7s} {'sign':>7s} {'ref sign':>9s}  parameters")
    total = 0.0
    for method in ("akrout", "rdd", "stdwi"):
        run = runner(method, net)
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            est = run(**DEFAULTS[method])
            times.append(time.perf_counter() - t0)
        wall = statistics.median(times)
        total += wall
        r, sign = final_scores(est, net.w_true)
        ref_r, ref_sign, ref_time = REFERENCE[method]
        print(f"{method:8s} {wall:9.3f} {ref_time:>9s} {r:7.3f} {ref_r:7.3f} {sign:7.3f} {ref_sign:9.3f}  {DEFAULTS[method]}")
    verdict = "PASS" if total <= TARGET_S else "FAIL"
    print(f"{'total':8s} {total:9.3f} {'33-41 s':>9s}   (median of {args.repeat} runs each; target {TARGET_S:.0f} s -> {verdict})")

    if args.grid:
        print("\nparameter grid (final r / sign alignment; other parameters at the defaults above)")
        for method, variants in GRID.items():
            run = runner(method, net)
            for change in variants:
                t0 = time.perf_counter()
                est = run(**{**DEFAULTS[method], **change})
                wall = time.perf_counter() - t0
                r, sign = final_scores(est, net.w_true)
                print(f"  {method:7s} {str(change):40s} r {r:6.3f}  sign {sign:6.3f}  ({wall:.2f} s)")

    if args.noise:
        print("\nspike noise: a fraction of every train deleted and as many random spikes inserted (final r / sign)")
        for level in (0.0, 0.05, 0.1, 0.2):
            rng = np.random.default_rng(args.seed)
            noisy = net._replace(pre=inf.perturb(net.pre, level, rng, net.t_stop),
                                 post=inf.perturb(net.post, level, rng, net.t_stop))
            cells = []
            for method in ("akrout", "rdd", "stdwi"):
                r, sign = final_scores(runner(method, noisy)(**DEFAULTS[method]), net.w_true)
                cells.append(f"{method} {r:.3f} / {sign:.3f}")
            print(f"  {level:4.0%}: " + "   ".join(cells))
    return 0 if total <= TARGET_S else 2


if __name__ == "__main__":
    raise SystemExit(main())
