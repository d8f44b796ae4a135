"""Run one parsed command and end it by the exit-code table (:mod:`spikebridge.cli.exits`, docs/exit_codes.md).

Every error ends with one line on stderr: ``spikebridge: error:`` (bad input, 2), ``spikebridge: failed:`` (a
simulator failure, 3), ``spikebridge: internal error:`` naming a log file with the traceback (a bug, 3) or
``spikebridge: interrupted`` (130). A :class:`~spikebridge.errors.ModelWarning` prints as one
``spikebridge: warning:`` line. This is also the one place that selects matplotlib's backend (Agg): the plotting
layer draws on whatever backend its caller chose.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from ..errors import ExecutionError, ModelWarning, SpikebridgeError, one_line
from .exits import EXIT_FAILURE, EXIT_INPUT, EXIT_INTERRUPTED, EXIT_OK


def silence_stdout() -> None:
    """Point stdout at /dev/null after a broken pipe, so the interpreter's final flush cannot fail again.

    As the CPython documentation of ``signal`` recommends for ``BrokenPipeError``."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (e.g. captured by a test)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    finally:
        os.close(devnull)


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()


def crash_log(err: BaseException) -> Path:
    """Write an exception's traceback to a new log file.

    Parameters
    ----------
    err
        The exception, with its traceback.

    Returns
    -------
    Path
        The new file under ``$XDG_CACHE_HOME/spikebridge/errors`` (else ``~/.cache/...``, else the temporary
        folder's ``spikebridge-errors``), or ``/dev/null`` when none of them can be written.
    """
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    header = f"spikebridge {' '.join(sys.argv[1:])}\n{time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n\n"
    text = header + "".join(traceback.format_exception(err))
    for folder in (cache / "spikebridge" / "errors", Path(tempfile.gettempdir()) / "spikebridge-errors"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), suffix=".log", dir=folder)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            return Path(name)
        except OSError:
            continue
    return Path(os.devnull)


def _use_agg() -> None:
    """Draw every figure off-screen, here and in the processes a command starts (a sweep's Dask workers and
    ``--isolate`` trials, which import matplotlib afresh): the CLI writes PNG and PDF files, never opens a window."""
    import matplotlib

    os.environ["MPLBACKEND"] = "Agg"
    matplotlib.use("Agg")


def _dispatch(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """Parse and run one command, mapping every exception to its exit code and one line on stderr."""
    try:
        args = parser.parse_args(argv)
        _use_agg()
        return int(args.func(args))
    except BrokenPipeError:  # the reader went away (``spikebridge info --json | head -1``): not an error of ours
        silence_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        print("spikebridge: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ExecutionError as err:
        print(f"spikebridge: failed: {one_line(err)}", file=sys.stderr)
        return EXIT_FAILURE
    except SpikebridgeError as err:
        print(f"spikebridge: error: {one_line(err)}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as err:
        path = crash_log(err)
        print(f"spikebridge: internal error: {type(err).__name__}: {one_line(err)} (details: {path})", file=sys.stderr)
        return EXIT_FAILURE


def _show_model_warnings(default: Callable[..., None]) -> Callable[..., None]:
    """A ``warnings.showwarning`` that prints a :class:`ModelWarning` as one ``spikebridge: warning:`` line."""

    def show(
        message: Warning | str, category: type[Warning], filename: str, lineno: int, file: TextIO | None = None, line: str | None = None
    ) -> None:
        if issubclass(category, ModelWarning):
            print(f"spikebridge: warning: {filename}: {message}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    return show


def execute(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` with ``parser`` and run the command it selects (``args.func``); return its exit code.

    Parameters
    ----------
    parser
        A parser whose (sub)commands set ``func``, a handler taking the parsed arguments and returning an exit code.
    argv
        The arguments after the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code (:mod:`spikebridge.cli.exits`). argparse's own errors and ``--help`` raise ``SystemExit``
        (code 2 and 0) instead.
    """
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_model_warnings(warnings.showwarning)
            code = _dispatch(parser, argv)
    except SystemExit:
        _flush_stdout()
        raise
    _flush_stdout()
    return code
