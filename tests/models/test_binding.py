"""The bundled ``binding`` model against the configuration of the seed's network (BCGardner/feature_binding, N4P2):
its cells, its rule and its fan-ins, drawn once."""

from __future__ import annotations

import numpy as np
import pytest

from spikebridge.models import instantiate, load_model
from spikebridge.models.connectors import grid_positions
from spikebridge.models.network import Network
from spikebridge.models.schema import Model

FF = {1: (1.0, 0.48), 2: (8.0, 0.51), 3: (12.0, 0.23), 4: (16.0, 0.13)}  # layer: (radius in post cells, p)


@pytest.fixture(scope="module")
def drawn() -> tuple[Model, Network]:
    model = load_model("binding")
    return model, instantiate(model)


def _within(pre_shape: list[int], post_shape: list[int], radius: float) -> np.ndarray:
    """How many pre cells lie within ``radius`` (post-grid cells) of each post cell: the in-degree at p = 1."""
    frame = (post_shape[-2], post_shape[-1])
    pre, post = grid_positions(pre_shape, frame), grid_positions(post_shape, frame)
    return (((post[:, None, :] - pre[None, :, :]) ** 2).sum(axis=2) <= radius * radius).sum(axis=1)


def test_cells_and_rule_are_the_seed_s(drawn: tuple[Model, Network]) -> None:
    model, _ = drawn
    exc, inh = model.populations["L1_exc"], model.populations["L1_inh"]
    # C_m 0.5 nF / g_l 25 nS = 20 ms; 0.214 nF / 18 nS
    assert exc.parameters["tau_m"].value == pytest.approx(0.5 / 0.025) and inh.parameters["tau_m"].value == pytest.approx(0.214 / 0.018)
    assert (exc.parameters["v_rest"].value, exc.parameters["v_reset"].value, exc.parameters["v_thresh"].value) == (-74.0, -57.0, -53.0)
    assert (inh.parameters["v_rest"].value, inh.parameters["v_reset"].value) == (-82.0, -58.0)
    for name, prj in model.projections.items():
        if prj.label in ("FF", "E2E", "FB"):
            p = prj.synapse.parameters
            w_max = 30.0 if prj.label == "FF" else 20.0  # the seed's eta (nS) times w_max = 1
            assert prj.synapse.type == "saturating_stdp", name
            assert (p["w_max"], p["rho"], p["mu"], p["tau_C"], p["tau_D"], p["alpha_C"], p["alpha_D"]) == pytest.approx(
                (w_max, 0.02 * w_max, 0.0, 5.0, 5.0, 0.5, 0.5)
            ), name
        else:
            assert prj.synapse.type == "static" and prj.delay is not None and prj.delay.value == 0.1, name
    labels = {prj.label for prj in model.projections.values() if prj.label}
    assert labels == {"FF", "E2E", "FB"}
    assert sorted(n for n, p in model.projections.items() if p.label == "FB") == ["fb_21", "fb_32", "fb_43"]  # no feedback onto L4


def test_feed_forward_in_degrees_follow_the_seed_s_fan_in_and_probability(drawn: tuple[Model, Network]) -> None:
    model, net = drawn
    for layer, (radius, p) in FF.items():
        prj = net.projections[f"ff_{layer - 1}{layer}"]
        pre = model.populations["L0" if layer == 1 else f"L{layer - 1}_exc"].shape
        post = model.populations[f"L{layer}_exc"].shape
        assert pre is not None and post is not None
        possible = _within(pre, post, radius)
        indegree = np.bincount(prj.post_idx, minlength=len(possible))
        # each pair within the radius is drawn with probability p: the mean in-degree is p times the pairs within it
        expected = p * possible.sum()
        assert abs(indegree.sum() - expected) < 5 * np.sqrt(expected * (1 - p)), layer
        assert np.all(indegree <= possible)
        w = prj.weight
        assert w.min() >= 0.0 and w.max() <= 0.03 and abs(w.mean() - 0.015) < 0.001  # uniform in [0, w_max]
        assert prj.delay.min() >= 1.0 and prj.delay.max() <= 10.0


def test_the_adaptive_variant_is_binding_with_the_seed_s_adapting_excitatory_cells(drawn: tuple[Model, Network]) -> None:
    base, base_net = drawn
    model = load_model("binding_adaptive")
    exc, inh = model.populations["L2_exc"], model.populations["L2_inh"]
    assert exc.cell_type == "adaptive_exc" and exc.nestml is not None and inh.cell_type == "IF_cond_exp"
    values = {k: d.value for k, d in exc.parameters.items()}
    assert (values["q_a"], values["tau_a"], values["E_a"]) == (6.0, 80.0, -90.0)  # the seed's adaptation
    old = base.populations["L2_exc"].parameters
    assert values["C_m"] == pytest.approx(1000 * old["cm"].value)  # pF, nF
    assert values["g_L"] == pytest.approx(1e3 * old["cm"].value / old["tau_m"].value)  # nS
    assert (values["E_L"], values["V_reset"], values["V_th"]) == (old["v_rest"].value, old["v_reset"].value, old["v_thresh"].value)
    net = instantiate(model)
    for name, prj in net.projections.items():
        same = base_net.projections[name]
        np.testing.assert_array_equal(prj.pre_idx, same.pre_idx)
        np.testing.assert_array_equal(prj.delay, same.delay)
        scale = 1000.0 if model.projections[name].post.endswith("_exc") else 1.0  # nS onto the NESTML cells, uS onto IF_cond_exp
        np.testing.assert_allclose(prj.weight, scale * same.weight, rtol=1e-12)
        assert model.projections[name].synapse.type == base.projections[name].synapse.type
