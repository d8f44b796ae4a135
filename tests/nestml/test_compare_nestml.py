"""A plastic network learning with a NESTML rule passes ``spikebridge compare`` across NEST (NESTML's generated C++)
and brian2:cpp (spikebridge's translation); the same network with one sign flipped in the rule on one backend fails."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

import spikebridge
from spikebridge.models import nestml
from spikebridge.workflows.compare.workflow import compare

pytestmark = [pytest.mark.slow, pytest.mark.validation, pytest.mark.compile, pytest.mark.usefixtures("nestml_toolchain")]

SHORT = ["simulation.duration=1000", "record_weights.interval=500"]
SEEDS = 8  # enough for a verdict on the four judged measures at alpha 0.05
RULE = nestml.bundled()["saturating_stdp"].read_text()
DEPRESSION = "w = clip(w - rho * w**mu * D, 0.0, w_max)"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compare_saturating")


def test_a_nestml_rule_network_passes_compare(out: Path) -> None:
    model = spikebridge.load_model("saturating_ff", SHORT)
    cmp = compare(model, ["nest", "brian2:cpp"], SEEDS, out, progress=False)
    assert cmp.same_network and cmp.verdict == "pass", cmp.verdicts
    assert (cmp.verdicts.set_index("measure").loc["weight", "verdict"]) == "pass"
    assert (cmp.exact.r_cross > 0.999).all(), cmp.exact  # not chaotic: the same spikes on both


def test_one_flipped_sign_in_the_rule_fails_compare(out: Path, tmp_path: Path) -> None:
    assert DEPRESSION in RULE
    flipped = RULE.replace(DEPRESSION, DEPRESSION.replace("w - rho", "w + rho"))
    runs = tmp_path / "runs"
    runs.mkdir()
    for path in (out / "runs").glob("nest_seed*"):  # the reference's runs of the test above
        shutil.copytree(path, runs / path.name)
    model = spikebridge.load_model("saturating_ff", SHORT)
    broken = [f"projections.ff.synapse.nestml=|\n{textwrap.indent(flipped, '  ')}"]
    cmp = compare(model, ["nest", "brian2:cpp"], SEEDS, tmp_path, perturb={"brian2:cpp": broken}, progress=False)
    assert cmp.verdict == "fail", cmp.verdicts
    assert "weight" in set(cmp.verdicts[cmp.verdicts.verdict == "fail"].measure)
