"""``poisson_input``: background noise the simulator draws, on NEST and Brian2, against shot-noise theory."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from spikebridge import backends
from spikebridge.errors import BackendError, ModelError
from spikebridge.models import instantiate, validate

N, RATE, W = 100, 10.0, 0.01  # inputs per cell, Hz each, nA
TAU_M, TAU_SYN, CM, V_REST = 20.0, 5.0, 0.25, -65.0

RAW: dict[str, Any] = {
    "name": "poisson_background",
    "populations": {
        "cells": {
            "cell_type": "IF_curr_exp",
            "size": 50,
            # threshold out of reach: the free membrane potential is shot noise filtered twice
            "parameters": {"cm": CM, "tau_m": TAU_M, "tau_syn_E": TAU_SYN, "v_rest": V_REST, "v_thresh": 0.0, "v_reset": V_REST},
            "initial": {"v": V_REST},
        }
    },
    "stimuli": {"noise": {"kind": "poisson_input", "target": "cells", "n": N, "rate": RATE, "weight": W}},
    "recording": {"cells": {"variables": ["v"], "sampling_interval": 1.0}},
    "simulation": {"dt": 0.1, "duration": 1000.0, "seed": 7},
}
MEAN_SHIFT = N * RATE * W * TAU_SYN * 1e-3 * TAU_M / CM  # mV: mean current (nA) times the membrane resistance (MOhm)


def free_v(backend: str, seed: int = 7) -> np.ndarray:
    raw = copy.deepcopy(RAW)
    raw["simulation"]["seed"] = seed
    sim = backends.create(backend)
    try:
        sim.build(instantiate(validate(raw)))
        for phase in sim.network.phases:
            sim.run(phase)
        signal = sim.recordings().segments[0].analogsignals[0]
    finally:
        sim.end()
    return np.asarray(signal.magnitude)[200:]  # after five membrane time constants


@pytest.mark.parametrize("backend", ["nest", "brian2"])
def test_poisson_background_shifts_the_mean_potential_as_shot_noise_theory_says(backend: str) -> None:
    v = free_v(backend)
    per_cell = v.mean(axis=0)
    # 50 independent cells: their means scatter by the standard error around the theory's
    assert abs(per_cell.mean() - (V_REST + MEAN_SHIFT)) < 4 * per_cell.std(ddof=1) / np.sqrt(len(per_cell)) + 0.02
    assert per_cell.std() > 0  # every cell has its own input


def test_poisson_background_is_seeded_from_the_model() -> None:
    a, b, c = free_v("nest", 7), free_v("nest", 7), free_v("nest", 8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_poisson_input_needs_a_neuron_population_and_a_positive_weight() -> None:
    raw = copy.deepcopy(RAW)
    raw["stimuli"]["noise"]["weight"] = -0.01
    with pytest.raises(ModelError, match=r"stimuli\.noise\.weight: expected a positive \(excitatory\) weight"):
        validate(raw)
    raw["stimuli"]["noise"] = {**RAW["stimuli"]["noise"], "cells": [0, 1]}
    with pytest.raises(ModelError, match=r"stimuli\.noise\.cells: a poisson_input drives every cell"):
        validate(raw)
    raw["stimuli"]["noise"] = {"kind": "dc", "target": "cells", "amplitude": 0.1, "n": 3}
    with pytest.raises(ModelError, match=r"stimuli\.noise\.n: only a poisson_input has 'n'"):
        validate(raw)


def test_the_mock_backend_refuses_a_poisson_background() -> None:
    from spikebridge.backends.mock import MockBackend

    backends.register("mock", MockBackend)
    try:
        sim = backends.create("mock")
        with pytest.raises(BackendError, match=r"stimuli\.noise: the mock backend has no Poisson background"):
            sim.build(instantiate(validate(RAW)))
    finally:
        backends.unregister("mock")  # the registry is the process's: later tests see no mock
