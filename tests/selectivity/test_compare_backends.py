"""``spikebridge selectivity --compare-with`` (:func:`~spikebridge.workflows.selectivity.compare.compare_workflows`):
two backends' trained networks of the same model and seeds, judged by ``spikebridge compare``'s measures (a tiny
network trained for two epochs, one run each, on NEST and the Brian2 runtime, 2 seeds)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd
import pytest

from spikebridge.backends.brian2 import options as brian2_options
from spikebridge.cli.app import main
from spikebridge.stimuli import boundary_contour_shapes
from spikebridge.workflows.selectivity import Protocol, Workflow
from spikebridge.workflows.selectivity.compare import compare_workflows
from spikebridge.workflows.selectivity.config import WorkflowError

SEEDS = (3, 4)


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two seeds of a tiny network trained for two epochs (two runs, the second from the first's checkpoint) on
    NEST and on the Brian2 runtime (training only)."""
    root = tmp_path_factory.mktemp("cmp")
    with pytest.MonkeyPatch.context() as mp:
        matched = brian2_options.MATCHED.items()
        euler = {cell: dataclasses.replace(m, method="euler") if m.method.startswith("gsl") else m for cell, m in matched}
        mp.setattr(brian2_options, "MATCHED", euler)  # as tests/conftest.py does for each test: no GSL compile
        for backend in ("nest", "brian2"):
            for seed in SEEDS:
                Workflow(
                    root / backend / f"seed_{seed}",
                    overrides=(f"simulation.seed={seed}",),
                    dataset=boundary_contour_shapes(1, 2),
                    protocol=Protocol(present_ms=60.0, gap_ms=20.0, epochs=2, reps=1, epochs_per_run=1),
                    backend=backend,
                    progress=False,
                ).train()
    return root / "nest", root / "brian2"


@pytest.mark.slow
def test_the_trained_networks_of_two_backends_are_judged_at_equal_seeds(both: tuple[Path, Path]) -> None:
    nest, brian2 = both
    report = brian2 / "compare"
    cmp = compare_workflows(nest, brian2, SEEDS, report)
    saved = json.loads((report / "comparison.json").read_text())
    assert saved["backends"] == ["nest", "brian2"] == cmp.backends and saved["seeds"] == list(SEEDS)
    assert saved["verdict"] == cmp.verdict and (report / "report.md").is_file()
    # the last training runs went on from each backend's own checkpoint: the same drawn network at each seed, each
    # backend's own trained weights
    assert saved["same_network"] is True and cmp.restored
    paths = [Path(p) for by_seed in saved["runs"].values() for p in by_seed.values()]
    assert len(paths) == 4 and {p.parent.name for p in paths} == {"train"} and {p.name for p in paths} == {"epoch_01"}
    assert "runs that went on from a checkpoint" in (report / "report.md").read_text()
    exact = pd.read_csv(report / "exact.csv")
    assert set(exact.target) == {"L1_exc", "L1_inh", "L2_exc", "L2_inh"} and (exact.r_cross > exact.r_baseline_max).all()
    verdicts = pd.read_csv(report / "verdicts.csv")
    assert {"ff_01", "ff_12"} <= set(verdicts.target)  # the trained weights of each plastic projection were measured


@pytest.mark.slow
def test_a_workflow_compared_with_itself_or_without_seeds_is_refused(both: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    nest, _ = both
    with pytest.raises(WorkflowError, match="both ran on nest: nothing to compare"):
        compare_workflows(nest, nest, SEEDS, nest / "compare")
    with pytest.raises(WorkflowError, match="seed_5: not found"):
        compare_workflows(nest, nest, [3, 5], nest / "compare")
    argv = ["selectivity", "--backend", "nest", "--compare-with", str(nest), "--out", str(nest / "x"), "--quiet"]
    assert main(argv) == 2
    assert "--compare-with needs --seeds" in capsys.readouterr().err


@pytest.mark.slow
def test_the_weights_example_reads_both_backends_synapse_by_synapse(
    both: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import runpy

    nest, brian2 = both
    example = Path(__file__).parents[2] / "examples" / "binding_weights_across_backends.py"
    monkeypatch.setattr("sys.argv", [str(example), str(nest), str(brian2), "--seeds", ",".join(map(str, SEEDS))])
    runpy.run_path(str(example), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if line.startswith("seed")] == [f"seed {s}" for s in SEEDS]
    assert "rms_change_nest" in lines[1] and "rms_change_brian2" in lines[1]
    rows = [line.split() for line in lines if line.startswith(("ff_01", "ff_12"))]
    assert len(rows) == 2 * len(SEEDS)
    for _, synapses, r_weight, r_change, rms_nest, rms_brian2 in rows:
        # the same drawn synapses, both trained two epochs from them: the weights agree closely, both moved
        assert int(synapses) > 0 and float(r_weight) > 0.9 and -1.0 <= float(r_change) <= 1.0
        assert float(rms_nest) > 0 and float(rms_brian2) > 0
    monkeypatch.setattr("sys.argv", [str(example), str(nest), str(nest.parent / "missing"), "--seeds", str(SEEDS[0])])
    with pytest.raises(WorkflowError, match="missing/seed_3: no complete training run"):
        runpy.run_path(str(example), run_name="__main__")
