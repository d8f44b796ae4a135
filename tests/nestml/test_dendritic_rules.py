"""The learning-rule comparison's NESTML models (issue 16): a NESTML synapse that reads a state variable of its
post-synaptic NESTML neuron through a continuous input port (a third factor: the dendritic state), on NEST and Brian2;
the neuron's other state variables recorded on both; a rule that reads what the post cell lacks refused in one line;
``spikebridge study rules --quick`` on both, judged across them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spikebridge.errors import ModelError
from spikebridge.models import nestml, validate

NEURON = nestml.DENDRITIC_NEURON.read_text()
W0 = 2.0
ETA = 0.001


def gated(delay: float = 0.1, post_type: str = "dend", rule: str = "lds") -> dict[str, Any]:
    """20 Poisson inputs onto 3 dendritic cells through ``rule``; 5 top-down inputs at 10 Hz, 40 Hz while the gate is
    open (500-1000 ms), 10 Hz after: the cells' dendritic state d is the top-down rise while the gate is open."""
    post: dict[str, Any] = {"cell_type": post_type, "size": 3}
    if post_type == "dend":
        post["parameters"] = {"I_e": 300.0}
    gate = [[0, i, 1.0] for i in range(3)] + [[1, i, -1.0] for i in range(3)]
    return {
        "name": "post_state_reads",
        "models": {"dend": {"text": NEURON}},
        "populations": {
            "src": {"cell_type": "SpikeSourcePoisson", "size": 20, "parameters": {"rate": 20.0}},
            "td": {"cell_type": "SpikeSourceArray", "size": 5},
            "gate": {"cell_type": "SpikeSourceArray", "size": 2},
            "post": post,
        },
        "stimuli": {
            "td": {
                "kind": "poisson",
                "target": "td",
                "windows": [
                    {"start": 0, "stop": 500, "rate": 10},
                    {"start": 500, "stop": 1000, "rate": 40},
                    {"start": 1000, "stop": 1500, "rate": 10},
                ],
            },
            "gate": {"kind": "spike_array", "target": "gate", "spike_times": [[500.0], [1000.0]]},
        },
        "projections": {
            "ff": {
                "pre": "src",
                "post": "post",
                "connector": {"rule": "all_to_all"},
                "weight": W0,
                "delay": delay,
                "synapse": {"type": rule, "parameters": {"eta": ETA, "w_max": 100.0}},
            },
            "td": {"pre": "td", "post": "post", "port": "top_down", "connector": {"rule": "all_to_all"}, "weight": 1.0, "delay": delay},
            "gate": {
                "pre": "gate",
                "post": "post",
                "port": "gate_spikes",
                "connector": {"rule": "from_list", "connections": gate},
                "weight": 1.0,
                "delay": delay,
            },
        },
        "recording": {"post": {"variables": ["spikes", "d", "gate"], "sampling_interval": 1.0}},
        "simulation": {"dt": 0.1, "duration": 1500.0, "seed": 5},
    }


def test_a_rule_reads_the_post_cells_dendritic_state_the_same_on_nest_and_brian2() -> None:
    """The LDS rule adds eta * d at each pre spike. With every delay one step (NEST's min-delay), NEST reads d in the
    step the pre spike arrives, as Brian2 does: the weights agree to rounding. The gate opens and closes on both."""
    from spikebridge import backends
    from spikebridge.models import instantiate

    net = instantiate(validate(gated()))
    weights, signals = {}, {}
    for name in ("nest", "brian2"):
        sim = backends.create(name)
        sim.build(net)
        sim.run(net.phases[0])
        weights[name] = sim.connections("ff").weight
        signals[name] = {s.name: np.asarray(s.magnitude) for s in sim.recordings().segments[0].analogsignals}
        sim.end()
    change = weights["nest"] - W0
    assert np.all(change > 0.1), "d > 0 while the gate is open: every input potentiated"
    np.testing.assert_allclose(weights["brian2"], weights["nest"], rtol=0.0, atol=1e-9 * np.abs(change).max())
    for name, sig in signals.items():
        assert sig["d"].shape == (1500, 3) and sig["gate"].shape == (1500, 3), name
        closed = np.r_[0:490, 1010:1500]  # samples (1 ms) away from the gate's two spikes
        assert np.all(sig["gate"][closed] == (np.arange(1500)[closed, None] > 500) * (np.arange(1500)[closed, None] < 1000)), name
        assert np.all(sig["d"][closed][sig["gate"][closed] == 0] == 0.0), f"{name}: d is 0 while the gate is closed"
        assert sig["d"][600:1000].mean() > 50.0, f"{name}: the top-down rate rose by 30 Hz x 5 inputs"
    # a sample stamped t is the state at t on both (1 ms sampling: Brian2 samples at the start of that step)
    for var in ("d", "gate"):
        np.testing.assert_allclose(signals["brian2"][var], signals["nest"][var], rtol=1e-9, atol=1e-9, err_msg=var)


def test_nest_reads_a_post_state_at_the_start_of_the_slice_that_delivers_the_spike() -> None:
    """With 1 ms delays NEST delivers a spike at the start of a 1 ms slice and reads d there, up to 0.9 ms before the
    spike arrives; Brian2 reads it on arrival. The rule still changes every weight the same way within a few %."""
    from spikebridge import backends
    from spikebridge.models import instantiate

    def nest_weights(delay: float) -> np.ndarray:
        net = instantiate(validate(gated(delay=delay)))
        sim = backends.create("nest")
        sim.build(net)
        sim.run(net.phases[0])
        weights = sim.connections("ff").weight
        sim.end()
        return weights

    slow, exact = nest_weights(1.0), nest_weights(0.1)
    assert not np.allclose(slow, exact, rtol=0.0, atol=1e-12), "read at another time"
    assert np.linalg.norm(slow - exact) < 0.1 * np.linalg.norm(exact - W0)


