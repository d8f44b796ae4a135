"""Weight inference from activity on the bundled ``weight_inference`` model, on any backend.

Simulates the model (100 input LIF cells driven by Poisson sources, 10 output
cells, a dense mixed-sign W_true; dt 0.25 ms) on a backend, or reuses a run
directory, then

1. scores a small parameter grid per method on the noise-free recordings and
   keeps the best variant of each (highest mean of final Pearson r and sign
   alignment by default, ``--select``; chosen on the same data, as the
   reference study chose its parameters);
2. runs Akrout, RDD and STDWI with those parameters at spike-noise levels
   0, 5, 10 and 20 % (that fraction of every input and output train deleted
   and as many spikes inserted at random);
3. writes ``RUN_DIR/inference/`` (scores.csv, final.csv, grid.csv,
   inference.json and the figures scatter, over_time, noise,
   over_time_by_noise as PNG and PDF) and prints the tables.

Usage::

    python examples/weight_inference/run.py [--backend nest] [--duration 200000] [--out DIR]
    python examples/weight_inference/run.py --run-dir DIR          # analyse an existing run

All times are in ms on the command line; the tables give ``time`` in ms.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

import spikebridge
from spikebridge.workflows.inference import (
    DEFAULT_GRID,
    METHODS,
    best_parameters,
    format_final,
    grid_search,
    infer_run,
    inference_data,
    write_outcome,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="nest", help="backend to simulate on (nest, brian2, brian2:cpp, ...)")
    parser.add_argument("--duration", type=float, default=200_000.0, help="simulated time, ms")
    parser.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="model override, as for spikebridge run")
    parser.add_argument("--out", type=Path, help="run directory to create (default runs/weight_inference/example_BACKEND_DURATIONs)")
    parser.add_argument("--run-dir", type=Path, help="analyse this existing run directory instead of simulating")
    parser.add_argument("--noise", default="0,5,10,20", help="noise levels in percent, comma-separated")
    parser.add_argument("--seed", type=int, default=0, help="seed of the spike noise")
    parser.add_argument("--no-grid", action="store_true", help="use the reference parameters, skip the grid")
    parser.add_argument("--select", choices=["mean", "pearson", "sign_alignment"], default="mean",
                        help="grid criterion: final Pearson r, sign alignment, or their mean (default)")
    args = parser.parse_args(argv)

    if args.run_dir is not None:
        results = spikebridge.load(args.run_dir)
    else:
        out = args.out or Path("runs/weight_inference") / f"example_{args.backend.replace(':', '-')}_{args.duration / 1000:g}s"
        model = spikebridge.load_model("weight_inference", [f"simulation.duration={args.duration}", *args.set])
        t0 = time.perf_counter()
        results = spikebridge.run(model, args.backend, out, overwrite=True, progress=False)
        print(f"simulated {args.duration / 1000:g} s on {args.backend} in {time.perf_counter() - t0:.1f} s "
              f"(run {results.meta['timings']['run_s']:.1f} s): {results.path}")

    t0 = time.perf_counter()
    data = inference_data(results)
    t_read = time.perf_counter() - t0
    rates = {
        p: sum(t.size for t in trains) / len(trains) / data.t_stop * 1e3 for p, trains in (("inputs", data.pre), ("outputs", data.post))
    }
    print(f"read {data.t_stop / 1000:g} s of recordings in {t_read:.1f} s (v: {data.v_pre.nbytes / 2**20:.0f} MiB); "
          f"rates inputs {rates['inputs']:.1f} Hz, outputs {rates['outputs']:.1f} Hz; "
          f"{(data.w_true < 0).mean():.0%} of W_true negative")

    extra: dict[str, pd.DataFrame] = {}
    best: dict[str, dict] = {}
    if not args.no_grid:
        t0 = time.perf_counter()
        grid = grid_search(data, DEFAULT_GRID)
        extra["grid"] = grid
        best = best_parameters(grid, by=args.select)
        print(f"\nparameter grid, final scores without noise ({time.perf_counter() - t0:.1f} s):")
        print(grid.to_string(index=False, float_format="%.3f"))
        print(f"best per method (by {args.select}): " + "; ".join(f"{m} {best[m]}" for m in METHODS if m in best))

    levels = tuple(float(x) / 100.0 for x in args.noise.split(","))
    t0 = time.perf_counter()
    outcome = infer_run(data, METHODS, noise_levels=levels, seed=args.seed, params=best)
    t_inf = time.perf_counter() - t0
    paths = write_outcome(outcome, results, extra_tables=extra)

    print(f"\nfinal scores ({len(levels)} noise levels x {len(METHODS)} methods in {t_inf:.1f} s):")
    print(format_final(outcome))
    print(f"\nwrote {len(paths)} files to {paths[0].parent}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
