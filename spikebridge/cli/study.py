"""``spikebridge study rules``: the learning-rule comparison on the digits task, rules x seeds x backends, on Dask."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SpikebridgeError
from .args import add_backends, add_out, add_quiet, names, require_at_least_one, seeds

if TYPE_CHECKING:
    import pandas as pd

EPILOG = """examples:
  spikebridge study rules --quick --out /tmp/study            # every rule, one seed, a few samples: outputs' shapes
  spikebridge study rules --quick --rules lds --backends nest,brian2 --out /tmp/q   # two seeds, judged across simulators
  spikebridge study rules --seeds 5 --backends brian2:cpp,nest --limit nest:2 --workers 2 --out studies/rules
  spikebridge study rules --seeds 5 --backends brian2:cpp,nest --limit nest:2 --report --out studies/rules
  spikebridge study rules --epochs 5 --seeds 5 --backends brian2:cpp,nest --limit nest:2 --workers 2 --out studies/e5

Writes OUT/runs/RULE/BACKEND/seedN/ (a run directory 'run', the protocol, measures.json), OUT/curves.csv (one row
per rule, seed, backend and snapshot: test accuracy, mean absolute dendritic state of the hidden cells, angle of the hidden
update to backprop's), OUT/table.csv (per rule and backend: final accuracy mean and s.d. over seeds, dendritic state
at the end, angle over the last quarter of training), OUT/timings.csv (each network's wall time) and
OUT/figures/rule_study.png/.pdf. With two or more backends,
each rule's runs at equal seeds are judged as `spikebridge compare` judges runs (OUT/compare/RULE/report.md) and
the final test answers compared seed by seed (McNemar's exact test): OUT/compare.csv. A task whose measures
exist for the same settings is not run again: rerun the command to resume an interrupted study. A command
with a subset (--rules, --seeds) writes the tables for its subset; --report with the whole plan runs nothing
and writes them from every measure the folder holds. OUT/.gitignore
leaves the run directories out of git: a study kept in git goes on on another machine from its measures and
its judged comparisons (OUT/compare/RULE/rows.json, used while the runs they judged are the plan's)."""


def limits(text: str) -> dict[str, int]:
    """An argparse ``type`` for ``--limit``: ``BACKEND:N`` pairs, comma-separated (``nest:2``)."""
    out = {}
    for item in text.split(","):
        name, _, n = item.strip().rpartition(":")
        if not name or not n.isdigit() or int(n) < 1:
            raise argparse.ArgumentTypeError(f"expected BACKEND:N with N >= 1 (e.g. nest:2), got {item.strip()!r}")
        out[name] = int(n)
    return out


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``study`` command (subcommand ``rules``) to ``spikebridge``'s subparsers."""
    p = subparsers.add_parser("study", help="run a study: the learning-rule comparison on a task")
    sub = p.add_subparsers(dest="study", required=True, metavar="STUDY")
    r = sub.add_parser(
        "rules",
        help="learning rules compared on the digits task across seeds and simulators",
        description="Six networks on scikit-learn's 8x8 digits: backprop with Dale's law (a rate network), and spiking "
        "E/I networks learning by LDS, BTSP, supervised Hebb + weight normalisation, supervised BCM and supervised "
        "temporal-contrast Hebb (NESTML synapses onto a NESTML dendritic neuron).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("--rules", type=names, metavar="A,B", help="default: backprop and every spiking rule")
    r.add_argument("--seeds", type=seeds, default=5, help="a number of seeds (5: seeds 1-5) or a list (1,2,3); default 5")
    add_backends(r, help="spiking backends (default: the model format's default backend)")
    r.add_argument("--limit", type=limits, default={}, metavar="BACKEND:N,...", help="run a backend on its first N seeds only")
    r.add_argument("--workers", type=int, default=1, metavar="N", help="Dask worker processes (default 1: in this process)")
    r.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help="passes through the training images (default: the task's; with --quick, the quick task's); "
        "the gate's schedule goes on for every pass",
    )
    r.add_argument(
        "--quick", action="store_true", help="a few samples on a small network, one seed (two with two backends): check every output"
    )
    r.add_argument(
        "--report",
        action="store_true",
        help="run nothing: write the curves, table, figure and comparison from the measures OUT holds for this plan",
    )
    r.add_argument(
        "--diagrams", type=Path, metavar="CSV", help="a comparison.csv of `spikebridge rules --comparison` for the figure's top row"
    )
    add_out(r, help="default studies/rules", default=Path("studies/rules"), metavar="DIR")
    add_quiet(r)
    r.set_defaults(func=cmd_rules)


def cmd_rules(args: argparse.Namespace) -> int:
    """Run the study, write the curves, the table and the figure; print the table; return 0."""
    from tqdm.auto import tqdm

    from ..atomic import atomic_file
    from ..plotting.figures import save_figure
    from ..plotting.rule_study import study_figure
    from ..workflows.rule_study import study
    from ..workflows.rule_study.network import LABELS, RULES, TaskConfig

    rules = tuple(args.rules or (study.REFERENCE, *RULES))
    seed_list = study.seeds_from(args.seeds)
    from .. import backends

    require_at_least_one([("--epochs", args.epochs), ("--workers", args.workers)])
    plan = study.StudyPlan(
        rules=rules,
        seeds=seed_list,
        backends=tuple(args.backends or backends.exercised()[:1]),
        config=TaskConfig(),
        out=args.out,
        seed_limits=args.limit,
        workers=args.workers,
    )
    if args.quick:
        plan = study.quick(plan)
    if args.epochs is not None:
        plan = replace(plan, config=replace(plan.config, epochs=args.epochs))
    diagrams = _diagrams(args.diagrams) if args.diagrams is not None else None
    if args.out.exists() and not args.out.is_dir():
        raise SpikebridgeError(f"--out {args.out}: exists and is not a directory")
    try:
        study.check_plan(plan)
    except ValueError as err:
        raise SpikebridgeError(str(err)) from None
    tasks = plan.tasks()
    done = [t for t in tasks if study._done(plan, t) is not None]
    if args.report:
        if not done:
            raise SpikebridgeError(
                f"--out {args.out}: holds no measures for this plan's {len(tasks)} networks (--report runs nothing; "
                "were they run with other settings, rules, seeds or backends?)"
            )
        if not args.quiet:
            print(f"{len(done)} of {len(tasks)} networks have measures in {args.out}; nothing is run", file=sys.stderr)
        curves = study.curves(plan)
    else:
        bar = tqdm(total=len(tasks), desc="rule study", unit="network", disable=args.quiet, file=sys.stderr)
        bar.update(len(done))

        def progress(task: study.Task, result: dict[str, object]) -> None:
            bar.update(1)
            bar.set_postfix_str(f"{task.rule} {task.backend} seed {task.seed}")

        curves = study.run_study(plan, progress)
        bar.close()
    table = study.summary(curves)
    times = study.timings(plan)
    for name, frame in (("curves.csv", curves), ("table.csv", table), (study.TIMINGS, times)):
        with atomic_file(args.out / name) as fh:
            fh.write(frame.to_csv(index=False).encode())
    backend = plan.backends[0]
    save_figure(study_figure(curves, LABELS, diagrams, backend), args.out / "figures" / "rule_study", close=True)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(_wall_time(times, args.out / study.TIMINGS))
    if len(set(plan.backends)) > 1:
        from ..workflows.rule_study import agreement

        across = agreement.compare_backends(plan)
        with atomic_file(args.out / "compare.csv") as fh:
            fh.write(across.to_csv(index=False).encode())
        if across.empty and any(r != study.REFERENCE for r in plan.rules):
            print(f"across simulators: no spiking rule has two or more seeds on every backend of {', '.join(plan.backends)}")
        elif not across.empty:
            shown = across.drop(columns=["report", "reference"])
            print(f"\nacross simulators (reference {plan.backends[0]}; reports in {args.out / 'compare'}):")
            print(shown.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return 0


def _wall_time(times: pd.DataFrame, path: Path) -> str:
    """One line: the networks' own times summed (what one worker would take), and how many were read from the run's
    phases only or are not known."""
    known = times.dropna(subset=["wall_s"])
    total = known["wall_s"].sum()
    line = f"wall time: {len(known)} networks, {total / 3600:.2f} h summed over networks ({total:.0f} s; each beside whatever else ran)"
    partial = int((known["source"] == "run").sum())
    if partial:
        line += f"; {partial} of them the simulation phases only (run/meta.json)"
    if len(known) < len(times):
        line += f"; {len(times) - len(known)} not known (no wall_s and no run directory)"
    return f"{line}: {path}"


DIAGRAM_COLUMNS = ("rule", "backend", "curve", "x", "dw", "reference", "analytic", "title", "xlabel")


def _diagrams(path: Path) -> pd.DataFrame:
    """The ``--diagrams`` table, read and checked before the study runs (SpikebridgeError naming what is wrong)."""
    import pandas as pd

    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise SpikebridgeError(f"--diagrams {path}: cannot read it as CSV: {err}") from None
    missing = [c for c in DIAGRAM_COLUMNS if c not in table.columns]
    if missing or table.empty:
        what = f"lacks the column(s) {', '.join(missing)}" if missing else "has no rows"
        raise SpikebridgeError(f"--diagrams {path}: {what}; expected the comparison.csv of `spikebridge rules --comparison`")
    return table
