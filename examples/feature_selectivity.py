"""Feature selectivity before and after training, under pixel noise, on any backend.

A two-layer network (8 Gabor channels x 16 x 16 inputs; 16x16 exc + 8x8 inh per layer) is trained on 4
synthetic shapes x 2 boundary-contour variants, then tested untrained and trained at noise 0 and 20 grey
levels. Writes the figures and ``summary.json``; the same as ``spikebridge selectivity``.

    .venv/bin/python examples/feature_selectivity.py --backend nest --out runs/fs_nest
    .venv/bin/python examples/feature_selectivity.py --backend brian2 --out runs/fs_brian2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from spikebridge.stimuli import boundary_contour_shapes
from spikebridge.workflows.selectivity import Protocol, Workflow
from spikebridge.workflows.selectivity.pipeline import describe, run_pipeline


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", default="nest")
    p.add_argument("--out", type=Path, default=Path("runs/feature_selectivity"))
    p.add_argument("--figures", type=Path, help="default OUT/figures")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--noise", default="0,20", help="pixel-noise amplitudes, comma-separated")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args(argv)
    started = time.perf_counter()
    wf = Workflow(
        args.out,
        dataset=boundary_contour_shapes(4, 2),
        protocol=Protocol(present_ms=200.0, gap_ms=50.0, epochs=args.epochs, reps=args.reps, image_size=16),
        backend=args.backend,
        workers=args.workers,
    )
    summary = run_pipeline(wf, [float(v) for v in args.noise.split(",")], args.k, args.figures or args.out / "figures")
    print(describe(summary))
    print(f"total {time.perf_counter() - started:.1f} s; workflow directory {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
