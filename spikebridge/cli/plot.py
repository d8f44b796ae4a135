"""``spikebridge plot weights``: figures of a run directory's weights (PNG and PDF in RUN_DIR/figures)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``plot`` command and its ``weights`` subcommand to ``spikebridge``'s subparsers."""
    p = subparsers.add_parser("plot", help="figures of a run directory (PNG and PDF in RUN_DIR/figures)")
    what = p.add_subparsers(dest="what", required=True)
    w = what.add_parser("weights", help="weight matrices, layered weight histograms, or weight evolution")
    w.add_argument("run_dir", type=Path)
    w.add_argument("--kind", choices=["matrix", "hist", "evolution"], default="matrix")
    w.add_argument("--exc", help="excitatory population for --kind matrix (default: guessed from the names)")
    w.add_argument("--inh", help="inhibitory population for --kind matrix")
    w.add_argument("--bins", type=int, default=80, help="histogram bins for --kind hist")
    w.set_defaults(func=cmd_plot_weights)


def cmd_plot_weights(args: argparse.Namespace) -> int:
    """Draw the figures, list them in the run directory's outputs, print their paths; return 0."""
    from ..plotting.run_weights import plot_run_weights
    from ..rundir import load
    from ..rundir.outputs import register as register_outputs

    paths = plot_run_weights(load(args.run_dir), args.kind, exc=args.exc, inh=args.inh, bins=args.bins)
    register_outputs(args.run_dir, paths)
    for path in paths:
        print(path)
    return 0
