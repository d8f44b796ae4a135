"""What flushing denormal numbers to zero buys a ``cpp_standalone`` binary, and that it changes no spike.

spikebridge links ``brian2:cpp`` binaries with ``-ffast-math`` (``drivers.LINK_ARGS``), so that they start with the
CPU flushing denormal numbers to zero. This runs the rule study's digits network (LDS, seed 1, ``--samples``
training samples and a test block before and after) on ``brian2:cpp`` twice, each in its own process and build
folder: as linked by default, and linked without the flag. It prints the binary's time (``binary_s``) and the whole
run's (build from an empty folder, run, collect, write), then whether every spike of the hidden and output cells
and every recorded weight came out the same.

    python benchmarks/denormals.py
    python benchmarks/denormals.py --samples 200
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np


def child(out: str, samples: int, flush: bool) -> dict[str, Any]:
    from spikebridge import run
    from spikebridge.backends.brian2 import drivers
    from spikebridge.models import validate
    from spikebridge.workflows.rule_study import network

    if not flush:
        drivers.LINK_ARGS = ()
    config = replace(network.TaskConfig(), n_train=samples, epochs=1, snapshot_every=samples, n_test=25)
    model, _protocol, _data = network.build("lds", 1, config, Path(out) / "inputs")
    t0 = time.perf_counter()
    res = run(validate(model), backend="brian2:cpp", out=Path(out) / "run", options={"build_dir": str(Path(out) / "build")},
              progress=False, figure=False)  # fmt: skip
    total = time.perf_counter() - t0
    build = res.meta["backend_info"].get("build", {})
    return {"total_s": total, "binary_s": build.get("binary_s"), "build_s": build.get("build_s")}


def same(a: Path, b: Path) -> dict[str, bool]:
    from spikebridge.rundir import load

    ra, rb = load(a / "run"), load(b / "run")
    out = {}
    for pop in ("hidden", "output"):
        ta = [np.asarray(st.magnitude) for st in ra.spiketrains(pop)]
        tb = [np.asarray(st.magnitude) for st in rb.spiketrains(pop)]
        out[f"{pop} spikes"] = len(ta) == len(tb) and all(np.array_equal(x, y) for x, y in zip(ta, tb, strict=True))
    out["weights"] = ra.weights().equals(rb.weights())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100, help="training samples (a multiple of 25; default 100)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        out, samples, flush = json.loads(args.child)
        print(json.dumps(child(out, samples, flush)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        rows = {}
        for flush in (True, False):
            folder = Path(tmp) / ("flushed" if flush else "plain")
            done = subprocess.run(
                [sys.executable, __file__, "--child", json.dumps([str(folder), args.samples, flush])],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            rows[flush] = json.loads(done.stdout.strip().splitlines()[-1])
        flushed, plain = rows[True], rows[False]
        print(f"digits network, LDS, seed 1, {args.samples} training samples, brian2:cpp, one process at a time")
        print(f"{'':28}{'binary_s':>10}{'build_s':>10}{'total_s':>10}")
        for name, row in (("linked with -ffast-math", flushed), ("linked without", plain)):
            print(f"{name:28}{row['binary_s']:10.1f}{row['build_s']:10.1f}{row['total_s']:10.1f}")
        ratio = plain["binary_s"] / flushed["binary_s"], plain["total_s"] / flushed["total_s"]
        print(f"flushed: the binary {ratio[0]:.2f}x as fast, the whole run {ratio[1]:.2f}x")
        for what, equal in same(Path(tmp) / "flushed", Path(tmp) / "plain").items():
            print(f"{what}: {'identical' if equal else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
