"""How often does ``compare``'s verdict fail when nothing is wrong, and how often does it catch a real difference?

Stage 1 (``runs``) simulates a pool of seeds of one model on one backend, optionally perturbed, into run
directories laid out as ``compare`` lays them out (``OUT/runs/BACKEND_seedS``), so a comparison can reuse them.
Stage 2 (``analyse``) splits the pool into disjoint sets of ``--set-size`` seeds and judges each set with the
verdict of :mod:`spikebridge.analysis.validation.permutation`:

* false-FAIL rate: reference against another backend with the same model (nothing is wrong);
* detection power: reference against the same backend with a perturbed parameter.

It writes ``calibration.csv`` (one row per set and pair), a summary table and ``docs/figures/verdict_calibration``.

    python examples/verdict_calibration.py runs --backend nest --seeds 120 --out calibration/coba
    python examples/verdict_calibration.py runs --backend brian2:cpp --seeds 120 --out calibration/coba
    python examples/verdict_calibration.py runs --backend nest --seeds 120 --out calibration/coba_tau_syn_E+20 \\
        --set populations.exc.parameters.tau_syn_E=6.0 --set populations.inh.parameters.tau_syn_E=6.0
    python examples/verdict_calibration.py analyse --out calibration --figure docs/figures/verdict_calibration \\
        --null "nest vs brian2:cpp" calibration/coba:nest calibration/coba:brian2:cpp \\
        --power 20 calibration/coba:nest calibration/coba_tau_syn_E+20:nest
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest

import spikebridge
from spikebridge.analysis.validation import measures, permutation
from spikebridge.workflows.compare.workflow import run_directory, seed_list, with_overrides


def stage_runs(args: argparse.Namespace) -> None:
    model = spikebridge.load_model(args.model, list(args.overrides))
    seeds = seed_list(model, args.seeds)
    out = Path(args.out)
    t0 = time.perf_counter()
    for k, seed in enumerate(seeds[args.start :], start=args.start):
        path = run_directory(out, args.backend, seed)
        if (path / "meta.json").exists():
            continue
        variant = with_overrides(model, [f"simulation.seed={seed}"])
        spikebridge.run(variant, args.backend, path, overwrite=True, progress=False, figure=False)
        print(f"{args.backend} seed {seed} ({k + 1}/{len(seeds)}) {time.perf_counter() - t0:.0f} s", flush=True)


_MEASURED: dict[str, dict[int, dict[tuple[str, str], np.ndarray]]] = {}


def _pool(spec: str, seeds: list[int]) -> tuple[str, dict[int, dict[tuple[str, str], np.ndarray]]]:
    if spec not in _MEASURED:
        folder, backend = spec.split(":", 1)
        samples = {}
        for seed in seeds:
            path = run_directory(Path(folder), backend, seed)
            if (path / "meta.json").exists():
                samples[seed] = measures.measure_run(spikebridge.load(path))
        _MEASURED[spec] = samples
    return spec, _MEASURED[spec]


def stage_analyse(args: argparse.Namespace) -> None:
    model = spikebridge.load_model(args.model)
    seeds = seed_list(model, args.seeds)
    pairs = [("null", 0.0, label, ref, other) for label, ref, other in args.null]
    pairs += [("power", float(size), f"+{size} %", ref, other) for size, ref, other in args.power]
    rows = []
    for kind, size, label, ref_spec, other_spec in pairs:
        _, ref = _pool(ref_spec, seeds)
        _, other = _pool(other_spec, seeds)
        common = [s for s in seeds if s in ref and s in other]
        for j in range(len(common) // args.set_size):
            chunk = common[j * args.set_size : (j + 1) * args.set_size]
            table = permutation.verdicts({"ref": {s: ref[s] for s in chunk}, "other": {s: other[s] for s in chunk}}, "ref", args.alpha)
            failing = table[table.verdict == "fail"]
            rows.append(
                {
                    "pair": label,
                    "kind": kind,
                    "size": size,
                    "set": j,
                    "first_seed": chunk[0],
                    "verdict": permutation.overall(table),
                    "p_min": float(table.p.min()),
                    "failing": ";".join(f"{t}.{m}" for t, m in zip(failing.target, failing.measure, strict=True)),
                }
            )
    frame = pd.DataFrame(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "calibration.csv", index=False)
    summary = (
        frame.groupby(["pair", "kind", "size"], sort=False)
        .agg(sets=("set", "size"), fails=("verdict", lambda v: int((v == "fail").sum())))
        .reset_index()
    )
    summary["fail_rate"] = summary.fails / summary.sets
    intervals = [binomtest(int(f), int(n)).proportion_ci(0.95) for f, n in zip(summary.fails, summary.sets, strict=True)]
    summary["ci95_low"] = [ci.low for ci in intervals]
    summary["ci95_high"] = [ci.high for ci in intervals]
    print(summary.to_markdown(index=False))
    (out / "summary.md").write_text(summary.to_markdown(index=False) + "\n")
    if args.figure:
        from spikebridge.plotting.compare import plot_calibration
        from spikebridge.plotting.figures import save_figure

        save_figure(plot_calibration(summary, args.alpha), Path(args.figure))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--model", default="vogels_abbott_coba")
    common.add_argument("--seeds", type=int, default=120)
    common.add_argument("--out", required=True)
    sub = parser.add_subparsers(dest="stage", required=True)
    runs = sub.add_parser("runs", parents=[common])
    runs.add_argument("--backend", required=True)
    runs.add_argument("--set", dest="overrides", action="append", default=[])
    runs.add_argument("--start", type=int, default=0, help="skip the first START seeds (a second process can share a pool)")
    analyse = sub.add_parser("analyse", parents=[common])
    analyse.add_argument("--set-size", type=int, default=permutation.min_seeds(0.05, measures=8))
    analyse.add_argument("--alpha", type=float, default=0.05)
    analyse.add_argument(
        "--null",
        nargs=3,
        action="append",
        default=[],
        metavar=("LABEL", "REF", "OTHER"),
        help="a pair where nothing is wrong; REF and OTHER as FOLDER:BACKEND",
    )
    analyse.add_argument(
        "--power",
        nargs=3,
        action="append",
        default=[],
        metavar=("SIZE", "REF", "OTHER"),
        help="a pair where OTHER is perturbed by SIZE percent",
    )
    analyse.add_argument("--figure")
    args = parser.parse_args(argv)
    {"runs": stage_runs, "analyse": stage_analyse}[args.stage](args)


if __name__ == "__main__":
    main()
