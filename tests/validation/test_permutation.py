"""The permutation verdict on synthetic samples: swap patterns, the quantile-difference statistic, its error rate and power.

Two "backends" that compute the same dynamics are modelled by exchangeable runs: at seed ``s`` both draw their
sample around a seed effect ``m_s`` shared by the two (the same network and input), so swapping the two runs at
any seed leaves the joint distribution unchanged.
"""

from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd
import pytest

from spikebridge.analysis.validation import permutation
from spikebridge.analysis.validation.measures import lifetime
from spikebridge.workflows.compare.workflow import mixed_regimes

Runs = dict[int, dict[tuple[str, str], np.ndarray]]


def draw(
    rng: np.random.Generator, measures: int, shift: float = 0.0, seeds: int = 6, size: int = 100, within: float = 1.0
) -> dict[str, Runs]:
    """Two backends' runs of ``measures`` measures: seed effects of s.d. 1 shared by both, ``shift`` added to measure m0 of "other"."""
    m = rng.normal(size=(seeds, measures))
    return {
        b: {
            s: {("E", f"m{k}"): rng.normal(m[s, k] + (shift if b == "other" and k == 0 else 0.0), within, size) for k in range(measures)}
            for s in range(seeds)
        }
        for b in ("ref", "other")
    }


def test_min_seeds() -> None:
    assert permutation.min_seeds(0.05) == 6  # 2 / 2**6 = 0.031 <= 0.05 < 2 / 2**5
    assert permutation.min_seeds(0.01) == 8
    assert permutation.min_seeds(0.5) == 2
    assert str(permutation.min_seeds(0.05)) in permutation.rule(0.05)


def test_swap_patterns_enumerate_every_pattern_up_to_the_mirror_image() -> None:
    p = permutation.swap_patterns(6)
    assert p.shape == (32, 6) and p.dtype == bool
    assert len(np.unique(p, axis=0)) == 32
    assert not p[0].any(), "the identity comes first"
    assert not p[:, 0].any(), "the first seed never swaps"
    assert {tuple(r) for r in p} == {(False, *rest) for rest in product((False, True), repeat=5)}


def test_swap_patterns_above_the_exact_limit_are_a_reproducible_random_sample() -> None:
    p = permutation.swap_patterns(20)
    assert p.shape == (permutation.RANDOM_PATTERNS + 1, 20)
    assert not p[0].any() and not p[:, 0].any()
    assert np.array_equal(p, permutation.swap_patterns(20))
    assert 0.45 < p[1:, 1:].mean() < 0.55  # each seed swaps in about half the patterns
    assert len(np.unique(p[1:1000], axis=0)) > 990  # not one pattern repeated


def test_statistic_by_hand() -> None:
    # two seeds, two quantiles: the other backend is higher by (1, 3) at seed 0 and by (1, -1) at seed 1
    d = np.array([[1.0, 3.0], [1.0, -1.0]])
    patterns = permutation.swap_patterns(2)
    assert patterns.tolist() == [[False, False], [False, True]]
    signs = np.where(patterns, -1.0, 1.0)
    identity = (abs((1 + 1) / 2) + abs((3 - 1) / 2)) / 2  # mean over quantiles of |mean over seeds|
    swapped = (abs((1 - 1) / 2) + abs((3 + 1) / 2)) / 2
    assert permutation.statistic(d, signs) == pytest.approx([identity, swapped])
    # the mirror image (swap seed 0 instead of seed 1) gives the same statistic
    assert permutation.statistic(d, np.array([[-1.0, 1.0]]))[0] == pytest.approx(swapped)


def test_quantile_differences_are_other_minus_reference() -> None:
    a = [np.arange(101.0), np.zeros(5)]
    b = [np.arange(101.0) + 2.0, np.zeros(5)]
    d = permutation.quantile_differences(a, b)
    assert d.shape == (2, len(permutation.QUANTILES))
    assert d[0] == pytest.approx(2.0) and not d[1].any()


