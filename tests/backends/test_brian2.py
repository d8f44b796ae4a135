"""What only the Brian2 backend does, on the real simulator (runtime and C++ standalone; CUDA code generation where
possible); the contract every backend meets is in ``test_conformance.py``."""

from __future__ import annotations

import copy
import glob
import os
import shutil
import sys
from typing import Any

import numpy as np
import pytest

import spikebridge
from spikebridge import backends
from spikebridge.backends.brian2.standalone import curand_dirs
from spikebridge.errors import BackendError
from spikebridge.models import instantiate, load_model, validate

from ..models.test_schema_errors import BASE
from .networks import STDP_RAW, mixed_projections, stdp_three_phases, step_current

STANDALONE_AND_RUNTIME = ["brian2", "brian2:cpp"]


def build(raw: dict[str, Any], backend: str = "brian2", options: dict[str, Any] | None = None) -> tuple[Any, Any]:
    net = instantiate(validate(raw))
    sim = backends.create(backend, options)
    sim.build(net)
    return net, sim


def spike_counts(segment: Any, population: str, size: int) -> np.ndarray:
    counts = np.zeros(size, dtype=int)
    for st in segment.spiketrains:
        if st.annotations["population"] == population:
            counts[int(st.annotations["source_index"])] = len(st)
    return counts


def test_method_option_is_checked() -> None:
    with pytest.raises(BackendError, match="unknown cell type"):
        backends.create("brian2", {"method": {"IF_cond_xp": "rk4"}})
    with pytest.raises(BackendError, match=r"^brian2 option 'method' must be a method name or a table"):
        backends.check("brian2", {"method": 3})
    assert backends.accepts("brian2:cpp", "threads") and not backends.accepts("brian2", "threads")
    assert backends.packages("brian2:cuda") == ("brian2", "PyNN", "brian2cuda")


def test_cell_types_of_option_method_are_those_of_the_cells() -> None:
    from spikebridge.backends.brian2 import cells
    from spikebridge.backends.brian2.options import CELL_TYPES

    assert tuple(cells.SPIKING) == CELL_TYPES


@pytest.mark.parametrize("backend", [pytest.param("brian2"), pytest.param("brian2:cpp", marks=pytest.mark.compile)])
def test_bulk_loaded_projection_is_one_synapses_object(backend: str) -> None:
    """One Synapses object per projection holds every synapse, and Brian2's readback is the loaded arrays: what
    ``connections()`` reports for a static projection without reading it back (the contract: test_conformance)."""
    net, sim = build(mixed_projections(), backend)
    try:
        sim.run(net.phases[0])
        assert {len(p.synapses) for p in sim.projections.values()} >= {len(net.projections["exc_exc"])}
        assert all(len(sim.projections[name].synapses) == len(prj) for name, prj in net.projections.items())
        sim.complete()  # a standalone binary runs: values can be read
        static = [name for name, prj in net.projections.items() if prj.synapse.type == "static"]
        assert static
        for name in static:
            read, reported = sim.projections[name].read(net.dt), sim.connections(name)
            for field in ("pre", "post", "weight", "delay"):
                np.testing.assert_array_equal(getattr(read, field), getattr(reported, field), err_msg=f"{name}.{field}")
    finally:
        sim.end()


def drive_times(cells: int = 4, stop: float = 1500.0) -> list[list[float]]:
    """Irregular times at least 15 ms apart, on the 0.1 ms grid."""
    rng = np.random.default_rng(3)
    out = []
    for _ in range(cells):
        t = np.cumsum(15.0 + rng.exponential(40.0, size=200))
        out.append(np.round(t[t < stop], 1).tolist())
    return out


