"""``spikebridge sweep``: run the Cartesian product of parameter grids as trials on Dask distributed.

Also runs alone as ``python -m spikebridge.cli.sweep`` (:func:`main`), and :func:`add_parser` hooks it into another
program's command line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .args import add_backend, add_model, add_out, add_overrides, add_quiet, add_threads, require_at_least_one
from .dispatch import execute
from .exits import EXIT_FAILURE, EXIT_OK

EPILOG = """examples:
  spikebridge sweep stdp_bimodal --grid projections.input_post.synapse.timing.A_plus=0.005,0.02 \\
      --grid simulation.seed=1,2,3 --set simulation.duration=2000 --out experiments/stdp
  spikebridge sweep ei_weight_matrix --grid simulation.seed=1,2,3,4 --scheduler tcp://10.0.0.5:8786

Rerunning the same command resumes: complete trials are skipped, failed and interrupted ones run again.
Every --grid point's model and backend options are checked before Dask starts. Exit code 0 when every trial is
complete, 2 on bad input (nothing runs), 3 when some trials failed at run time (see docs/exit_codes.md)."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``sweep`` command's arguments."""
    add_model(p)
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="PATH=V1,V2",
        help="a swept model field and its values (YAML), e.g. simulation.seed=1,2,3; repeat for a Cartesian product; "
        "backend=nest,brian2 sweeps backends",
    )
    add_overrides(p, help="override a model field in every trial")
    add_backend(p, help="backend of every trial (default: the model's simulation.backend)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="use the Dask scheduler there (default: start a local cluster)")
    p.add_argument("--workers", type=int, help="worker processes of the local cluster, one trial each at a time (default 2)")
    add_threads(p, help="NEST threads per trial (default: the model's backend option, else 1)")
    add_out(p, metavar="EXP_DIR", help="experiment directory (default: experiments/MODEL_HASH, the same for the same command)")
    p.add_argument(
        "--isolate", action="store_true", help="run each trial in a fresh Python process (for simulators that crash or keep state)"
    )
    p.add_argument("--figures", action="store_true", help="draw each trial's summary figure")
    add_quiet(p)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add the ``sweep`` command to a program's subparsers; return its parser (:func:`register` without the return)."""
    p = subparsers.add_parser(
        "sweep",
        help="run a parameter grid (x seeds x backends) as trials on Dask distributed",
        description="Run the Cartesian product of --grid values, one run directory per trial, on a Dask cluster.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(p)
    p.set_defaults(func=cmd_sweep)
    return p


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sweep`` command to ``spikebridge``'s subparsers."""
    add_parser(subparsers)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the sweep; print the experiment directory and the failed trials.

    Every input error (a bad ``--grid``, a grid point whose model is invalid) is raised before Dask starts, so
    it exits 2 with one line. Exit code 3 if any trial failed at run time (a simulator or worker failure)."""
    from ..workflows.sweeps.engine import SweepPlan, check_plan, dask_client, local_threads, run_sweep
    from ..workflows.sweeps.errors import SweepError
    from ..workflows.sweeps.grid import Grid

    if args.scheduler and args.workers is not None:
        raise SweepError(f"--workers applies to the local cluster only; the scheduler at {args.scheduler} has its own workers")
    require_at_least_one([("--threads", args.threads), ("--workers", args.workers)], SweepError)
    plan = SweepPlan(
        model=args.model,
        grid=Grid.parse(args.grid),
        out=args.out,
        backend=args.backend,
        overrides=tuple(args.set),
        options={"threads": args.threads} if args.threads is not None else {},
        figure=args.figures,
        isolate=args.isolate,
    )
    check_plan(plan)
    with dask_client(args.scheduler, workers=args.workers or 2, threads=local_threads(plan)) as client:
        report = run_sweep(plan, client, progress=not args.quiet)
    failed = len(report.failed)
    print(f"experiment: {report.path}")
    print(f"{report.total} trials: {report.complete} complete ({report.already_complete} from before), {failed} failed")
    for trial_id, params, error in report.failed:
        print(f"  failed {trial_id} {params}: {error}")
    if failed:
        print("rerun the same command to retry the failed trials")
    return EXIT_OK if report.ok else EXIT_FAILURE


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m spikebridge.cli.sweep MODEL --grid ...``: the same as ``spikebridge sweep MODEL --grid ...``.

    Parameters
    ----------
    argv
        The arguments after ``sweep`` (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code (docs/exit_codes.md); argparse's errors and ``--help`` raise ``SystemExit``.
    """
    p = argparse.ArgumentParser(prog="spikebridge")  # the sweep command alone, with the same usage and errors
    register(p.add_subparsers(dest="command", required=True))
    return execute(p, ["sweep", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
