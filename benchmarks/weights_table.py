"""Benchmark: weight table of 1,000,000 synapses -> Parquet -> dense weight matrix.

Builds a 1000 x 1000 all-to-all projection (10^6 synapses) with two weight
snapshots, writes it with :func:`spikebridge.analysis.weights.write_table`,
then times ``read_table`` + ``weight_matrix`` (the path an analysis takes from
a run directory to a dense (n_post, n_pre) matrix) against a 2 s target.

Usage::

    python benchmarks/weights_table.py [--n-pre 1000] [--n-post 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from spikebridge.analysis.weights import ProjectionInfo, read_table, table_from_arrays, weight_matrix, write_table

TARGET_S = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-pre", type=int, default=1000)
    parser.add_argument("--n-post", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    n_pre, n_post = args.n_pre, args.n_post
    # all-to-all in a simulator's usual (pre-major) order
    pre = np.repeat(np.arange(n_pre, dtype=np.int64), n_post)
    post = np.tile(np.arange(n_post, dtype=np.int64), n_pre)
    w0 = rng.uniform(0.0, 0.01, pre.size)
    w1 = np.clip(w0 + rng.normal(0.0, 0.002, pre.size), 0.0, 0.01)
    info = ProjectionInfo("ff", "input", "output", n_pre, n_post, "excitatory", 0.0, 0.01, "FF")

    t0 = time.perf_counter()
    table = table_from_arrays({0.0: {"ff": (pre, post, w0, 1.0)}, 1000.0: {"ff": (pre, post, w1, 1.0)}})
    t_build = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "weights.parquet"
        t0 = time.perf_counter()
        write_table(table, path)
        t_write = time.perf_counter() - t0
        size_mb = path.stat().st_size / 1e6

        reads, mats = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            back = read_table(path)
            t1 = time.perf_counter()
            w = weight_matrix(back, info)
            t2 = time.perf_counter()
            reads.append(t1 - t0)
            mats.append(t2 - t1)
        totals = [a + b for a, b in zip(reads, mats, strict=True)]

    expected = np.zeros((n_post, n_pre))
    expected[post, pre] = w1
    if not np.array_equal(w, expected):
        print("ERROR: dense matrix differs from the synapse list", file=sys.stderr)
        return 1

    n_syn = pre.size
    print(f"synapses: {n_syn:,} ({n_pre} x {n_post} all-to-all), snapshots: 2, parquet: {size_mb:.1f} MB")
    print(f"table_from_arrays: {t_build:.3f} s   write_table: {t_write:.3f} s")
    print(f"read_table:    median {statistics.median(reads):.3f} s  (min {min(reads):.3f})")
    print(f"weight_matrix: median {statistics.median(mats):.3f} s  (min {min(mats):.3f})")
    total = statistics.median(totals)
    verdict = "PASS" if total <= TARGET_S else "FAIL"
    print(f"read_table + weight_matrix: median {total:.3f} s over {args.repeat} runs vs target {TARGET_S:.1f} s -> {verdict}")
    return 0 if total <= TARGET_S else 2


if __name__ == "__main__":
    raise SystemExit(main())
