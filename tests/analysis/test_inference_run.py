"""Weight inference on a real run directory: the bundled ``weight_inference`` model, 20 s on NEST.

One simulation for the module (about 15-20 s on two cores); each method then
takes well under a second on its recordings.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import spikebridge
from spikebridge.analysis.inference import InferenceInputError
from spikebridge.workflows.inference import (
    METHODS,
    InferenceData,
    InferenceOutcome,
    best_parameters,
    final_scores,
    format_final,
    grid_search,
    infer_run,
    inference_data,
    parse_parameters,
    run_inference,
    write_outcome,
)

pytestmark = pytest.mark.slow  # every test reads the module's 20 s NEST run

DURATION = 20_000.0  # ms
NOISE = (0.0, 0.2)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> spikebridge.Results:
    model = spikebridge.load_model("weight_inference", [f"simulation.duration={DURATION}"])
    return spikebridge.run(model, "nest", tmp_path_factory.mktemp("wi") / "run", progress=False)


@pytest.fixture(scope="module")
def data(run: spikebridge.Results) -> InferenceData:
    return inference_data(run)


@pytest.fixture(scope="module")
def outcome(data: InferenceData) -> InferenceOutcome:
    return infer_run(data, noise_levels=NOISE, seed=1)


def test_data_come_from_the_run(run: spikebridge.Results, data: InferenceData) -> None:
    assert (len(data.pre), len(data.post)) == (100, 10)
    assert data.t_stop == DURATION and data.dt == 0.25 and data.v_dt == 0.25
    # neuron parameters of the inputs and the stimulus period are the model's
    assert (data.v_thresh, data.v_reset, data.tau_m) == (-55.0, -70.0, 10.0)
    assert data.stim_window == 100.0
    assert data.v_pre is not None and data.v_pre.shape[1] == 100
    assert data.v_pre.shape[0] in (80_000, 80_001)
    # W_true is the drawn matrix, (post, pre)
    net = run.network
    w = np.zeros((10, 100))
    w[net["prj/inputs_outputs/post_idx"], net["prj/inputs_outputs/pre_idx"]] = net["prj/inputs_outputs/weight"]
    np.testing.assert_allclose(data.w_true, w, rtol=1e-12)
    assert 0.2 < (data.w_true < 0).mean() < 0.45
    assert sum(t.size for t in data.pre) == run.spikes("inputs")[0].size
    assert all(t.size == 0 or (t[0] >= 0 and t[-1] <= DURATION and np.all(np.diff(t) >= 0)) for t in data.post)


def test_scores_table(outcome: InferenceOutcome) -> None:
    s = outcome.scores
    assert list(s.columns) == ["method", "noise", "time", "pearson", "sign_alignment"]
    # check points every second, for every method and noise level
    assert len(s) == len(METHODS) * len(NOISE) * int(DURATION / 1000.0)
    assert set(s["method"]) == set(METHODS) and set(s["noise"]) == set(NOISE)
    for _, part in s.groupby(["method", "noise"]):
        np.testing.assert_allclose(part["time"], np.arange(1, 21) * 1000.0)
    assert s["pearson"].between(-1, 1).all() and s["sign_alignment"].between(0, 1).all()
    assert set(outcome.estimates) == {(m, n) for m in METHODS for n in NOISE}
    assert all(e.sizes == {"time": 20, "post": 10, "pre": 100} for e in outcome.estimates.values())
    assert outcome.parameters["akrout"]["window"] == 100.0  # from the model's stimulus
    final = final_scores(outcome)
    assert len(final) == len(METHODS) * len(NOISE) and (final["time"] == DURATION).all()
    assert (final["seconds"] > 0).all()


def test_methods_recover_the_weights(outcome: InferenceOutcome) -> None:
    final = final_scores(outcome).set_index(["method", "noise"])
    # measured at 20 s (NEST, model seed 2021): r / sign alignment STDWI 0.866 / 0.845,
    # Akrout 0.734 / 0.750, RDD 0.772 / 0.802
    assert final.loc[("stdwi", 0.0), "pearson"] > 0.75
    assert final.loc[("stdwi", 0.0), "sign_alignment"] > 0.75
    assert final.loc[("akrout", 0.0), "pearson"] > 0.55
    assert final.loc[("rdd", 0.0), "pearson"] > 0.55
    assert (final.xs(0.0, level="noise")["sign_alignment"] > 0.65).all()
    # estimates get better with more data
    s = outcome.scores
    for method in METHODS:
        r = s[(s["method"] == method) & (s["noise"] == 0.0)]["pearson"].to_numpy()
        assert r[-1] > r[1] + 0.1, method


def test_noise_does_not_help(outcome: InferenceOutcome) -> None:
    final = final_scores(outcome).set_index(["method", "noise"])["pearson"]
    # 20 % of spikes replaced costs STDWI a few hundredths of r (0.866 -> 0.823 measured)
    assert final[("stdwi", 0.2)] < final[("stdwi", 0.0)] + 0.01
    assert final[("stdwi", 0.2)] > 0.6


def test_noise_is_seeded(data: InferenceData, outcome: InferenceOutcome) -> None:
    again = infer_run(data, ["stdwi"], noise_levels=(0.2,), seed=1)
    ref = outcome.scores[(outcome.scores["method"] == "stdwi") & (outcome.scores["noise"] == 0.2)]
    np.testing.assert_array_equal(again.scores["pearson"].to_numpy(), ref["pearson"].to_numpy())
    other = infer_run(data, ["stdwi"], noise_levels=(0.2,), seed=2)
    assert not np.array_equal(other.scores["pearson"].to_numpy(), ref["pearson"].to_numpy())


def test_outcome_is_written(run: spikebridge.Results, outcome: InferenceOutcome) -> None:
    written = write_outcome(outcome, run)
    out = run.path / "inference"
    names = {p.name for p in written}
    for stem in ("scatter", "over_time", "noise", "over_time_by_noise"):
        for suffix in ("png", "pdf"):
            assert f"{stem}.{suffix}" in names
            assert (out / f"{stem}.{suffix}").stat().st_size > 5_000
    assert {"scores.csv", "final.csv", "inference.json"} <= names
    back = pd.read_csv(out / "scores.csv")
    assert list(back.columns) == list(outcome.scores.columns)
    np.testing.assert_allclose(back["pearson"], outcome.scores["pearson"], rtol=1e-5)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_infer_from_a_path_with_parameters(run: spikebridge.Results, tmp_path: Path) -> None:
    params = parse_parameters(["stdwi.tau_slow=100", "akrout.batch=100"])
    assert params == {"stdwi": {"tau_slow": 100}, "akrout": {"batch": 100}}
    got = infer_run(run.path, ["akrout", "stdwi"], params=params, check_every=5000.0)
    assert got.parameters["stdwi"]["tau_slow"] == 100 and got.parameters["akrout"]["batch"] == 100
    assert '"tau_slow": 100' in got.estimates[("stdwi", 0.0)].attrs["parameters"]
    assert sorted(got.scores["time"].unique()) == [5000.0, 10000.0, 15000.0, 20000.0]
    written = write_outcome(got, out_dir=tmp_path / "inf")
    assert (tmp_path / "inf" / "scatter.png") in written
    assert not (tmp_path / "inf" / "noise.png").exists()  # one noise level: no noise figure


def test_run_inference_is_what_the_command_does(run: spikebridge.Results, tmp_path: Path) -> None:
    outcome, written = run_inference(str(run.path), ["akrout", "stdwi"], noise_percent=(0, 20),
                                     out_dir=tmp_path, check_every=10_000.0)
    assert set(outcome.scores["noise"]) == {0.0, 0.2}
    assert tmp_path / "scores.csv" in written and tmp_path / "noise.png" in written
    text = format_final(outcome)
    assert text.split("\n")[0].split() == ["method", "noise", "time_s", "r", "sign", "seconds"]
    assert "20 %" in text and "stdwi" in text
    with pytest.raises(InferenceInputError, match="percentages"):
        run_inference(run.path, ["akrout"], noise_percent=(150,), out_dir=tmp_path)


def test_grid_search_picks_a_best_variant(data: InferenceData) -> None:
    grid = {"stdwi": [{"tau_slow": 100.0}, {"tau_slow": 200.0}], "akrout": [{"batch": 10}]}
    table = grid_search(data, grid, check_every=5000.0)
    assert list(table["method"]) == ["stdwi", "stdwi", "akrout"]
    best = best_parameters(table)
    assert best["akrout"] == {"batch": 10}
    stdwi = table[table["method"] == "stdwi"].sort_values("pearson")
    assert best["stdwi"] == json.loads(stdwi["parameters"].iloc[-1])


def test_refusals(run: spikebridge.Results) -> None:
    no_v = inference_data(run, with_v=False)
    with pytest.raises(InferenceInputError, match="membrane potential"):
        infer_run(no_v, ["rdd"])
    with pytest.raises(InferenceInputError, match="membrane potential 'v' of 'outputs' was not recorded"):
        inference_data(run, pre="outputs", post="outputs", projection=[])
    with pytest.raises(InferenceInputError, match=r"fraction in \[0, 1\]"):
        infer_run(no_v, ["stdwi"], noise_levels=(5,))
    with pytest.raises(InferenceInputError, match="unknown method"):
        infer_run(no_v, ["stdp"])
    with pytest.raises(InferenceInputError, match="no projection 'nope'"):
        inference_data(run, projection="nope")
    with pytest.raises(InferenceInputError, match="goes from 'stim' to 'inputs'"):
        inference_data(run, projection="stim_inputs", with_v=False)
    with pytest.raises(InferenceInputError, match="METHOD.NAME=VALUE"):
        parse_parameters(["tau_slow=100"])


@pytest.mark.slow
@pytest.mark.compile
def test_inference_runs_end_to_end_on_brian2_recordings(tmp_path: Path) -> None:
    import spikebridge
    from spikebridge.workflows.inference import infer_run

    model = spikebridge.load_model("weight_inference", ["simulation.duration=20000"])
    res = spikebridge.run(model, "brian2:cpp", tmp_path / "b2", progress=False, figure=False)
    outcome = infer_run(res, ("akrout", "rdd", "stdwi"))
    final = outcome.scores[outcome.scores["time"] == outcome.scores["time"].max()].set_index("method")
    assert final.loc["stdwi", "pearson"] > 0.75
    assert final.loc["akrout", "pearson"] > 0.55 and final.loc["rdd", "pearson"] > 0.55
