"""PyNN's ``VAbenchmarks.py`` across seeds: spikebridge's drop-ins judged against stock ``pyNN.nest`` with
``spikebridge compare``'s rule (a paired permutation test, :mod:`spikebridge.analysis.validation.permutation`).

Each run is the sdist's example with two changed lines: the simulator import (as :mod:`pynn_examples` changes it;
none for stock) and ``rngseed = 98765``, set to each seed, which draws the connectivity and the initial membrane
potentials (PyNN's ``NumpyRNG``): at one seed every backend has the same connectivity and initial values. The
Poisson kick at the start is drawn by each simulator's own generator, so the runs are not one network on one
input; the rule compares them as samples across seeds, which is what it is for. The samples are what
``compare`` measures of a population: per-cell firing rates and CVs of interspike intervals (Elephant), read from
the Neo files the example writes. Stock ``pyNN.brian2`` is not run (its build alone takes about 4 min per run here).

Usage::

    python benchmarks/pynn_va_seeds.py                          # COBA and CUBA, 8 seeds, nest and brian2_cpp
    python benchmarks/pynn_va_seeds.py --benchmarks CUBA --seeds 8 --backends nest
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import quantities as pq
from elephant.statistics import cv, isi
from neo.io import PickleIO

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pynn_examples import rewrite  # noqa: E402
from pynn_system_tests import CACHE, sdist  # noqa: E402

from spikebridge.analysis.validation.permutation import min_seeds, overall, verdicts  # noqa: E402

STOCK = "stock:nest"
SEED_LINE = re.compile(r"^rngseed\s*=\s*\d+\s*$", re.MULTILINE)


def script(example: Path, backend: str, seed: int) -> str:
    """The example for ``backend`` at ``seed``."""
    text = example.read_text()
    if backend != STOCK:
        text, _ = rewrite(text)
    text, n = SEED_LINE.subn(f"rngseed = {seed}", text)
    if n != 1:
        raise RuntimeError(f"{example}: expected one 'rngseed = ...' line, found {n}")
    return text


def samples(results: Path, duration_s: float) -> dict[tuple[str, str], np.ndarray]:
    """Per-cell rates (Hz) and CVs of ISIs (cells with at least 3 spikes) of both populations."""
    out = {}
    for population in ("exc", "inh"):
        (path,) = results.rglob(f"*_{population}_*.pkl")
        trains = PickleIO(str(path)).read_block().segments[0].spiketrains
        out[(population, "rate")] = np.array([len(t) for t in trains]) / duration_s
        out[(population, "cv_isi")] = np.array([cv(isi(t.rescale(pq.ms).magnitude)) for t in trains if len(t) >= 3])
    return out


def run(example: Path, backend: str, benchmark: str, seed: int, timeout: float) -> dict[str, object]:
    """One run of the example in its own folder; its samples and whole-command time."""
    folder = Path(tempfile.mkdtemp(prefix=f"va-{benchmark}-{backend.replace(':', '_')}-{seed}-"))
    (folder / "VAbenchmarks.py").write_text(script(example, backend, seed))
    simulator = backend.removeprefix("stock:")
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "VAbenchmarks.py", simulator, benchmark], cwd=folder, capture_output=True, text=True, timeout=timeout, check=False
    )
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{backend} {benchmark} seed {seed}: exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
    return {"backend": backend, "benchmark": benchmark, "seed": seed, "seconds": seconds, "samples": samples(folder / "Results", 1.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmarks", nargs="+", default=["COBA", "CUBA"])
    parser.add_argument("--backends", nargs="+", default=["nest", "brian2_cpp"], help="spikebridge's drop-ins to judge")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument(
        "--jobs", type=int, default=1, help="runs at once (brian2_cpp runs of one benchmark share a project folder: keep 1 with brian2_cpp)"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    example = sdist(args.cache) / "examples" / "VAbenchmarks.py"
    seeds = [98765 + k for k in range(args.seeds)]
    jobs = [(b, benchmark, s) for benchmark in args.benchmarks for s in seeds for b in (STOCK, *args.backends)]
    with ThreadPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(lambda job: run(example, job[0], job[1], job[2], args.timeout), jobs))
    print(f"{len(runs)} runs; the rule needs {min_seeds(measures=4)} seeds for 4 measures at alpha 0.05\n")
    for benchmark in args.benchmarks:
        these = [r for r in runs if r["benchmark"] == benchmark]
        by_backend: dict[str, dict[int, dict[tuple[str, str], np.ndarray]]] = {}
        for r in these:
            by_backend.setdefault(str(r["backend"]), {})[int(r["seed"])] = r["samples"]  # type: ignore[call-overload,assignment]
        table = verdicts(by_backend, STOCK)
        table.insert(0, "benchmark", benchmark)
        columns = [f"{pop} {m}" for pop in ("exc", "inh") for m in ("rate", "cv_isi")]
        means = {
            b: {f"{pop} {m}": np.mean([np.nanmean(s[(pop, m)]) for s in runs_b.values()]) for pop, m in (c.split() for c in columns)}
            for b, runs_b in by_backend.items()
        }
        times = pd.DataFrame(these).groupby("backend")["seconds"].median()
        print(f"## {benchmark}: means over seeds, median whole-command seconds\n")
        print(pd.DataFrame(means).T.assign(**{"median s": times}).round(3).to_string(), "\n")
        columns = ["benchmark", "other", "target", "measure", "seeds", "statistic", "w_cross", "w_within", "p", "verdict"]
        print(table[columns].round(4).to_string(index=False))
        for other, rows in table.groupby("other"):
            print(f"verdict, {other} against {STOCK}: {overall(rows)}")
        print()


if __name__ == "__main__":
    main()