def forced_stdp_model(rule: str, **dependence: float) -> dict[str, Any]:
    """Plastic synapses whose pre and post spike times are all given: post cells are forced by strong inputs, so
    every simulator sees the same spikes and only the rule decides the weights."""
    return {
        "name": f"stdp_forced_{rule}",
        "populations": {
            "pre": {"cell_type": "SpikeSourcePoisson", "size": 20, "parameters": {"rate": 25.0, "start": 0.0, "duration": 1500.0}},
            "drive": {"cell_type": "SpikeSourceArray", "size": 4, "spike_times": drive_times()},
            # each drive spike makes exactly one post spike: it crosses threshold within its step, and the
            # conductance has gone before the refractory period ends
            "post": {"cell_type": "IF_cond_exp", "size": 4, "parameters": {"tau_refrac": 5.0, "tau_syn_E": 0.5}},
        },
        "projections": {
            "plastic": {
                "pre": "pre",
                "post": "post",
                "connector": {"rule": "all_to_all"},
                "weight": {"distribution": "uniform", "low": 0.0002, "high": 0.0008},
                "delay": {"distribution": "uniform", "low": 0.1, "high": 3.0},
                "synapse": {
                    "type": "stdp",
                    "timing": {"tau_plus": 20.0, "tau_minus": 25.0, "A_plus": 0.05, "A_minus": 0.06},
                    "weight_dependence": {"rule": rule, "w_min": 0.0, "w_max": 0.001, **dependence},
                },
            },
            "drive": {"pre": "drive", "post": "post", "connector": {"rule": "one_to_one"}, "weight": 5.0, "delay": 0.1},
        },
        # one last pre spike, long after the others, makes NEST apply its pending facilitation
        "stimuli": {"flush": {"kind": "spike_array", "target": "pre", "spike_times": [[1900.0]]}},
        "recording": {"pre": {"variables": ["spikes"]}, "post": {"variables": ["spikes"]}},
        "simulation": {"dt": 0.1, "duration": 2000.0, "seed": 11},
    }


RULES: dict[str, dict[str, float]] = {
    "additive": {},
    "multiplicative": {},
    "additive_potentiation_multiplicative_depression": {},
    "gutig": {"mu_plus": 0.3, "mu_minus": 0.7},
}


def final_weights(backend: str, rule: str) -> tuple[np.ndarray, np.ndarray]:
    """Final weights and post spike counts; checks that the sources spiked exactly when they were told to."""
    net, sim = build(forced_stdp_model(rule, **RULES[rule]), backend)
    try:
        for phase in net.phases:
            sim.run(phase)
        segment = sim.recordings().segments[0]
        for st in segment.spiketrains:
            if st.annotations["population"] == "pre":
                given = net.populations["pre"].spike_times[int(st.annotations["source_index"])]
                np.testing.assert_allclose(st.magnitude, given, atol=1e-6, err_msg=f"{backend} delivered source spikes off their step")
        return sim.connections("plastic").weight, spike_counts(segment, "post", 4)
    finally:
        sim.end()


@pytest.mark.validation
def test_weight_dependences_differ_and_match_nest() -> None:
    w0 = instantiate(validate(forced_stdp_model("additive"))).projections["plastic"].weight
    finals: dict[str, np.ndarray] = {}
    for rule in RULES:
        ours, post = final_weights("brian2", rule)
        nest, nest_post = final_weights("nest", rule)
        np.testing.assert_array_equal(post, nest_post)
        assert post.min() > 5, "post cells should spike throughout"
        np.testing.assert_allclose(ours, nest, rtol=1e-6, atol=1e-12, err_msg=rule)
        assert np.abs(ours - w0).max() > 1e-5, f"{rule}: no learning"
        finals[rule] = ours
    for a in RULES:
        for b in RULES:
            if a < b:
                assert np.abs(finals[a] - finals[b]).max() > 1e-5, f"{a} and {b} gave the same weights"


