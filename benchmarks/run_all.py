"""Run every benchmark script here, one after another as subprocesses, and write their output to RESULTS.md.

The known scripts run first, in this order (those that exist): nest_build.py, brian2_build.py,
scaling.py, integration_cost.py, weights_table.py, inference_speed.py, sweep_speedup.py; then any other ``*.py`` here (not this file, nor
names starting with ``_``). RESULTS.md records the date, host and load, and each script's command, exit
code, wall time and printed output. With ``--only``, the other scripts' sections of an existing report are kept
as they were, each with the date it ran. Benchmarks time the machine: run them on a quiet one.

Usage::

    python benchmarks/run_all.py                          # everything (tens of minutes)
    python benchmarks/run_all.py --only weights_table     # one (repeatable; with or without .py)
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = (
    "nest_build.py",
    "brian2_build.py",
    "scaling.py",
    "integration_cost.py",
    "weights_table.py",
    "inference_speed.py",
    "sweep_speedup.py",
)


@dataclass
class Outcome:
    """One script's run."""

    script: str
    command: list[str]
    returncode: int | None
    seconds: float
    output: str
    when: str


SECTION = re.compile(
    r"^## (?P<script>\S+)\n\n`(?P<command>[^`]*)`: exit code (?P<code>\S+), (?P<seconds>[\d.]+) s(?:, run (?P<when>[^\n]*))?\n\n"
    r"```text\n(?P<output>.*?)\n?```$",
    re.M | re.S,
)


def earlier(report_text: str) -> list[Outcome]:
    """The sections of an existing report, as outcomes (a section without its own date takes the report's)."""
    header = re.search(r"Written by `benchmarks/run_all.py` on (.+?) UTC", report_text)
    default = f"{header.group(1)} UTC" if header else "at an unknown date"
    found = []
    for m in SECTION.finditer(report_text):
        code = None if m["code"] == "timeout" else int(m["code"])
        found.append(Outcome(m["script"], m["command"].split(), code, float(m["seconds"]), m["output"], m["when"] or default))
    return found


def scripts(directory: Path) -> list[Path]:
    """The benchmark scripts of ``directory``: the known ones in their order, then the others by name."""
    known = [directory / name for name in ORDER if (directory / name).is_file()]
    others = sorted(
        p for p in directory.glob("*.py") if p.name not in ORDER and p.name != Path(__file__).name and not p.name.startswith("_")
    )
    return known + others


def run_one(script: Path, cwd: Path, timeout_s: float) -> Outcome:
    """Run ``script`` with this Python; stdout and stderr together, as printed."""
    command = [sys.executable, str(script)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout_s, check=False)
        code, output = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as err:
        partial = err.stdout.decode(errors="replace") if isinstance(err.stdout, bytes) else (err.stdout or "")
        code, output = None, partial + f"\n[run_all: stopped after {timeout_s:g} s]\n"
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    return Outcome(script.name, [Path(sys.executable).name, f"benchmarks/{script.name}"], code, time.perf_counter() - t0, output, when)


def report(outcomes: Sequence[Outcome], started: datetime, load: tuple[float, float, float]) -> str:
    """RESULTS.md: a header about the machine, a summary table, then each script's output."""
    lines = [
        "# Benchmark results",
        "",
        f"Written by `benchmarks/run_all.py` on {started:%Y-%m-%d %H:%M} UTC.",
        "",
        f"- host: {socket.gethostname()} ({platform.platform()})",
        f"- CPUs: {os.cpu_count()}; load average at start: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)",
        f"- Python {platform.python_version()} ({sys.executable})",
        "",
        "| script | exit code | wall time (s) |",
        "|---|---|---|",
    ]
    for o in outcomes:
        lines.append(f"| {o.script} | {'timeout' if o.returncode is None else o.returncode} | {o.seconds:.1f} |")
    for o in outcomes:
        code = "timeout" if o.returncode is None else o.returncode
        command = f"`{' '.join(o.command)}`: exit code {code}, {o.seconds:.1f} s, run {o.when}"
        lines += ["", f"## {o.script}", "", command, "", "```text", o.output.rstrip(), "```"]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="run only this script (repeatable), e.g. weights_table")
    parser.add_argument("--dir", type=Path, default=HERE, help="directory of the benchmark scripts (default: this one)")
    parser.add_argument("--output", type=Path, help="the report (default: DIR/RESULTS.md)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds allowed per script (default 3600)")
    args = parser.parse_args(argv)

    found = scripts(args.dir)
    if args.only:
        wanted = {name.removesuffix(".py") for name in args.only}
        unknown = sorted(wanted - {p.stem for p in found})
        if unknown:
            print(f"run_all: no benchmark {', '.join(unknown)} in {args.dir} (there: {', '.join(p.stem for p in found)})", file=sys.stderr)
            return 2
        found = [p for p in found if p.stem in wanted]
    started, load = datetime.now(UTC), os.getloadavg()
    outcomes = []
    for script in found:
        print(f"run_all: {script.name} ...", flush=True)
        outcome = run_one(script, args.dir.parent, args.timeout)
        print(f"run_all: {script.name}: exit code {outcome.returncode}, {outcome.seconds:.1f} s", flush=True)
        outcomes.append(outcome)
    failed = any(o.returncode != 0 for o in outcomes)
    output = args.output or args.dir / "RESULTS.md"
    if args.only and output.is_file():
        ran = {o.script for o in outcomes}
        kept = [o for o in earlier(output.read_text(encoding="utf-8")) if o.script not in ran]
        position = {p.name: k for k, p in enumerate(scripts(args.dir))}
        outcomes = sorted(kept + outcomes, key=lambda o: (position.get(o.script, len(position)), o.script))
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(report(outcomes, started, load), encoding="utf-8")
    os.replace(tmp, output)
    print(f"run_all: wrote {output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
