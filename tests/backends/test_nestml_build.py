"""NESTML models compiled into NEST extension modules (spikebridge.backends.nest.nestml), against the real NEST and
NESTML: one paired neuron+synapse module is built (about 30 s the first time, then cached under ~/.cache/spikebridge)
and one build is made to fail in cmake."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from spikebridge.backends.nest import nestml
from spikebridge.errors import BackendError, ExecutionError

MODELS = Path(sys.prefix) / "models"  # NESTML's example models, installed with the nestml wheel
NEURON, SYNAPSE = "iaf_psc_exp_neuron", "stdp_triplet_synapse"
PAIRS = (nestml.Pair(NEURON, SYNAPSE, ("post_spikes",)),)


def model_text(kind: str, name: str) -> str:
    """The text of one of NESTML's example models (``kind`` is ``neurons`` or ``synapses``)."""
    path = MODELS / kind / f"{name}.nestml"
    if not path.is_file():
        pytest.skip(f"NESTML's example model {path} is not installed")
    return path.read_text()


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    return {NEURON: model_text("neurons", NEURON), SYNAPSE: model_text("synapses", SYNAPSE)}


@pytest.fixture(scope="module")
def module(sources: dict[str, str], nestml_toolchain: None) -> nestml.Module:
    """The paired iaf_psc_exp_neuron + stdp_triplet_synapse module (built once, or taken from the cache)."""
    t0 = time.perf_counter()
    built = nestml.build(sources, PAIRS)
    print(f"\nNESTML module {built.name}: {'cached' if built.cached else 'built'} in {time.perf_counter() - t0:.2f} s")
    return built


def test_importing_does_not_import_pynestml() -> None:
    code = "import sys, spikebridge.backends.nest.nestml; sys.exit('pynestml' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=120).returncode == 0


def test_the_key_follows_the_texts_not_their_order(sources: dict[str, str]) -> None:
    key = nestml.cache_key(sources, PAIRS)
    assert key == nestml.cache_key(dict(reversed(sources.items())), PAIRS)
    changed = {**sources, SYNAPSE: sources[SYNAPSE].replace("tau_plus ms = 16.8 ms", "tau_plus ms = 20 ms")}
    assert changed != sources
    assert nestml.cache_key(changed, PAIRS) != key
    assert nestml.cache_key(sources) != key  # the pairs are part of it
    assert nestml.module_name(key) == f"sb{key[:12]}module"


def test_bad_input_is_refused_before_building(sources: dict[str, str]) -> None:
    with pytest.raises(BackendError, match="defines no 'model other_neuron:'"):
        nestml.build({"other_neuron": sources[NEURON]})
    with pytest.raises(BackendError, match="not one of the synapse models"):
        nestml.build({NEURON: sources[NEURON]}, PAIRS)


def test_nest_config_answers_for_the_installed_wheel() -> None:
    script = nestml.nest_config_dir() / "bin" / "nest-config"
    assert nestml.nest_config_dir() / "bin" / "nest-config" == script  # written once, same place
    ask = lambda option: subprocess.run([str(script), option], capture_output=True, text=True, check=True).stdout.strip()
    assert "-D_GLIBCXX_USE_CXX11_ABI=0" in ask("--cflags")
    includes = [flag[2:] for flag in ask("--includes").split()]
    assert includes and all(Path(folder).is_dir() for folder in includes)
    assert (Path(includes[0]) / "config.h").is_file()
    assert ask("--libs") == ""


def test_missing_headers_are_named_with_their_debian_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nestml, "HEADERS", {"no/such/header.h": "libnosuch-dev"})
    with pytest.raises(ExecutionError, match=r"headers no/such/header\.h, which are missing; install them: apt-get install libnosuch-dev$"):
        nestml.check_toolchain()


