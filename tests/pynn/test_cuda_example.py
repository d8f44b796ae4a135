"""PyNN's own ``VAbenchmarks.py`` (COBA, 4000 cells), unchanged apart from its simulator import, generates a
brian2_cuda project whose model kernels nvcc compiles; not run (no GPU needed).

``SPIKEBRIDGE_PYNN_BUILD=generate`` stops the script at its first read, once the project is written, and
``SPIKEBRIDGE_CUDA_COMPUTE_CAPABILITY`` names the GPU architecture where no GPU can be asked. nvcc spends 10-18 CPU
seconds on each file: the suite compiles the ones the model writes (the cells' state updaters, thresholds and
resets, the Poisson source, and every projection's pre-synaptic kernel), not the project's fixed files.
The example comes from the PyNN sdist (``pip download``, cached under ``~/.cache/spikebridge/pynn-sdist``). The
project is spikebridge's cached one for the script's network, where Brian2 rewrites only changed files and ``make``
recompiles only those: a rerun on unchanged code compiles nothing (about 200 s otherwise).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from spikebridge.backends.brian2 import drivers, standalone

pytestmark = pytest.mark.compile

pytest.importorskip("brian2cuda")
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
MODEL_KERNELS = re.compile(
    r"(neurongroup(_\d+)?_(stateupdater|spike_thresholder|spike_resetter)|poissongroup_spike_thresholder|synapses(_\d+)?_pre)_codeobject\.cu"
)


def vabenchmarks(into: Path) -> Path:
    """The sdist's ``VAbenchmarks.py`` with its one changed line (:mod:`pynn_examples`' rewrite)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from pynn_examples import rewrite
        from pynn_system_tests import CACHE, sdist
    finally:
        sys.path.remove(str(BENCHMARKS))
    text, changed = rewrite((sdist(CACHE) / "examples" / "VAbenchmarks.py").read_text())
    assert changed == 1, "only the simulator import changes"
    script = into / "VAbenchmarks.py"
    script.write_text(text)
    return script


def test_pynns_vabenchmarks_generates_a_brian2_cuda_project_that_nvcc_compiles(tmp_path: Path) -> None:
    toolkit = drivers.cuda_toolkit()
    if toolkit is None:
        pytest.skip(f"no nvcc (no nvidia-cuda-nvcc wheel, $CUDA_PATH, nvcc on PATH or /usr/local/cuda): {drivers.CUDA_WHEELS}")
    script = vabenchmarks(tmp_path)
    env = {
        **os.environ,
        "SPIKEBRIDGE_PYNN_BUILD": "generate",
        "SPIKEBRIDGE_CUDA_COMPUTE_CAPABILITY": "9.0",
    }
    done = subprocess.run(
        [sys.executable, str(script), "brian2_cuda", "COBA"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = re.search(
        r"brian2_cuda: generated the project in (\S+) \(SPIKEBRIDGE_PYNN_BUILD=generate\); nothing was simulated", done.stderr
    )
    assert found, done.stderr[-3000:]
    project = Path(found.group(1))
    assert project.is_relative_to(standalone.default_cache_root())
    assert "Running simulation" in done.stdout and not (tmp_path / "Results").exists(), "stopped at the first read: nothing written"
    assert f"{toolkit}/bin/nvcc" in (project / "makefile").read_text(), f"compiled with {toolkit}'s nvcc"
    assert "sm_90" in (project / "makefile").read_text()
    sources = sorted(p for p in (project / "code_objects").glob("*.cu") if MODEL_KERNELS.fullmatch(p.name))
    names = {p.name for p in sources}
    # exc and inh cells, 2 x 2 recurrent projections and the Poisson stimulus onto both: VAbenchmarks' network
    assert {"neurongroup_stateupdater_codeobject.cu", "neurongroup_1_stateupdater_codeobject.cu"} <= names
    assert len([n for n in names if n.startswith("synapses")]) == 6
    cells = (project / "code_objects" / "neurongroup_stateupdater_codeobject.cu").read_text()
    assert "ge" in cells and "gi" in cells, "the conductance-based (COBA) cells"
    targets = [str(p.relative_to(project).with_suffix(".o")) for p in sources]
    made = subprocess.run(["make", "-j2", *targets], cwd=project, capture_output=True, text=True, timeout=1500)
    assert made.returncode == 0, made.stderr[-3000:]
    for target in targets:
        assert (project / target).stat().st_size > 0, f"nvcc compiled {target}"
