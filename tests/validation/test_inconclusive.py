"""``compare`` never passes vacuously: measures without data are inconclusive, and so is a comparison of nothing.

Synthetic samples only (scores and verdicts are pure functions); the report is drawn from a hand-built comparison.
Six seeds where a measure could pass or fail: fewer are inconclusive by design (permutation.min_seeds).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import spikebridge
from spikebridge.analysis.validation import baseline, measures, permutation
from spikebridge.workflows.compare.report import write_report
from spikebridge.workflows.compare.workflow import Comparison

SEEDS = (1, 2, 3, 4, 5, 6)
Runs = dict[int, dict[tuple[str, str], np.ndarray]]


def silent(n: int = 20) -> Runs:
    """What a network where nothing spikes gives: rates of 0, no CVs, no correlations (NaN pairs are dropped)."""
    return {s: {("E", "rate"): np.zeros(n), ("E", "cv_isi"): np.empty(0), ("E", "correlation"): np.full(n, np.nan)} for s in SEEDS}


def judge(samples: dict[str, Runs], reference: str = "ref") -> pd.DataFrame:
    return permutation.verdicts(samples, reference, min_sample=measures.min_samples())


def test_a_network_where_nothing_spikes_is_inconclusive_not_a_pass() -> None:
    table = judge({"ref": silent(), "other": silent()})
    assert sorted(table.measure) == ["correlation", "cv_isi", "rate"]
    assert (table.verdict == "inconclusive").all(), table
    rate = table.set_index("measure").loc["rate"]
    assert rate.w_cross == 0 and rate.w_within == 0 and "same constant" in rate.reason
    assert table.set_index("measure").loc["cv_isi", "reason"].startswith("no data")
    assert permutation.overall(table) == "inconclusive"


def test_overall_passes_only_with_a_pass_and_no_fail() -> None:
    rng = np.random.default_rng(3)
    ref = silent()
    other = silent()
    for s in SEEDS:  # one measure with data: the same distribution on both "backends", differing between seeds
        ref[s]["E", "weight"] = rng.normal(1.0 + 0.1 * s, 0.2, 500)
        other[s]["E", "weight"] = rng.normal(1.0 + 0.1 * s, 0.2, 500)
    table = judge({"ref": ref, "other": other})
    assert table.set_index("measure").loc["weight", "verdict"] == "pass"
    assert permutation.overall(table) == "pass"
    for s in SEEDS:
        other[s]["E", "weight"] = other[s]["E", "weight"] + 1.0
    shifted = judge({"ref": ref, "other": other})
    assert shifted.set_index("measure").loc["weight", "verdict"] == "fail", shifted
    assert permutation.overall(shifted) == "fail"
    assert permutation.overall(pd.DataFrame()) == "inconclusive"
    assert permutation.overall(pd.DataFrame({"verdict": ["inconclusive"]}), pd.DataFrame({"verdict": ["pass"]})) == "pass"
    assert permutation.overall(pd.DataFrame({"verdict": ["pass", "fail"]})) == "fail"
    assert permutation.overall(pd.DataFrame({"verdict": ["pass"]}), pd.DataFrame({"verdict": ["fail"]})) == "fail"
    # the same shift with 5 seeds cannot fail: inconclusive, not a pass
    few = judge({b: {s: runs[s] for s in SEEDS[:5]} for b, runs in (("ref", ref), ("other", other))})
    assert few.set_index("measure").loc["weight", "verdict"] == "inconclusive"
    assert permutation.overall(few) == "inconclusive"


def test_nan_samples_are_inconclusive() -> None:
    nan = {s: {("E", "rate"): np.full(10, np.nan)} for s in SEEDS}
    table = judge({"ref": nan, "other": nan})
    assert table.verdict.tolist() == ["inconclusive"] and table.reason[0].startswith("no data")


def test_exact_mode_with_no_spikes_is_inconclusive() -> None:
    counts = {b: {s: {"E": np.zeros(20)} for s in SEEDS} for b in ("ref", "other")}
    assert baseline.exact_table(counts, "ref").verdict.tolist() == ["inconclusive"]


def _fake_run(path: Path, backend: str, drawn: tuple[str, ...] = ()) -> SimpleNamespace:
    meta = {
        "network_sha256": "same",
        "simulator_drawn_inputs": list(drawn),
        "backend_info": {"integration": {}},
        "versions": {},
        "timings": {"build_s": 0.0, "run_s": 0.0, "collect_s": 0.0},
    }
    return SimpleNamespace(meta=meta, path=path / backend)


def _comparison(
    path: Path, samples: dict[str, Runs], seeds: tuple[int, ...], lifetimes: pd.DataFrame, drawn: tuple[str, ...] = (), **tables: object
) -> Comparison:
    """A comparison of hand-made samples, as ``compare`` would have built it (no run is read)."""
    return Comparison(
        out=path,
        model=spikebridge.load_model("ei_weight_matrix"),
        reference="ref",
        backends=["ref", "other"],
        seeds=list(seeds),
        runs={b: {s: _fake_run(path, b, drawn) for s in seeds} for b in samples},  # type: ignore[misc]
        samples=samples,
        verdicts=judge(samples),
        angles=pd.DataFrame(),
        lifetimes=lifetimes,
        **tables,  # type: ignore[arg-type]
    )


def test_the_report_shows_inconclusive_measures(tmp_path: Path) -> None:
    samples = {"ref": silent(), "other": silent()}
    for runs in samples.values():  # the lifetime of a population that never spiked: 0
        for s in SEEDS:
            runs[s]["E", "lifetime"] = np.zeros(1)
    counts = {b: {s: {"E": np.zeros(20)} for s in SEEDS} for b in samples}
    lifetimes = pd.DataFrame(
        [
            {"backend": b, "seed": s, "target": "E", "lifetime_ms": 0.0, "duration_ms": 1000.0, "stopped": True}
            for b in samples
            for s in SEEDS
        ]
    )
    cmp = _comparison(
        tmp_path,
        samples,
        SEEDS,
        lifetimes,
        counts=counts,
        scores=baseline.score_table(samples, "ref", measures.min_samples()),
        exact=baseline.exact_table(counts, "ref"),
        alpha=0.05,
    )
    assert cmp.verdict == "inconclusive" and not cmp.too_few_seeds and cmp.regime_notes() == []
    assert not (tmp_path / "figures").exists()
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "baseline.png").write_bytes(b"stale")  # left by a report of the old rule
    report = write_report(cmp).read_text()
    assert "**Verdict: INCONCLUSIVE**" in report and "nan" not in report.lower()
    assert report.count("| inconclusive") >= 5, report  # four measures and the exact-mode row
    assert "no data" in report and "same constant" in report
    assert "identical drawn network and input at each seed" in report
    assert "Warning" not in report and "Every backend's runs fell into one regime." in report
    page = (tmp_path / "report.html").read_text()
    assert "Activity lifetime per seed (s)" in report and "<td>0.00</td>" in page
    assert "Verdict: INCONCLUSIVE" in page
    for name in ("distributions", "permutation"):
        assert (tmp_path / "figures" / f"{name}.png").stat().st_size > 0
    assert not (tmp_path / "figures" / "baseline.png").exists()
    assert (tmp_path / "lifetimes.csv").read_text().count("\n") == 1 + 2 * len(SEEDS)


def test_the_report_warns_of_too_few_seeds_and_mixed_regimes(tmp_path: Path) -> None:
    seeds = SEEDS[:3]
    samples = {b: {s: {("E", "rate"): np.zeros(20)} for s in seeds} for b in ("ref", "other")}
    lifetimes = pd.DataFrame(
        [
            {"backend": b, "seed": s, "target": "E", "lifetime_ms": t, "duration_ms": 1000.0, "stopped": t < 1000.0}
            for b, times in (("ref", (1000.0, 1000.0, 1000.0)), ("other", (400.0, 1000.0, 1000.0)))
            for s, t in zip(seeds, times, strict=True)
        ]
    )
    cmp = _comparison(tmp_path, samples, seeds, lifetimes, ("noise",), counts={}, scores=pd.DataFrame(), exact=pd.DataFrame())
    assert cmp.too_few_seeds and cmp.verdict == "inconclusive"
    assert cmp.regime_notes() == ["other: `E` stopped spiking in 1 of 3 runs (seed 1 at 0.40 s); the others did not"]
    report = write_report(cmp).read_text()
    assert "**Warning: 3 seeds cannot reach alpha = 0.05**" in report and "--seeds 6" in report
    # a background the simulators draw themselves is named: the input is shared in distribution only
    assert "identical drawn network at each seed (equal network digests); the Poisson background (`noise`)" in report
    assert "Mixed regimes: other: `E` stopped spiking in 1 of 3 runs" in report
    assert "| > 1.00" in report and "| 0.40" in report


@pytest.mark.parametrize(("verdict", "code"), [("pass", 0), ("fail", 1), ("inconclusive", 1)])
def test_compare_exit_code_follows_the_verdict(verdict: str, code: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from spikebridge.cli import app as cli
    from spikebridge.workflows.compare import report
    from spikebridge.workflows.compare import workflow as compare

    fake = SimpleNamespace(
        verdicts=pd.DataFrame({"other": ["b"], "target": ["E"], "measure": ["rate"], "verdict": [verdict]}),
        verdict=verdict,
        regime_notes=lambda: [],
        too_few_seeds=False,
        needed_seeds=2,
        seeds=[1, 2],
    )
    monkeypatch.setattr(compare, "compare", lambda *a, **k: fake)
    monkeypatch.setattr(report, "write_report", lambda cmp: tmp_path / "report.md")
    assert cli.main(["compare", "ei_weight_matrix", "--backends", "nest,brian2", "--seeds", "2", "--out", str(tmp_path)]) == code


def test_a_real_silent_network_measured_on_nest_is_inconclusive(tmp_path: Path) -> None:
    """ei_weight_matrix without its bias current (nothing spikes), 50 ms on NEST at 2 seeds, measured for real.

    ``compare`` needs two different backends, so the same NEST runs stand in for the second one: what matters
    is that real measures of a silent network (rates of 0, no CVs, no correlations) give no pass."""
    from spikebridge.analysis.validation import measures

    silent_sets = ["simulation.duration=50", "populations.E.parameters.i_offset=0", "populations.I.parameters.i_offset=0"]
    runs = {}
    for seed in (1, 2):
        model = spikebridge.load_model("ei_weight_matrix", [*silent_sets, f"simulation.seed={seed}"])
        runs[seed] = spikebridge.run(model, "nest", tmp_path / f"seed{seed}", progress=False, figure=False)
    measured = {s: measures.measure_run(r) for s, r in runs.items()}
    assert all(not v.any() for m in measured.values() for (_, name), v in m.items() if name == "rate"), "something spiked"
    samples = {"nest": measured, "nest_again": measured}
    table = judge(samples, "nest")
    assert len(table) == 8 and (table.verdict == "inconclusive").all(), table  # rate, cv_isi, correlation, lifetime of E and I
    counts = {b: {s: {p: measures.counts(r, p) for p in ("E", "I")} for s, r in runs.items()} for b in samples}
    exact = baseline.exact_table(counts, "nest")
    assert (exact.verdict == "inconclusive").all() and permutation.overall(table, exact) == "inconclusive"
