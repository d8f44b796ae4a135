"""The run directory: complete or absent, reloadable through spikebridge.load and plain Neo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import neo
import numpy as np
import pytest

import spikebridge
from spikebridge.errors import RunDirectoryError
from spikebridge.models import instantiate, load_model

SMALL = ["simulation.duration=200"]


@pytest.fixture(scope="module")
def ei_run(tmp_path_factory: pytest.TempPathFactory) -> spikebridge.Results:
    out = tmp_path_factory.mktemp("runs") / "ei"
    return spikebridge.run(load_model("ei_weight_matrix", SMALL), "nest", out, progress=False)


def test_run_directory_layout_and_metadata(ei_run: spikebridge.Results) -> None:
    names = {p.name for p in ei_run.path.iterdir()}
    assert {"model.toml", "meta.json", "recordings.nwb", "network.npz", "connections.npz", "figures"} <= names
    assert {p.name for p in (ei_run.path / "figures").iterdir()} == {"summary.png", "summary.pdf"}
    meta = ei_run.meta
    assert meta["complete"] is True and meta["seed"] == 42 and meta["backend"] == "nest"
    for pkg in ("nest-simulator", "PyNN", "neo", "numpy", "brian2", "python"):
        assert meta["versions"][pkg], pkg
    assert set(meta["timings"]) >= {"instantiate_s", "build_s", "run_s", "collect_s", "write_s", "figure_s"}
    assert all(v > 0 for v in meta["timings"].values()), "the figure is timed apart from writing the data"
    cpu = meta["cpu_s"]  # this process's CPU seconds per phase, in user space and in the kernel
    assert set(cpu) == {"instantiate", "build", "run", "collect", "write"}
    assert all(set(c) == {"user", "system"} and min(c.values()) >= 0 for c in cpu.values())
    assert cpu["run"]["user"] + cpu["run"]["system"] > 0  # NEST simulates in this process
    assert len(meta["network_sha256"]) == 64 and len(meta["model_sha256"]) == 64
    assert "IF_curr_alpha" in meta["backend_info"]["integration"]


def test_cpu_seconds_resolve_a_phase_shorter_than_a_clock_tick() -> None:
    """A 2 ms phase reads as 2 ms of CPU, not 0 (``os.times`` counts 10 ms ticks: a short NEST run read as 0 s)."""
    from spikebridge.cpu import cpu_now, cpu_since

    start, clock = cpu_now(), time.process_time()
    while time.process_time() - clock < 0.002:
        pass
    spent = cpu_since(start)
    assert 0.001 < spent["user"] + spent["system"] < 0.5, spent


def test_reload_through_load_and_plain_neo(ei_run: spikebridge.Results) -> None:
    again = spikebridge.load(ei_run.path)
    idx, t = again.spikes("I")
    assert len(t) > 0 and np.all(np.diff(t) >= 0) and idx.max() < 25
    block = neo.io.NWBIO(str(ei_run.path / "recordings.nwb"), "r").read_block()  # Neo's own NWB reader, times in s
    seg = block.segments[0]
    assert seg.name == "run"
    plain = sorted(float(x) for st in seg.spiketrains if st.name.startswith("I:") for x in st.rescale("ms").magnitude)
    np.testing.assert_allclose(plain, np.sort(t), rtol=1e-15)
    v = again.signals("E", "v")
    assert v.shape[1] == 5 and str(v.units.dimensionality) == "mV"
    assert again.model.name == "ei_weight_matrix"


def test_final_connections_equal_the_static_arrays(ei_run: spikebridge.Results) -> None:
    final = ei_run.connections("I_E")
    drawn = ei_run.network
    np.testing.assert_array_equal(final.pre, drawn["prj/I_E/pre_idx"])
    np.testing.assert_allclose(final.weight, drawn["prj/I_E/weight"], rtol=1e-12)
    assert np.all(final.weight < 0)
    # written once: connections.npz holds a flag for a projection that ended as drawn, network.npz its arrays
    with np.load(ei_run.path / "connections.npz") as archive:
        assert "I_E__drawn" in archive.files and "I_E__weight" not in archive.files
    # the file keeps cell indices in 32 bits; what a reader gets is what instantiate drew (int64), digest included
    with np.load(ei_run.path / "network.npz") as archive:
        assert archive["prj__I_E__pre_idx"].dtype == np.int32
    assert drawn["prj/I_E/pre_idx"].dtype == final.pre.dtype == np.int64
    assert instantiate(ei_run.model).digest() == ei_run.meta["network_sha256"]
    rebuilt = instantiate(ei_run.model).arrays()
    assert rebuilt.keys() == drawn.keys()
    for name, array in rebuilt.items():
        assert drawn[name].dtype == array.dtype and np.array_equal(drawn[name], array), name


def test_plastic_connections_are_written_in_full(tmp_path: Path) -> None:
    from spikebridge.backends.base import Connections
    from spikebridge.rundir.connections import read_connections, write_connections

    drawn = {
        "prj/p/pre_idx": np.array([0, 1]),
        "prj/p/post_idx": np.array([1, 0]),
        "prj/p/weight": np.array([0.5, 0.5]),
        "prj/p/delay": np.array([1.0, 1.0]),
    }
    np.savez(tmp_path / "network.npz", **{k.replace("/", "__"): v for k, v in drawn.items()})
    learnt = Connections(np.array([0, 1]), np.array([1, 0]), np.array([0.5, 0.7]), np.array([1.0, 1.0]))
    write_connections(tmp_path / "connections.npz", {"p": learnt, "q": learnt}, drawn)
    with np.load(tmp_path / "connections.npz") as archive:
        assert sorted(archive.files) == ["p__delay", "p__post", "p__pre", "p__weight", "q__delay", "q__post", "q__pre", "q__weight"]
    np.testing.assert_array_equal(read_connections(tmp_path / "connections.npz", "p").weight, [0.5, 0.7])
    same = Connections(*(drawn[f"prj/p/{f}"] for f in ("pre_idx", "post_idx", "weight", "delay")))
    write_connections(tmp_path / "connections.npz", {"p": same}, drawn)
    with np.load(tmp_path / "connections.npz") as archive:
        assert archive.files == ["p__drawn"]
    np.testing.assert_array_equal(read_connections(tmp_path / "connections.npz", "p").weight, [0.5, 0.5])


def test_existing_directory_is_not_overwritten_without_consent(ei_run: spikebridge.Results) -> None:
    before = (ei_run.path / "meta.json").read_text()
    with pytest.raises(RunDirectoryError, match="already exists"):
        spikebridge.run(load_model("ei_weight_matrix", SMALL), "nest", ei_run.path, progress=False)
    assert (ei_run.path / "meta.json").read_text() == before


def test_load_refuses_incomplete_directories(tmp_path: Path) -> None:
    with pytest.raises(RunDirectoryError, match="not a directory"):
        spikebridge.load(tmp_path / "nothing")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "model.toml").write_text("name = 'x'")
    with pytest.raises(RunDirectoryError, match="missing meta.json"):
        spikebridge.load(tmp_path / "half")


@pytest.mark.slow
def test_killed_run_leaves_nothing_load_accepts(tmp_path: Path) -> None:
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # A long run, killed while it simulates: the destination must not appear.
    proc = subprocess.Popen(
        [sys.executable, "-m", "spikebridge.cli", "run", "vogels_abbott_coba", "--set", "simulation.duration=20000", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    time.sleep(8)
    assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    with pytest.raises(RunDirectoryError):
        spikebridge.load(out)


def test_killed_while_writing_leaves_only_a_hidden_partial(tmp_path: Path) -> None:
    """Kill the writer after its temporary directory exists but before the rename."""
    code = f"""
