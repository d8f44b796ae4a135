"""Benchmark: a sweep of 16 small trials on 2 local Dask workers vs the same trials one after another in one process.

The trials are ``stdp_bimodal`` shrunk to 200 Poisson inputs and 20 s of simulated time (2-4 s each on one
core), seeds 1-16. The sequential baseline calls ``spikebridge.run`` in this process; the sweep runs them with
``run_sweep`` on a ``LocalCluster`` of 2 single-threaded worker processes. Both write complete run
directories, and the final weights of every trial are checked to be identical between the two. The speedup is
reported with and without the cluster's start-up (target: >= 1.7 on 2 cores, start-up included), with the
machine's CPU accounting of each phase: core-seconds used by this benchmark's processes and by everything else,
since on a shared machine other users' work takes cores from the sweep.

Usage::

    python benchmarks/sweep_speedup.py [--trials 16] [--workers 2] [--inputs 200] [--duration 20000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil  # comes with dask distributed

TARGET = 1.7


class CpuMeter:
    """Core-seconds the machine spent busy, and those spent by this process and its children, since start()."""

    def start(self) -> None:
        self.t0, self.busy0, self.ours0 = time.perf_counter(), self._busy(), self._ours()

    @staticmethod
    def _busy() -> float:
        t = psutil.cpu_times()
        return t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)

    @staticmethod
    def _ours() -> dict[int, float]:
        me = psutil.Process()
        out = {}
        for p in [me, *me.children(recursive=True)]:
            try:
                c = p.cpu_times()
                out[p.pid] = c.user + c.system
            except psutil.NoSuchProcess:
                pass
        return out

    def report(self) -> str:
        """Call before this phase's child processes exit."""
        wall = time.perf_counter() - self.t0
        busy = self._busy() - self.busy0
        ours = sum(v - self.ours0.get(pid, 0.0) for pid, v in self._ours().items())
        return (
            f"CPU over {wall:.1f} s: machine busy {busy:.1f} core-s of {wall * psutil.cpu_count():.1f}; "
            f"this benchmark {ours:.1f}, others {max(busy - ours, 0.0):.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--inputs", type=int, default=200, help="Poisson inputs of stdp_bimodal")
    parser.add_argument("--duration", type=float, default=20000.0, help="simulated ms per trial")
    args = parser.parse_args(argv)

    os.environ.setdefault("PYNEST_QUIET", "1")
    import spikebridge
    from spikebridge.models.io import load_model
    from spikebridge.workflows.sweeps import Experiment, Grid, SweepPlan, dask_client, run_sweep

    sets = (
        f"populations.inputs.size={args.inputs}",
        f"simulation.duration={args.duration:g}",
        f"record_weights.interval={args.duration / 4:g}",
    )
    seeds = list(range(1, args.trials + 1))
    simulated = args.duration / 1000
    print(f"{args.trials} trials of stdp_bimodal ({args.inputs} inputs, {simulated:g} s simulated, seeds 1-{args.trials}) on NEST")
    print(f"host {os.uname().nodename}: {os.cpu_count()} CPUs, load average before {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="sweep_speedup-") as tmp:
        seq_dir = Path(tmp) / "sequential"
        meter = CpuMeter()
        meter.start()
        t0 = time.perf_counter()
        per_trial = []
        for seed in seeds:
            t1 = time.perf_counter()
            model = load_model("stdp_bimodal", [*sets, f"simulation.seed={seed}"])
            spikebridge.run(model, "nest", seq_dir / f"seed{seed}", progress=False, figure=False)
            per_trial.append(time.perf_counter() - t1)
        sequential = time.perf_counter() - t0
        seq_cpu = meter.report()
        spread = f"{min(per_trial):.2f}-{max(per_trial):.2f}"
        print(f"sequential, one process: {sequential:.1f} s ({np.mean(per_trial):.2f} s a trial, {spread})")
        print(f"  {seq_cpu}")

        grid = Grid.parse([f"simulation.seed={','.join(map(str, seeds))}"])
        plan = SweepPlan(model="stdp_bimodal", grid=grid, out=Path(tmp) / "sweep", backend="nest", overrides=sets)
        t0 = time.perf_counter()
        with dask_client(None, workers=args.workers, threads=1) as client:
            started = time.perf_counter() - t0
            meter.start()
            t1 = time.perf_counter()
            report = run_sweep(plan, client, progress=False, command=["benchmarks/sweep_speedup.py"])
            swept = time.perf_counter() - t1
            cpu = meter.report()
        if not report.ok:
            print(f"FAILED trials: {report.failed}")
            return 1
        print(f"sweep, {args.workers} Dask workers: {swept:.1f} s (+ {started:.1f} s starting the cluster)")
        print(f"  {cpu}")
        durations = [t.record["duration_s"] for t in Experiment(report.path)]
        print(f"  {np.mean(durations):.2f} s a trial in the workers ({min(durations):.2f}-{max(durations):.2f})")

        for trial in Experiment(report.path):
            seed = trial.params["simulation.seed"]
            a = spikebridge.load(seq_dir / f"seed{seed}").connections("input_post").sorted()
            b = trial.results.connections("input_post").sorted()
            if not np.array_equal(a.weight, b.weight):
                print(f"MISMATCH: seed {seed}: final weights differ between the sequential run and the sweep")
                return 1
        print(f"final weights identical in all {args.trials} trials")

    with_start = sequential / (swept + started)
    verdict = "met" if with_start >= TARGET else "NOT met"
    print(f"speedup: {sequential / swept:.2f}x (sweep alone), {with_start:.2f}x (with cluster start-up); target >= {TARGET}x: {verdict}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
