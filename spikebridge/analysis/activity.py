"""Firing statistics of a run's populations, by Elephant: rates (Hz), CV of inter-spike intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import quantities as pq
from elephant.statistics import cv, isi, mean_firing_rate

from ..rundir import Results


def firing_stats(results: Results, phase: str | None = None) -> pd.DataFrame:
    """One row per recorded population: cells, mean and s.d. of per-cell rates (Hz), mean CV of ISIs.

    The CV is averaged over cells with at least three spikes (NaN where none has).

    Parameters
    ----------
    results : Results
        A run directory, read by :func:`spikebridge.rundir.load`.
    phase : str, optional
        Count only this phase's spikes; default: the whole run.

    Returns
    -------
    pandas.DataFrame
        Indexed by population (those recording ``spikes``), with columns ``cells``, ``spikes`` (total count),
        ``rate_mean`` and ``rate_sd`` (Hz, over cells) and ``cv_isi_mean`` (dimensionless).

    Examples
    --------
    The results come from a simulator run, so this is not run as a doctest::

        firing_stats(spikebridge.load("runs/coba")).loc["exc", "rate_mean"]   # Hz
    """
    rows = []
    for name, rec in results.model.recording.items():
        if "spikes" not in rec.variables:
            continue
        trains = results.spiketrains(name, phase)
        rates = np.array([float(mean_firing_rate(st).rescale(pq.Hz).magnitude) for st in trains])
        cvs = np.array([cv(isi(st)) for st in trains if len(st) >= 3], dtype=float)
        rows.append(
            {
                "population": name,
                "cells": len(trains),
                "spikes": int(sum(len(st) for st in trains)),
                "rate_mean": float(rates.mean()) if len(rates) else np.nan,
                "rate_sd": float(rates.std()) if len(rates) else np.nan,
                "cv_isi_mean": float(np.nanmean(cvs)) if len(cvs) else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("population")
