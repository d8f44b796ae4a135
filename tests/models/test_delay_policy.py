"""The delay policy (spikebridge.models.delays): below dt is refused, off-grid is rounded with a warning, backends
load what they get and refuse anything off the grid."""

from __future__ import annotations

import copy
import dataclasses
import warnings
from typing import Any

import numpy as np
import pytest

from spikebridge.errors import BackendError, ModelError, ModelWarning
from spikebridge.models import delays, instantiate, validate

RAW: dict[str, Any] = {
    "name": "delays",
    "populations": {
        "src": {"cell_type": "SpikeSourceArray", "size": 3, "spike_times": [[1.0, 5.0]]},
        "post": {"cell_type": "IF_curr_exp", "size": 2},
    },
    "projections": {"p": {"pre": "src", "post": "post", "connector": {"rule": "all_to_all"}, "weight": 0.1, "delay": 1.05}},
    "simulation": {"dt": 0.1, "duration": 10.0, "seed": 1},
}


def with_delay(delay: Any) -> dict[str, Any]:
    raw = copy.deepcopy(RAW)
    raw["projections"]["p"]["delay"] = delay
    return raw


def test_off_grid_delays_are_rounded_half_up_with_a_warning() -> None:
    with pytest.warns(ModelWarning, match=r"^projections\.p\.delay: rounded 6 of 6 delays to the dt = 0\.1 ms grid") as record:
        net = instantiate(validate(with_delay(1.05), "model.toml"))
    assert record[0].filename == "model.toml"
    assert np.all(net.projections["p"].delay == 1.1)


def test_cli_check_warns_in_one_line_naming_the_model_file(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import tomli_w

    from spikebridge.cli import main

    f = tmp_path / "m.toml"
    f.write_text(tomli_w.dumps(with_delay(1.05)))
    assert main(["check", str(f)]) == 0
    out, err = capsys.readouterr()
    assert "valid" in out
    assert err.splitlines() == [
        f"spikebridge: warning: {f}: projections.p.delay: rounded 6 of 6 delays to the dt = 0.1 ms grid (nearest step, halves up)"
    ]


def test_on_grid_delays_pass_without_a_warning(recwarn: pytest.WarningsRecorder) -> None:
    for d in (0.1, 0.3, 1.0, 2.7):
        net = instantiate(validate(with_delay(d)))
        assert np.all(net.projections["p"].delay == d)
    assert not [w for w in recwarn if issubclass(w.category, ModelWarning)]


@pytest.mark.parametrize(
    ("delay", "words"),
    [
        (0.05, "expected a delay >= dt = 0.1 ms, got 0.05"),
        (0.0, "expected a delay >= dt = 0.1 ms, got 0"),
        (-1.0, "expected a delay >= dt = 0.1 ms, got -1"),
        ({"distribution": "uniform", "low": 0.0, "high": 2.0}, "uniform distribution reaches down to 0 ms"),
        ({"distribution": "normal", "mean": 1.0, "sd": 0.2}, "normal distribution is unbounded below"),
        ({"distribution": "lognormal", "mu": 0.0, "sigma": 0.5}, "lognormal distribution reaches down to"),
        ({"distribution": "normal", "mean": 1.0, "sd": 0.2, "bounds": [0.05, 2.0]}, "reaches down to 0.05 ms"),
    ],
)
def test_delays_below_dt_are_refused_at_check(delay: Any, words: str) -> None:
    with pytest.raises(ModelError) as info:
        validate(with_delay(delay), "model.toml")
    assert info.value.path == "projections.p.delay" and words in info.value.message
    assert str(info.value).startswith("model.toml: projections.p.delay: ")


def test_bounded_distribution_at_dt_is_accepted_and_rounded_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelWarning)  # drawn delays are continuous: rounding them is no news
        net = instantiate(validate(with_delay({"distribution": "normal", "mean": 1.0, "sd": 0.5, "bounds": [0.1, 3.0]})))
    d = net.projections["p"].delay
    assert d.min() >= 0.1 and np.allclose(d / 0.1, np.round(d / 0.1), atol=1e-9)