def test_equivalent_backends_fail_at_most_alpha_of_the_time_and_the_adjustment_is_what_keeps_it_there() -> None:
    """Family-wise false-FAIL rate over 10 measures and 10 seeds (the minimum for 10), 300 comparisons of exchangeable runs."""
    rng = np.random.default_rng(2024)
    repetitions, alpha = 300, 0.05
    fails = raw = 0
    for _ in range(repetitions):
        table = permutation.verdicts(draw(rng, 10, size=20, within=3.0, seeds=10), "ref", alpha)
        assert len(table) == 10 and (table.seeds == 10).all() and (table.patterns == 512).all()
        fails += permutation.overall(table) == "fail"
        raw += bool((table.p_raw <= alpha).any())
    margin = 2.33 * np.sqrt(alpha * (1 - alpha) / repetitions)  # one-sided 99 % binomial margin
    assert fails / repetitions <= alpha + margin, fails
    # unadjusted, one of 10 measures reaches alpha in about 1 - 0.95**10 = 40 % of the comparisons
    assert raw / repetitions > alpha + 2 * margin and raw >= 3 * max(fails, 1), (raw, fails)


def test_power_at_one_between_seed_sd() -> None:
    """A shift of the other backend by one between-seed s.d. on one of three measures, 7 seeds, 40 comparisons.

    The comparison is made within each seed, so the seeds' own spread does not hide the shift."""
    rng = np.random.default_rng(5)
    found = others_pass = 0
    for _ in range(40):
        table = permutation.verdicts(draw(rng, 3, shift=1.0, seeds=7), "ref").set_index("measure")
        found += table.loc["m0", "verdict"] == "fail"
        others_pass += bool((table.drop("m0").verdict == "pass").all())
    assert found >= 24, found  # >= 60 %
    assert others_pass >= 34, others_pass  # null measures fail at most alpha of the time: about 2 of 40 expected


def test_a_shift_fails_on_its_measure_and_the_others_pass() -> None:
    table = permutation.verdicts(draw(np.random.default_rng(11), 10, shift=2.0, seeds=10), "ref").set_index("measure")
    assert table.loc["m0", "verdict"] == "fail", table
    assert table.loc["m0", "p"] <= 0.05 and table.loc["m0", "z"] >= table.loc["m0", "z_critical"]
    assert table.loc["m0", "w_cross"] > 1.5 and table.loc["m0", "statistic"] > 0
    assert (table.drop("m0").verdict == "pass").all(), table
    assert (table.p >= table.p_raw).all()  # the adjustment only raises p
    assert table.z_critical.nunique() == 1  # one critical value for the pair of backends
    assert permutation.overall(table) == "fail"


def test_identical_runs_pass() -> None:
    runs = draw(np.random.default_rng(3), 2)["ref"]
    table = permutation.verdicts({"ref": runs, "other": runs}, "ref")
    assert (table.verdict == "pass").all(), table
    assert table.reason.str.contains("identical").all()
    assert (table.w_cross == 0).all() and (table.w_within > 0).all()
    assert permutation.overall(table) == "pass"


def test_constant_samples_are_inconclusive() -> None:
    zeros = {s: {("E", "rate"): np.zeros(50)} for s in range(6)}
    table = permutation.verdicts({"ref": zeros, "other": zeros}, "ref")
    assert table.verdict.tolist() == ["inconclusive"] and "same constant" in table.reason[0]
    assert permutation.overall(table) == "inconclusive"


def test_five_seeds_cannot_fail_however_large_the_difference() -> None:
    samples = draw(np.random.default_rng(4), 1, shift=50.0, seeds=5)
    table = permutation.verdicts(samples, "ref")
    row = table.iloc[0]
    assert row.verdict == "inconclusive" and row.seeds == 5, table
    assert "use >= 6 seeds" in row.reason and row.p == pytest.approx(1 / 16)
    assert not np.isfinite(row.z_critical)  # 16 patterns: no pattern is as rare as alpha
    six = permutation.verdicts(draw(np.random.default_rng(4), 1, shift=50.0, seeds=6), "ref").iloc[0]
    assert np.isfinite(six.z_critical) and six.verdict == "fail"
    # at alpha = 0.01, 6 seeds are too few again: 8 needed
    strict = permutation.verdicts(draw(np.random.default_rng(4), 1, shift=50.0, seeds=6), "ref", alpha=0.01).iloc[0]
    assert strict.verdict == "inconclusive" and "use >= 8 seeds" in strict.reason


