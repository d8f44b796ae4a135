"""One model, the same spike times: unconnected cells of four types under the same drawn Poisson input.

No chaos here, so NEST and Brian2 must agree spike by spike once Brian2 integrates each cell type as NEST does
(exact propagators for current-based cells, GSL RKF45 with NEST's tolerances otherwise), holds V for
``tau_refrac`` after the step of a spike, and fires at ``V >= threshold``. docs/validation.md tables 10 s on
every backend; the test runs 1 s on nest and brian2 (runtime).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import spikebridge
from spikebridge.analysis.validation.agreement import agreement_table
from spikebridge.rundir import Results

POPULATIONS = ("cond_exp", "curr_exp", "cond_alpha", "adex")


def trains(results: Results, population: str) -> list[np.ndarray]:
    idx, t = results.spikes(population)
    return [t[idx == c] for c in results.recorded_cells(population)]


@pytest.mark.slow
@pytest.mark.validation
@pytest.mark.matched_integration
def test_nest_and_brian2_give_the_same_spike_times(tmp_path: Path) -> None:
    model = spikebridge.load_model("single_cells", ["simulation.duration=1000"])
    runs = {b: spikebridge.run(model, b, tmp_path / b, progress=False, figure=False) for b in ("nest", "brian2")}
    assert runs["nest"].meta["network_sha256"] == runs["brian2"].meta["network_sha256"]
    dt = model.simulation.dt
    table = agreement_table(*({p: trains(runs[b], p) for p in POPULATIONS} for b in ("nest", "brian2")), tolerance=dt + 1e-9)
    assert set(table.index) == set(POPULATIONS)
    assert (table.spikes_a > 50).all(), table  # every cell type fires
    assert (table.fraction >= 0.99).all(), table
    # the three integrate-and-fire types agree exactly; the adaptive one resets inside NEST's step, Brian2's at its end
    exact = table.loc[["cond_exp", "curr_exp", "cond_alpha"]]
    assert (exact.matched == exact.spikes_a).all() and (exact.spikes_a == exact.spikes_b).all(), table
