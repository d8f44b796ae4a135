"""Reading an experiment directory: its trials as a table, selections by parameter, analyses over trials.

An experiment directory is what ``spikebridge sweep`` writes (its trials are simulator runs), so the
example is not run as a doctest::

    exp = Experiment("experiments/stdp")
    exp.trials[["A_plus", "seed", "status"]]                           # one row per trial
    exp[{"A_plus": 0.02, "seed": 1}].results.weights("input_post")     # a trial's weight table (uS)
    exp.where(A_plus=0.02).collect(lambda r: r.rates("post").mean())   # one row per trial, rates in Hz
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ...errors import RunDirectoryError
from ...rundir import Results, load
from .errors import ExperimentError
from .grid import resolve_name, short_names
from .metadata import read_metadata

if TYPE_CHECKING:
    from distributed import Client

TABLE_COLUMNS = ("status", "attempts", "host", "duration_s", "error", "dir")


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def _same(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
    return _hashable(a) == _hashable(b)


class Trial:
    """One trial of an experiment: its parameters, status and (when complete) its run directory's results.

    Parameters
    ----------
    experiment : pathlib.Path
        The experiment directory.
    record : Mapping
        The trial's entry in the experiment's metadata: ``id``, ``params`` (by full path), ``status``, ``dir``
        and optionally ``error``, ``attempts``, ``host``, ``duration_s``.
    names : Mapping
        ``{full path: name}`` of the swept parameters (:func:`~spikebridge.workflows.sweeps.grid.short_names`).

    Examples
    --------
    >>> from pathlib import Path
    >>> record = {"id": "t0001", "params": {"simulation.seed": 2}, "status": "failed", "error": "NEST crashed",
    ...           "dir": "t0001_seed=2"}
    >>> trial = Trial(Path("experiments/stdp"), record, {"simulation.seed": "seed"})
    >>> trial, trial.path.as_posix()
    (Trial('t0001', seed=2, status='failed'), 'experiments/stdp/t0001_seed=2')
    >>> trial.results
    Traceback (most recent call last):
    spikebridge.workflows.sweeps.errors.ExperimentError: trial t0001 ({'seed': 2}) is failed: NEST crashed; it has no results
    """

    def __init__(self, experiment: Path, record: Mapping[str, Any], names: Mapping[str, str]) -> None:
        self.experiment = experiment
        self.record = dict(record)
        self._names = dict(names)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items())
        return f"Trial({self.id!r}, {params}, status={self.status!r})"

    @property
    def id(self) -> str:
        """The trial's id, e.g. ``"t0003"`` (its index in the grid)."""
        return str(self.record["id"])

    @property
    def params(self) -> dict[str, Any]:
        """Parameters by full path (``projections.e2e.synapse.timing.A_plus``)."""
        return dict(self.record["params"])

    @property
    def parameters(self) -> dict[str, Any]:
        """Parameters by the trial table's names (short names where unambiguous)."""
        return {self._names.get(p, p): v for p, v in self.record["params"].items()}

    @property
    def status(self) -> str:
        """``"pending"``, ``"running"``, ``"complete"`` or ``"failed"``, as the metadata last recorded it."""
        return str(self.record["status"])

    @property
    def error(self) -> str | None:
        """Why the trial failed (one line), or None."""
        return self.record.get("error")

    @property
    def path(self) -> Path:
        """The trial's run directory."""
        return self.experiment / self.record["dir"]

    @cached_property
    def results(self) -> Results:
        """The trial's run directory, read lazily.

        Raises
        ------
        ExperimentError
            If the trial is not complete.
        """
        if self.status != "complete":
            why = f": {self.error}" if self.error else ""
            raise ExperimentError(f"trial {self.id} ({self.parameters}) is {self.status}{why}; it has no results")
        try:
            return load(self.path)
        except RunDirectoryError as err:
            raise ExperimentError(
                f"trial {self.id} is marked complete but its run directory cannot be read ({err}); rerun the sweep"
            ) from None

    @property
    def checkpoints(self) -> list[float]:
        """The times (ms) of the weight snapshots in the run, from the columns of ``results.weights()``."""
        times = self.results.weights().columns.get_level_values("t").astype(float)
        return sorted(set(times.tolist()))


def _apply(path: str, fn: Callable[[Results], Any]) -> Any:
    """Runs where ``collect`` sends it: open one run directory and apply the analysis."""
    return fn(load(path))


