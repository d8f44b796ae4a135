"""Grid specifications: parsing, errors naming the specification, the product, names and directory slugs."""

from __future__ import annotations

import pytest

from spikebridge.models.io import apply_overrides
from spikebridge.workflows.sweeps.grid import (
    Grid,
    GridError,
    canonical,
    override,
    parse_axis,
    resolve_name,
    short_names,
    slug,
    split_params,
)


def test_values_are_read_as_yaml() -> None:
    assert parse_axis("projections.e2e.synapse.timing.A_plus=0.01,0.02").values == (0.01, 0.02)
    assert parse_axis("simulation.seed = 1, 2 ,3").values == (1, 2, 3)
    assert parse_axis("backend=nest,brian2:cpp").values == ("nest", "brian2:cpp")
    assert parse_axis("a.b=[1, 2],[3, 4]").values == ([1, 2], [3, 4])
    assert parse_axis("a.rate=1e-3,2.5E+1").values == (0.001, 25.0)  # PyYAML would leave these strings
    assert parse_axis("populations.E.parameters.i_offset=0.7").values == (0.7,)
    assert parse_axis("projections.ff.synapse.timing.A_plus=1").short == "A_plus"
    assert parse_axis("simulation.phases[1].duration=100,200").short == "duration"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("simulation.seed", r"--grid 'simulation.seed': expected PATH=V1,V2,... \(e.g. simulation.seed=1,2,3\)"),
        ("=1,2", r"--grid '=1,2': expected PATH=V1,V2"),
        ("simulation.seed=", r"--grid 'simulation.seed=': no values; expected PATH=V1,V2"),
        ("simulation.seed=1,,2", r"--grid 'simulation.seed=1,,2': empty value; expected PATH=V1,V2"),
        ("simulation seed=1", r"'simulation seed' is not a model field path; expected PATH=V1,V2"),
        ("a.b=[1,2", r"--grid 'a.b=\[1,2': cannot read the values"),
        ("simulation.seed=1,2,1", r"value\(s\) 1 given more than once"),
        ("backend=1,2", "backends are names"),
    ],
)
def test_malformed_specifications_are_named(spec: str, message: str) -> None:
    with pytest.raises(GridError, match=message):
        parse_axis(spec)


def test_product_names_and_slugs() -> None:
    grid = Grid.parse(["projections.e2e.synapse.timing.A_plus=0.01,0.02", "simulation.seed=1,2,3"])
    trials = list(grid)
    assert len(grid) == len(trials) == 6
    assert trials[:2] == [
        {"projections.e2e.synapse.timing.A_plus": 0.01, "simulation.seed": 1},
        {"projections.e2e.synapse.timing.A_plus": 0.01, "simulation.seed": 2},
    ]
    names = short_names(grid.paths)
    assert names == {"projections.e2e.synapse.timing.A_plus": "A_plus", "simulation.seed": "seed"}
    assert slug(3, trials[3], names) == "t0003_A_plus=0.02_seed=1"
    assert slug(0, {"backend": "brian2:cpp", "x.y": [1, 2]}, {}) == "t0000_backend=brian2-cpp_x.y=-1-2"
    assert list(Grid.parse([])) == [{}]
    with pytest.raises(GridError, match="simulation.seed given more than once"):
        Grid.parse(["simulation.seed=1", "simulation.seed=2"])
    assert Grid.from_mapping(grid.to_mapping()) == grid
    assert canonical({"b": 1, "a": 2}) == canonical({"a": 2, "b": 1})


def test_short_names_that_clash_fall_back_to_full_paths() -> None:
    paths = ["projections.e2e.synapse.timing.A_plus", "projections.e2i.synapse.timing.A_plus", "simulation.seed"]
    assert short_names(paths)["projections.e2i.synapse.timing.A_plus"] == "projections.e2i.synapse.timing.A_plus"
    assert resolve_name("seed", paths) == "simulation.seed"
    assert resolve_name("projections.e2e.synapse.timing.A_plus", paths) == paths[0]
    with pytest.raises(GridError, match="'A_plus' is ambiguous: use one of the full paths projections.e2e"):
        resolve_name("A_plus", paths)


def test_overrides_give_exactly_the_grid_values() -> None:
    params = {"backend": "nest", "a.rate": 1e-05, "a.name": "1.0", "a.list": [1, 2.5], "a.flag": True}
    backend, sets = split_params(params)
    assert backend == "nest"
    assert apply_overrides({"a": {}}, sets) == {"a": {"rate": 1e-05, "name": "1.0", "list": [1, 2.5], "flag": True}}
    assert override("simulation.seed", 3) == "simulation.seed=3"
