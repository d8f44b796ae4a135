"""The ``binding`` study in small: the bundled network trained on the boundary-contour shapes on brian2:cpp becomes
selective for the contour element, and its plastic weights move towards their bounds (docs/binding.md).

One seed of the study's protocol (16 images of 100 ms, 60 epochs, here in one run, rk4), tested at noise 0 only and
with fewer repetitions than the study's ten. ``binding`` is the smallest network measured where the direction shows:
a quarter of it (16 x 16 cells per layer) did not become selective in 20 epochs, nor ``binding`` itself in 20.

Opt-in (``SPIKEBRIDGE_TEST_BINDING=1``): about 9 minutes on 2 cores, over a third of the suite's budget.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pytest

from spikebridge.analysis.weights import bimodality, nestml_bounds
from spikebridge.rundir import load
from spikebridge.stimuli import boundary_contour_shapes
from spikebridge.workflows.selectivity import Protocol, Workflow
from spikebridge.workflows.selectivity.pipeline import run_pipeline

SEED = 21
REPS = 6
PROTOCOL = Protocol(present_ms=100.0, gap_ms=0.0, epochs=60, reps=REPS, image_size=64, epochs_per_run=60)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.compile,
    pytest.mark.skipif(
        os.environ.get("SPIKEBRIDGE_TEST_BINDING") != "1",
        reason="trains the binding network for 60 epochs (~9 min on 2 cores): SPIKEBRIDGE_TEST_BINDING=1 runs it",
    ),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workflow, dict[str, Any]]:
    wf = Workflow(
        tmp_path_factory.mktemp("binding"),
        "binding",
        (f"simulation.seed={SEED}", "simulation.backend_options.method=rk4"),
        dataset=boundary_contour_shapes(8, 2),
        protocol=PROTOCOL,
        backend="brian2:cpp",
        options={"threads": 2},
        progress=False,
    )
    return wf, run_pipeline(wf, noises=(0.0,), k=10, figures=None)


def test_training_on_shapes_makes_the_last_layer_selective_for_the_contour_element(trained: tuple[Workflow, dict[str, Any]]) -> None:
    wf, summary = trained
    before, after = summary["selectivity"]["untrained_noise_0"], summary["selectivity"]["trained_noise_0"]
    chance = after["chance_top_k_bits"]
    assert summary["feature"] == "left" and summary["layer"] == 4
    # top-10 'left' selectivity of L4: above the untrained network's and above the label-shuffle chance by 2 s.d.
    assert after["top_k_mean_bits"] > before["top_k_mean_bits"] + chance["sd"], (before, after)
    assert after["top_k_mean_bits"] > chance["mean"] + 2 * chance["sd"], after
    assert json.loads((wf.out / "summary.json").read_text())["selectivity"] == summary["selectivity"]


def test_the_plastic_weights_move_towards_their_bounds(trained: tuple[Workflow, dict[str, Any]]) -> None:
    wf, _ = trained
    final = load(wf.checkpoint())
    plastic = [name for name, prj in wf.base_model.projections.items() if prj.synapse.type != "static"]
    assert len(plastic) == 11
    for name in plastic:
        lo, hi = nestml_bounds(final, name)
        drawn = bimodality(final.network[f"prj/{name}/weight"], lo, hi)
        now = bimodality(final.connections(name).weight, lo, hi)
        # the criterion (70 % within 10 % of a bound) is not met at this size (docs/binding.md); its
        # direction is: more weights near a bound and a larger Sarle's b than the drawn uniform weights
        assert now["frac_bounds"] > drawn["frac_bounds"] and now["coef"] > drawn["coef"], (name, drawn, now)
        assert np.isclose(drawn["coef"], 5 / 9, atol=0.01) and lo == 0.0
