"""A tiny end-to-end train -> test -> figures on NEST (2 images, 1 epoch, 2 repetitions: a few seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spikebridge import load
from spikebridge.stimuli import boundary_contour_shapes
from spikebridge.workflows.selectivity import Protocol, Workflow, WorkflowError
from spikebridge.workflows.selectivity.pipeline import run_pipeline


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workflow, dict[str, object]]:
    out = tmp_path_factory.mktemp("fs")
    wf = Workflow(
        out,
        dataset=boundary_contour_shapes(1, 2),
        protocol=Protocol(present_ms=60.0, gap_ms=20.0, epochs=1, reps=2),
        backend="nest",
        progress=False,
    )
    summary = run_pipeline(wf, noises=(0.0, 80.0), k=3, figures=out / "figures", offset=10.0)
    return wf, summary


@pytest.mark.slow
def test_records_have_the_documented_shape_and_reload(done: tuple[Workflow, dict[str, object]]) -> None:
    wf, _ = done
    rec = wf.load_test("trained", 0.0)
    assert rec.dims == ("img", "rep", "layer", "nrn_cls")
    assert rec.shape == (2, 2, 3, 2)
    assert list(rec["nrn_cls"].values) == ["EXC", "INH"]
    l0 = rec.sel(img=1, rep=0, layer=0, nrn_cls="EXC").item()
    assert l0.shape == (8, 16, 16) and len(l0.cells) > 0 and l0.times.max() < 60.0
    l1 = rec.sel(layer=1, nrn_cls="EXC")
    assert sum(len(r.cells) for r in l1.values.ravel()) > 0
    assert rec.attrs["state"] == "trained" and rec.attrs["checkpoint"].endswith("epoch_00")


@pytest.mark.slow
def test_both_states_see_the_same_input_and_weights_are_frozen_in_tests(done: tuple[Workflow, dict[str, object]]) -> None:
    wf, _ = done
    pre, post = wf.load_test("untrained", 0.0), wf.load_test("trained", 0.0)
    a, b = pre.sel(img=0, rep=1, layer=0, nrn_cls="EXC").item(), post.sel(img=0, rep=1, layer=0, nrn_cls="EXC").item()
    assert np.array_equal(a.times, b.times) and np.array_equal(a.cells, b.cells)
    noisy = wf.load_test("trained", 80.0).sel(img=0, rep=1, layer=0, nrn_cls="EXC").item()
    assert len(noisy.cells) > len(b.cells)  # noise adds edges, hence input spikes
    trained = load(wf.checkpoint())
    run = wf.test_run("trained", 0.0, rep=0)
    assert np.array_equal(run.connections("ff_01").weight, trained.connections("ff_01").weight)
    assert not np.array_equal(trained.connections("ff_01").weight, trained.network["prj/ff_01/weight"])  # training changed them
    (change,) = json.loads((wf.out / "summary.json").read_text())["weight_change"]  # one training run
    drawn, final = trained.network["prj/ff_01/weight"], trained.connections("ff_01").weight
    assert change["epochs"] == [0, 0]
    assert np.isclose(change["projections"]["ff_01"], np.linalg.norm(final - drawn) / np.linalg.norm(drawn))
    assert 0 < change["mean"] < 1


@pytest.mark.slow
def test_summary_and_figures(done: tuple[Workflow, dict[str, object]]) -> None:
    wf, summary = done
    saved = json.loads((wf.out / "summary.json").read_text())
    assert saved["k"] == 3 and set(saved["selectivity"]) == {f"{s}_noise_{n}" for s in ("untrained", "trained") for n in ("0", "80")}
    nrn = saved["figure_neuron"]["nrn"]
    names = {p.name for p in (wf.out / "figures").iterdir()}
    for stem in (
        "rates_hist_noise_0",
        "topographic_rates_noise_80",
        "input_rates_noise_0",
        f"selectivity_L2_{nrn}_noise_0",
        f"traceback_L2_{nrn}_noise_80",
    ):
        assert {f"{stem}.png", f"{stem}.pdf"} <= names
    # the seed's feature, a chance level beside every score, the neuron chosen on other repetitions than it is shown on
    assert saved["feature"] == "left"
    for score in saved["selectivity"].values():
        assert set(score["chance_top_k_bits"]) == {"mean", "sd"} and score["chance_top_k_bits"]["sd"] >= 0.0
    fn = saved["figure_neuron"]
    assert (fn["chosen_on_reps"], fn["shown_reps"]) == ([0], [1])
    assert set(fn["rates_hz"]["trained_noise_0"]) == {"positive", "negative"}


@pytest.mark.slow
def test_rerun_reuses_complete_runs(done: tuple[Workflow, dict[str, object]]) -> None:
    wf, _ = done
    before = (wf.epoch_dir(0) / "meta.json").stat().st_mtime_ns
    wf.train()
    assert (wf.epoch_dir(0) / "meta.json").stat().st_mtime_ns == before


def test_a_model_that_does_not_fit_the_encoder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkflowError, match=r"populations\.L0\.shape is \[8, 16, 16\]; the encoder and protocol make \[8, 12, 12\]"):
        Workflow(tmp_path, protocol=Protocol(image_size=12))


@pytest.mark.slow
def test_several_epochs_in_one_run_and_pooled_histograms_from_the_cli(
    done: tuple[Workflow, dict[str, object]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from spikebridge.cli.app import main
    from spikebridge.models.random import stream
    from spikebridge.workflows.selectivity.schedule import image_rates, presentation_schedule

    first, _ = done
    wf = Workflow(
        tmp_path / "wf",
        dataset=boundary_contour_shapes(1, 2),
        protocol=Protocol(present_ms=60.0, gap_ms=20.0, epochs=2, reps=1, epochs_per_run=2),
        backend="nest",
        progress=False,
    )
    (checkpoint,) = wf.train()
    assert checkpoint == wf.epoch_dir(1) and wf.checkpoint() == checkpoint and not wf.epoch_dir(0).exists()
    with pytest.raises(WorkflowError, match="epoch 0 ends no training run: checkpoints end epochs 1"):
        wf.checkpoint(0)
    assert main(["plot", "weights", str(wf.out), "--kind", "hist"]) == 2  # trained but not tested yet
    assert "without a trained or untrained test at noise 0" in capsys.readouterr().err
    run = load(checkpoint)
    assert run.meta["duration_ms"] == 2 * 2 * 80.0  # two epochs of two images in one run
    schedule = np.load(wf.out / "stimuli" / "train_epochs0-1.npz")
    order = np.concatenate([stream(wf.seed, "selectivity", "train_order", str(e)).permutation(2) for e in (0, 1)])
    _, windows, _ = presentation_schedule(image_rates(wf.dataset, wf.encoder, 16), order, 60.0, 20.0)
    np.testing.assert_array_equal(schedule["rates"], windows)  # each epoch's own order, one after the other
    wf.test("untrained", 0.0)
    wf.test("trained", 0.0)

    out = tmp_path / "fig" / "weights"
    code = main(["plot", "weights", str(first.out), str(wf.out), "--kind", "hist", "--normalise", "--ylim", "30,30", "--out", str(out)])
    assert code == 0 and capsys.readouterr().out.split() == [str(out) + ".png", str(out) + ".pdf"]
    assert out.with_suffix(".png").stat().st_size > 10_000
    assert main(["plot", "weights", str(first.out), str(wf.out), "--kind", "matrix"]) == 2
    assert "--kind hist" in capsys.readouterr().err
    # one workflow directory: its trained network, as any run directory
    assert main(["plot", "weights", str(wf.out), "--kind", "matrix", "--exc", "L2_exc", "--inh", "L2_inh"]) == 0
    assert capsys.readouterr().out.split()[0].endswith("test/trained/noise_0/rep_00/figures/weights_matrix.png")
    with pytest.raises(WorkflowError, match="feature 'shape' takes the values \\['0'\\]"):
        run_pipeline(wf, feature="shape")


@pytest.mark.slow
def test_seeds_from_the_cli_summarise_selectivity_and_pool_the_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from spikebridge.cli.app import main

    argv = ["selectivity", "--backend", "nest", "--shapes", "1", "--variants", "2", "--present", "60", "--gap", "20"]
    argv += ["--epochs", "1", "--reps", "2", "--noise", "0", "--k", "3", "--seeds", "3,4", "--out", str(tmp_path), "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    agg = json.loads((tmp_path / "summary_seeds.json").read_text())
    per_seed = [json.loads((tmp_path / f"seed_{s}" / "summary.json").read_text()) for s in (3, 4)]
    assert agg["seeds"] == [3, 4] == [s["seed"] for s in per_seed]
    values = [s["selectivity"]["trained_noise_0"]["top_k_mean_bits"] for s in per_seed]
    top = agg["selectivity"]["trained_noise_0"]["top_k_mean_bits"]
    assert top["values"] == values and top["mean"] == pytest.approx(np.mean(values)) and top["sd"] == pytest.approx(np.std(values, ddof=1))
    assert "over seeds [3, 4]" in printed
    assert (tmp_path / "figures" / "weights_hist.png").stat().st_size > 10_000
    assert (tmp_path / "seed_3" / "figures" / "input_rates_noise_0.png").is_file()


@pytest.mark.slow
def test_the_active_pairs_example_splits_every_plastic_projection(
    done: tuple[Workflow, dict[str, object]], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import runpy

    wf, _ = done
    example = Path(__file__).parents[2] / "examples" / "binding_active_pairs.py"
    monkeypatch.setattr("sys.argv", [str(example), str(wf.out), "--min-spikes", "1"])
    runpy.run_path(str(example), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("1 training runs, cells active with >= 1 spikes")
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert set(rows) == {"ff_01", "ff_12"}
    for values in rows.values():
        assert 0.0 <= float(values[0]) <= 1.0  # the share of active synapses