def test_a_rule_reading_a_state_the_post_cell_lacks_is_refused_in_one_line() -> None:
    with pytest.raises(ModelError) as err:
        validate(gated(post_type="IF_cond_exp") | {"recording": {}})
    text = str(err.value)
    assert "projections.ff.synapse.type" in text and "lds_synapse reads the post cell's state variable(s) d" in text
    assert "\n" not in text


def test_a_nestml_population_records_its_state_variables_by_their_nestml_names() -> None:
    doc = gated()
    doc["recording"] = {"post": {"variables": ["spikes", "v", "d", "theta", "u"]}}
    validate(doc)
    doc["recording"] = {"post": {"variables": ["w"]}}
    with pytest.raises(ModelError, match=r"'w' cannot be recorded from a dend \(expected one of: spikes, v, refr_t, u, y, b"):
        validate(doc)


@pytest.mark.compile
def test_the_quick_rule_study_writes_every_output_with_its_shape_and_judges_the_two_simulators(tmp_path: Path) -> None:
    """``spikebridge study rules --quick`` on NEST and Brian2 (backprop and LDS; two seeds with two backends): run
    directories, measures, curves, table, figure, and the comparison across simulators (compare's judgement of the runs
    at equal seeds and the accuracies side by side), which the same drawn networks pass; a second call reruns nothing."""
    import json
    import shutil

    import pandas as pd

    from spikebridge.cli import app
    from spikebridge.workflows.rule_study import study

    argv = ["study", "rules", "--quick", "--rules", "backprop,lds", "--backends", "nest,brian2", "--out", str(tmp_path), "--quiet"]
    assert app.main(argv) == 0
    config = study.QUICK
    blocks = config.n_chunks + 1
    seed_dirs = [tmp_path / "runs" / "lds" / b / f"seed{s}" for b in ("nest", "brian2") for s in (1, 2)]
    for folder in seed_dirs:
        measures = json.loads((folder / "measures.json").read_text())
        assert len(measures["accuracy"]) == len(measures["samples"]) == blocks
        assert len(measures["angle"]) == len(measures["dendritic_state"]) == config.n_chunks
        assert all(0.0 <= a <= 1.0 for a in measures["accuracy"])
        assert all(d > 0 for d in measures["dendritic_state"]), f"{folder}: hidden cells' d recorded while nudged"
        assert (folder / "run" / "meta.json").is_file() and (folder / "run" / "weights.parquet").is_file()
    curves = pd.read_csv(tmp_path / "curves.csv")
    assert set(curves["rule"]) == {"backprop", "lds"} and len(curves) == (2 + 2 * 2) * blocks
    table = pd.read_csv(tmp_path / "table.csv")
    assert list(zip(table["rule"], table["backend"], strict=True)) == [("backprop", "numpy"), ("lds", "nest"), ("lds", "brian2")]
    assert {"accuracy_mean", "accuracy_sd", "dendritic_state", "angle_last_quarter", "seeds"} <= set(table.columns)
    assert table.loc[1, "dendritic_state"] == pytest.approx(table.loc[2, "dendritic_state"], rel=1e-6), "d sampled at the same times"
    for suffix in ("png", "pdf"):
        assert (tmp_path / "figures" / f"rule_study.{suffix}").stat().st_size > 10_000
    across = pd.read_csv(tmp_path / "compare.csv")
    assert len(across) == 1 and across.loc[0, "rule"] == "lds" and across.loc[0, "other"] == "brian2" and across.loc[0, "seeds"] == 2
    assert across.loc[0, "compare_verdict"] == "pass" and across.loc[0, "accuracy_verdict"] == "pass", across.T
    # measured: the two simulators' runs are identical here (angle 0, d equal to the last digit)
    assert across.loc[0, "angle_ff_hidden_deg"] < 1.0 and across.loc[0, "discordant"] == 0, "the same weights and answers"
    assert not across.loc[0, "too_few_seeds"] or across.loc[0, "compare_verdict"] == "pass"
    report = (tmp_path / "compare" / "lds" / "report.md").read_text()
    assert "PASS" in report and not re.search(r"\d nA", report), "weights onto NESTML cells carry the model's own numbers, not nA"
    stamp = (seed_dirs[0] / "measures.json").stat().st_mtime_ns
    assert app.main(argv) == 0
    assert (seed_dirs[0] / "measures.json").stat().st_mtime_ns == stamp, "resumed: nothing rerun"
    # carried to another machine as git keeps it (.gitignore): measures and judged rows, no run directories
    ignored = (tmp_path / ".gitignore").read_text().split()
    for folder in seed_dirs:
        for name in ("run", "inputs", "protocol.npz"):
            assert f"runs/*/*/*/{name}" + ("/" if name != "protocol.npz" else "") in ignored
            shutil.rmtree(folder / name) if (folder / name).is_dir() else (folder / name).unlink()
    assert app.main(argv) == 0
    assert (seed_dirs[0] / "measures.json").stat().st_mtime_ns == stamp, "resumed from the measures alone"
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "compare.csv"), across)
    from dataclasses import replace

    from spikebridge.workflows.rule_study import agreement

    plan = study.StudyPlan(("lds",), (1, 2), ("nest", "brian2"), config, tmp_path)
    assert agreement.kept_rows(plan, "lds") and not agreement.kept_rows(replace(plan, config=replace(config, kappa=0.2)), "lds")


def test_a_study_with_an_unknown_rule_exits_2_naming_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "spikebridge.cli", "study", "rules", "--rules", "lds,oja", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "unknown rule(s) oja" in done.stderr and "Traceback" not in done.stderr
