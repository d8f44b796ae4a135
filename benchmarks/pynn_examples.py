"""PyNN 0.13's own ``examples/`` run unchanged apart from the line that imports the simulator, on stock PyNN and on
spikebridge's drop-ins, in one run: a table of example × backend × outcome (exit code, seconds, last error line).

The one changed line: ``from pyNN.utility import get_simulator`` becomes ``from spikebridge.pynn.utility import
get_simulator``, and the older examples' ``"pyNN.%s"`` (``exec``/``import_module``) becomes ``"spikebridge.pynn.%s"``.
Stock runs use the file as shipped. The sdist is fetched as :mod:`pynn_system_tests` does.

Usage::

    python benchmarks/pynn_examples.py                          # every example on nest, brian2_cpp and stock nest
    python benchmarks/pynn_examples.py --backends brian2 brian2_cpp --only VAbenchmarks simple_STDP
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pynn_system_tests import CACHE, sdist  # noqa: E402

ARGUMENTS = {"VAbenchmarks": [["COBA"], ["CUBA"]]}
"""Positional arguments after the simulator's name; one run per list (default: none)."""
NEEDS = {
    "distrib_example": "mpi4py (an MPI example; the NEST wheel has no MPI)",
    "nineml_brunel": "NEURON and NineML",
    "nineml_neuron": "NineML",
    "nrn_artificial_cell": "NEURON",
    "simpleRandomNetwork_csa": "csa",
}
"""Examples that need something neither NEST nor Brian2 provides: listed, not run."""
STOCK = "stock:"
REPORTED = {
    "build s": r"Build time\s*:\s*([\d.eE+-]+)",
    "simulate s": r"Simulation time\s*:\s*([\d.eE+-]+)",
    "write s": r"Writing time\s*:\s*([\d.eE+-]+)",
    "exc Hz": r"Excitatory rate\s*:\s*([\d.eE+-]+)",
    "inh Hz": r"Inhibitory rate\s*:\s*([\d.eE+-]+)",
}
"""What VAbenchmarks.py prints about itself (its own timer's phases and the mean rates)."""


def rewrite(text: str) -> tuple[str, int]:
    """The example with its simulator import pointed at spikebridge's drop-ins, and the number of lines changed."""
    lines = text.splitlines(keepends=True)
    changed = 0
    for k, line in enumerate(lines):
        new = line.replace("from pyNN.utility import get_simulator", "from spikebridge.pynn.utility import get_simulator")
        new = new.replace("pyNN.%s", "spikebridge.pynn.%s")
        if new != line:
            lines[k] = new
            changed += 1
    return "".join(lines), changed


def run(example: Path, backend: str, args: list[str], where: Path, timeout: float) -> dict:
    """One example on one backend (``stock:nest`` runs the file as shipped) in a fresh process."""
    stock = backend.startswith(STOCK)
    simulator = backend.removeprefix(STOCK)
    text = example.read_text()
    changed = 0
    if not stock:
        text, changed = rewrite(text)
    script = where / f"{example.stem}__{backend.replace(':', '_')}.py"
    script.write_text(text)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, script.name, simulator, *args], cwd=where, env=env, capture_output=True, text=True, timeout=timeout
        )
        code, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired:
        code, output = None, f"timed out after {timeout:.0f} s"
    seconds = time.perf_counter() - start
    errors = [line for line in output.splitlines() if re.match(r"^\w*(Error|Exception)\b|^\w+Error:", line)]
    reported = {k: float(m.group(1)) for k, pattern in REPORTED.items() if (m := re.search(pattern, output))}
    return reported | {
        "outcome": "ok" if code == 0 else ("timeout" if code is None else f"exit {code}"),
        "seconds": round(seconds, 1),
        "lines changed": changed,
        "error": (errors[-1] if errors else output.strip().splitlines()[-1] if output.strip() and code != 0 else "")[:200],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["stock:nest", "nest", "brian2_cpp"])
    parser.add_argument("--only", nargs="+", help="example names (without .py)")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    args = parser.parse_args()

    examples = sorted((sdist(args.cache) / "examples").glob("*.py"))
    if args.only:
        examples = [e for e in examples if e.stem in args.only]
    rows = []
    with tempfile.TemporaryDirectory(prefix="pynn-examples-") as tmp:
        where = Path(tmp)
        for source in examples:
            shutil.copy(source, where / source.name)
        for example in examples:
            for backend in args.backends:
                if example.stem in NEEDS:
                    reason = f"needs {NEEDS[example.stem]}"
                    rows.append({"example": example.stem, "backend": backend, "outcome": "not run", "error": reason})
                    continue
                for extra in ARGUMENTS.get(example.stem, [[]]):
                    name = " ".join([example.stem, *extra])
                    row = {"example": name, "backend": backend, **run(example, backend, extra, where, args.timeout)}
                    rows.append(row)
                    print(f"{name:40s} {backend:14s} {row['outcome']:8s} {row['seconds']:7.1f} s  {row['error']}", flush=True)
    frame = pd.DataFrame(rows)
    print()
    print(frame.pivot_table(index="example", columns="backend", values="outcome", aggfunc="first").to_string())
    print()
    print(frame.pivot_table(index="example", columns="backend", values="seconds", aggfunc="first").to_string())
    phases = frame.dropna(subset=["build s"]) if "build s" in frame else frame.iloc[:0]
    if len(phases):
        print()
        print("As reported by the examples themselves (VAbenchmarks' timer; rates in Hz):")
        print(phases.set_index(["example", "backend"])[[k for k in REPORTED if k in phases]].to_string())
        for example, group in phases.groupby("example"):
            build = group.set_index("backend")["build s"]
            for ours in (b for b in build.index if not b.startswith(STOCK)):
                for stock in (b for b in build.index if b.startswith(STOCK)):
                    print(f"{example}: build on {ours} is {build[stock] / build[ours]:.1f}x faster than on {stock}")
    print()
    for row in rows:
        if row["outcome"] != "ok":
            print(f"{row['example']} on {row['backend']}: {row['outcome']}: {row['error']}")


if __name__ == "__main__":
    main()
