"""``spikebridge export-model SCRIPT.py``: the model file of a PyNN script's network (:mod:`spikebridge.pynn.export`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ModelError

EPILOG = """The script runs unchanged, on a stand-in for every simulator module it imports; nothing is simulated, and
run() only adds to the model's duration. Random values the script draws (RandomDistribution) are written as
distributions, drawn again from the model's seed: the model is the same network, not the same draw. What the schema
cannot express (views, assemblies, per-cell values, distance-dependent connectors, noise current sources, ...) is
named, and nothing is written. Arguments after the script's name are passed to it."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``export-model`` command to ``spikebridge``'s subparsers."""
    p = subparsers.add_parser(
        "export-model",
        help="write the model file (TOML) of a PyNN script's network",
        description="Run a PyNN script on a stand-in simulator module and write its network as a spikebridge model file.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("script", type=Path, metavar="SCRIPT.py", help="a PyNN script")
    p.add_argument("script_args", nargs=argparse.REMAINDER, metavar="ARGS", help="arguments for the script")
    p.add_argument("--out", type=Path, help="the model file to write (default: SCRIPT's name with .toml, here)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing model file")
    p.set_defaults(func=cmd_export_model)


def cmd_export_model(args: argparse.Namespace) -> int:
    """Export the script's network (:func:`spikebridge.pynn.export.export`), write it, say what it holds; return 0."""
    from ..pynn import export

    out = args.out or Path(f"{args.script.stem}.toml")
    if out.exists() and not args.overwrite:
        raise ModelError("", "exists already (--overwrite replaces it)", str(out))
    model, result = export.export(args.script, args.script_args)
    export.write(result.raw, out)
    cells = sum(p.size or 0 for p in model.populations.values())
    print(
        f"{out}: {len(model.populations)} populations ({cells} cells), {len(model.projections)} projections, "
        f"{len(model.stimuli)} current sources, {result.raw['simulation']['duration']:g} ms"
    )
    for note in result.notes:
        print(f"spikebridge: note: {note}")
    return 0