def test_seeds_without_enough_values_are_left_out() -> None:
    samples = draw(np.random.default_rng(6), 1, seeds=7)
    samples["other"][3][("E", "m0")] = np.array([1.0, np.nan, np.nan])  # too few finite values at seed 3
    table = permutation.verdicts(samples, "ref")
    assert table.seeds.tolist() == [6]
    assert permutation.verdicts(samples, "ref", min_sample={"m0": 1}).seeds.tolist() == [7]


def test_a_shift_smaller_than_the_gaps_between_seeds_fails() -> None:
    """One value per run (the lifetime measure): the other backend's population stops 100 ms later at every seed.

    The seeds' lifetimes are 1 s apart; the comparison within each seed still sees the same 100 ms at every seed."""
    ref = {s: {("E", "lifetime"): np.array([1000.0 * (s + 1)])} for s in range(6)}
    other = {s: {("E", "lifetime"): np.array([1000.0 * (s + 1) + 100.0])} for s in range(6)}
    row = permutation.verdicts({"ref": ref, "other": other}, "ref", min_sample={"lifetime": 1}).iloc[0]
    assert row.w_cross == pytest.approx(100.0)
    assert row.verdict == "fail", row.reason


def test_lifetime() -> None:
    assert lifetime(np.array([10.0, 250.0, 1390.0]), 0.0, 5000.0) == 1390.0  # 3.6 s of silence follow the last spike
    assert lifetime(np.array([10.0, 1390.0]), 0.0, 1590.0) == 1390.0  # exactly 200 ms of silence
    assert lifetime(np.array([10.0, 1391.0]), 0.0, 1590.0) == 1590.0  # 199 ms: still active at the end
    assert lifetime(np.array([10.0, 4900.0]), 0.0, 5000.0) == 5000.0
    assert lifetime(np.array([4900.0, 10.0]), 0.0, 5000.0) == 5000.0  # unsorted times
    assert lifetime(np.empty(0), 0.0, 5000.0) == 0.0
    assert lifetime(np.array([1100.0, 1500.0]), 1000.0, 3000.0) == 500.0  # from the phase's start
    assert lifetime(np.array([1100.0, 2900.0]), 1000.0, 3000.0) == 2000.0
    assert lifetime(np.array([1100.0, 1500.0]), 1000.0, 3000.0, silence=2000.0) == 2000.0


def test_mixed_regimes_names_the_backend_whose_runs_are_mixed() -> None:
    rows = [
        ("nest", 1, "E", 1500.0, True),
        ("nest", 2, "E", 5000.0, False),
        ("nest", 3, "E", 2250.0, True),
        ("brian2", 1, "E", 5000.0, False),
        ("brian2", 2, "E", 5000.0, False),
        ("brian2", 3, "E", 5000.0, False),
        ("nest", 1, "I", 800.0, True),
        ("nest", 2, "I", 900.0, True),
        ("nest", 3, "I", 1000.0, True),
    ]
    table = pd.DataFrame(rows, columns=["backend", "seed", "target", "lifetime_ms", "stopped"]).assign(duration_ms=5000.0)
    notes = mixed_regimes(table)
    assert notes == ["nest: `E` stopped spiking in 2 of 3 runs (seed 1 at 1.50 s, seed 3 at 2.25 s); the others did not"]
    assert mixed_regimes(table[table.backend == "brian2"]) == []
    assert mixed_regimes(pd.DataFrame()) == []


def test_calibration_figure_draws_both_panels() -> None:
    import pandas as pd

    from spikebridge.plotting.compare import plot_calibration

    table = pd.DataFrame(
        {"pair": ["a vs b", "+20 %"], "kind": ["null", "power"], "size": [0.0, 20.0], "sets": [20, 10], "fails": [1, 9]}
    )
    fig = plot_calibration(table, 0.05)
    left, right = fig.axes
    assert left.get_title().startswith("False-FAIL") and right.get_title() == "Detection power"
    assert [t.get_text() for t in left.get_xticklabels()] == ["a vs b"]
    assert right.get_xlim()[1] >= 25
