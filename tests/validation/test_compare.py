"""Cross-simulator validation with ``compare``: scores, the permutation verdict, and that it can fail.

The current-based Vogels-Abbott network is compared at full size (4000 cells) over 0.5 s at 9 seeds (the fewest
with which all eight measures could fail at alpha 0.05): scaled down to 1000 cells (connection probability x4, same
in-degree) its self-sustained activity dies out within a few hundred ms on most seeds, which leaves nothing to
compare. Both simulators integrate ``IF_curr_exp`` with exact propagators, so they give the same spikes. The
conductance-based network (GSL RKF45 on both, chaotic, agreement only statistical) is compared over 5 s at 10 seeds
in docs/validation/coba; tests/validation/test_single_cells.py checks its cell type spike by spike, and
tests/backends/test_brian2.py its per-cell counts over 5 s.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import spikebridge
from spikebridge.analysis.validation import permutation
from spikebridge.analysis.validation.scores import cohens_d, score
from spikebridge.workflows.compare.report import write_report
from spikebridge.workflows.compare.workflow import CompareError, compare

SEEDS = 9
SHORT = ["simulation.duration=500"]
MODEL = "vogels_abbott_cuba"
BROKEN = ["populations.exc.parameters.tau_syn_E=6.0", "populations.inh.parameters.tau_syn_E=6.0"]  # 5 ms, +20 %


def test_scores_on_known_samples() -> None:
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = a + 2.0
    d, low, high = cohens_d(a, b)
    assert d == pytest.approx(2.0 / np.std(a, ddof=1))
    assert low < d < high
    s = score(a, b)
    assert s.wasserstein == pytest.approx(2.0)
    assert s.ks == pytest.approx(0.5)  # the empirical CDFs differ by at most 2 of 4 steps
    assert score(a, a + 10.0).ks == 1.0
    same = score(a, a.copy())
    assert (same.ks, same.wasserstein, same.cohens_d) == (0.0, 0.0, 0.0)


def test_verdict_rule_on_synthetic_samples() -> None:
    rng = np.random.default_rng(1)

    def runs(shift: float) -> dict[int, dict[tuple[str, str], np.ndarray]]:
        return {s: {("exc", "rate"): rng.normal(10.0 + shift + 0.2 * s, 2.0, 2000)} for s in range(6)}

    for shift, expected in ((0.0, "pass"), (1.5, "fail")):
        samples = {"ref": runs(0.0), "other": runs(shift)}
        table = permutation.verdicts(samples, "ref")
        assert table.verdict.tolist() == [expected], table
        assert permutation.overall(table) == expected


@pytest.fixture(scope="module")
def cuba_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compare_cuba")


@pytest.mark.slow
@pytest.mark.validation
def test_cuba_nest_and_brian2_agree(cuba_dir: Path) -> None:
    model = spikebridge.load_model(MODEL, SHORT)
    cmp = compare(model, ["nest", "brian2"], SEEDS, cuba_dir, progress=False)
    report = write_report(cmp)
    assert cmp.same_network
    measured = set(zip(cmp.verdicts.target, cmp.verdicts.measure, strict=True))
    assert measured == {(p, m) for p in ("exc", "inh") for m in ("rate", "cv_isi", "correlation", "lifetime")}
    judged = cmp.verdicts[cmp.verdicts.measure != "lifetime"]
    assert (judged.verdict == "pass").all() and not cmp.too_few_seeds, cmp.verdicts
    assert (cmp.exact.r_cross > 0.99).all(), cmp.exact  # same network, input and integration: the same spike counts
    assert set(cmp.lifetimes.backend) == {"nest", "brian2"} and len(cmp.lifetimes) == 2 * 2 * SEEDS
    assert all(r.meta["backend_info"]["integration"]["IF_curr_exp"].startswith("exact") for r in cmp.runs["brian2"].values())
    text = report.read_text()
    assert "Verdict: PASS" in text and "figures/distributions.png" in text and "Activity lifetime per seed" in text
    for name in ("distributions", "permutation", "counts"):
        assert (cuba_dir / "figures" / f"{name}.png").stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.validation
def test_a_broken_variant_fails_the_verdict(cuba_dir: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    for path in (cuba_dir / "runs").glob("brian2_seed*"):  # Brian2's runs of the test above are reused; NEST is cheaper to rerun
        shutil.copytree(path, runs / path.name)
    model = spikebridge.load_model(MODEL, SHORT)
    cmp = compare(model, ["brian2", "nest"], SEEDS, tmp_path, perturb={"nest": BROKEN}, progress=False)
    assert all(r.meta["timings"]["run_s"] > 0 for r in cmp.runs["nest"].values())
    assert cmp.verdict == "fail"
    failed = cmp.verdicts[cmp.verdicts.verdict == "fail"]
    assert {("exc", "rate"), ("inh", "rate")} <= set(zip(failed.target, failed.measure, strict=True)), cmp.verdicts
    assert "Verdict: FAIL" in write_report(cmp).read_text()


@pytest.mark.slow
@pytest.mark.compile
@pytest.mark.validation
def test_stdp_bimodal_final_weights_agree(tmp_path: Path) -> None:
    fast = ["projections.input_post.synapse.timing.A_plus=0.01", "projections.input_post.synapse.timing.A_minus=0.0105"]  # 4x: 20 s learn
    model = spikebridge.load_model("stdp_bimodal", ["simulation.duration=20000", "record_weights.interval=5000", *fast])
    cmp = compare(model, ["nest", "brian2:cpp"], 2, tmp_path, progress=False)  # too few seeds for a verdict: scores only
    start = spikebridge.instantiate(model).projections["input_post"].weight
    final = cmp.runs["nest"][model.simulation.seed].connections("input_post").weight
    assert np.abs(final - start).max() > 0.2 * 2e-4  # learning moved the weights
    cross = cmp.scores[(cmp.scores.kind == "cross") & (cmp.scores.measure == "weight")]
    assert len(cross) == 2 and (cross.ks_p > 0.01).all(), cross
    weight = cmp.verdicts.set_index("measure").loc["weight"]
    assert weight.verdict == "inconclusive" and "use >=" in weight.reason and cmp.too_few_seeds
    angles = cmp.angles[cmp.angles.t_ms == 20000.0].angle_deg
    assert len(angles) == 2 and (angles < 45).all(), cmp.angles  # far from 90 deg: the same weights potentiate


def test_compare_refuses_bad_requests(tmp_path: Path) -> None:
    model = spikebridge.load_model("vogels_abbott_coba")
    with pytest.raises(CompareError, match="at least two different backends"):
        compare(model, ["nest", "nest"], 2, tmp_path)
    with pytest.raises(CompareError, match="at least 2"):
        compare(model, ["nest", "brian2"], 1, tmp_path)
    with pytest.raises(CompareError, match="not among --backends"):
        compare(model, ["nest", "brian2"], 2, tmp_path, perturb={"brian2:cpp": ["simulation.dt=0.2"]})
    assert not (tmp_path / "runs").exists()