def test_explicit_delays_below_dt_are_refused() -> None:
    raw = copy.deepcopy(RAW)
    raw["projections"]["p"]["connector"] = {"rule": "from_list", "connections": [[0, 0, 0.1, 1.0], [1, 1, 0.1, 0.05]]}
    with pytest.raises(ModelError, match=r"m\.toml: projections\.p\.connector\.connections: delays must be >= dt = 0\.1 ms; 1 are below"):
        validate(raw, "m.toml")


def test_grid_steps_refuses_instead_of_rounding() -> None:
    np.testing.assert_array_equal(delays.grid_steps(np.array([0.1, 0.3, 1.1]), 0.1), [1, 3, 11])
    for bad in ([0.05], [0.0], [1.05], [np.nan]):
        with pytest.raises(ValueError, match="dt = 0.1 ms grid"):
            delays.grid_steps(np.array(bad), 0.1)


def test_snap_counts_and_rounds_half_up() -> None:
    snapped, rounded = delays.snap(np.array([0.1, 0.15, 0.25, 1.04, 1.05, 2.0]), 0.1, "x")
    np.testing.assert_allclose(snapped, [0.1, 0.2, 0.3, 1.0, 1.1, 2.0], rtol=0, atol=1e-12)
    assert rounded == 4


def test_nest_delivers_the_rounded_delay_and_refuses_off_grid_arrays() -> None:
    pytest.importorskip("nest")
    from spikebridge import backends

    with pytest.warns(ModelWarning, match="rounded 6 of 6 delays"):
        net = instantiate(validate(with_delay(1.05)))
    sim = backends.create("nest")
    sim.build(net)
    try:
        got = sim.connections("p")
        assert len(got.delay) == 6
        assert np.all(got.delay == 1.1), got.delay
    finally:
        sim.end()
    # a delay that bypassed instantiate (e.g. a checkpoint from another dt) is refused, not clamped or rounded
    prj = net.projections["p"]
    off = dataclasses.replace(net, projections={"p": dataclasses.replace(prj, delay=np.full(len(prj), 0.05))})
    sim = backends.create("nest")
    try:
        with pytest.raises(BackendError, match=r"projections\.p\.delay: delays must lie on the dt = 0\.1 ms grid and be >= dt"):
            sim.build(off)
    finally:
        sim.end()


def test_nest_refuses_delay_0_05_at_dt_0_1_before_building() -> None:
    with pytest.raises(ModelError, match=r"projections\.p\.delay: expected a delay >= dt = 0\.1 ms, got 0\.05"):
        validate(with_delay(0.05))


def test_explicit_spike_times_off_the_grid_or_sharing_a_step_are_reported() -> None:
    raw = copy.deepcopy(RAW)
    raw["populations"]["src"]["spike_times"] = [[1.0, 1.02, 3.0]]
    raw["projections"]["p"]["delay"] = 1.0
    with pytest.warns(ModelWarning, match=r"populations\.src\.spike_times: 1 spike times rounded to the dt = 0\.1 ms grid, 1 merged"):
        net = instantiate(validate(raw))
    assert [list(t) for t in net.populations["src"].spike_times or []] == [[1.0, 3.0]] * 3


def test_float32_delays_on_the_grid_are_not_reported_as_rounded() -> None:
    """A float32 file stores 0.3 as 0.30000001: that is the grid point, not an off-grid delay."""
    on_grid = np.array([0.3, 1.2, 0.7, 0.1], dtype=np.float32)
    snapped, rounded = delays.snap(on_grid, 0.1, "projections.p.delay")
    assert rounded == 0 and np.array_equal(snapped, [0.3, 1.2, 0.7, 0.1])
    snapped, rounded = delays.snap(np.array([1.05, 0.3], dtype=np.float32), 0.1, "projections.p.delay")
    assert rounded == 1 and np.array_equal(snapped, [1.1, 0.3])
