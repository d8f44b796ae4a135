"""The bundled cortical microcircuit runs for real on NEST, scaled, with its layered figure.

Its cross-simulator comparison (nest against brian2:cpp over 9 seeds at scale 0.1) and the rates beside the
published ones are in docs/microcircuit.md; they take an hour here, so CI runs the smallest scale on NEST only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import spikebridge
from spikebridge.models import load_model

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
import _microcircuit as paper  # noqa: E402


def test_microcircuit_at_scale_0_01_on_nest(tmp_path: Path) -> None:
    model = load_model("microcircuit", ["scale=0.01"])
    res = spikebridge.run(model, "nest", tmp_path / "mc", progress=False)
    n, k = paper.scaled(0.01)
    assert res.meta["cells"] == n.sum() and res.meta["synapses"] == k.sum()
    assert res.meta["simulator_drawn_inputs"] == [f"background_{p}" for p in sorted(paper.POPULATIONS)]
    assert res.phases == ["warmup", "run"]
    rates = {p: float(np.mean(res.rates(p, "run"))) for p in paper.POPULATIONS}
    # every population active and none saturated: an asynchronous irregular state, not silence or epilepsy
    assert all(0.2 < r < 50.0 for r in rates.values()), rates
    assert rates["L6E"] < rates["L4E"] < rates["L5E"], rates  # the published order of the excitatory layers
    assert {p.name for p in (res.path / "figures").iterdir()} == {"summary.png", "summary.pdf"}
    # a static network is written once: connections.npz only flags every projection as drawn
    with np.load(res.path / "connections.npz") as archive:
        assert all(name.endswith("__drawn") for name in archive.files) and len(archive.files) == len(model.projections)
