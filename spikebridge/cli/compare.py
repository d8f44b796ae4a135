"""``spikebridge compare``: one model on several backends and seeds, judged by a paired permutation test."""

from __future__ import annotations

import argparse
from pathlib import Path

from .args import add_backends, add_model, add_out, add_overrides, add_quiet, add_threads, seeds
from .dispatch import silence_stdout
from .exits import EXIT_OK, EXIT_VERDICT

EPILOG = """examples:
  spikebridge compare vogels_abbott_coba --backends nest,brian2:cpp --seeds 10
  spikebridge compare stdp_bimodal --backends nest,brian2 --seeds 6 --set simulation.duration=20000
  spikebridge compare vogels_abbott_coba --backends nest,brian2 --perturb brian2:populations.exc.parameters.tau_syn_E=6

The first backend is the reference. Complete run directories under OUT/runs/ made from the same model and backend
are reused. Each measure is judged by a paired permutation test whose false-FAIL rate is --alpha (docs/validation.md);
at alpha 0.05 it needs 6 seeds for one measure, 8 for six, 9 for eight. Writes OUT/report.md (and report.html), OUT/figures/,
scores.csv, verdicts.csv, exact.csv, angles.csv, lifetimes.csv and comparison.json. Exit code 0 when the verdict
passes (at least one measure passed, none failed), 1 when it fails or is inconclusive (no measure had data to judge,
e.g. nothing spiked, or too few seeds), 2 on bad input, 3 when a simulator or spikebridge itself failed (see
docs/exit_codes.md)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``compare`` command to ``spikebridge``'s subparsers."""
    p = subparsers.add_parser(
        "compare",
        help="run a model on several backends and seeds; judge the differences with a calibrated permutation test",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model(p)
    # the default is resolved in cmd_compare, from the installed backends (default_backends)
    add_backends(p, help="reference first (default nest,brian2)", pair=True)
    p.add_argument(
        "--seeds", type=seeds, default=10, metavar="N|S1,S2", help="N seeds counting up from the model's, or a list (default 10)"
    )
    p.add_argument(
        "--alpha", type=_alpha, default=0.05, metavar="A", help="false-FAIL rate of each pair of backends, 0 < A < 1 (default 0.05)"
    )
    add_overrides(p, help="override a model field on every backend")
    p.add_argument(
        "--perturb",
        action="append",
        default=[],
        metavar="BACKEND:PATH=VALUE",
        help="override a model field on one backend only (a deliberately broken variant)",
    )
    p.add_argument("--phase", help="phase to measure (default: the last)")
    add_threads(p, help="simulator threads per run")
    add_out(p, help="comparison directory (default: comparisons/MODEL)")
    add_quiet(p)
    p.set_defaults(func=cmd_compare)


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return value


def default_backends() -> list[str]:
    """The backends compared when ``--backends`` is not given: every installed backend in its default variant.

    Returns
    -------
    list[str]
        In the order of :func:`spikebridge.backends.exercised`, a model's default backend first (the reference);
        today ``["nest", "brian2"]``.
    """
    from .. import backends

    return [name for name in backends.exercised() if backends.split_name(name)[1] is None]


def _perturbations(items: list[str], backends: list[str]) -> dict[str, list[str]]:
    from ..workflows.compare.workflow import CompareError

    out: dict[str, list[str]] = {}
    for item in items:
        # backend names may contain ':' (brian2:cpp): take the longest listed backend that prefixes the item
        match = max((b for b in backends if item.startswith(f"{b}:")), key=len, default=None)
        if match is None:
            raise CompareError(f"--perturb {item!r}: expected BACKEND:PATH=VALUE with BACKEND one of {', '.join(backends)}")
        out.setdefault(match, []).append(item[len(match) + 1 :])
    return out


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare, write the report, print the verdict table.

    Returns
    -------
    int
        0 when the verdict passes, 1 when it fails or is inconclusive. The exit code is decided before anything
        is printed, so a reader that stops early (``| head``) cannot change it.
    """
    from ..analysis.validation.baseline import PASS
    from ..models.io import load_model
    from ..workflows.compare.report import write_report
    from ..workflows.compare.workflow import CompareError, compare

    model = load_model(args.model, args.set)
    names = args.backends or default_backends()
    perturb = _perturbations(args.perturb, names)
    for overrides in perturb.values():  # fail on a bad perturbation before anything runs
        load_model(args.model, [*args.set, *overrides])
    options = {b: {"threads": args.threads} for b in names} if args.threads else None
    out = args.out or Path("comparisons") / model.name
    if out.exists() and not out.is_dir():
        raise CompareError(f"--out {out}: exists and is not a directory")
    cmp = compare(
        model, names, args.seeds, out, perturb=perturb, options=options, phase=args.phase, progress=not args.quiet, alpha=args.alpha
    )
    report = write_report(cmp)
    code = EXIT_OK if cmp.verdict == PASS else EXIT_VERDICT
    try:
        if not cmp.verdicts.empty:
            shown = cmp.verdicts.reindex(columns=["other", "target", "measure", "seeds", "z", "p", "verdict", "reason"]).fillna("")
            print(shown.to_string(index=False))
        if cmp.too_few_seeds:
            print(
                f"warning: {len(cmp.seeds)} seeds are too few: the measures judged need {cmp.needed_seeds} seeds "
                f"to be able to fail at alpha {cmp.alpha:g}, so the verdict is at best inconclusive"
            )
        for line in cmp.regime_notes():
            print(f"mixed regimes: {line}")
        print(f"verdict: {cmp.verdict.upper()}  (report: {report})", flush=True)
    except BrokenPipeError:  # the reader stopped early (| head): the verdict still decides the exit code
        silence_stdout()
    return code
