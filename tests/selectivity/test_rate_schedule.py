"""The ``rate_schedule`` stimulus: per-window Poisson rates from an .npz, drawn once in numpy."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spikebridge.errors import ModelError
from spikebridge.models import instantiate, rate_schedule, validate

RAW: dict[str, Any] = {
    "name": "sched",
    "populations": {"src": {"cell_type": "SpikeSourceArray", "size": 3}, "exc": {"cell_type": "IF_cond_exp", "size": 2}},
    "stimuli": {"images": {"kind": "rate_schedule", "target": "src", "file": "rates.npz"}},
    "simulation": {"dt": 0.1, "duration": 2000.0, "seed": 5},
}


def model(**stim: Any) -> Any:
    raw = copy.deepcopy(RAW)
    raw["stimuli"]["images"].update(stim)
    return validate(raw, "m.toml")


def test_rates_follow_the_schedule_and_draws_are_seeded(tmp_path: Path) -> None:
    rate_schedule.write(tmp_path / "rates.npz", [0.0, 1000.0, 2000.0], [[100.0, 0.0, 20.0], [0.0, 200.0, 20.0]])
    net = instantiate(model(), tmp_path)
    trains = net.populations["src"].spike_times
    assert trains is not None
    first = [np.sum(t < 1000.0) for t in trains]
    second = [np.sum(t >= 1000.0) for t in trains]
    assert first[1] == 0 and second[0] == 0  # silent windows are silent
    assert 60 < first[0] < 140 and 150 < second[1] < 250 and 20 < first[2] + second[2] < 60
    assert net.digest() == instantiate(model(), tmp_path).digest()
    other = copy.deepcopy(RAW)
    other["stimuli"] = {"other_name": other["stimuli"]["images"]}
    assert instantiate(validate(other), tmp_path).digest() != net.digest()  # each stimulus its own stream


@pytest.mark.parametrize(
    ("arrays", "words"),
    [
        ({"times": [0.0, 10.0]}, "lacks array 'rates'"),
        ({"times": [0.0, 10.0], "rates": [[1.0, 2.0]]}, "the target has 3 cells"),
        ({"times": [0.0, 10.0, 5.0], "rates": np.ones((2, 3))}, "increase strictly"),
        ({"times": [0.0, 10.0], "rates": -np.ones((1, 3))}, "rates must be >= 0"),
        ({"times": [0.0, 10.0, 20.0], "rates": np.ones((1, 3))}, "shape [n_windows, n_cells] = [2, n_cells]"),
    ],
)
def test_bad_files_name_the_field_and_the_file(tmp_path: Path, arrays: dict[str, Any], words: str) -> None:
    np.savez(tmp_path / "rates.npz", **arrays)
    with pytest.raises(ModelError) as info:
        instantiate(model(), tmp_path)
    assert info.value.path == "stimuli.images.file"
    assert words in info.value.message and "rates.npz" in info.value.message


def test_missing_file_and_misused_fields(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"stimuli\.images\.file: rate schedule file .*nothere\.npz.* not found"):
        instantiate(model(file="nothere.npz"), tmp_path)
    with pytest.raises(ModelError, match=r"stimuli\.images\.file: required for a rate_schedule"):
        model(file=None)
    with pytest.raises(ModelError, match=r"stimuli\.images\.target: a rate_schedule stimulus drives a spike-source"):
        model(target="exc")
    raw = copy.deepcopy(RAW)
    raw["stimuli"]["images"] = {"kind": "poisson", "target": "src", "rate": 5.0, "file": "x.npz"}
    with pytest.raises(ModelError, match=r"stimuli\.images\.file: only a rate_schedule"):
        validate(raw)