def test_heterogeneous_parameters_are_honoured() -> None:
    raw = {
        "name": "hetero",
        "populations": {
            "drift": {
                "cell_type": "IF_cond_exp",
                "size": 12,
                "parameters": {
                    "i_offset": {"distribution": "uniform", "low": 0.6, "high": 2.0},
                    "tau_refrac": {"distribution": "uniform", "low": 1.0, "high": 8.0},
                },
            },
            "izh": {
                "cell_type": "Izhikevich",
                "size": 5,
                "parameters": {
                    "d": {"distribution": "uniform", "low": 2.0, "high": 8.0},
                    "c": {"distribution": "uniform", "low": -65.0, "high": -50.0},
                },
            },
            "adex": {
                "cell_type": "EIF_cond_exp_isfa_ista",
                "size": 5,
                "parameters": {
                    "b": {"distribution": "uniform", "low": 0.0, "high": 0.1},
                    "v_reset": {"distribution": "uniform", "low": -70.0, "high": -55.0},
                },
            },
        },
        "recording": {"drift": {"variables": ["spikes"]}},
        "simulation": {"dt": 0.1, "duration": 500.0, "seed": 5},
    }
    net, sim = build(raw)
    try:
        sim.run(net.phases[0])
        counts = spike_counts(sim.recordings().segments[0], "drift", 12)
        izh, adex = sim.populations["izh"].brian2_group, sim.populations["adex"].brian2_group
        np.testing.assert_allclose(np.asarray(izh.d_[:]), net.populations["izh"].parameters["d"])  # mV/ms = V/s
        np.testing.assert_allclose(np.asarray(izh.v_reset_[:]) * 1e3, net.populations["izh"].parameters["c"])
        np.testing.assert_allclose(np.asarray(adex.b_[:]) * 1e9, net.populations["adex"].parameters["b"])
        np.testing.assert_allclose(np.asarray(adex.v_reset_[:]) * 1e3, net.populations["adex"].parameters["v_reset"])
        np.testing.assert_allclose(
            np.asarray(sim.populations["drift"].brian2_group.tau_refrac_[:]) * 1e3, net.populations["drift"].parameters["tau_refrac"]
        )
        # what every cell shares is one constant (read once per step); what differs, and i_inj when a current
        # source drives the group, stays per cell
        drift_vars = sim.populations["drift"].brian2_group.variables
        assert drift_vars["tau_m"].scalar and drift_vars["v_rest"].scalar and drift_vars["i_inj"].scalar
        assert not drift_vars["i_offset"].scalar and not drift_vars["tau_refrac"].scalar
        assert float(drift_vars["tau_m"].get_value()[0]) == pytest.approx(0.02)
    finally:
        sim.end()
    drift = net.populations["drift"].parameters
    # a neuron's rate follows its own drive and refractory period: ISI = T(i_offset) + tau_refrac
    assert len(set(counts.tolist())) > 6, counts
    cm, tau_m, v_rest, v_th, v_reset = 1.0, 20.0, -65.0, -50.0, -65.0
    i = np.asarray(drift["i_offset"])
    v_inf = v_rest + i * tau_m / cm
    isi = tau_m * np.log((v_inf - v_reset) / (v_inf - v_th)) + np.asarray(drift["tau_refrac"])
    np.testing.assert_allclose(counts, np.floor(500.0 / isi), atol=2)


@pytest.mark.compile
def test_current_source_is_refused_by_standalone() -> None:
    """(That it drives cells on the runtime device: test_conformance.)"""
    with pytest.raises(BackendError, match=r"brian2:cpp cannot inject currents.*use backend 'brian2'"):
        build(step_current(), "brian2:cpp")


@pytest.mark.compile
def test_standalone_refuses_a_phase_after_its_results_were_read() -> None:
    net, sim = build(stdp_three_phases(), "brian2:cpp")
    try:
        sim.run(net.phases[0])
        sim.connections("ff")
        with pytest.raises(BackendError, match="already built and run its binary"):
            sim.run(net.phases[1])
    finally:
        sim.end()


def test_standalone_generates_its_cached_project_without_compiling(tmp_path: Any) -> None:
    net, sim = build(STDP_RAW, "brian2:cpp", {"build_dir": str(tmp_path)})
    try:
        for phase in net.phases:
            sim.run(phase)
        sim.compile(make=False)
        project = sim.project.directory
        assert project.parent == tmp_path, "the backend's keyed project in its build folder"
        assert (project / "makefile").exists() and list((project / "code_objects").glob("*.cpp")), "sources generated"
        assert not (project / "main").exists() and not list(project.rglob("*.o")), "nothing compiled"
        with pytest.raises(ValueError, match="only once compiled"):
            sim.project.build(run=True, make=False)
    finally:
        sim.end()


