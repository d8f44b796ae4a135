"""brian2:cuda generates and compiles every bundled NESTML rule: one network with a plastic projection per rule, whose
project nvcc compiles; not run (no GPU needed). nvcc is NVIDIA's wheel (the ``cuda-toolkit`` extra, which ``make
install`` installs) or a system CUDA toolkit; skipped without one.

nvcc spends 14-18 CPU seconds on each of the project's 60 files (Thrust and cuRAND headers, included by every one):
the suite compiles the 14 that hold the rules' statements, each rule's pre and post pathway kernels. The whole
project compiled and linked to ``main`` here once (about 19 CPU minutes): ``SPIKEBRIDGE_TEST_CUDA_LINK=1`` does that.
The project is the backend's own, keyed and locked in spikebridge's build cache, where Brian2 rewrites only the files
whose text changed and ``make`` recompiles only those: a rerun on unchanged code compiles nothing (about 200 s
otherwise)."""

from __future__ import annotations

import copy
import os
import re
import subprocess
from typing import Any

import pytest

from spikebridge import backends
from spikebridge.backends.brian2 import drivers, standalone
from spikebridge.backends.brian2.backend import Brian2Backend
from spikebridge.errors import BackendError
from spikebridge.models import instantiate, nestml, validate
from spikebridge.workflows import frequency

pytestmark = pytest.mark.compile

brian2cuda = pytest.importorskip("brian2cuda")


def every_rule_model() -> dict[str, Any]:
    """The frequency protocol's pre and post cells (three pairings at 10 Hz), joined once per bundled rule; no drive
    and no recording, which would only add code objects for nvcc to compile."""
    rules = sorted(nestml.bundled())
    model = copy.deepcopy(frequency.frequency_protocol(rules[0], rates=(10.0,), pairings=3).model)
    pairing = model["projections"].pop(rules[0])
    del model["projections"]["drive"], model["populations"]["drive"], model["recording"]
    for rule in rules:
        model["projections"][rule] = {**copy.deepcopy(pairing), "synapse": {"type": rule, "parameters": {}}}
    return model


def test_brian2cuda_compiles_every_bundled_rule() -> None:
    toolkit = drivers.cuda_toolkit()
    if toolkit is None:
        pytest.skip(f"no nvcc (no nvidia-cuda-nvcc wheel, $CUDA_PATH, nvcc on PATH or /usr/local/cuda): {drivers.CUDA_WHEELS}")
    net = instantiate(validate(every_rule_model()))
    sim = backends.create("brian2:cuda", {"compute_capability": 9.0, "compile_jobs": 2})
    assert isinstance(sim, Brian2Backend)
    link = os.environ.get("SPIKEBRIDGE_TEST_CUDA_LINK") == "1"
    try:
        sim.build(net)
        for phase in net.phases:
            sim.run(phase)
        sim.compile(make=link)
        project = sim.project
    finally:
        sim.end()
    assert isinstance(project, standalone.Project)
    assert project.directory.is_relative_to(standalone.default_cache_root()), "the backend's cached project"
    assert f"{toolkit}/bin/nvcc" in (project.directory / "makefile").read_text(), f"compiled with {toolkit}'s nvcc"
    sources = list((project.directory / "code_objects").glob("*.cu"))
    kernels = {}
    index = {name: k for k, name in enumerate(net.projections)}  # Brian2 names a projection prj{index}
    for rule in sorted(nestml.bundled()):
        mine = [p for p in sources if re.fullmatch(rf"(before_run_)?prj{index[rule]}_.+\.cu", p.name)]
        kernels[rule] = [p for p in mine if p.name.endswith(("_pre_codeobject.cu", "_post_codeobject.cu"))]
        assert len(kernels[rule]) == 2, f"{rule}'s pre and post pathways have CUDA kernels"
        text = "".join(p.read_text() for p in mine)
        for name in nestml.read(nestml.bundled()[rule].read_text(), rule).parameters:
            assert f"nms_{name}" in text, f"{rule}'s {name} reaches the CUDA code"
    if link:
        assert (project.directory / "main").exists(), "nvcc linked the project"
        return
    targets = [str(p.relative_to(project.directory).with_suffix(".o")) for files in kernels.values() for p in files]
    with project.lock():  # another suite on this machine may build the same cached project
        done = subprocess.run(["make", "-j2", *targets], cwd=project.directory, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    for target in targets:
        assert (project.directory / target).stat().st_size > 0, f"nvcc compiled {target}"


def test_brian2cuda_without_nvcc_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drivers, "cuda_toolkit", lambda: None)
    sim = backends.create("brian2:cuda", {"compute_capability": 9.0})
    assert isinstance(sim, Brian2Backend)
    with pytest.raises(BackendError, match=r"no CUDA toolkit has one.*spikebridge\[cuda-toolkit\]"):
        sim.compile()
