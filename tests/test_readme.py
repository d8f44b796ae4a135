"""The README's model file example is a valid model that draws a network."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from spikebridge.models import instantiate, validate

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_model_example_is_valid() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "no TOML example in the README"
    model = validate(tomllib.loads(blocks[0]), "README.md")
    net = instantiate(model)
    assert net.populations["exc"].shape == (8, 8)
    assert model.projections["exc_exc" if "exc_exc" in model.projections else "ff"].synapse.type == "stdp"
    assert [p.name for p in net.phases] == ["train", "test"]
    assert list(net.snapshot_times()[:3]) == [0.0, 100.0, 200.0]
