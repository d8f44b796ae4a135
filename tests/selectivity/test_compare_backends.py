"""``spikebridge selectivity --compare-with``: two backends' trained networks of the same model and seeds, judged by
``spikebridge compare``'s measures (a tiny network on NEST and the Brian2 runtime, 1 epoch, 2 seeds)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from spikebridge.backends.brian2 import options as brian2_options
from spikebridge.cli.app import main
from spikebridge.workflows.selectivity.compare import compare_workflows
from spikebridge.workflows.selectivity.config import WorkflowError

TINY = ["--shapes", "1", "--variants", "2", "--present", "60", "--gap", "20", "--epochs", "1", "--reps", "1"]
TINY += ["--noise", "0", "--k", "3", "--seeds", "3,4", "--quiet"]


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("cmp")
    nest, brian2 = root / "nest", root / "brian2"
    assert main(["selectivity", "--backend", "nest", *TINY, "--out", str(nest)]) == 0
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
        euler = {
            cell: dataclasses.replace(m, method="euler") if m.method.startswith("gsl") else m for cell, m in brian2_options.MATCHED.items()
        }
        mp.setattr(brian2_options, "MATCHED", euler)  # as tests/conftest.py does for each test: no GSL compile
        code = main(["selectivity", "--backend", "brian2", *TINY, "--out", str(brian2), "--compare-with", str(nest)])
    assert code == 0
    return nest, brian2, printed.getvalue()


@pytest.mark.slow
def test_the_trained_networks_of_two_backends_are_judged_at_equal_seeds(both: tuple[Path, Path, str]) -> None:
    nest, brian2, printed = both
    report = brian2 / "compare"
    saved = json.loads((report / "comparison.json").read_text())
    assert saved["backends"] == ["nest", "brian2"] and saved["seeds"] == [3, 4]
    assert saved["verdict"] in ("pass", "fail", "inconclusive")
    assert f"brian2 against nest, trained networks at seeds [3, 4]: {saved['verdict']}" in printed
    assert (report / "report.md").is_file()
    # the last training runs: the same drawn network at each seed, each backend's own trained weights
    assert saved["same_network"] is True
    paths = [Path(p) for by_seed in saved["runs"].values() for p in by_seed.values()]
    assert len(paths) == 4 and {p.parent.name for p in paths} == {"train"}
    exact = pd.read_csv(report / "exact.csv")
    assert set(exact.target) == {"L1_exc", "L1_inh", "L2_exc", "L2_inh"} and (exact.r_cross > exact.r_baseline_max).all()
    verdicts = pd.read_csv(report / "verdicts.csv")
    assert {"ff_01", "ff_12"} <= set(verdicts.target)  # the trained weights of each plastic projection were measured


@pytest.mark.slow
def test_a_workflow_compared_with_itself_or_without_seeds_is_refused(
    both: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    nest, _, _ = both
    with pytest.raises(WorkflowError, match="both ran on nest: nothing to compare"):
        compare_workflows(nest, nest, [3, 4], nest / "compare")
    with pytest.raises(WorkflowError, match="seed_5: not found"):
        compare_workflows(nest, nest, [3, 5], nest / "compare")
    argv = ["selectivity", "--backend", "nest", "--compare-with", str(nest), "--out", str(nest / "x"), "--quiet"]
    assert main(argv) == 2
    assert "--compare-with needs --seeds" in capsys.readouterr().err