import os, signal, spikebridge
from spikebridge.rundir import write as results
from spikebridge.models import instantiate, load_model
real = results.np.savez
def dying(path, **arrays):
    real(path, **arrays)
    if str(path).endswith('connections.npz'):
        os.kill(os.getpid(), signal.SIGKILL)
results.np.savez = dying
spikebridge.run(load_model('ei_weight_matrix', ['simulation.duration=50']), 'nest', {str(tmp_path / "w")!r}, progress=False, figure=False)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "w").exists()
    # the writer's lock file stays too (the kernel released the lock itself); the next writer removes both
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != ".w.lock"]
    assert leftovers and all(n.startswith(".w.partial-") for n in leftovers)
    with pytest.raises(RunDirectoryError):
        spikebridge.load(tmp_path / leftovers[0])


@pytest.mark.slow
def test_cli_run_info_models_check(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "spikebridge.cli",
            "run",
            "ei_weight_matrix",
            "--set",
            "simulation.duration=100",
            "--seed",
            "5",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert f"run directory: {out}" in run.stdout and "summary.png" in run.stdout
    assert json.loads((out / "meta.json").read_text())["seed"] == 5
    info = subprocess.run([sys.executable, "-m", "spikebridge.cli", "info", str(out)], capture_output=True, text=True)
    assert info.returncode == 0 and "seed 5" in info.stdout and "iaf_psc_alpha" in info.stdout
    models = subprocess.run([sys.executable, "-m", "spikebridge.cli", "models"], capture_output=True, text=True)
    assert {"vogels_abbott_coba", "vogels_abbott_cuba", "ei_weight_matrix", "stdp_bimodal"} <= {
        line.split()[0] for line in models.stdout.splitlines()
    }
    check = subprocess.run([sys.executable, "-m", "spikebridge.cli", "check", "vogels_abbott_coba"], capture_output=True, text=True)
    assert check.returncode == 0 and "4020 cells" in check.stdout
    bad = subprocess.run([sys.executable, "-m", "spikebridge.cli", "info", str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 2 and "not a complete spikebridge run directory" in bad.stderr and "Traceback" not in bad.stderr