@pytest.mark.compile
def test_the_paired_module_runs_a_triplet_stdp_synapse_in_nest(module: nestml.Module) -> None:
    import nest

    nestml.check_toolchain()  # g++, cmake, make and the headers are all there
    assert module.path.is_file() and module.name.endswith("module")
    neuron, synapse = module.node_models[NEURON], module.synapse_models[SYNAPSE]
    assert (neuron, synapse) == (
        "iaf_psc_exp_neuron_nestml__with_stdp_triplet_synapse_nestml",
        "stdp_triplet_synapse_nestml__with_iaf_psc_exp_neuron_nestml",
    )
    nest.ResetKernel()
    nestml.install(module)
    nestml.install(module)  # a no-op once loaded
    assert neuron in nest.node_models and synapse in nest.synapse_models
    assert "iaf_psc_exp_neuron_nestml" in module.registered and "iaf_psc_exp_neuron_nestml" in nest.node_models

    nest.resolution = 0.1
    pre_times, post_times = [10.0, 30.0, 50.0, 70.0], [14.0, 34.0, 54.0, 74.0]
    pre = nest.Create("parrot_neuron")
    post = nest.Create(neuron)
    nest.Connect(nest.Create("spike_generator", params={"spike_times": pre_times}), pre)
    nest.Connect(nest.Create("spike_generator", params={"spike_times": post_times}), post, syn_spec={"weight": 5000.0})
    nest.Connect(pre, post, syn_spec={"synapse_model": synapse, "weight": 1.0, "delay": 1.0})
    recorder = nest.Create("spike_recorder")
    nest.Connect(post, recorder)
    nest.Simulate(100.0)

    assert len(recorder.events["times"]) == len(post_times)  # each drive spike makes the neuron fire once
    connection = nest.GetConnections(synapse_model=synapse)
    weight = connection.get("weight")
    assert connection.get("w") == weight  # the weight variable is NEST's weight
    assert weight > 1.0  # pre 4 ms before post, four times: potentiation wins

    nest.ResetKernel()  # unloads the module; installing it again loads it again
    assert neuron not in nest.node_models
    nestml.install(module)
    assert neuron in nest.node_models
    nest.ResetKernel()


@pytest.mark.compile
def test_a_second_build_comes_from_the_cache_without_nestml(module: nestml.Module, sources: dict[str, str]) -> None:
    t0 = time.perf_counter()
    again = nestml.build(sources, PAIRS)
    seconds = time.perf_counter() - t0
    print(f"\ncached build: {seconds * 1000:.1f} ms (first build took {again.seconds:.1f} s)")
    assert again.cached and seconds < 1.0
    assert (again.path, again.node_models, again.synapse_models) == (module.path, module.node_models, module.synapse_models)
    # in a fresh process: other test files of this worker may have imported pynestml
    code = (
        "import sys, json; from spikebridge.backends.nest import nestml as n; "
        "d = json.loads(sys.stdin.read()); m = n.build(d['sources'], [n.Pair(p[0], p[1], tuple(p[2]), p[3]) for p in d['pairs']]); "
        "print(m.cached, 'pynestml' in sys.modules)"
    )
    payload = json.dumps({"sources": sources, "pairs": [[p.neuron, p.synapse, list(p.post_ports), p.weight_variable] for p in PAIRS]})
    done = subprocess.run([sys.executable, "-c", code], input=payload, capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["True", "False"]


@pytest.mark.compile
def test_a_failed_cmake_names_its_log(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, nestml_toolchain: None) -> None:
    broken = tmp_path / "bin" / "nest-config"
    broken.parent.mkdir()
    broken.write_text("#!/bin/sh\necho 'nest-config: broken on purpose' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(nestml, "nest_config_dir", lambda: tmp_path)
    name = "iaf_psc_delta_neuron"
    text = model_text("neurons", name) + f"\n# {uuid.uuid4()}: never in the cache\n"

    with pytest.raises(ExecutionError) as failure:
        nestml.build({name: text}, progress=False)
    message = str(failure.value)
    print(f"\n{message}")
    key = nestml.cache_key({name: text})
    log = nestml.cache_root() / "logs" / f"{key}.log"
    assert "\n" not in message and message.startswith("compiling the NEST module")
    assert message.endswith(f"full log: {log}")
    assert "broken on purpose" in log.read_text()
    assert not (nestml.cache_root() / key).exists() and not list(nestml.cache_root().glob(f".tmp-{key}-*"))
    log.unlink()  # this key is never built again
    (nestml.cache_root() / "locks" / f"{key}.lock").unlink(missing_ok=True)


@pytest.mark.compile
def test_invalid_nestml_fails_generation_with_its_log(sources: dict[str, str], nestml_toolchain: None) -> None:
    text = sources[NEURON].replace("V_m mV = E_L", "V_m mV = no_such_variable", 1)
    assert text != sources[NEURON]
    with pytest.raises(ExecutionError, match=r"^NESTML code generation for models iaf_psc_exp_neuron failed: .*full log: \S+\.log$"):
        nestml.build({NEURON: text}, progress=False)
