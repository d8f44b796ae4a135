"""What ``spikebridge compare`` spends after the simulations: reading the runs, measuring, scoring, the report.

    python benchmarks/compare_step.py [--model vogels_abbott_coba] [--backends nest,brian2:cpp] [--seeds 5] [--out DIR]

The runs are made first if DIR does not hold them (not timed); the timed call reuses every run, so it times only
the step after simulating: loading the run directories, the measures (rates, CVs of ISIs, correlations,
lifetimes, weights) and the scores and verdicts, then the tables and the report with its figures.

Target (issue #18): measuring and scoring the 10 runs of ``compare vogels_abbott_coba --backends nest,brian2:cpp
--seeds 5`` takes <= 5 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 5.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vogels_abbott_coba")
    parser.add_argument("--backends", default="nest,brian2:cpp")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", default=None, help="comparison directory (default: a temporary one)")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    from spikebridge.models import load_model
    from spikebridge.workflows.compare import workflow
    from spikebridge.workflows.compare.report import write_report

    imports = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="spikebridge-compare-") as tmp:
        out = Path(args.out or tmp)
        model = load_model(args.model)
        backends = args.backends.split(",")
        t0 = time.perf_counter()
        workflow.compare(model, backends, args.seeds, out, progress=False)
        simulated = time.perf_counter() - t0

        phases: dict[str, float] = {}
        original = workflow.measures.measure_run

        def timed_measure(*a, **k):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                phases["measure"] = phases.get("measure", 0.0) + time.perf_counter() - t

        workflow.measures.measure_run = timed_measure
        try:
            t0 = time.perf_counter()
            cmp = workflow.compare(model, backends, args.seeds, out, progress=False)
            step = time.perf_counter() - t0
        finally:
            workflow.measures.measure_run = original
        t0 = time.perf_counter()
        workflow.write_tables(cmp)
        write_report(cmp)
        report = time.perf_counter() - t0
    runs = len(backends) * args.seeds
    print(f"compare {args.model} --backends {args.backends} --seeds {args.seeds}: {runs} runs (made in {simulated:.1f} s, not timed)")
    print(f"imports                          {imports:6.2f} s")
    print(f"reuse checks, measures, scores   {step:6.2f} s   (of which the measures {phases.get('measure', 0.0):.2f} s)")
    print(f"tables and report with figures   {report:6.2f} s")
    ok = step <= TARGET_S
    print(f"[{'PASS' if ok else 'FAIL'}] measuring and scoring {runs} runs in {step:.2f} s (target <= {TARGET_S:g} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