def test_runtime_compiles_nothing_ahead() -> None:
    net, sim = build(STDP_RAW, "brian2")
    try:
        with pytest.raises(BackendError, match="compiles nothing ahead"):
            sim.compile()
    finally:
        sim.end()


@pytest.mark.matched_integration
def test_integration_method_is_reported_and_selectable() -> None:
    raw = copy.deepcopy(BASE)
    for options, expected in (
        ({}, "gsl_rkf45, absolute error v 0.001 mV, ge 0.001 nS, gi 0.001 nS, step carried over between time steps (matches NEST"),
        ({"method": "rk4"}, "rk4 (NEST iaf_cond_exp: GSL RKF45"),
        ({"method": {"IF_cond_exp": "exponential_euler"}}, "exponential_euler (NEST iaf_cond_exp"),
    ):
        net, sim = build(raw, "brian2", options)
        try:
            info = sim.info()
        finally:
            sim.end()
        assert info["integration"]["IF_cond_exp"].startswith(expected), info["integration"]
        assert info["integration"]["IF_cond_exp"].endswith("requested with option 'method'") == bool(options)
        assert "IF_curr_exp" in info["integration"]
        assert info["clock"] == "defaultclock, dt = 0.1 ms"


@pytest.mark.compile
def test_rerun_of_the_same_structure_reuses_the_compiled_binary(tmp_path: Any) -> None:
    raw = copy.deepcopy(BASE)
    timings = []
    for seed in (1, 1, 2):
        raw["simulation"]["seed"] = seed
        net, sim = build(raw, "brian2:cpp", {"build_dir": str(tmp_path)})
        try:
            sim.run(net.phases[0])
            sim.recordings()
            timings.append(sim.info()["build"])
        finally:
            sim.end()
    assert len({t["directory"] for t in timings}) == 1, "a new seed is a new value, not a new structure"
    assert timings[0]["make_s"] > 1.0 and timings[1]["make_s"] < 0.5, timings
    assert not list((tmp_path / timings[0]["directory"].split("/")[-1] / "results").iterdir()), "end() keeps no results"


def test_the_same_network_under_other_names_runs_the_same_compiled_code() -> None:
    """Brian2 names generated arrays after their groups and caches Cython modules by the code's text: with the model's
    labels in the group names, every renamed copy of a network compiled its cell types and synapses again."""
    renamed = copy.deepcopy(BASE)
    renamed["name"] = "renamed"
    pops = renamed["populations"]
    renamed["populations"] = {"input": pops["src"], "cortex": pops["exc"], "sheet": pops["grid"]}
    prjs = renamed["projections"]
    renamed["projections"] = {
        "recurrent": {**prjs["exc_exc"], "pre": "cortex", "post": "cortex"},
        "feed": {**prjs["src_exc"], "pre": "input", "post": "cortex"},
    }
    renamed["recording"] = {"cortex": renamed["recording"]["exc"]}

    def modules(raw: dict[str, Any]) -> set[str]:
        net, sim = build(copy.deepcopy(raw))
        try:
            sim.run(net.phases[0])
            code = [c for o in sim.sim.simulator.state.network.sorted_objects for c in o._code_objects]
            return {m.__name__ for c in code for m in c.compiled_code.values() if m is not None}
        finally:
            sim.end()

    original = modules(BASE)
    assert len(original) > 5
    assert modules(renamed) == original


@pytest.mark.compile
def test_a_standalone_project_leaves_no_code_objects_to_the_next_device() -> None:
    """A device keeps its last project's code objects until reinitialised, and Brian2 names new objects after the live
    ones: the next network of the same structure, here on the runtime, must get the same names (and find its cache)."""
    import gc
    import re

    from brian2.codegen.codeobject import CodeObject

    def live_code_objects() -> list[str]:
        gc.collect()
        return sorted(o.name for o in gc.get_objects() if issubclass(type(o), CodeObject))  # type(): no weak proxies

    for backend in ("brian2:cpp", "brian2"):
        net, sim = build(copy.deepcopy(BASE), backend)
        try:
            sim.run(net.phases[0])
            sim.recordings()
            names = live_code_objects()
            assert any(n.startswith("prj0_pre_") for n in names), f"{backend}: the check sees this network's code"
            assert not [n for n in names if re.search(r"_codeobject_\d+$", n)], f"{backend} names its code as the first"
        finally:
            sim.end()


