"""``spikebridge selectivity``: train a layered network on shapes, test it before and after training (with
pixel noise), score each neuron's selectivity and draw the figures."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .args import add_backend, add_model, add_out, add_overrides, add_quiet, add_threads, comma_list, require_at_least_one

EPILOG = """examples:
  spikebridge selectivity --backend nest --out runs/fs
  spikebridge selectivity --backend brian2 --noise 0,20 --epochs 8 --reps 3 --out runs/fs_brian2
  spikebridge selectivity binding --backend brian2:cpp --shapes 8 --variants 2 --present 100 --gap 0 \\
      --epochs 60 --epochs-per-run 10 --reps 10 --seeds 20,21,22 --out runs/binding   # the seed's N4P2 protocol
  spikebridge selectivity binding --backend nest ... --seeds 20,21,22 --out runs/binding_nest \\
      --compare-with runs/binding         # the same, on NEST, judged against brian2:cpp's trained networks
  spikebridge selectivity --dataset my_images/ --out runs/fs_mine      # a folder of PNGs + annotations.csv

Rerunning the same command reuses every run that is already complete."""


numbers = comma_list(float, "comma-separated numbers")
seeds = comma_list(int, "comma-separated integer seeds")
"""An argparse ``type``: comma-separated numbers (``--noise 0,60``)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``selectivity`` command to ``spikebridge``'s subparsers."""
    p = subparsers.add_parser(
        "selectivity",
        help="feature-selectivity workflow: train on shapes, test pre/post training under noise, figures",
        description="Train, test (untrained and trained, each noise amplitude), selectivity and traceback figures.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model(p, help="model file or bundled model (default feature_selectivity)", nargs="?", default="feature_selectivity")
    add_overrides(p)
    add_backend(p, help="backend (default: the model's)")
    add_threads(p, help="simulator threads of every run (NEST threads, OpenMP threads of brian2:cpp)")
    add_out(p, help="workflow directory", default=Path("runs/feature_selectivity"))
    p.add_argument("--dataset", type=Path, help="a folder of PNGs and annotations.csv (default: 4 synthetic shapes x 2 variants)")
    p.add_argument("--shapes", type=int, default=4, help="synthetic shapes (N)")
    p.add_argument("--variants", type=int, default=2, help="boundary-contour variants per shape (P)")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--epochs-per-run", type=int, default=1, help="training epochs simulated in one run (one checkpoint)")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--present", type=float, default=200.0, help="ms per image")
    p.add_argument("--gap", type=float, default=50.0, help="ms of silence after each image")
    p.add_argument("--image-size", type=int, help="side of the input grid in pixels (default: the model's L0 shape)")
    p.add_argument(
        "--encoding",
        choices=("step_edge", "normalised"),
        default="step_edge",
        help="image to rates: step_edge (60 Hz for an ideal edge, the default) or normalised (rates with s.d. 6 Hz per "
        "image, the feature-binding study's encoder)",
    )
    p.add_argument("--noise", type=numbers, default=[0.0, 20.0], help="Gaussian pixel-noise amplitudes (grey levels), e.g. 0,20")
    p.add_argument("--feature", default="left", help="the image annotation scored (default left: the convex/concave left contour element)")
    p.add_argument("--violin", action="store_true", help="draw the figure neuron's rates as violins")
    p.add_argument("--k", type=int, default=10, help="top-k neurons whose mean selectivity is reported")
    p.add_argument("--workers", type=int, default=1, help="test repetitions run in parallel on a local Dask cluster")
    p.add_argument(
        "--seeds", type=seeds, help="run the workflow once per model seed into OUT/seed_N, then summarise over seeds, e.g. 20,21,22"
    )
    p.add_argument("--figures", type=Path, help="figure folder (default OUT/figures)")
    p.add_argument(
        "--compare-with",
        type=Path,
        metavar="DIR",
        help="with --seeds: judge this workflow's trained networks against another backend's workflow directory made "
        "with the same model, protocol and seeds (the reference), as spikebridge compare does; report in OUT/compare",
    )
    add_quiet(p, help=None)
    p.set_defaults(func=cmd_selectivity)


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse, before anything is built or simulated, arguments the workflow would trip over later (exit 2)."""
    import math

    from .. import backends
    from ..errors import SpikebridgeError

    if not args.noise or not all(math.isfinite(x) and x >= 0 for x in args.noise):
        raise SpikebridgeError(f"--noise: expected finite amplitudes >= 0, e.g. 0,60, got {args.noise}")
    for flag, value in (("--present", args.present), ("--gap", args.gap)):
        if not math.isfinite(value):
            raise SpikebridgeError(f"{flag} must be a finite number of ms, got {value}")
    require_at_least_one([("--k", args.k), ("--workers", args.workers), ("--threads", args.threads)])
    for flag, path in (("--out", args.out), ("--figures", args.figures)):
        if path is not None and path.exists() and not path.is_dir():
            raise SpikebridgeError(f"{flag} {path}: exists and is not a directory")
    if args.compare_with is not None:
        if not args.seeds:
            raise SpikebridgeError("--compare-with needs --seeds (both workflows made with the same --seeds)")
        if not args.compare_with.is_dir():
            raise SpikebridgeError(f"--compare-with {args.compare_with}: not a directory (expected a workflow made with --seeds)")
    if args.backend is not None:
        backends.check(args.backend)  # an unknown, uninstalled or unusable backend: BackendError, bad input


def cmd_selectivity(args: argparse.Namespace) -> int:
    """Check the arguments, run (or resume) the workflow, print its summary; return 0."""
    from ..stimuli import GaborEncoder, ImageSet, NormalisedGaborEncoder, boundary_contour_shapes
    from ..workflows.selectivity import Protocol, Workflow
    from ..workflows.selectivity.config import input_size
    from ..workflows.selectivity.pipeline import describe, run_pipeline

    check_arguments(args)
    dataset = ImageSet.from_folder(args.dataset) if args.dataset else boundary_contour_shapes(args.shapes, args.variants)
    image_size = args.image_size or input_size(args.model, tuple(args.set))
    protocol = Protocol(
        present_ms=args.present,
        gap_ms=args.gap,
        epochs=args.epochs,
        reps=args.reps,
        image_size=image_size,
        epochs_per_run=args.epochs_per_run,
    )
    runs = [(args.out, tuple(args.set))]
    if args.seeds:
        args.seeds = list(dict.fromkeys(args.seeds))  # a seed named twice runs once
        runs = [(args.out / f"seed_{s}", (*args.set, f"simulation.seed={s}")) for s in args.seeds]
    summaries = []
    for out, overrides in runs:
        wf = Workflow(
            out,
            args.model,
            overrides,
            dataset=dataset,
            encoder=NormalisedGaborEncoder() if args.encoding == "normalised" else GaborEncoder(),
            protocol=protocol,
            backend=args.backend,
            options={} if args.threads is None else {"threads": args.threads},
            workers=args.workers,
            progress=not args.quiet,
        )
        figures = args.figures / out.name if args.figures and args.seeds else args.figures or out / "figures"
        summaries.append(run_pipeline(wf, args.noise, args.k, figures, feature=args.feature, violin=args.violin))
        print(describe(summaries[-1]))
        print(f"workflow directory: {out}")
    if args.seeds:
        write_seeds(args, summaries)
    if args.compare_with is not None:
        from ..workflows.selectivity.compare import compare_workflows

        cmp = compare_workflows(args.compare_with, args.out, args.seeds, args.out / "compare")
        pair = " against ".join(reversed(cmp.backends))
        print(f"{pair}, trained networks at seeds {cmp.seeds}: {cmp.verdict} ({args.out / 'compare' / 'report.md'})")
    return 0


def write_seeds(args: argparse.Namespace, summaries: list[dict[str, Any]]) -> None:
    """Across seeds: print and write ``OUT/summary_seeds.json``, and draw every seed's trained weights pooled over
    the untrained ones (normalised to w_max where every plastic projection has one).

    Parameters
    ----------
    args
        The parsed arguments (``out``, ``seeds``, ``figures``).
    summaries
        Each seed's summary (:func:`~spikebridge.workflows.selectivity.pipeline.run_pipeline`).
    """
    import json

    from ..analysis.weights import projection_infos
    from ..plotting.run_weights import plastic_projections, plot_pooled_hist
    from ..rundir import atomic_file, load
    from ..workflows.selectivity.pipeline import aggregate, describe_seeds
    from .plot import resolve

    agg = aggregate(summaries)
    with atomic_file(args.out / "summary_seeds.json") as fh:
        fh.write(json.dumps(agg, indent=2).encode())
    print(describe_seeds(agg))
    trained, untrained = resolve([args.out / f"seed_{s}" for s in args.seeds], [])
    runs = [load(p) for p in trained]
    infos = projection_infos(runs[0])
    normalise = all(infos[n].w_max for n in plastic_projections(runs[0]))
    figures = args.figures or args.out / "figures"
    paths = plot_pooled_hist(runs, [load(p) for p in untrained], figures / "weights_hist", normalise=normalise)
    print(f"weight histograms over seeds: {paths[0]}")
