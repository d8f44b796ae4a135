"""``spikebridge info``: describe a run directory (model, backend, sizes, timings, versions)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``info`` command to ``spikebridge``'s subparsers."""
    p = subparsers.add_parser("info", help="describe a run directory")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--json", action="store_true", help="print the whole meta.json")
    p.set_defaults(func=cmd_info)


def cmd_info(args: argparse.Namespace) -> int:
    """Print a summary of the run directory's meta.json (all of it with ``--json``); return 0."""
    from ..rundir import load

    results = load(args.run_dir)
    if args.json:
        print(json.dumps(results.meta, indent=2))
        return 0
    m = results.meta
    phases = [p["name"] for p in m["phases"]]
    print(f"{results.path}\n  model {m['model']} on {m['backend']}, seed {m['seed']}, {m['duration_ms']:g} ms in phases {phases}")
    print(f"  {m['cells']} cells, {m['synapses']} synapses; created {m['created']} on {m['host']['hostname']}")
    print("  timings: " + ", ".join(f"{k} {v:.2f}" for k, v in m["timings"].items()))
    print("  versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v))
    for cell, method in m["backend_info"].get("integration", {}).items():
        print(f"  integration {cell}: {method}")
    return 0
