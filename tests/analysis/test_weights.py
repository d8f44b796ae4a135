"""Tests of spikebridge.analysis.weights and spikebridge.plotting.weights."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib import colors
from matplotlib.patches import Rectangle

from spikebridge.analysis.weights import (
    ProjectionInfo,
    bimodality,
    bimodality_by_activity,
    connections,
    read_table,
    table_from_arrays,
    weight_evolution,
    weight_matrices,
    weight_matrix,
    write_table,
)
from spikebridge.plotting.figures import save_figure
from spikebridge.plotting.weights import (
    HistStyle,
    bimodal,
    draw_weight_panels,
    hist_weights,
    plot_weight_evolution,
    plot_weight_matrices,
    weight_panels,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _arr(*x: float) -> np.ndarray:
    return np.asarray(x)


def _ints(*x: int) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


# ---------------------------------------------------------------------------
# a small hand-made table: projection "A" from X (3 neurons) to Y (4 neurons)
# ---------------------------------------------------------------------------

A_PRE = _ints(0, 1, 1, 2, 2)
A_POST = _ints(1, 0, 0, 3, 0)  # (pre 1 -> post 0) twice: a multapse
A_W0 = _arr(0.1, 0.2, 0.3, 0.4, 0.5)
A_W1 = _arr(1.0, 2.0, 3.0, 4.0, 5.0)
INFO_A = ProjectionInfo("A", "X", "Y", n_pre=3, n_post=4, receptor="excitatory")


@pytest.fixture
def small_table() -> pd.DataFrame:
    return table_from_arrays(
        {
            100.0: {"A": (A_PRE, A_POST, A_W1, 1.5)},
            0.0: {"A": (A_PRE, A_POST, A_W0, 1.5), "B": (_ints(0), _ints(0), _arr(-7.0), _arr(2.0))},
        }
    )


def test_table_from_arrays_layout(small_table: pd.DataFrame) -> None:
    t = small_table
    assert list(t.index.names) == ["projection", "pre", "post"]
    assert list(t.columns.names) == ["t", "var"]
    assert list(t.columns) == [(0.0, "w"), (0.0, "delay"), (100.0, "w"), (100.0, "delay")]
    # rows: projections in order of first appearance (at the earliest snapshot), multapse kept
    assert list(t.index) == [("A", 0, 1), ("A", 1, 0), ("A", 1, 0), ("A", 2, 3), ("A", 2, 0), ("B", 0, 0)]
    np.testing.assert_array_equal(t[(100.0, "w")].to_numpy()[:5], A_W1)
    np.testing.assert_array_equal(t[(0.0, "delay")].to_numpy(), [1.5] * 5 + [2.0])
    # B is absent at t=100: NaN there
    assert np.isnan(t.loc[("B", 0, 0), (100.0, "w")]).all()


def test_table_from_arrays_rejects_reordered_connections() -> None:
    with pytest.raises(ValueError, match="differ from the first snapshot"):
        table_from_arrays(
            {
                0.0: {"A": (_ints(0, 1), _ints(0, 0), _arr(1, 2), 1.0)},
                1.0: {"A": (_ints(1, 0), _ints(0, 0), _arr(2, 1), 1.0)},
            }
        )
    with pytest.raises(ValueError, match="shape"):
        table_from_arrays({0.0: {"A": (_ints(0, 1), _ints(0, 0), _arr(1.0), 1.0)}})


def test_weight_matrix_hand_computed_post_pre_and_multapses(small_table: pd.DataFrame) -> None:
    expected_last = np.array(
        [
            [0.0, 2.0 + 3.0, 5.0],  # post 0 <- pre 1 (multapse summed), pre 2
            [1.0, 0.0, 0.0],  # post 1 <- pre 0
            [0.0, 0.0, 0.0],
            [0.0, 0.0, 4.0],  # post 3 <- pre 2
        ]
    )
    w = weight_matrix(small_table, INFO_A)
    assert w.shape == (4, 3)  # (n_post, n_pre)
    np.testing.assert_array_equal(w, expected_last)
    w0 = weight_matrix(small_table, INFO_A, t=0.0)
    assert w0[0, 1] == pytest.approx(0.2 + 0.3)
    assert w0[1, 0] == pytest.approx(0.1)
    with pytest.raises(KeyError, match="no weight snapshot"):
        weight_matrix(small_table, INFO_A, t=50.0)


def test_weight_matrix_sums_list_of_projections_and_validates(small_table: pd.DataFrame) -> None:
    info_b = ProjectionInfo("B", "X", "Y", 3, 4, "inhibitory")
    w = weight_matrix(small_table, [INFO_A, info_b], t=0.0)
    assert w[0, 0] == pytest.approx(-7.0)  # B only
    assert w[0, 1] == pytest.approx(0.5)  # A only
    other = ProjectionInfo("B", "X", "Z", 3, 4, "inhibitory")
    with pytest.raises(ValueError, match="same populations"):
        weight_matrix(small_table, [INFO_A, other])
    too_small = ProjectionInfo("A", "X", "Y", n_pre=2, n_post=4, receptor="excitatory")
    with pytest.raises(ValueError, match="out of range"):
        weight_matrix(small_table, too_small)
    # a projection with no rows gives zeros of the right shape
    absent = ProjectionInfo("nope", "X", "Y", 3, 4, "excitatory")
    np.testing.assert_array_equal(weight_matrix(small_table, absent), np.zeros((4, 3)))


@settings(max_examples=40, deadline=None)
@given(
    n_pre=st.integers(1, 6),
    n_post=st.integers(1, 6),
    data=st.data(),
)
def test_weight_matrix_matches_loop(n_pre: int, n_post: int, data: st.DataObject) -> None:
    n_syn = data.draw(st.integers(0, 30))
    pre = np.asarray(data.draw(st.lists(st.integers(0, n_pre - 1), min_size=n_syn, max_size=n_syn)), dtype=np.int64)
    post = np.asarray(data.draw(st.lists(st.integers(0, n_post - 1), min_size=n_syn, max_size=n_syn)), dtype=np.int64)
    w = np.asarray(data.draw(st.lists(st.floats(-10, 10), min_size=n_syn, max_size=n_syn)), dtype=float)
    table = table_from_arrays({0.0: {"P": (pre, post, w, 1.0)}})
    expected = np.zeros((n_post, n_pre))
    for i, j, x in zip(post, pre, w, strict=True):
        expected[i, j] += x
    got = weight_matrix(table, ProjectionInfo("P", "a", "b", n_pre, n_post, "excitatory"))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------
# E/I matrices
# ---------------------------------------------------------------------------


def _ei_network() -> tuple[pd.DataFrame, dict[str, ProjectionInfo]]:
    n_e, n_i = 3, 2
    infos = {
        "EE": ProjectionInfo("EE", "E", "E", n_e, n_e, "excitatory"),
        "E_to_I": ProjectionInfo("E_to_I", "E", "I", n_e, n_i, "excitatory"),
        "I_to_E": ProjectionInfo("I_to_E", "I", "E", n_i, n_e, "inhibitory"),
        "I_to_E_2": ProjectionInfo("I_to_E_2", "I", "E", n_i, n_e, "inhibitory"),
    }
    snap = {
        "EE": (_ints(0, 1), _ints(1, 2), _arr(0.01, 0.02), 1.0),
        "E_to_I": (_ints(2), _ints(1), _arr(0.03), 1.0),  # E2 -> I1
        "I_to_E": (_ints(1, 0), _ints(0, 2), _arr(-0.1, -0.2), 1.0),  # I1 -> E0, I0 -> E2
        "I_to_E_2": (_ints(1), _ints(0), _arr(-0.05), 1.0),  # I1 -> E0 again, other projection
    }
    return table_from_arrays({0.0: snap}), infos


def test_weight_matrices_naming_and_shapes() -> None:
    table, infos = _ei_network()
    m = weight_matrices(table, infos, exc="E", inh="I")
    assert set(m) == {"W_EE", "W_EI", "W_IE", "W_II"}
    assert m["W_EE"].shape == (3, 3)
    assert m["W_EI"].shape == (3, 2)  # I -> E: (n_E, n_I)
    assert m["W_IE"].shape == (2, 3)  # E -> I: (n_I, n_E)
    assert m["W_II"].shape == (2, 2)
    np.testing.assert_allclose(m["W_EI"], [[0.0, -0.15], [0.0, 0.0], [-0.2, 0.0]])  # both I->E projections summed
    np.testing.assert_allclose(m["W_IE"], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.03]])
    assert m["W_EE"][1, 0] == pytest.approx(0.01) and m["W_EE"][2, 1] == pytest.approx(0.02)
    np.testing.assert_array_equal(m["W_II"], np.zeros((2, 2)))  # missing pair


def test_weight_matrices_needs_sizes_for_untouched_population() -> None:
    table, infos = _ei_network()
    only_ee = {"EE": infos["EE"]}
    with pytest.raises(ValueError, match="unknown"):
        weight_matrices(table, only_ee, exc="E", inh="I")
    m = weight_matrices(table, only_ee, exc="E", inh="I", n_inh=4)
    assert m["W_EI"].shape == (3, 4) and not m["W_EI"].any()


def test_plot_weight_matrices_layout_and_colormaps() -> None:
    table, infos = _ei_network()
    m = weight_matrices(table, infos, exc="E", inh="I")
    m["W_EE"] = m["W_EE"] - 0.5 * m["W_EE"].T  # both signs
    fig = plot_weight_matrices(m, title="test title")
    assert fig.get_suptitle() == "test title"
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 4 and len(fig.axes) == 8  # one colour bar axes per panel
    by_title = {ax.get_title().split()[0]: ax for ax in images}
    assert set(by_title) == {"$W_{EE}$", "$W_{EI}$", "$W_{IE}$", "$W_{II}$"}
    np.testing.assert_array_equal(by_title["$W_{EI}$"].images[0].get_array(), m["W_EI"])
    ee_norm = by_title["$W_{EE}$"].images[0].norm
    assert isinstance(ee_norm, colors.TwoSlopeNorm) and ee_norm.vcenter == 0.0
    assert by_title["$W_{EI}$"].images[0].norm.vmax == 0.0  # all inhibitory: 0 at the top
    # the large W_EE panel is bigger than the others
    area = {k: ax.get_position().width * ax.get_position().height for k, ax in by_title.items()}
    assert area["$W_{EE}$"] == max(area.values())
    labels = {ax.get_xlabel() for ax in images} | {ax.get_ylabel() for ax in images}
    assert {"presynaptic index (E)", "presynaptic index (I)", "postsynaptic index (E)", "postsynaptic index (I)"} <= labels


# ---------------------------------------------------------------------------
# bimodality
# ---------------------------------------------------------------------------


def _sarle(x: np.ndarray) -> float:
    """Independent Sarle coefficient from central moments (bias-corrected g and k)."""
    n = x.size
    d = x - x.mean()
    m2, m3, m4 = (d**2).mean(), (d**3).mean(), (d**4).mean()
    g = np.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5
    k = ((n + 1) * (m4 / m2**2 - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))
    return (g**2 + 1) / (k + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


def test_bimodality_constructed_bimodal_sample() -> None:
    w = np.concatenate([np.full(40, 0.05), np.full(30, 0.95), np.full(30, 0.5), [np.nan]])
    res = bimodality(w, 0.0, 1.0)
    assert res["n"] == 100
    assert res["frac_low"] == pytest.approx(0.40)
    assert res["frac_high"] == pytest.approx(0.30)
    assert res["frac_bounds"] == pytest.approx(0.70)
    assert res["coef"] == pytest.approx(_sarle(w[~np.isnan(w)]), rel=1e-10)
    assert res["coef"] > 5 / 9


def test_bimodality_uniform_and_normal() -> None:
    u = np.linspace(0.0, 1.0, 1000)  # step 1/999: 100 points in each 10 % band
    res = bimodality(u, 0.0, 1.0)
    assert res["frac_low"] == pytest.approx(0.1) and res["frac_high"] == pytest.approx(0.1)
    assert res["coef"] == pytest.approx(5 / 9, abs=0.01)
    rng = np.random.default_rng(1)
    x = rng.normal(0.5, 0.1, 5000)
    res = bimodality(x, None, None)  # bounds from the data
    assert res["w_min"] == x.min() and res["w_max"] == x.max()
    assert res["coef"] < 5 / 9
    assert res["coef"] == pytest.approx(1 / 3, abs=0.05)
    assert res["coef"] == pytest.approx(_sarle(x), rel=1e-10)


def test_bimodality_by_activity_splits_the_synapses_of_firing_cells_from_the_rest() -> None:
    # post cell 0 fired 9 spikes, cell 1 none; pre cell 0 fired 3, pre cell 1 fired 7
    pre = np.array([0, 1, 1, 1, 0, 1])
    post = np.array([0, 0, 0, 0, 1, 1])
    w = np.array([0.5, 0.02, 0.99, 0.97, 0.4, 0.6])
    post_counts, pre_counts = np.array([9, 0]), np.array([3, 7])
    only_post = bimodality_by_activity(w, pre, post, post_counts, None, 5, 0.0, 1.0)
    assert only_post["active_fraction"] == pytest.approx(4 / 6)
    assert only_post["active"]["n"] == 4 and only_post["active"]["frac_bounds"] == pytest.approx(3 / 4)
    assert only_post["silent"]["n"] == 2 and only_post["silent"]["frac_bounds"] == 0.0
    both = bimodality_by_activity(w, pre, post, post_counts, pre_counts, 5, 0.0, 1.0)
    assert both["active_fraction"] == pytest.approx(3 / 6)  # the synapse from the quiet pre cell 0 is silent now
    assert both["active"]["frac_bounds"] == 1.0 and both["silent"]["frac_bounds"] == 0.0
    assert both["active"] == bimodality(w[[1, 2, 3]], 0.0, 1.0)


def test_bimodality_degenerate() -> None:
    assert np.isnan(bimodality([1.0, 2.0, 3.0], 0.0, 3.0)["coef"])
    assert np.isnan(bimodality([2.0] * 10, 0.0, 3.0)["coef"])
    assert np.isnan(bimodality([], 0.0, 1.0)["frac_low"])


# ---------------------------------------------------------------------------
# layered network: hist_weights
# ---------------------------------------------------------------------------

W_MAX = 0.05


def _layered(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, ProjectionInfo]]:
    rng = np.random.default_rng(seed)
    sizes = {"L0": 30, "L1": 20, "L2": 10}
    spec = {  # name: (pre, post, label)
        "ff01": ("L0", "L1", "FF"),
        "ff12": ("L1", "L2", "FF"),
        "lat1": ("L1", "L1", "E2E"),
        "lat2": ("L2", "L2", "E2E"),
        "fb21": ("L2", "L1", "FB"),
    }
    infos, before, after = {}, {}, {}
    for name, (a, b, label) in spec.items():
        infos[name] = ProjectionInfo(name, a, b, sizes[a], sizes[b], "excitatory", 0.0, W_MAX, label)
        post, pre = np.nonzero(rng.random((sizes[b], sizes[a])) < 0.3)
        before[name] = (pre, post, rng.uniform(0.02, 0.03, pre.size), 1.0)
        after[name] = (pre, post, np.where(rng.random(pre.size) < 0.5, 0.001, W_MAX - 0.001), 1.0)
    return table_from_arrays({0.0: before, 1000.0: after}), table_from_arrays({0.0: before}), infos


def test_hist_weights_grid_empty_panels_and_overlay() -> None:
    table, before, infos = _layered()
    axes = hist_weights(table, ["FF", "E2E", "FB"], infos, before=before)
    assert axes.shape == (2, 3)  # rows L1, L2 (post populations); columns FF, E2E, FB
    fig = axes[0, 0].figure
    on = np.array([[ax.axison for ax in row] for row in axes])
    np.testing.assert_array_equal(on, [[True, True, True], [True, True, False]])  # no feedback onto L2
    assert not axes[1, 2].patches
    for ax in axes[on]:
        assert len(ax.patches) == 2  # after (filled) + before (outline)
        assert any(txt.get_text().startswith("n = ") for txt in ax.texts)
        assert ax.texts[0].get_bbox_patch() is not None  # text box
    assert axes[0, 0].get_title() == "L0 \u2192 L1"
    assert axes[0, 1].get_title() == "L1 \u2194 L1"
    assert axes[0, 2].get_title() == "L2 \u2192 L1"
    headers = [t.get_text() for t in axes[0, 0].texts + axes[0, 1].texts + axes[0, 2].texts]
    assert {"Feedforward (FF)", "Lateral (E2E)", "Feedback (FB)"} <= set(headers)
    row_labels = [t.get_text() for t in axes[0, 0].texts + axes[1, 0].texts]
    assert "L1" in row_labels and "L2" in row_labels
    # x label on the lowest panel shown in each column (FB: top row)
    assert axes[1, 0].get_xlabel() == "Weight (uS)" and axes[1, 1].get_xlabel() == "Weight (uS)"
    assert axes[0, 2].get_xlabel() == "Weight (uS)" and axes[0, 0].get_xlabel() == ""
    assert axes[0, 0].get_ylabel() == "density"
    assert len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["after (t = 1000 ms)", "before (t = 0 ms)"]
    plt.close(fig)
    # a workflow's untrained network is not an earlier snapshot: its words replace the snapshot times
    grid = weight_panels([table], ["FF", "E2E", "FB"], infos, before=[before])
    fig = draw_weight_panels(grid, legend=("trained", "untrained"))[0, 0].figure
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["trained", "untrained"]


def test_hist_weights_density_bins_and_summary() -> None:
    table, _, infos = _layered()
    axes = hist_weights(table, ["FF", "E2E", "FB"], infos, bins=80, style=HistStyle(hist_kwargs={"histtype": "bar"}))
    ax = axes[0, 0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 80
    area = sum(b.get_width() * b.get_height() for b in bars)
    assert area == pytest.approx(1.0)
    # annotated with the bimodality of the FF -> L1 weights at the last snapshot
    w = table.loc["ff01", (1000.0, "w")].to_numpy()
    res = bimodality(w, 0.0, W_MAX)
    assert f"n = {w.size}" in ax.texts[0].get_text()
    assert f"b = {res['coef']:.2f}" in ax.texts[0].get_text()
    assert not axes[0, 0].figure.legends  # no overlay, no legend


def test_weight_panels_pool_and_bin_without_drawing() -> None:
    table, before, infos = _layered()
    grid = weight_panels(table, ["FF", "E2E", "FB"], infos, before=before, bins=10)
    assert grid.rows == ["L1", "L2"] and grid.columns == ["FF", "E2E", "FB"]
    assert (grid.t_after, grid.t_before) == (1000.0, 0.0)
    ff = grid.panels[0][0]  # FF onto L1: ff01 alone
    assert [i.name for i in ff.members] == ["ff01"] and (ff.w_min, ff.w_max) == (0.0, W_MAX)
    np.testing.assert_array_equal(np.sort(ff.after), np.sort(table.loc["ff01", (1000.0, "w")].to_numpy()))
    np.testing.assert_array_equal(np.sort(ff.before), np.sort(before.loc["ff01", (0.0, "w")].to_numpy()))
    np.testing.assert_allclose(ff.edges, np.linspace(0.0, W_MAX, 11))  # the bounds span both samples
    assert grid.panels[1][2].empty and grid.panels[1][2].edges.size == 0  # no feedback onto L2


def test_weight_panels_pool_trials_and_normalise_to_w_max() -> None:
    a, before_a, infos = _layered(0)
    b, before_b, _ = _layered(1)
    grid = weight_panels([a, b], ["FF", "E2E", "FB"], infos, before=[before_a, before_b], bins=10, normalise=True)
    assert grid.trials == 2 and grid.normalised
    ff = grid.panels[0][0]
    pooled = np.concatenate([t.loc["ff01", (1000.0, "w")].to_numpy() for t in (a, b)]) / W_MAX
    np.testing.assert_allclose(np.sort(ff.after), np.sort(pooled))
    assert ff.before.size == sum(t.loc["ff01", (0.0, "w")].size for t in (before_a, before_b))
    assert (ff.w_min, ff.w_max) == (0.0, 1.0)
    np.testing.assert_allclose(ff.edges, np.linspace(0.0, 1.0, 11))
    unbounded = {k: ProjectionInfo(v.name, v.pre, v.post, v.n_pre, v.n_post, v.receptor, label=v.label) for k, v in infos.items()}
    with pytest.raises(ValueError, match="no nonzero w_max"):
        weight_panels(a, ["FF"], unbounded, normalise=True)


def test_the_bimodal_verdict_is_judged_against_the_pre_training_weights() -> None:
    table, before, infos = _layered()
    axes = hist_weights(table, ["FF", "E2E", "FB"], infos, before=before)
    text = axes[0, 0].texts[0].get_text()
    w0 = before.loc["ff01", (0.0, "w")].to_numpy()
    assert f"(before {bimodality(w0, 0.0, W_MAX)['coef']:.2f})" in text and text.endswith(": bimodal")
    # uniform weights have b = 5/9 give or take sampling; the same sample before and after is not "bimodal"
    rng = np.random.default_rng(5)
    uniform = {name: (pre, post, rng.uniform(0.0, W_MAX, pre.size), 1.0) for name, (pre, post) in _pairs(table).items()}
    flat = table_from_arrays({0.0: uniform})
    text = hist_weights(flat, ["FF"], infos, before=flat).flat[0].texts[0].get_text()
    assert "bimodal" not in text
    assert not bimodal({"coef": 0.57, "frac_bounds": 0.22}, {"coef": 0.55})  # b up a little, weights still spread


def _pairs(table: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for name in table.index.get_level_values(0).unique():
        pre, post, _ = connections(table, name)
        out[str(name)] = (pre, post)
    return out


def test_rows_take_fixed_y_limits() -> None:
    table, before, infos = _layered()
    axes = hist_weights(table, ["FF", "E2E", "FB"], infos, before=before, style=HistStyle(row_ylim=[50.0, None]))
    assert axes[0, 0].get_ylim() == (0.0, 50.0) and axes[0, 1].get_ylim() == (0.0, 50.0)
    assert axes[1, 0].get_ylim()[1] != 50.0


def test_hist_weights_rows_by_pre_and_errors() -> None:
    table, _, infos = _layered()
    axes = hist_weights(table, ["FF", "E2E", "FB"], infos, rows_by="pre", t=0.0)
    assert axes.shape == (3, 3)  # pre populations L0, L1, L2
    assert [ax.axison for ax in axes[0]] == [True, False, False]
    with pytest.raises(ValueError, match="no projection"):
        hist_weights(table, ["XX"], infos)
    with pytest.raises(ValueError, match="rows_by"):
        hist_weights(table, ["FF"], infos, rows_by="layer")


# ---------------------------------------------------------------------------
# evolution
# ---------------------------------------------------------------------------


def test_weight_evolution_equals_numpy() -> None:
    rng = np.random.default_rng(3)
    pre = rng.integers(0, 50, 400)
    post = rng.integers(0, 40, 400)
    snaps = {}
    for t in (0.0, 10.0, 20.0):
        w = rng.gamma(2.0, 0.01, 400)
        w[rng.random(400) < 0.1] = np.nan  # absent at this snapshot
        snaps[t] = {"P": (pre, post, w, 1.0), "Q": (pre[:50], post[:50], -w[:50], 1.0)}
    table = table_from_arrays(snaps)
    evo = weight_evolution(table)
    assert list(evo.columns) == ["projection", "t", "mean", "std", "p5", "p25", "p50", "p75", "p95", "n"]
    assert list(evo["projection"]) == ["P"] * 3 + ["Q"] * 3
    for row in evo.itertuples(index=False):
        w = snaps[row.t][row.projection][2]
        w = w[~np.isnan(w)]
        assert row.n == w.size
        assert row.mean == pytest.approx(w.mean(), rel=1e-12)
        assert row.std == pytest.approx(w.std(), rel=1e-12)
        for p in (5, 25, 50, 75, 95):
            assert getattr(row, f"p{p}") == pytest.approx(np.percentile(w, p), rel=1e-12)
    only_q = weight_evolution(table, "Q")
    assert set(only_q["projection"]) == {"Q"} and len(only_q) == 3
    with pytest.raises(KeyError):
        weight_evolution(table, ["nope"])


def test_plot_weight_evolution() -> None:
    table, _, infos = _layered()
    evo = weight_evolution(table)
    fig = plot_weight_evolution(evo, infos=infos)
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == 5 and len(fig.axes) == 6  # 2 x 3 grid, one switched off
    assert panels[0].get_title() == "ff01  (L0 \u2192 L1)"
    assert {ax.get_xlabel() for ax in panels} == {"time (ms)", ""}
    assert len(panels[0].collections) == 2  # the two percentile bands
    assert panels[0].get_legend() is not None
    mean_line = panels[0].lines[0]
    np.testing.assert_allclose(mean_line.get_ydata(), evo[evo["projection"] == "ff01"]["mean"])


# ---------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------


def test_save_figure_writes_png_and_pdf_atomically(tmp_path: Path) -> None:
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    out = save_figure(fig, tmp_path / "nested" / "dir" / "fig.v1")
    assert out == [tmp_path / "nested" / "dir" / "fig.v1.png", tmp_path / "nested" / "dir" / "fig.v1.pdf"]
    assert out[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out[1].read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in out[0].parent.iterdir()) == ["fig.v1.pdf", "fig.v1.png"]
    with pytest.raises(ValueError):
        save_figure(fig, tmp_path / "bad", formats=("not-a-format",))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nested"]  # no temp file left


def test_write_read_table_round_trip_exact(tmp_path: Path, small_table: pd.DataFrame) -> None:
    path = tmp_path / "sub" / "weights.parquet"
    write_table(small_table, path)
    assert [p.name for p in path.parent.iterdir()] == ["weights.parquet"]  # no temp file left
    long = pq.read_table(path).to_pandas()
    assert list(long.columns) == ["projection", "pre", "post", "t", "w", "delay"]
    assert len(long) == len(small_table) * 2
    back = read_table(path)
    pd.testing.assert_frame_equal(back, small_table, check_exact=True)
    assert list(back.index) == list(small_table.index)  # order and multapses preserved
    np.testing.assert_array_equal(weight_matrix(back, INFO_A), weight_matrix(small_table, INFO_A))


def test_round_trip_larger_table_and_any_row_order(tmp_path: Path) -> None:
    table, _, infos = _layered(seed=5)
    path = tmp_path / "w.parquet"
    write_table(table, path)
    pd.testing.assert_frame_equal(read_table(path), table, check_exact=True)
    # a long file written by someone else, rows shuffled: same content, rows regrouped
    shuffled = pq.read_table(path).to_pandas().sample(frac=1.0, random_state=0)
    shuffled.to_parquet(tmp_path / "s.parquet", index=False)
    back = read_table(tmp_path / "s.parquet")
    assert back.shape == table.shape
    for info in infos.values():
        for t in (0.0, 1000.0):
            np.testing.assert_array_equal(weight_matrix(back, info, t), weight_matrix(table, info, t))