@pytest.mark.compile
def test_new_input_spikes_reuse_the_compiled_binary_and_the_padding_never_fires(tmp_path: Any) -> None:
    """Standalone code compiles array lengths in; a source's spikes are padded to a power of two after the run's end,
    so new input trains of a similar size reuse the binary, and the padding spikes never reach a cell."""
    timings, received = [], []
    for times in ([[5.0, 20.0], [7.0, 12.0], [30.0]], [[5.0], [8.0, 14.0], [31.0, 40.0, 45.0]]):  # 5 and 6 spikes: both padded to 8
        raw = {
            "name": "padded_sources",
            "populations": {
                "src": {"cell_type": "SpikeSourceArray", "size": 3, "spike_times": times},
                "post": {"cell_type": "IF_cond_exp", "size": 3, "parameters": {"tau_refrac": 2.0, "tau_syn_E": 0.5}},
            },
            "projections": {"drive": {"pre": "src", "post": "post", "connector": {"rule": "one_to_one"}, "weight": 5.0, "delay": 0.1}},
            "recording": {"src": {"variables": ["spikes"]}, "post": {"variables": ["spikes"]}},
            "simulation": {"dt": 0.1, "duration": 50.0, "seed": 1},
        }
        net, sim = build(raw, "brian2:cpp", {"build_dir": str(tmp_path)})
        try:
            sim.run(net.phases[0])
            segment = sim.recordings().segments[0]
            timings.append(sim.info()["build"])
            received.append(
                {(st.annotations["population"], int(st.annotations["source_index"])): st.magnitude for st in segment.spiketrains}
            )
        finally:
            sim.end()
        for i, given in enumerate(times):
            np.testing.assert_allclose(received[-1][("src", i)], given, atol=1e-6)
            assert len(received[-1][("post", i)]) == len(given)  # one post spike per input spike, none from the padding
    assert timings[1]["make_s"] < 0.5, timings