def _as_frame(value: Any, name: str) -> tuple[pd.DataFrame, bool]:
    """An analysis outcome as a table, and whether it is a single row (Series, mapping or scalar)."""
    if isinstance(value, pd.DataFrame):
        return value, False
    if isinstance(value, pd.Series):
        return value.to_frame().T.reset_index(drop=True), True
    if isinstance(value, Mapping):
        return pd.DataFrame([dict(value)]), True
    return pd.DataFrame({name: [value]}), True


class Experiment:
    """An experiment directory written by ``spikebridge sweep``, or a selection of its trials.

    Parameters
    ----------
    path : str or pathlib.Path
        The experiment directory.

    Notes
    -----
    Parameters are named by the last component of their path (``A_plus``, ``seed``) unless two swept paths
    share it; full paths are accepted everywhere a name is.
    """

    def __init__(
        self, path: str | Path, _records: Sequence[Mapping[str, Any]] | None = None, _meta: Mapping[str, Any] | None = None
    ) -> None:
        self.path = Path(path)
        self.meta: dict[str, Any] = dict(_meta) if _meta is not None else read_metadata(self.path)
        self._records = [dict(r) for r in (self.meta["trials"] if _records is None else _records)]

    def _subset(self, records: Sequence[Mapping[str, Any]]) -> Experiment:
        return Experiment(self.path, records, self.meta)

    def __repr__(self) -> str:
        counts = pd.Series([r["status"] for r in self._records]).value_counts().to_dict() if self._records else {}
        return f"Experiment({str(self.path)!r}, {len(self)} trials, {counts})"

    def refresh(self) -> Experiment:
        """The whole experiment as it is on disk now (e.g. while a sweep is running).

        Returns
        -------
        Experiment
            Every trial, re-read from ``metadata.json``.
        """
        return Experiment(self.path)

    @property
    def paths(self) -> list[str]:
        """The swept parameters' full paths, in grid order."""
        return list(self.meta["grid"])

    @property
    def names(self) -> dict[str, str]:
        """Full path -> name in the trial table."""
        return short_names(self.paths)

    @property
    def parameters(self) -> list[str]:
        """The swept parameters' names in the trial table."""
        return [self.names[p] for p in self.paths]

    @property
    def trials(self) -> pd.DataFrame:
        """One row per trial, indexed by trial id: the parameters (by name), then status, attempts, host,
        duration_s, error and dir."""
        names = self.names
        rows = [{**{names[p]: r["params"].get(p) for p in self.paths}, **{c: r.get(c) for c in TABLE_COLUMNS}} for r in self._records]
        table = pd.DataFrame(
            rows, columns=[*self.parameters, *TABLE_COLUMNS], index=pd.Index([r["id"] for r in self._records], name="trial")
        )
        return table

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Trial]:
        names = self.names
        return (Trial(self.path, r, names) for r in self._records)

    def __getitem__(self, key: int | str | Mapping[str, Any]) -> Trial:
        """A trial by position in this selection, by id (``"t0003"``), or by parameters (``{"A_plus": 0.02, "seed": 1}``).

        Parameters
        ----------
        key : int, str or Mapping
            A position, a trial id, or parameter values (names or full paths) that pick exactly one trial.

        Returns
        -------
        Trial
            The trial.

        Raises
        ------
        ExperimentError
            If no trial, or (for parameters) more than one, matches.
        """
        if isinstance(key, Mapping):
            found = self.where(key)
            if len(found) != 1:
                varying = [n for n in self.parameters if found.trials[n].astype(str).nunique() > 1] if len(found) else []
                more = f"; also give {', '.join(varying)}" if varying else ""
                raise ExperimentError(f"{len(found)} trials match {dict(key)}{more}")
            return next(iter(found))
        if isinstance(key, str):
            for trial in self:
                if trial.id == key:
                    return trial
            raise ExperimentError(f"no trial {key!r} in {self.path}")
        if isinstance(key, int) and not isinstance(key, bool):
            if not -len(self) <= key < len(self):
                raise ExperimentError(f"trial index {key} out of range ({len(self)} trials)")
            return Trial(self.path, self._records[key], self.names)
        raise TypeError(f"an experiment is indexed by position, trial id or a mapping of parameters, not {type(key).__name__}")

    def where(self, selection: Mapping[str, Any] | None = None, **params: Any) -> Experiment:
        """The trials whose parameters have the given values (numbers compare to 12 significant digits).

        Parameters
        ----------
        selection : Mapping, optional
            Names (short or full paths) and values: ``exp.where({"projections.e2e.synapse.timing.A_plus": 0.02})``.
        **params
            The same as keywords: ``exp.where(A_plus=0.02)``.

        Returns
        -------
        Experiment
            The selection (possibly empty).

        Raises
        ------
        GridError
            If a name is not a swept parameter or is ambiguous.
        ExperimentError
            If no trial of the experiment has a value asked for.
        """
        wanted = {resolve_name(name, self.paths): value for name, value in {**(selection or {}), **params}.items()}
        for path, value in wanted.items():
            values = self.meta["grid"][path]
            if not any(_same(v, value) for v in values):
                raise ExperimentError(f"no trial has {self.names[path]} = {value!r} (values: {', '.join(map(repr, values))})")
        return self._subset([r for r in self._records if all(_same(r["params"].get(p), v) for p, v in wanted.items())])

    def groupby(self, name: str) -> dict[Any, Experiment]:
        """The trials split by the value of one parameter, in grid order: ``{0.01: Experiment, 0.02: ...}``.

        Parameters
        ----------
        name : str
            A swept parameter's name or full path.

        Returns
        -------
        dict
            ``{value: Experiment}`` for the values that have trials in this selection (lists become tuples).

        Raises
        ------
        GridError
            If the name is not a swept parameter or is ambiguous.
        """
        path = resolve_name(name, self.paths)
        out: dict[Any, Experiment] = {}
        for value in self.meta["grid"][path]:
            group = [r for r in self._records if _same(r["params"].get(path), value)]
            if group:
                out[_hashable(value)] = self._subset(group)
        return out

    @property
    def complete(self) -> Experiment:
        """The complete trials of this selection."""
        return self._subset([r for r in self._records if r["status"] == "complete"])

    @property
    def failed(self) -> Experiment:
        """The failed trials of this selection."""
        return self._subset([r for r in self._records if r["status"] == "failed"])

    def collect(self, fn: Callable[[Results], Any], client: Client | None = None) -> pd.DataFrame:
        """Apply an analysis to every complete trial and stack the outcomes, indexed by the trial parameters.

        Parameters
        ----------
        fn : callable
            ``fn(results) -> DataFrame | Series | mapping | scalar``. A DataFrame keeps its own index as the
            innermost levels (e.g. ``firing_stats`` gives one row per population); a Series or mapping is one
            row whose columns are its keys; a scalar is one row in a column named after ``fn``.
        client : distributed.Client, optional
            Run ``fn`` on its workers (it must be picklable, and the run directories
            readable there). ``None``: run it here, one trial after another.

        Returns
        -------
        pd.DataFrame
            Indexed by the parameters (by name) of the trials, then by the outcome's own index if any.
        """
        trials = list(self.complete)
        names = self.parameters or ["trial"]
        if not trials:
            return pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=names) if len(names) > 1 else pd.Index([], name=names[0]))
        if client is None:
            outcomes = []
            for trial in trials:
                try:
                    outcomes.append(fn(trial.results))
                except Exception as err:
                    err.add_note(f"while collecting trial {trial.id} {trial.parameters} of {self.path}")
                    raise
        else:
            futures = client.map(_apply, [str(t.path) for t in trials], fn=fn, pure=False)
            outcomes = []
            for trial, future in zip(trials, futures, strict=True):
                try:
                    outcomes.append(future.result())
                except Exception as err:
                    err.add_note(f"while collecting trial {trial.id} {trial.parameters} of {self.path}")
                    raise
        label = getattr(fn, "__name__", "value")
        label = "value" if label == "<lambda>" else label
        frames: dict[Any, pd.DataFrame] = {}
        single = True
        for trial, value in zip(trials, outcomes, strict=True):
            frame, one_row = _as_frame(value, label)
            single &= one_row
            values = tuple(_hashable(trial.params[p]) for p in self.paths) or (trial.id,)
            frames[values if len(values) > 1 else values[0]] = frame
        table = pd.concat(frames, names=names)
        if single:
            table = table.droplevel(-1)
        return table
