"""Multi-seed summaries: a metric over training time, mean +- s.d. across seeds, one line per condition.

On a swept experiment (its trials simulated, so not run here)::

    exp = Experiment("experiments/stdp")
    plot_multiseed_band(exp, weight_statistic("mean", relative=True), "A_plus",
                        path="figures/multiseed_band", ylabel="mean weight / w_max")

The band statistics of a long table, as :func:`over_time` makes one (``t`` in ms):

>>> import pandas as pd
>>> table = pd.DataFrame({"A_plus": [0.01] * 4, "seed": [1, 1, 2, 2], "t": [0.0, 500.0] * 2,
...                       "value": [0.5, 0.6, 0.5, 0.8]})
>>> band_statistics(table, "A_plus")
           label      x  mean        sd  n
0  A_plus = 0.01    0.0   0.5  0.000000  2
1  A_plus = 0.01  500.0   0.7  0.141421  2
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from ...plotting.figures import Figure, save_figure
from ...plotting.sweeps import plot_bands
from ...rundir import Results
from .errors import SweepError
from .experiment import Experiment
from .grid import resolve_name

if TYPE_CHECKING:
    from distributed import Client

STATISTICS = ("mean", "std", "p5", "p25", "p50", "p75", "p95")


@dataclass(frozen=True)
class weight_statistic:  # lower case: it is used like a function, collect(weight_statistic("mean"))
    """An analysis for :meth:`Experiment.collect`: a statistic of a projection's weights at every snapshot.

    Parameters
    ----------
    statistic
        One of ``mean``, ``std``, ``p5``, ``p25``, ``p50``, ``p75``, ``p95`` (over the projection's synapses).
    projection
        The projection (default: the only one in the run's ``record_weights``).
    relative
        Divide by the plasticity rule's ``w_max`` (a fraction of the upper bound, without units).

    Notes
    -----
    Called with a run's :class:`~spikebridge.rundir.Results`, it returns a :class:`pandas.Series` indexed by
    snapshot time ``t`` (ms), named after the statistic.
    """

    statistic: str = "mean"
    projection: str | None = None
    relative: bool = False

    def __post_init__(self) -> None:
        if self.statistic not in STATISTICS:
            raise SweepError(f"unknown weight statistic {self.statistic!r}; choose one of {', '.join(STATISTICS)}")

    @property
    def __name__(self) -> str:
        return f"weight_{self.statistic}"

    def __call__(self, results: Results) -> pd.Series:
        """The statistic of the projection's weights at every snapshot of a run.

        Parameters
        ----------
        results
            A run directory that recorded the projection's weights.

        Returns
        -------
        pd.Series
            Indexed by snapshot time ``t`` (ms), named after the statistic; weight units, or a fraction of
            ``w_max`` with ``relative``.

        Raises
        ------
        SweepError
            The projection is not named and the run records the weights of more or fewer than one, or
            ``relative`` for a projection without ``w_max``.
        """
        from ...analysis.weights import projection_infos, weight_evolution

        name = self.projection
        if name is None:
            rw = results.model.record_weights
            recorded = [] if rw is None else list(results.model.projections) if rw.projections == "all" else list(rw.projections)
            if len(recorded) != 1:
                raise SweepError(f"name the projection: the run records the weights of {recorded or 'no projection'}")
            name = recorded[0]
        evo = weight_evolution(results.weights(name), name)
        values = evo[self.statistic].to_numpy(float)
        if self.relative:
            w_max = projection_infos(results)[name].w_max
            if not w_max:
                raise SweepError(f"projection {name!r} has no plasticity bound w_max to scale by")
            values = values / w_max
        return pd.Series(values, index=pd.Index(evo["t"].to_numpy(float), name="t"), name=self.statistic)


def over_time(experiment: Experiment, metric: Callable[[Results], pd.Series], client: Client | None = None) -> pd.DataFrame:
    """A metric over time for every complete trial, as a long table.

    Parameters
    ----------
    experiment
        The trials (an experiment or a selection of one).
    metric
        ``metric(results) -> Series`` indexed by time (ms), e.g. :class:`weight_statistic`.
    client
        Compute on this Dask client's workers (default: here).

    Returns
    -------
    pd.DataFrame
        Columns: the trial parameters (by name), ``t`` and ``value``; one row per trial and time.
    """
    wide = experiment.collect(metric, client)
    if wide.empty:
        raise SweepError(f"no complete trials in {experiment.path} to summarise")
    wide.columns = pd.Index(wide.columns.astype(float), name="t")
    return cast(pd.Series, wide.stack()).rename("value").reset_index()  # one column level: a Series


def _label(names: Sequence[str], key: Any) -> str:
    values = key if isinstance(key, tuple) else (key,)
    return ", ".join(f"{n} = {v:g}" if isinstance(v, float) else f"{n} = {v}" for n, v in zip(names, values, strict=True))


def band_statistics(
    table: pd.DataFrame,
    condition: str | Sequence[str],
    *,
    over: str = "seed",
    x: str = "t",
    value: str = "value",
) -> pd.DataFrame:
    """Mean and s.d. across ``over`` (seeds) of ``value`` at every ``x``, per condition: what a band figure draws.

    Parameters
    ----------
    table
        Long table with columns ``condition``, ``over``, ``x`` and ``value`` (e.g. from :func:`over_time`).
        Any other column must be constant: a parameter that varies within a condition would be averaged over
        silently, so it is refused.
    condition
        The column(s) whose values make the lines (e.g. ``A_plus``, or ``["A_plus", "backend"]``).
    over
        The column that repeats a condition (the band's spread is across it).
    x, value
        The columns of the abscissa (e.g. time in ms) and of the metric.

    Returns
    -------
    pd.DataFrame
        Columns ``label`` (e.g. ``"A_plus = 0.005"``), ``x``, ``mean``, ``sd`` (0 where there is one
        repetition) and ``n`` (repetitions of the condition); conditions sorted by value, ``x`` ascending.

    Raises
    ------
    SweepError
        A named column is missing, or another column varies within a condition.
    """
    conditions = [condition] if isinstance(condition, str) else list(condition)
    missing = [c for c in [*conditions, over, x, value] if c not in table.columns]
    if missing:
        raise SweepError(f"the table has no column(s) {', '.join(missing)} (columns: {', '.join(map(str, table.columns))})")
    others = [c for c in table.columns if c not in {*conditions, over, x, value}]
    varying = [c for c in others if table[c].astype(str).nunique() > 1]
    if varying:
        raise SweepError(f"{', '.join(varying)} vary within a condition: add them to the condition or select trials with where()")
    frames = []
    for key, group in table.groupby(conditions if len(conditions) > 1 else conditions[0], sort=True):
        stats = group.groupby(x)[value].agg(["mean", "std"]).sort_index()
        frames.append(
            pd.DataFrame(
                {
                    "label": _label(conditions, key),
                    "x": stats.index.to_numpy(float),
                    "mean": stats["mean"].to_numpy(float),
                    "sd": np.nan_to_num(stats["std"].to_numpy(float)),
                    "n": int(group[over].nunique()),
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["label", "x", "mean", "sd", "n"])


def plot_multiseed_band(
    experiment: Experiment,
    metric: Callable[[Results], pd.Series],
    condition: str | Sequence[str],
    *,
    over: str = "seed",
    path: str | os.PathLike[str] | None = None,
    client: Client | None = None,
    **style: Any,
) -> Figure:
    """A metric over training time across seeds, one line per condition, from an experiment's complete trials.

    Parameters
    ----------
    experiment
        The trials; select with ``where`` to hold other parameters fixed.
    metric
        ``metric(results) -> Series`` over time (ms), e.g. ``weight_statistic("mean", relative=True)``.
    condition, over
        Parameter name(s) of the lines, and of the repetitions (short names or full paths).
    path
        If given, save the figure there as PNG and PDF (``path`` without suffix).
    client
        Compute the metric on this Dask client's workers.
    style
        Passed to :func:`spikebridge.plotting.sweeps.plot_bands` (``ylabel``, ``title``, ``xlabel``, ``x_scale``,
        ``figsize``).

    Returns
    -------
    Figure
    """
    conditions = [condition] if isinstance(condition, str) else list(condition)
    names = experiment.names
    cols = [names[resolve_name(c, experiment.paths)] for c in conditions]
    over_col = names[resolve_name(over, experiment.paths)]
    table = over_time(experiment, metric, client)
    fig = plot_bands(band_statistics(table, cols if len(cols) > 1 else cols[0], over=over_col), over=over_col, **style)
    if path is not None:
        save_figure(fig, Path(path))
    return fig
