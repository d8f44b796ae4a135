"""``spikebridge plot weights``: figures of a run directory's weights (PNG and PDF in RUN_DIR/figures)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .args import comma_list


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``plot`` command and its ``weights`` subcommand to ``spikebridge``'s subparsers."""
    p = subparsers.add_parser("plot", help="figures of a run directory (PNG and PDF in RUN_DIR/figures)")
    what = p.add_subparsers(dest="what", required=True)
    w = what.add_parser(
        "weights",
        help="weight matrices, layered weight histograms, or weight evolution",
        description="Weight figures of a run directory. --kind hist also pools several runs (trials, e.g. seeds) "
        "into one figure; a selectivity workflow directory stands for its trained network, with its untrained "
        "one as the pre-training outline.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    w.add_argument("run_dir", type=Path, nargs="+", help="run directories (several: --kind hist only, pooled)")
    w.add_argument("--kind", choices=["matrix", "hist", "evolution"], default="matrix")
    w.add_argument("--exc", help="excitatory population for --kind matrix (default: guessed from the names)")
    w.add_argument("--inh", help="inhibitory population for --kind matrix")
    w.add_argument("--bins", type=int, default=80, help="histogram bins for --kind hist")
    w.add_argument("--before", type=Path, nargs="+", default=[], help="runs whose first snapshot is drawn as the pre-training outline")
    w.add_argument("--normalise", action="store_true", help="weights as fractions of their rule's w_max (--kind hist)")
    w.add_argument("--ylim", type=numbers, help="upper y limit of each row of --kind hist, e.g. 4,8,16,21")
    w.add_argument("--out", type=Path, help="figure path without suffix (default: RUN_DIR/figures/weights_KIND)")
    w.set_defaults(func=cmd_plot_weights)


EPILOG = """examples:
  spikebridge plot weights runs/coba --kind matrix
  spikebridge plot weights runs/binding_s1 runs/binding_s2 runs/binding_s3 --kind hist --normalise --out fig/weights
      (selectivity workflow directories: trained weights filled, untrained outlined, trials pooled)"""

numbers = comma_list(float, "comma-separated numbers")


def resolve(paths: list[Path], before: list[Path], outlines: bool = True) -> tuple[list[Path], list[Path]]:
    """Run directories to draw and to outline: a selectivity workflow directory (``train/`` and ``test/``) stands for
    its trained test run at noise 0, and adds its untrained one to the outlines unless ``before`` names runs or
    ``outlines`` is off.

    Parameters
    ----------
    paths
        Run or workflow directories.
    before
        Run directories given with ``--before``.
    outlines
        Whether a workflow directory adds its untrained run to the outlines.

    Returns
    -------
    tuple
        The run directories drawn and those outlined.

    Raises
    ------
    SpikebridgeError
        A workflow directory that has not been tested at noise 0 (in the state needed).
    """
    from ..errors import SpikebridgeError

    runs, outline_runs = [], list(before)
    for path in paths:
        if not (path / "train").is_dir():
            runs.append(path)
            continue
        tested = {state: path / "test" / state / "noise_0" / "rep_00" for state in ("trained", "untrained")}
        wanted = ["trained", "untrained"] if outlines and not before else ["trained"]
        missing = [state for state in wanted if not tested[state].is_dir()]
        if missing:
            raise SpikebridgeError(
                f"{path}: a selectivity workflow without a {' or '.join(missing)} test at noise 0 ({tested[missing[0]]})"
            )
        runs.append(tested["trained"])
        if "untrained" in wanted:
            outline_runs.append(tested["untrained"])
    return runs, outline_runs


def cmd_plot_weights(args: argparse.Namespace) -> int:
    """Draw the figures, list them in the run directory's outputs, print their paths; return 0."""
    from ..errors import SpikebridgeError
    from ..plotting.run_weights import plot_pooled_hist, plot_run_weights
    from ..rundir import load
    from ..rundir.outputs import register as register_outputs

    pooled = len(args.run_dir) > 1 or args.before or args.normalise or args.ylim or args.out
    runs, outlines = resolve(args.run_dir, args.before, outlines=args.kind == "hist")
    if not pooled and not outlines:
        paths = plot_run_weights(load(runs[0]), args.kind, exc=args.exc, inh=args.inh, bins=args.bins)
        register_outputs(runs[0], paths)
    elif args.kind != "hist":
        raise SpikebridgeError("several runs, --before, --normalise, --ylim and --out go with --kind hist")
    else:
        out = args.out or runs[0] / "figures" / "weights_hist"
        paths = plot_pooled_hist(
            [load(p) for p in runs], [load(p) for p in outlines], out, normalise=args.normalise, bins=args.bins, row_ylim=args.ylim
        )
        if args.out is None:
            register_outputs(runs[0], paths)
    for path in paths:
        print(path)
    return 0
