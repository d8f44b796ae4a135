"""``spikebridge rules``: measure every STDP weight dependence by three protocols on each backend; draw the rule diagram."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import SpikebridgeError
from .args import add_backends, add_out, add_quiet, names

EPILOG = """examples:
  spikebridge rules                                            # every rule on nest, brian2, brian2:cpp
  spikebridge rules --backends nest,brian2 --rules additive,multiplicative --out validation/rules
  spikebridge rules --rules triplet_stdp,saturating_stdp --out validation/nestml_rules   # bundled NESTML rules
  spikebridge rules --comparison --out validation/comparison    # the learning-rule comparison's row of five

Writes DIR/rules.csv (one row per backend, rule, protocol, curve and x; weights in uS, times in ms, rates in Hz)
and DIR/figures/rule_diagram.png/.pdf. Bundled NESTML rules are measured by the pairing-frequency protocol (60 pairings
at Δt = ±10 ms, 1-50 Hz): DIR/frequency.csv and DIR/figures/frequency_diagram.png/.pdf. The rate and plateau
rules (delta_rule, btsp, hebb_normalised, bcm, temporal_contrast_hebb) are measured against the variable each depends
on (error, input time to a plateau, post rate, post rate with θ moving, change of post rate): DIR/comparison.csv and
DIR/figures/comparison_row.png/.pdf."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``rules`` command to ``spikebridge``'s subparsers."""
    p = subparsers.add_parser(
        "rules",
        help="measure the STDP rules (timing, rate, weight protocols) on each backend and draw the rule diagram",
        description="Δw against spike timing (60 pairings at 1 Hz), postsynaptic rate (Poisson, 1-50 Hz) and the "
        "current weight, for every weight dependence, on each backend, with the analytic curves.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # defaults resolved in cmd_rules: importing the validation code here would slow every spikebridge command
    add_backends(p, help="default nest,brian2,brian2:cpp")
    p.add_argument(
        "--rules",
        type=names,
        metavar="A,B",
        help="weight dependences (default additive,multiplicative,additive_potentiation_multiplicative_depression,gutig) "
        "or bundled NESTML rules (triplet_stdp, saturating_stdp, delta_rule, btsp, hebb_normalised, bcm, temporal_contrast_hebb)",
    )
    p.add_argument(
        "--comparison",
        action="store_true",
        help="the learning-rule comparison's row: delta_rule, btsp, hebb_normalised, bcm, temporal_contrast_hebb",
    )
    add_out(p, help="default validation/rules", default=Path("validation/rules"), metavar="DIR")
    add_quiet(p)
    p.set_defaults(func=cmd_rules)


def cmd_rules(args: argparse.Namespace) -> int:
    """Measure, write ``rules.csv`` atomically, draw the figure; print the largest deviations per backend; return 0."""
    import matplotlib.pyplot as plt
    from tqdm.auto import tqdm

    from ..models.nestml import bundled
    from ..plotting.figures import save_figure
    from ..plotting.rules import rule_diagram
    from ..rundir import atomic_file
    from ..workflows.diagrams import ROW
    from ..workflows.rules import BACKENDS, PROTOCOLS, RULES, check_names, deviations, measure_all

    if args.comparison and args.rules:
        raise SpikebridgeError("--comparison names its own rules: give --rules or --comparison, not both")
    backends = args.backends or list(BACKENDS)
    rules = list(ROW) if args.comparison else args.rules or list(RULES)
    check_names(rules, backends, bundled())
    if args.out.exists() and not args.out.is_dir():
        raise SpikebridgeError(f"--out {args.out}: exists and is not a directory")
    custom = [r for r in rules if r not in RULES]
    if custom:
        if len(custom) < len(rules):
            raise SpikebridgeError("--rules: measure the NESTML rules and the stdp weight dependences in separate runs")
        row = [r for r in custom if r in ROW]
        if row:
            _comparison(args, backends, row)
        if len(row) < len(custom):
            _frequency(args, backends, [r for r in custom if r not in ROW])
        return 0
    with tqdm(total=len(backends) * len(PROTOCOLS), desc="rules", unit="run", disable=args.quiet, file=sys.stderr) as bar:

        def step(backend: str, protocol: str) -> None:
            bar.set_postfix_str(f"{protocol} on {backend}")
            bar.update()

        table = measure_all(backends, rules, PROTOCOLS, progress=step)
    with atomic_file(args.out / "rules.csv") as fh:
        table.to_csv(fh, index=False)
    fig = rule_diagram(table)
    written = save_figure(fig, args.out / "figures" / "rule_diagram")
    plt.close(fig)
    print(deviations(table).to_string(float_format=lambda v: f"{v:.1e}"))
    print(f"table: {args.out / 'rules.csv'}")
    print(f"figure: {', '.join(map(str, written))}")
    return 0


def _frequency(args: argparse.Namespace, backends: list[str], rules: list[str]) -> None:
    """The pairing-frequency protocol of bundled NESTML rules: ``frequency.csv`` and ``figures/frequency_diagram``."""
    import matplotlib.pyplot as plt
    import pandas as pd
    from tqdm.auto import tqdm

    from ..plotting.figures import save_figure
    from ..plotting.rules import frequency_diagram
    from ..rundir import atomic_file
    from ..workflows import frequency

    frames = []
    with tqdm(total=len(backends) * len(rules), desc="rules", unit="run", disable=args.quiet, file=sys.stderr) as bar:
        for rule in rules:

            def step(backend: str, rule: str = rule) -> None:
                bar.set_postfix_str(f"{rule} on {backend}")
                bar.update()

            frames.append(frequency.measure(backends, rule, progress=step))
    table = pd.concat(frames, ignore_index=True)
    with atomic_file(args.out / "frequency.csv") as fh:
        table.to_csv(fh, index=False)
    fig = frequency_diagram(table)
    written = save_figure(fig, args.out / "figures" / "frequency_diagram")
    plt.close(fig)
    for rule in rules:
        worst = frequency.agreement(table[table["rule"] == rule])
        print(f"{rule}: largest |Δw| difference / largest |Δw|")
        print(worst.to_string(float_format=lambda v: f"{v:.1e}"))
    print(f"table: {args.out / 'frequency.csv'}")
    print(f"figure: {', '.join(map(str, written))}")


def _comparison(args: argparse.Namespace, backends: list[str], rules: list[str]) -> None:
    """Each rule against its own control variable: ``comparison.csv`` and ``figures/comparison_row``."""
    import matplotlib.pyplot as plt
    from tqdm.auto import tqdm

    from ..plotting.figures import save_figure
    from ..plotting.rules import comparison_row
    from ..rundir import atomic_file
    from ..workflows import diagrams

    with tqdm(total=len(backends), desc="comparison row", unit="backend", disable=args.quiet, file=sys.stderr) as bar:

        def step(backend: str) -> None:
            bar.set_postfix_str(f"{backend} done")
            bar.update()

        table = diagrams.measure(backends, rules, progress=step)
    with atomic_file(args.out / "comparison.csv") as fh:
        table.to_csv(fh, index=False)
    fig = comparison_row(table)
    written = save_figure(fig, args.out / "figures" / "comparison_row")
    plt.close(fig)
    print("largest |Δw - numpy replay| / largest |Δw| per rule; exact: every post spike where the protocol put it")
    print(diagrams.agreement(table).to_string(float_format=lambda v: f"{v:.1e}"))
    print(f"table: {args.out / 'comparison.csv'}")
    print(f"figure: {', '.join(map(str, written))}")
