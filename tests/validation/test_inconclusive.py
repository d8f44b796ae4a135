"""``compare`` never passes vacuously: measures without data are inconclusive, and so is a comparison of nothing.

Synthetic samples only (scores and verdicts are pure functions); the report is drawn from a hand-built comparison.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import spikebridge
from spikebridge.analysis.validation import baseline
from spikebridge.workflows.compare.report import write_report
from spikebridge.workflows.compare.workflow import Comparison

SEEDS = (1, 2, 3)
Runs = dict[int, dict[tuple[str, str], np.ndarray]]


def silent(n: int = 20) -> Runs:
    """What a network where nothing spikes gives: rates of 0, no CVs, no correlations (NaN pairs are dropped)."""
    return {s: {("E", "rate"): np.zeros(n), ("E", "cv_isi"): np.empty(0), ("E", "correlation"): np.full(n, np.nan)} for s in SEEDS}


def judge(samples: dict[str, Runs], reference: str = "ref") -> pd.DataFrame:
    return baseline.verdicts(baseline.score_table(samples, reference), baseline.expected_measures(samples, reference))


def test_a_network_where_nothing_spikes_is_inconclusive_not_a_pass() -> None:
    table = judge({"ref": silent(), "other": silent()})
    assert sorted(table.measure) == ["correlation", "cv_isi", "rate"]
    assert (table.verdict == "inconclusive").all(), table
    rate = table.set_index("measure").loc["rate"]
    assert rate.ks_cross == 0 and rate.ks_baseline_max == 0 and "constant samples" in rate.reason
    assert table.set_index("measure").loc["cv_isi", "reason"].startswith("no data")
    assert baseline.overall(table) == "inconclusive"


def test_overall_passes_only_with_a_pass_and_no_fail() -> None:
    rng = np.random.default_rng(3)
    ref = silent()
    other = silent()
    for s in SEEDS:  # one measure with data: the same distribution on both "backends", differing between seeds
        ref[s]["E", "weight"] = rng.normal(1.0 + 0.1 * s, 0.2, 500)
        other[s]["E", "weight"] = rng.normal(1.0 + 0.1 * s, 0.2, 500)
    table = judge({"ref": ref, "other": other})
    assert table.set_index("measure").loc["weight", "verdict"] == "pass"
    assert baseline.overall(table) == "pass"
    for s in SEEDS:
        other[s]["E", "weight"] = other[s]["E", "weight"] + 1.0
    assert baseline.overall(judge({"ref": ref, "other": other})) == "fail"
    assert baseline.overall(pd.DataFrame()) == "inconclusive"
    assert baseline.overall(pd.DataFrame({"verdict": ["inconclusive"]}), pd.DataFrame({"verdict": ["pass"]})) == "pass"


def test_nan_samples_are_inconclusive() -> None:
    nan = {s: {("E", "rate"): np.full(10, np.nan)} for s in SEEDS}
    table = judge({"ref": nan, "other": nan})
    assert table.verdict.tolist() == ["inconclusive"]


def test_exact_mode_with_no_spikes_is_inconclusive() -> None:
    counts = {b: {s: {"E": np.zeros(20)} for s in SEEDS} for b in ("ref", "other")}
    assert baseline.exact_table(counts, "ref").verdict.tolist() == ["inconclusive"]


def _fake_run(path: Path, backend: str) -> SimpleNamespace:
    meta = {
        "network_sha256": "same",
        "backend_info": {"integration": {}},
        "versions": {},
        "timings": {"build_s": 0.0, "run_s": 0.0, "collect_s": 0.0},
    }
    return SimpleNamespace(meta=meta, path=path / backend)


def test_the_report_shows_inconclusive_measures(tmp_path: Path) -> None:
    samples = {"ref": silent(), "other": silent()}
    counts = {b: {s: {"E": np.zeros(20)} for s in SEEDS} for b in samples}
    scores = baseline.score_table(samples, "ref")
    cmp = Comparison(
        out=tmp_path,
        model=spikebridge.load_model("ei_weight_matrix"),
        reference="ref",
        backends=["ref", "other"],
        seeds=list(SEEDS),
        runs={b: {s: _fake_run(tmp_path, b) for s in SEEDS} for b in samples},  # type: ignore[misc]
        samples=samples,
        counts=counts,
        scores=scores,
        verdicts=baseline.verdicts(scores, baseline.expected_measures(samples, "ref")),
        exact=baseline.exact_table(counts, "ref"),
        angles=pd.DataFrame(),
    )
    assert cmp.verdict == "inconclusive"
    report = write_report(cmp).read_text()
    assert "**Verdict: INCONCLUSIVE**" in report and "nan" not in report.lower()
    assert report.count("| inconclusive") >= 4, report  # three measures and the exact-mode row
    assert "no data" in report and "constant samples" in report
    assert "Verdict: INCONCLUSIVE" in (tmp_path / "report.html").read_text()
    assert (tmp_path / "figures" / "distributions.png").stat().st_size > 0
    assert (tmp_path / "figures" / "baseline.png").stat().st_size > 0


@pytest.mark.parametrize(("verdict", "code"), [("pass", 0), ("fail", 1), ("inconclusive", 1)])
def test_compare_exit_code_follows_the_verdict(verdict: str, code: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from spikebridge.cli import app as cli
    from spikebridge.workflows.compare import report
    from spikebridge.workflows.compare import workflow as compare

    fake = SimpleNamespace(
        verdicts=pd.DataFrame({"other": ["b"], "target": ["E"], "measure": ["rate"], "verdict": [verdict]}), verdict=verdict
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
    assert len(table) == 6 and (table.verdict == "inconclusive").all(), table
    counts = {b: {s: {p: measures.counts(r, p) for p in ("E", "I")} for s, r in runs.items()} for b in samples}
    exact = baseline.exact_table(counts, "nest")
    assert (exact.verdict == "inconclusive").all() and baseline.overall(table, exact) == "inconclusive"

