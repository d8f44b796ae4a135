"""One reuse criterion (rundir.reuse): a run directory is reused only if it holds the very run that would be made.

Runs are tiny (ei_weight_matrix for 20 ms, or a 12-cell model with a connection file) on NEST, in this process.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from spikebridge.errors import CorruptRunError
from spikebridge.models import instantiate, load_model
from spikebridge.models.schema import Model
from spikebridge.rundir import FORMAT, Results, load, matches, reusable
from spikebridge.rundir.reuse import IDENTITY, mismatch
from spikebridge.workflows.run import run

SETS = ["simulation.duration=20"]

MODEL_WITH_FILE = """\
name = "filed"

[populations.src]
cell_type = "SpikeSourcePoisson"
size = 6
parameters = { rate = 50.0 }

[populations.post]
cell_type = "IF_cond_exp"
size = 6

[projections.src_post]
pre = "src"
post = "post"
receptor = "excitatory"
weight = 0.01
delay = 1.0
connector = { rule = "from_file", file = "data/conn.npy" }

[recording.post]
variables = ["spikes"]

[simulation]
duration = 20.0
backend = "nest"
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Model, Results]:
    """ei_weight_matrix for 20 ms on NEST, and the run it made."""
    model = load_model("ei_weight_matrix", SETS)
    return model, run(model, "nest", tmp_path_factory.mktemp("reuse") / "run", progress=False, figure=False)


def _filed(folder: Path, weights: float = 1.0) -> Path:
    """A model file in ``folder`` whose projection reads ``data/conn.npy`` (relative to that folder)."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    np.save(folder / "data" / "conn.npy", np.array([[i, i, 0.01 * weights, 1.0] for i in range(6)]))
    (folder / "filed.toml").write_text(MODEL_WITH_FILE)
    return folder / "filed.toml"


def test_a_run_matches_what_made_it_and_records_its_identity(made: tuple[Model, Results]) -> None:
    model, results = made
    assert set(IDENTITY) <= set(results.meta) and results.meta["format"] == FORMAT
    assert results.meta["backend"] == "nest" and results.meta["backend_options"] == {}
    assert matches(results, model, "nest")
    assert matches(results, model)  # the model's backend is nest
    assert matches(results, load_model("ei_weight_matrix", SETS), "nest", {})
    assert reusable(results.path, model, "nest") is not None


@pytest.mark.parametrize(
    ("sets", "backend", "options", "differs"),
    [
        (["simulation.duration=30"], "nest", None, "model_sha256"),
        (["simulation.seed=7"], "nest", None, "model_sha256"),
        ([], "nest", {"threads": 2}, "backend_options"),
        ([], "brian2", None, "backend"),
    ],
)
def test_a_run_made_otherwise_does_not_match(
    made: tuple[Model, Results], sets: list[str], backend: str, options: dict[str, int] | None, differs: str
) -> None:
    _, results = made
    other = load_model("ei_weight_matrix", [*SETS, *sets])
    why = mismatch(results, other, backend, options)
    assert why is not None and why.startswith(f"its {differs} is "), why
    assert not matches(results, other, backend, options)
    assert reusable(results.path, other, backend, options) is None


def test_only_a_verified_complete_run_of_this_format_matches(made: tuple[Model, Results], tmp_path: Path) -> None:
    model, results = made
    assert not matches(Results(results.path), model, "nest")  # not opened by load(): nothing verified
    copy = Path(shutil.copytree(results.path, tmp_path / "copy"))
    assert reusable(copy, model, "nest") is not None
    meta = json.loads((copy / "meta.json").read_text())
    (copy / "meta.json").write_text(json.dumps({**meta, "format": FORMAT + 1}))
    assert "its format is" in str(mismatch(load(copy), model, "nest"))
    (copy / "meta.json").write_text(json.dumps({**meta, "complete": False}))
    assert reusable(copy, model, "nest") is None
    (copy / "meta.json").write_text(json.dumps(meta))
    with open(copy / "network.npz", "ab") as fh:
        fh.write(b"x")
    with pytest.raises(CorruptRunError, match="network.npz"):
        reusable(copy, model, "nest")  # damage is the caller's to decide about, never a silent rerun
    assert reusable(tmp_path / "absent", model, "nest") is None


def test_a_changed_data_file_or_restored_checkpoint_does_not_match(made: tuple[Model, Results], tmp_path: Path) -> None:
    model_file = _filed(tmp_path / "model")
    model = load_model(model_file)
    results = run(model, "nest", tmp_path / "filed", progress=False, figure=False)  # base: model.source_folder
    assert list(results.meta["files_sha256"]) == ["projections.src_post.connector.file"]
    assert matches(results, model, "nest")
    _filed(tmp_path / "model", weights=2.0)  # same model text, other connection file
    assert "its files_sha256 is" in str(mismatch(results, model, "nest"))
    np.save(tmp_path / "model" / "data" / "conn.npy", np.array([[i, i, 0.01, 1.0] for i in range(6)]))
    assert matches(results, model, "nest")  # the same bytes again
    ei, checkpoint = made
    restored = run(ei, "nest", tmp_path / "restored", progress=False, figure=False, restore=checkpoint.path)
    assert restored.meta["restored_sha256"] == checkpoint.meta["sha256"]["connections.npz"]
    assert matches(restored, ei, "nest", restore=checkpoint.path) and matches(restored, ei, "nest", restore=checkpoint)
    assert "its restored_sha256 is" in str(mismatch(restored, ei, "nest"))
    assert not matches(checkpoint, ei, "nest", restore=checkpoint.path)


def test_model_remembers_its_source_folder_through_a_run_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model_file = _filed(tmp_path / "model")
    monkeypatch.chdir(tmp_path / "model")
    model = load_model("filed.toml")  # a relative path: the folder is remembered absolute
    assert model.source_folder == tmp_path / "model"
    assert load_model("ei_weight_matrix").source_folder is not None
    assert Model.model_validate(model.model_dump()).source_folder is None  # built in Python
    monkeypatch.chdir(tmp_path)
    results = run(model, "nest", tmp_path / "run", progress=False, figure=False)
    assert results.meta["model_folder"] == str(tmp_path / "model")
    again = load(results.path).model
    assert again.source_folder == tmp_path / "model" and Results(results.path).model.source_folder == tmp_path / "model"
    # the stored model still finds its relative connection file, from any working directory
    os.chdir(tmp_path / "run")
    drawn = instantiate(again, again.source_folder)
    assert drawn.digest() == results.meta["network_sha256"]
    assert np.array_equal(drawn.projections["src_post"].weight, np.full(6, 0.01))
    assert model_file.is_file()
