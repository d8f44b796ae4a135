"""PyNN's NEST extension module, compiled once by spikebridge (spikebridge.backends.nest.pynn_extensions), on the
real NEST: PyNN loads it instead of rerunning CMake at every import, and its stochastic synapse works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from spikebridge.backends.nest import pynn_extensions

# Imports pyNN.nest with PyNN's build step recorded rather than run, then drives PyNN's stochastic synapse (one of the
# extension's models) from one spike source onto two cells, at release probability 0 and 1.
SCRIPT = textwrap.dedent(
    """
    import json, sys
    import pyNN.core
    attempts = []
    pyNN.core.run_command = lambda command, folder: attempts.append(command) or (1, [])
    pyNN.core.find = lambda name: "/nest-config"  # as on a PATH holding the wheel's own nest-config
    from spikebridge.backends.nest import pynn_extensions
    findable = pynn_extensions.make_findable() if sys.argv[1] == "findable" else False
    import pyNN.nest as sim
    out = {"findable": findable, "loaded": sim.simulator.state.extensions_loaded, "attempts": attempts}
    if out["loaded"]:
        sim.setup(timestep=0.1)
        source = sim.Population(1, sim.SpikeSourceArray(spike_times=[5.0 + 10.0 * k for k in range(9)]))
        cells = sim.Population(2, sim.IF_cond_exp())
        cells.record("gsyn_exc")
        for i, p in enumerate((0.0, 1.0)):
            sim.Projection(source, cells[i : i + 1], sim.AllToAllConnector(), sim.SimpleStochasticSynapse(weight=0.01, p=p))
        sim.run(100.0)
        g = cells.get_data().segments[0].filter(name="gsyn_exc")[0].magnitude
        out["peak_uS"] = g.max(axis=0).tolist()
    print(json.dumps(out))
    """
)


def run_script(mode: str, cache: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != pynn_extensions.SEARCH_PATH}
    env |= {"XDG_CACHE_HOME": str(cache), "PYNEST_QUIET": "1"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def cache(nestml_toolchain: None) -> Path:
    """The XDG cache holding the compiled module: the user's (``make install`` built it there), built now if absent."""
    pynn_extensions.build(progress=False)
    return pynn_extensions.cache_root().parent.parent


@pytest.mark.compile
def test_pyNN_nest_loads_the_compiled_extensions_instead_of_running_cmake(cache: Path) -> None:
    found = run_script("findable", cache)
    assert found["findable"] is True and found["loaded"] is True
    assert found["attempts"] == []
    unreleased, released = found["peak_uS"]  # type: ignore[misc]
    assert unreleased == 0.0 and released > 0.005  # 9 spikes of 0.01 uS, none or all released


@pytest.mark.compile
def test_without_the_search_path_pyNN_nest_compiles_again_and_has_no_extensions(cache: Path) -> None:
    stock = run_script("stock", cache)
    assert stock["loaded"] is False
    assert any("cmake" in str(a) for a in stock["attempts"])  # type: ignore[union-attr]


def test_only_a_built_module_is_made_findable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv(pynn_extensions.SEARCH_PATH, "/elsewhere")
    assert pynn_extensions.make_findable() is False
    assert os.environ[pynn_extensions.SEARCH_PATH] == "/elsewhere"
    pynn_extensions.library().parent.mkdir(parents=True)
    pynn_extensions.library().write_bytes(b"")
    assert pynn_extensions.make_findable() is True
    assert pynn_extensions.make_findable() is True  # idempotent
    assert os.environ[pynn_extensions.SEARCH_PATH] == os.pathsep.join([str(pynn_extensions.folder()), "/elsewhere"])