@pytest.mark.compile
def test_runner_and_cli_run_the_standalone_variant(tmp_path: Any) -> None:
    import subprocess

    raw = copy.deepcopy(BASE)
    path = tmp_path / "tiny.yaml"
    import yaml

    path.write_text(yaml.safe_dump(raw))
    out = tmp_path / "cli"
    done = subprocess.run(
        [sys.executable, "-m", "spikebridge.cli", "run", str(path), "--backend", "brian2:cpp", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = spikebridge.load(out)
    assert results.meta["backend"] == "brian2:cpp"
    assert results.meta["backend_info"]["device"] == "cpp_standalone"


def test_cuda_without_brian2cuda_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "brian2cuda", None)  # as if not installed
    with pytest.raises(BackendError, match=r"brian2cuda.*install the 'cuda' extra"):
        backends.create("brian2:cuda")


def cuda_toolchain() -> bool:
    """brian2cuda, nvcc and cuRAND's header (brian2cuda links cuRAND; pip-built CUDA toolkits may lack it)."""
    try:
        import brian2cuda  # noqa: F401
    except ImportError:
        return False
    if shutil.which("nvcc") is None:
        return False
    dirs = [p for p in os.environ.get("CPATH", "").split(os.pathsep) if p]
    dirs += [os.path.join(root, "include") for root in (os.environ.get("CUDA_PATH", ""), *glob.glob("/usr/local/cuda*")) if root]
    dirs += curand_dirs()[0]  # the nvidia-curand wheel (the cuda extra)
    return any(os.path.exists(os.path.join(d, "curand.h")) for d in dirs)


@pytest.mark.slow
@pytest.mark.compile
@pytest.mark.skipif(not cuda_toolchain(), reason="needs brian2cuda, nvcc and cuRAND")
@pytest.mark.skipif(
    os.environ.get("SPIKEBRIDGE_TEST_CUDA_BUILD") != "1",
    reason="nvcc takes ~5 min on 2 cores, a fifth of the suite's budget: SPIKEBRIDGE_TEST_CUDA_BUILD=1 runs it",
)
def test_cuda_generates_and_compiles_without_a_gpu(tmp_path: Any) -> None:
    net, sim = build(STDP_RAW, "brian2:cuda", {"build_dir": str(tmp_path), "compute_capability": 9.0})
    try:
        for phase in net.phases:
            sim.run(phase)
        sim.compile()
        assert (tmp_path / sim.project.directory.name / "main").exists()
    finally:
        sim.end()


def gpu_present() -> bool:
    return shutil.which("nvidia-smi") is not None and subprocess_ok(["nvidia-smi", "-L"])


def subprocess_ok(cmd: list[str]) -> bool:
    import subprocess

    try:
        return subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.gpu
@pytest.mark.compile
@pytest.mark.skipif(not (cuda_toolchain() and gpu_present()), reason="needs brian2cuda, nvcc and an NVIDIA GPU")
def test_cuda_matches_cpp_on_a_gpu(tmp_path: Any) -> None:
    weights = {}
    for backend in ("brian2:cpp", "brian2:cuda"):
        net, sim = build(forced_stdp_model("multiplicative"), backend, {"build_dir": str(tmp_path)})
        try:
            for phase in net.phases:
                sim.run(phase)
            weights[backend] = sim.connections("plastic").weight
        finally:
            sim.end()
    np.testing.assert_allclose(weights["brian2:cuda"], weights["brian2:cpp"], rtol=1e-6)


@pytest.mark.slow
@pytest.mark.validation
@pytest.mark.compile
def test_vogels_abbott_coba_agrees_with_nest_over_5_s() -> None:
    """Same connectivity and input on both simulators; per-neuron spike counts over 5 s.

    The network's self-sustained state has a random lifetime (with the model's own seed NEST's activity stops
    at 1.4 s; with seed 2 Brian2's Euler run stops at 0.3 s): seed 3 keeps both going, as checked here.
    """
    model = load_model("vogels_abbott_coba", ["simulation.duration=5000", "simulation.seed=3"])
    net = instantiate(model)
    counts: dict[str, np.ndarray] = {}
    late: dict[str, float] = {}
    for backend, options in (("nest", {}), ("brian2:cpp", {"method": "rk4"})):
        sim = backends.create(backend, options)
        try:
            sim.build(net)
            for phase in net.phases:
                sim.run(phase)
            segment = sim.recordings().segments[0]
        finally:
            sim.end()
        counts[backend] = np.concatenate([spike_counts(segment, pop, net.populations[pop].size) for pop in ("exc", "inh")])
        times = np.concatenate([np.asarray(st.magnitude) for st in segment.spiketrains])
        late[backend] = float((times > 4000.0).sum()) / 4000 / 1.0
    assert min(late.values()) > 5.0, f"activity died out: rates in the last second {late} Hz"
    r = np.corrcoef(counts["nest"], counts["brian2:cpp"])[0, 1]
    ratio = counts["brian2:cpp"].mean() / counts["nest"].mean()
    assert r >= 0.95, r
    assert abs(ratio - 1) <= 0.05, ratio


SHARED_RAW: dict[str, Any] = {
    "name": "shared_groups",
    "populations": {
        "src": {"cell_type": "SpikeSourcePoisson", "size": 40, "parameters": {"rate": 80.0}},
        "e": {"cell_type": "IF_cond_exp", "size": 12, "initial": {"v": {"distribution": "uniform", "low": -70.0, "high": -52.0}}},
        "i": {"cell_type": "IF_cond_exp", "size": 5, "initial": {"v": -58.0}},
        "other": {"cell_type": "IF_cond_exp", "size": 3, "parameters": {"tau_m": 10.0}},
    },
    "projections": {
        "src_e": {
            "pre": "src",
            "post": "e",
            "connector": {"rule": "fixed_probability", "p": 0.5},
            "weight": 0.01,
            "synapse": {
                "type": "stdp",
                "timing": {"tau_plus": 20.0, "tau_minus": 20.0, "A_plus": 0.05, "A_minus": 0.05},
                "weight_dependence": {"rule": "additive", "w_min": 0.0, "w_max": 0.02},
            },
        },
        "e_i": {"pre": "e", "post": "i", "connector": {"rule": "all_to_all"}, "weight": 0.006, "delay": 0.5},
        "i_e": {"pre": "i", "post": "e", "receptor": "inhibitory", "connector": {"rule": "all_to_all"}, "weight": 0.01},
        "e_other": {"pre": "e", "post": "other", "connector": {"rule": "all_to_all"}, "weight": 0.006},
    },
    "recording": {"e": {"variables": ["spikes"]}, "i": {"variables": ["spikes", "v"]}, "other": {"variables": ["spikes"]}},
    "simulation": {"dt": 0.1, "duration": 300.0, "seed": 5},
}


def test_populations_of_one_cell_type_and_parameters_share_a_group_and_run_as_on_groups_of_their_own(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``e`` and ``i`` (same cell type and parameters) become subgroups of one Brian2 group, ``other`` (another
    tau_m) keeps its own: spikes, membrane traces and learned weights are those of a group per population."""
    import brian2

    from spikebridge.backends.brian2 import cells

    net, sim = build(SHARED_RAW)
    try:
        groups = sorted(o.name for o in sim.sim.simulator.state.network.objects if type(o) is cells.CellGroup)
        assert groups == ["cells1", "pop3"], groups
        assert isinstance(sim.populations["i"].brian2_group, brian2.Subgroup)
    finally:
        sim.end()
    m = validate(SHARED_RAW)
    shared = spikebridge.run(m, "brian2", tmp_path / "shared", progress=False, figure=False)
    monkeypatch.setattr(cells, "shared_key", lambda pop: None)  # a group per population, as before
    alone = spikebridge.run(m, "brian2", tmp_path / "alone", progress=False, figure=False)
    for pop in ("e", "i", "other"):
        for x, y in zip(shared.spikes(pop), alone.spikes(pop), strict=True):
            np.testing.assert_array_equal(x, y)
    assert all(len(shared.spikes(pop)[0]) > 0 for pop in ("e", "i", "other"))
    np.testing.assert_array_equal(np.asarray(shared.signals("i", "v")), np.asarray(alone.signals("i", "v")))
    np.testing.assert_array_equal(shared.connections("src_e").weight, alone.connections("src_e").weight)
    assert not np.all(shared.connections("src_e").weight == 0.01)


def test_which_populations_share_a_group_is_part_of_the_standalone_cache_key() -> None:
    """A value that makes two populations' parameters unequal changes the generated code (two groups instead of a
    shared one), so it changes the compiled project's key; a value that keeps them equal does not; CUDA shares none."""
    from spikebridge.backends.brian2 import cells, standalone

    def key(**tau_m: float) -> str:
        raw = copy.deepcopy(SHARED_RAW)
        for pop, value in tau_m.items():
            raw["populations"][pop]["parameters"] = {"tau_m": value}
        return standalone.structure_key(instantiate(validate(raw)), "cpp", {})

    assert cells.sharing(instantiate(validate(SHARED_RAW)), "cpp") == [["e", "i"]]
    assert cells.sharing(instantiate(validate(SHARED_RAW)), "cuda") == []
    assert key(e=15.0, i=15.0) == key(e=25.0, i=25.0)
    assert key(e=15.0, i=15.0) != key(e=15.0, i=25.0)


def test_currents_that_are_zero_for_every_cell_leave_the_membrane_equation_and_change_no_value(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``i_offset`` (0 in ``e`` and ``i``, 0.3 nA in ``other``) and ``i_inj`` (no current source) are taken out of
    ``dv/dt`` where every cell's value is 0, and only there; spikes and traces are those with the terms kept, and
    setting such a current afterwards is refused rather than ignored."""
    from spikebridge.backends.brian2 import cells

    raw = copy.deepcopy(SHARED_RAW)
    raw["populations"]["i"]["parameters"] = {"tau_m": 15.0}  # a group of its own, whose parameters can be set
    raw["populations"]["other"]["parameters"]["i_offset"] = 0.3
    net, sim = build(raw)
    try:
        groups = {o.name: o for o in sim.sim.simulator.state.network.objects if type(o) is cells.CellGroup}
        assert sorted(groups) == ["pop1", "pop2", "pop3"], sorted(groups)
        used = {name: group.equations["v"].expr.identifiers for name, group in groups.items()}
        assert not used["pop1"] & {"i_offset", "i_inj"} and not used["pop2"] & {"i_offset", "i_inj"}, used
        assert "i_offset" in used["pop3"] and "i_inj" not in used["pop3"], used
        assert float(groups["pop2"].i_offset[:]) == 0.0  # still a parameter PyNN reads
        with pytest.raises(BackendError, match=r"^populations\.i: i_offset was 0 for every cell when the group was built"):
            sim.populations["i"].set(i_offset=0.5)
        sim.populations["i"].set(i_offset=0.0, tau_m=16.0)  # 0 again changes nothing
        assert float(groups["pop2"].tau_m[:] / brian2_ms()) == pytest.approx(16.0)
        sim.populations["other"].set(i_offset=0.5)
        assert float(groups["pop3"].i_offset[:] / brian2_nA()) == pytest.approx(0.5)
        with pytest.raises(BackendError, match=r"^populations\.other: tau_m was the same for every cell .* one value for all"):
            sim.populations["other"].set(tau_m=np.array([10.0, 11.0, 12.0]))
    finally:
        sim.end()
    m = validate(raw)
    dropped = spikebridge.run(m, "brian2", tmp_path / "dropped", progress=False, figure=False)
    monkeypatch.setattr(cells, "_without_zero_currents", lambda eqs, zero: eqs)
    kept = spikebridge.run(m, "brian2", tmp_path / "kept", progress=False, figure=False)
    for pop in ("e", "i", "other"):
        for x, y in zip(dropped.spikes(pop), kept.spikes(pop), strict=True):
            np.testing.assert_array_equal(x, y)
    assert len(dropped.spikes("other")[0]) > 0 and len(dropped.spikes("e")[0]) > 0
    np.testing.assert_array_equal(np.asarray(dropped.signals("i", "v")), np.asarray(kept.signals("i", "v")))


def brian2_nA() -> Any:
    import brian2

    return brian2.nA


def brian2_ms() -> Any:
    import brian2

    return brian2.ms


def test_a_current_becoming_zero_changes_the_standalone_project_and_every_cell_type_loses_it(tmp_path: Any) -> None:
    """Whether ``i_offset`` is 0 for every cell changes the generated equations, so it keys the compiled project
    (another non-zero value does not); AdEx drops it from its input current ``I``, Izhikevich from ``dv/dt``."""

    def project(**offsets: float) -> Any:
        raw = copy.deepcopy(SHARED_RAW)
        for pop, value in offsets.items():
            raw["populations"][pop]["parameters"] = {"i_offset": value}
        net, sim = build(raw, "brian2:cpp", {"build_dir": str(tmp_path)})
        try:
            return sim.project.directory
        finally:
            sim.end()

    assert project(other=0.0) != project(other=0.3) == project(other=0.5)
    raw = copy.deepcopy(SHARED_RAW)
    raw["populations"]["e"]["cell_type"] = "EIF_cond_exp_isfa_ista"
    raw["populations"]["i"]["cell_type"] = "Izhikevich"
    raw["populations"]["i"].pop("initial")
    raw["projections"]["src_e"]["synapse"] = {"type": "static"}
    raw["projections"] = {k: v for k, v in raw["projections"].items() if k in ("src_e", "e_i")}
    net, sim = build(raw)
    try:
        adex, izh = (sim.populations[name].brian2_group for name in ("e", "i"))
        assert str(adex.equations["I"].expr) == "i_syn", adex.equations["I"].expr
        assert not izh.equations["v"].expr.identifiers & {"i_offset", "i_inj"}, izh.equations["v"].expr
        assert {"i_offset", "i_inj"} <= set(adex.variables) and {"i_offset", "i_inj"} <= set(izh.variables)
    finally:
        sim.end()
