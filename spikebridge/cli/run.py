"""``spikebridge run``: simulate a model on one backend and write a run directory."""

from __future__ import annotations

import argparse
from contextlib import nullcontext
from pathlib import Path

from .args import add_backend, add_model, add_out, add_overrides, add_quiet, add_seed, add_threads, model_overrides


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``run`` command to ``spikebridge``'s subparsers."""
    p = subparsers.add_parser("run", help="simulate a model and write a run directory")
    add_model(p)
    add_backend(p, help="backend name (default: the model's simulation.backend), e.g. nest")
    add_overrides(p, help="override a model field, e.g. simulation.duration=500")
    add_seed(p)
    add_out(p, help="run directory to create (default: runs/MODEL/BACKEND_seedN_TIME)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run directory (atomically)")
    add_threads(p, help="simulator threads")
    p.add_argument("--no-figure", action="store_true", help="skip the summary figure")
    add_quiet(p)
    p.add_argument(
        "--restore", type=Path, metavar="RUN_DIR", help="start from the final weights and delays of a run (any backend)"
    )
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the model; print the run directory, the sizes and timings, and the firing statistics of the last phase.

    Parameters
    ----------
    args
        The parsed ``run`` arguments.

    Returns
    -------
    int
        0 (errors raise and are mapped to their exit codes by :func:`spikebridge.cli.dispatch.execute`).
    """
    from ..workflows.figure_process import FigureProcess

    # started first, so that it has matplotlib ready by the time the simulation ends
    with FigureProcess() if getattr(args, "own_process", False) and not args.no_figure else nullcontext() as side:
        from ..analysis.activity import firing_stats
        from ..models.io import load_model
        from ..workflows.run import run

        model = load_model(args.model, model_overrides(args))
        options = {}
        if args.threads is not None:
            options["threads"] = args.threads
        results = run(
            model,
            backend=args.backend,
            out=args.out,
            options=options,
            overwrite=args.overwrite,
            progress=not args.quiet,
            figure=side if side is not None else not args.no_figure,
            restore=args.restore,
        )
    t = results.meta["timings"]
    print(f"run directory: {results.path}")
    print(
        f"{results.meta['cells']} cells, {results.meta['synapses']} synapses on {results.meta['backend']}: "
        f"build {t['build_s']:.2f} s, run {t['run_s']:.2f} s, write {t['write_s']:.2f} s"
        + (f", figure {t['figure_s']:.2f} s" if "figure_s" in t else "")
    )
    stats = firing_stats(results, results.phases[-1])
    if not stats.empty:
        print(stats.round(3).to_string())
    if not args.no_figure:
        print(f"figure: {results.path / 'figures' / 'summary.png'}")
    return 0
