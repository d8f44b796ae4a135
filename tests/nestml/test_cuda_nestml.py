"""brian2:cuda writes every bundled NESTML rule: brian2cuda generates the CUDA project of a network using it (no GPU
needed). Compiling it with nvcc takes minutes on two cores: SPIKEBRIDGE_TEST_CUDA_BUILD=1 does that too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spikebridge import backends
from spikebridge.models import instantiate, nestml, validate
from spikebridge.workflows import frequency

pytestmark = pytest.mark.compile

brian2cuda = pytest.importorskip("brian2cuda")


@pytest.mark.parametrize("rule", sorted(nestml.bundled()))
def test_brian2cuda_generates_every_bundled_rule(rule: str, tmp_path: Path) -> None:
    import brian2

    protocol = frequency.frequency_protocol(rule, rates=(10.0,), pairings=3)
    net = instantiate(validate(protocol.model))
    sim = backends.create("brian2:cuda", {"build_dir": str(tmp_path), "compute_capability": 9.0})
    try:
        sim.build(net)
        for phase in net.phases:
            sim.run(phase)
        compile_too = os.environ.get("SPIKEBRIDGE_TEST_CUDA_BUILD") == "1"
        brian2.device.build(directory=str(tmp_path / "project"), compile=compile_too, run=False, with_output=False)
    finally:
        sim.end()
    kernels = "".join(p.read_text() for p in (tmp_path / "project" / "code_objects").glob(f"*prj0_{rule}*.cu"))
    parameters = nestml.read(nestml.bundled()[rule].read_text(), rule).parameters
    assert kernels, "the plastic projection's pathways have CUDA kernels"
    for name in parameters:
        assert f"nml_{name}" in kernels, f"{name} reaches the CUDA code"
    if compile_too:
        assert (tmp_path / "project" / "main").exists()
