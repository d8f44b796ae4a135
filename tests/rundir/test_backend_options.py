"""The model's backend options reach the backend they apply to, with or without ``--backend``; explicit options win,
and options written for another backend are named in a warning instead of dropped silently.

Each case is a real 20 ms run (ei_weight_matrix on NEST, vogels_abbott_cuba on Brian2); the backend reports the options it was given in
``backend_info`` (NEST's ``threads`` is the kernel's ``local_num_threads``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from spikebridge.errors import BackendError, ModelWarning
from spikebridge.models import load_model
from spikebridge.rundir.reuse import backend_options
from spikebridge.workflows.run import run

SETS = ["simulation.duration=20"]


def _run(
    tmp_path: Path, sets: list[str], backend: str | None, options: dict[str, object] | None, name: str = "ei_weight_matrix"
) -> tuple[dict[str, object], list[str]]:
    model = load_model(name, [*SETS, *sets])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = run(model, backend, tmp_path / "run", options=options, progress=False, figure=False)
    said = [str(w.message) for w in caught if issubclass(w.category, ModelWarning)]
    return results.meta, said


@pytest.mark.parametrize(
    ("backend", "options", "threads"),
    [(None, None, 2), ("nest", None, 2), ("nest", {"threads": 1}, 1), (None, {"threads": 3}, 3)],
)
def test_the_models_options_reach_its_own_backend(
    tmp_path: Path, backend: str | None, options: dict[str, object] | None, threads: int
) -> None:
    meta, said = _run(tmp_path, ["simulation.backend_options={threads: 2, verbosity: error}"], backend, options)
    assert meta["backend"] == "nest" and said == []
    assert meta["backend_options"] == {"threads": threads, "verbosity": "error"}
    assert meta["backend_info"]["options"]["threads"] == threads  # type: ignore[index]


def test_options_written_for_another_backend_reach_nest_where_they_apply_and_the_rest_are_named(tmp_path: Path) -> None:
    # written for brian2:cpp: threads means the same on NEST, method does not exist there
    sets = ["simulation.backend=brian2:cpp", "simulation.backend_options={threads: 2, method: exact}"]
    meta, said = _run(tmp_path, sets, "nest", None)
    assert meta["backend"] == "nest" and meta["backend_options"] == {"threads": 2}
    assert meta["backend_info"]["options"]["threads"] == 2  # type: ignore[index]
    assert len(said) == 1 and "method" in said[0] and "threads" not in said[0] and "'brian2:cpp'" in said[0], said
    meta, said = _run(tmp_path / "explicit", sets, "nest", {"threads": 1})  # --threads 1 wins over the model's 2
    assert meta["backend_options"] == {"threads": 1} and meta["backend_info"]["options"]["threads"] == 1  # type: ignore[index]
    assert len(said) == 1 and "method" in said[0]


def test_backend_options_merges_without_running_anything() -> None:
    model = load_model("ei_weight_matrix", ["simulation.backend=brian2", "simulation.backend_options={threads: 2, method: exact}"])
    assert backend_options(model) == ("brian2", {"threads": 2, "method": "exact"}, {})
    assert backend_options(model, "brian2", {"method": "euler"}) == ("brian2", {"threads": 2, "method": "euler"}, {})
    assert backend_options(model, "nest") == ("nest", {"threads": 2}, {"method": "exact"})
    assert backend_options(model, "nest", {"method": "x"})[1] == {"threads": 2, "method": "x"}  # explicit: the backend judges it
    with pytest.raises(BackendError, match="nosuch"):
        backend_options(model, "nosuch")  # not a warning that every option was left out


def test_a_brian2_option_in_the_model_reaches_brian2_given_with_backend(tmp_path: Path) -> None:
    # the issue's case: the model's backend is nest, its options name Brian2's method, and --backend picks brian2.
    # CUBA with its own method: the code Brian2 compiles for test_compare.py's runs, which a cold cache builds once
    meta, said = _run(tmp_path, ["simulation.backend_options={method: exact}"], "brian2", None, "vogels_abbott_cuba")
    assert meta["backend"] == "brian2" and meta["backend_options"] == {"method": "exact"} and said == []
    integration = meta["backend_info"]["integration"]  # type: ignore[index]
    assert all(text.startswith("exact") and text.endswith("requested with option 'method'") for text in integration.values()), integration


@pytest.mark.parametrize("backend", [None, "nest", "brian2"])
def test_an_option_no_backend_knows_is_refused(tmp_path: Path, backend: str | None) -> None:
    with pytest.raises(BackendError, match="metod"):
        _run(tmp_path, ["simulation.backend_options={metod: rk4}"], backend, None)
    assert not (tmp_path / "run").exists()
