"""Errors a user can act on. The CLI prints them as one line and exits with code 2 (bad input), or with code 3
for an :class:`ExecutionError` (valid input, but a simulator, compiler or cluster failed); see docs/exit_codes.md."""

from __future__ import annotations


def one_line(text: object) -> str:
    """``text`` (an error, usually) with every run of white space, newlines included, as one space.

    Parameters
    ----------
    text : object
        Anything; its ``str`` is taken.

    Returns
    -------
    str
        The text on one line.

    Examples
    --------
    >>> one_line(ValueError("bad value\\n  in line 2"))
    'bad value in line 2'
    """
    return " ".join(str(text).split())


class SpikebridgeError(Exception):
    """Base class of every error caused by the user's input rather than by a bug."""


class ModelError(SpikebridgeError):
    """A model description is malformed: names the source, the field path and what was expected.

    Parameters
    ----------
    path : str
        The field's dotted path in the model (``projections.ff.weight``); empty for the model as a whole.
    message : str
        What was expected, and what was found.
    source : str, optional
        The file the model came from.

    Examples
    --------
    >>> str(ModelError("populations.exc.size", "expected an integer > 0, got -1", "tiny.toml"))
    'tiny.toml: populations.exc.size: expected an integer > 0, got -1'
    """

    def __init__(self, path: str, message: str, source: str | None = None) -> None:
        self.path = path
        self.message = message
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"

    def with_source(self, source: str) -> ModelError:
        """The same error, naming the file (or other source) the model came from.

        Parameters
        ----------
        source : str
            The model file, e.g. ``"models/coba.toml"``.

        Returns
        -------
        ModelError
            A new error with the same field path and message.
        """
        return ModelError(self.path, self.message, source)


class BackendError(SpikebridgeError):
    """A backend is unknown, not installed, given invalid options, or cannot honour a model: bad input (exit 2)."""


class ExecutionError(SpikebridgeError):
    """The input was valid but the work failed: a simulator crashed, a compilation failed, a cluster went away (exit 3)."""


class SimulatorError(ExecutionError, BackendError):
    """A simulator or its generated code failed while building or running a valid model (exit 3)."""


class BackendNotInstalledError(BackendError):
    """A registered backend whose simulator package cannot be imported here."""


class RunDirectoryError(SpikebridgeError):
    """A run directory is missing, incomplete or would overwrite existing results."""


class CorruptRunError(RunDirectoryError):
    """A run directory's files are not what it recorded when it was written (checksums, unreadable metadata)."""


class ModelWarning(UserWarning):
    """A model was changed in a way the user should know about (e.g. delays rounded to the dt grid)."""
