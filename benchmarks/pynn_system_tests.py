"""PyNN 0.13's own system tests (the sdist's ``test/system/scenarios/``) run against stock ``pyNN.nest`` and
``pyNN.brian2`` and against spikebridge's drop-in modules, in one run, tabled side by side.

Every scenario runs on every module named, whether or not PyNN declares it for that simulator; the table says
which simulators PyNN declares each scenario for. Each module runs in its own pytest process (NEST's kernel and
Brian2's device are process-wide). The sdist is downloaded once into ``--cache`` with
``pip download --no-binary :all: --no-deps PyNN==0.13.0``.

Usage::

    python benchmarks/pynn_system_tests.py                                 # the five modules
    python benchmarks/pynn_system_tests.py --modules pyNN.nest spikebridge.pynn.nest -k connectors
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd

VERSION = "0.13.0"
MODULES = (
    "spikebridge.pynn.nest",
    "spikebridge.pynn.brian2",
    "spikebridge.pynn.brian2_cpp",
    "pyNN.nest",
    "pyNN.brian2",
)
CACHE = Path.home() / ".cache" / "spikebridge" / "pynn-sdist"

# Replaces the scenarios' fixtures.py: each scenario is parametrized on the module under test (one per process),
# and the simulators PyNN declares it for are kept beside it.
FIXTURES = """
import importlib, os
import pytest

DECLARED = {}


class LazySimulator:
    def __init__(self, name):
        self._name = name

    @property
    def __name__(self):
        return self._name

    def __str__(self):
        return self._name

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._name), attr)


def run_with_simulators(*sim_names):
    module = os.environ["PYNN_SYSTEM_MODULE"]

    def mark(func):
        DECLARED[f"{func.__module__.rsplit('.', 1)[-1]}::{func.__name__}"] = sim_names
        return pytest.mark.parametrize("sim", [pytest.param(LazySimulator(module), id=module)])(func)

    return mark
"""

CONFTEST = """
import json, os
import pytest

OUTCOMES = {}


def pytest_runtest_logreport(report):
    key = report.nodeid.split("/")[-1].split("[")[0].replace(".py", "")
    if report.when == "call" or report.outcome != "passed":
        reason = ""
        if report.outcome != "passed":
            text = report.longreprtext.strip().splitlines()
            reason = text[-1] if text else ""
        OUTCOMES[key] = {"outcome": report.outcome, "reason": reason[:300], "seconds": report.duration}


def pytest_sessionfinish(session):
    from scenarios.fixtures import DECLARED
    with open(os.environ["PYNN_SYSTEM_REPORT"], "w") as f:
        json.dump({"outcomes": OUTCOMES, "declared": DECLARED}, f)
"""


def sdist(cache: Path) -> Path:
    """The unpacked PyNN sdist, downloaded on first use."""
    root = cache / f"pynn-{VERSION}"
    if not (root / "test" / "system" / "scenarios").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", f"PyNN=={VERSION}", "-d", str(cache)],
            check=True,
            capture_output=True,
        )
        with tarfile.open(cache / f"pynn-{VERSION}.tar.gz") as tar:
            tar.extractall(cache, filter="data")
    return root


def suite(root: Path, into: Path) -> Path:
    """A copy of the scenarios with the fixtures above."""
    scenarios = into / "scenarios"
    shutil.copytree(root / "test" / "system" / "scenarios", scenarios)
    (scenarios / "fixtures.py").write_text(FIXTURES)
    (into / "conftest.py").write_text(CONFTEST)
    return into


def run_module(module: str, where: Path, select: str | None, timeout: float) -> dict:
    """Run every scenario on ``module`` in a fresh pytest process; outcomes, declarations and wall time."""
    report = where / f"{module}.json"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "scenarios"]
    if select:
        command += ["-k", select]
    env = {**__import__("os").environ, "PYNN_SYSTEM_MODULE": module, "PYNN_SYSTEM_REPORT": str(report), "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    try:
        subprocess.run(command, cwd=where, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    seconds = time.perf_counter() - start
    data = json.loads(report.read_text()) if report.exists() else {"outcomes": {}, "declared": {}}
    return data | {"seconds": seconds}


def table(results: dict[str, dict]) -> pd.DataFrame:
    """One row per scenario, one column per module (passed / failed / skipped), and PyNN's declarations."""
    declared: dict[str, list[str]] = {}
    for data in results.values():
        declared |= data["declared"]
    rows = []
    for scenario in sorted(declared):
        row = {"scenario": scenario, "declared": ",".join(s for s in declared[scenario] if s in ("nest", "brian2"))}
        for module, data in results.items():
            # pytest collects test_* functions only: PyNN registers a few scenarios it never runs
            row[module] = data["outcomes"].get(scenario, {}).get("outcome", "not collected")
        rows.append(row)
    return pd.DataFrame(rows).set_index("scenario")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", nargs="+", default=list(MODULES))
    parser.add_argument("-k", dest="select", help="pytest -k expression")
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per module")
    parser.add_argument("--json", type=Path, help="write every outcome and reason here")
    args = parser.parse_args()

    root = sdist(args.cache)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="pynn-system-") as tmp:
        where = suite(root, Path(tmp))
        for module in args.modules:
            results[module] = run_module(module, where, args.select, args.timeout)
            counts = Counter(o["outcome"] for o in results[module]["outcomes"].values())
            print(f"{module}: {dict(counts)} in {results[module]['seconds']:.0f} s", flush=True)
    frame = table(results)
    print()
    print(f"PyNN {VERSION} system scenarios, every scenario on every module (declared: PyNN's own list)")
    summary = pd.DataFrame({m: Counter(frame[m]) for m in results}).fillna(0).astype(int)
    summary.loc["wall s"] = [round(results[m]["seconds"]) for m in results]
    print(summary.to_string())
    print()
    for backend in ("nest", "brian2"):
        ours = [m for m in results if m.startswith("spikebridge") and backend in m]
        stock = f"pyNN.{backend}"
        if stock not in results:
            continue
        passed = frame.index[frame[stock] == "passed"]
        for m in ours:
            missing = [s for s in passed if frame.loc[s, m] != "passed"]
            print(f"{stock} passes {len(passed)}; of these {m} fails or skips {len(missing)}: {missing}")
    print()
    print(frame.to_string())
    print()
    for module, data in results.items():
        for scenario, o in sorted(data["outcomes"].items()):
            if o["outcome"] != "passed":
                print(f"{module} {scenario}: {o['outcome']}: {o['reason']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
