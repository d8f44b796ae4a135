"""The exit codes of every ``spikebridge`` command, in one table (docs/exit_codes.md).

A module of its own, below every command and the dispatcher, so that a command (``sweep`` returns
:data:`EXIT_FAILURE` when trials failed) can name a code without importing :mod:`spikebridge.cli.app`.
"""

from __future__ import annotations

EXIT_OK = 0
"""Success; for ``compare``, the verdict passed."""
EXIT_VERDICT = 1
"""A verdict did not pass: it failed or was inconclusive (``compare`` only)."""
EXIT_INPUT = 2
"""Bad input: the arguments, a model, a run directory, a backend name or option (argparse's errors too)."""
EXIT_FAILURE = 3
"""An internal error, or a simulator or cluster failure on valid input."""
EXIT_INTERRUPTED = 130
"""Interrupted (Ctrl-C)."""

EXIT_CODES = """exit codes: 0 ok (verdict passed), 1 verdict failed or inconclusive (compare), 2 bad input (one line naming it;
argparse errors too), 3 internal error or simulator failure (one line; the traceback goes to a log file it names),
130 interrupted. See docs/exit_codes.md."""
"""The table in a few lines: the epilog of ``spikebridge --help``."""
