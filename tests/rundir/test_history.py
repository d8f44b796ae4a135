"""Run directories stay readable and replaceable after the fact: runs made under older rules, and files that
spikebridge itself adds later (``plot``, ``infer``) as opposed to a user's own files."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

import spikebridge
from spikebridge.cli import main
from spikebridge.errors import ModelError, RunDirectoryError
from spikebridge.models import validate
from spikebridge.rundir import MODEL
from spikebridge.rundir.checksums import digest_files
from spikebridge.rundir.guard import check_target

from .conftest import copy_run, snapshot


def _reseal(run: Path) -> None:
    """Record the directory's current bytes in meta.json, as the writer would have."""
    meta = json.loads((run / "meta.json").read_text())
    (run / "meta.json").write_text(json.dumps({**meta, "sha256": digest_files(run)}))


def test_a_run_stored_under_older_rules_still_loads(old_run: spikebridge.Results, tmp_path: Path) -> None:
    """An older spikebridge raised delays below dt to dt; today such a model is refused, but its run is history."""
    run = copy_run(old_run.path, tmp_path / "old")
    text = (run / MODEL).read_text()
    older, n = re.subn(r"(?m)(\[projections\.E_E\.delay\]\ndistribution = \"constant\"\nvalue = )\S+$", r"\g<1>0.05", text)
    assert n == 1
    (run / MODEL).write_text(older)
    _reseal(run)
    with pytest.raises(ModelError, match="delay"):
        validate(tomllib.loads(older), str(run / MODEL))  # today's rules refuse it
    res = spikebridge.load(run)
    assert res.model.projections["E_E"].delay.value == 0.05


def test_overwrite_keeps_a_users_file_inside_figures(
    old_run: spikebridge.Results, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = copy_run(old_run.path, tmp_path / "run")
    (run / "figures" / "fig3_for_paper.svg").write_text("<svg/>")
    before = snapshot(run)
    with pytest.raises(RunDirectoryError, match="fig3_for_paper.svg"):
        check_target(run, True)
    code = main(["run", "ei_weight_matrix", "--set", "simulation.duration=20", "--out", str(run), "--overwrite", "--quiet", "--no-figure"])
    assert code == 2 and "figures/fig3_for_paper.svg" in capsys.readouterr().err
    assert snapshot(run) == before


def test_figures_that_spikebridge_plot_added_do_not_block_overwrite(old_run: spikebridge.Results, tmp_path: Path) -> None:
    run = copy_run(old_run.path, tmp_path / "run")
    assert main(["plot", "weights", str(run), "--kind", "matrix"]) == 0
    assert (run / "figures" / "weights_matrix.png").is_file()
    check_target(run, True)  # no error: everything below figures/ was written by spikebridge
    spikebridge.load(run)  # later outputs do not make the run corrupt
