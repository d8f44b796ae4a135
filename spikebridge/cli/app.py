"""The ``spikebridge`` command: the top-level parser, built from one module per command, and :func:`main`.

Each command module (``run``, ``models``, ``check``, ``info``, ``infer``, ``plot``, ``compare``, ``sweep``,
``rules``, ``study``, ``selectivity``, ``migrate``, ``export_model``) has ``register(subparsers)``, which adds its parser and
sets its handler;
arguments several commands share are declared in :mod:`spikebridge.cli.args`. :func:`spikebridge.cli.dispatch.execute`
runs the chosen handler and ends every error with one line on stderr and an exit code from one table
(:mod:`spikebridge.cli.exits`, docs/exit_codes.md): 0 ok, 1 verdict failed or inconclusive, 2 bad input,
3 internal or simulator failure, 130 interrupted.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence

from .dispatch import execute
from .exits import EXIT_CODES


def parser() -> argparse.ArgumentParser:
    """The ``spikebridge`` parser with every command registered (in the order ``--help`` lists them)."""
    # the command modules only declare arguments; each handler imports what it runs when it runs
    from . import check, compare, export_model, infer, info, migrate, models, plot, rules, run, selectivity, study, sweep

    p = argparse.ArgumentParser(
        prog="spikebridge",
        description="Describe a spiking network once; run it on NEST or Brian2.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    for command in (run, models, check, info, infer, plot, compare, sweep, rules, study, selectivity, migrate, export_model):
        command.register(sub)
    return p


def main(argv: Sequence[str] | None = None, *, own_process: bool = False) -> int:
    """Run ``spikebridge ARGV``.

    Parameters
    ----------
    argv
        The arguments after the program name (default ``sys.argv[1:]``).
    own_process
        The command is the process (:func:`script`): it may start helper processes of its own (``run`` draws its
        figure in one, :mod:`spikebridge.workflows.figure_process`). Code that calls ``main`` inside another program
        (tests, notebooks) leaves it False.

    Returns
    -------
    int
        The exit code (docs/exit_codes.md); argparse's own errors and ``--help`` raise ``SystemExit`` instead.
    """
    p = parser()
    p.set_defaults(own_process=own_process)
    return execute(p, argv)


def script() -> int:
    """The ``spikebridge`` program (console script and ``python -m spikebridge.cli``): :func:`main` on ``sys.argv``.

    The process's entry point only: code that runs commands in its own process calls :func:`main`. What is alive when
    the command ends lives until the process does, so the cyclic garbage collector is kept off it
    (:func:`gc.freeze`): interpreter teardown would otherwise walk every object as it clears the modules (0.4 s after
    a run of COBA 4k on NEST). The modules imported before the command are frozen as well, so the collections during
    the run do not walk them either. Frozen objects in reference cycles are never collected; the process is ending.
    """
    gc.freeze()
    code = main(own_process=True)
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(script())
