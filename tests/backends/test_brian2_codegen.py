"""Brian2's generated code is the same text in every process, so cached Cython and standalone builds are reused.

Brian2's GSL generator orders its variables by Python's per-process string hashing; spikebridge's drivers fix the
order when they activate a device (:func:`spikebridge.backends.brian2.standalone.deterministic_gsl_code`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Generates (no compile) a GSL state updater on cpp_standalone, after activating the device as spikebridge does or
# as Brian2 alone does; prints the state updater's source.
GENERATE = """
import pathlib, sys
import brian2 as b2
from spikebridge.backends.brian2.drivers import StandaloneDriver
from spikebridge.backends.brian2.options import Brian2Options

directory, how = sys.argv[1], sys.argv[2]
if how == "spikebridge":
    StandaloneDriver("brian2:cpp", Brian2Options()).activate()
else:
    b2.set_device("cpp_standalone", build_on_run=False)
g = b2.NeuronGroup(3, '''dv/dt = (ge*(0*mV - v) + gi*(-80*mV - v) + (-60*mV - v)*gl)/(200*pF) : volt
dge/dt = -ge/(5*ms) : siemens
dgi/dt = -gi/(10*ms) : siemens
gl : siemens''', method="gsl_rkf45")
b2.run(1 * b2.ms)
b2.device.build(directory=directory, compile=False, run=False)
print(next(pathlib.Path(directory, "code_objects").glob("*stateupdater*.cpp")).read_text())
"""


def _digests(tmp_path: Path, how: str, hash_seeds: range) -> set[str]:
    out = set()
    for seed in hash_seeds:
        env = os.environ | {"PYTHONHASHSEED": str(seed)}
        proc = subprocess.run(
            [sys.executable, "-c", GENERATE, str(tmp_path / f"{how}{seed}"), how], env=env, capture_output=True, text=True, check=True
        )
        assert "_GSL_dataholder" in proc.stdout
        out.add(hashlib.sha256(proc.stdout.encode()).hexdigest())
    return out


@pytest.mark.slow
def test_a_gsl_state_updater_is_the_same_text_whatever_the_hash_seed(tmp_path: Path) -> None:
    assert len(_digests(tmp_path, "spikebridge", range(1, 4))) == 1
    # Brian2 alone: a new text in (nearly) every process, so make recompiled the state updaters on every cached run
    assert len(_digests(tmp_path, "brian2", range(1, 4))) > 1


@pytest.mark.parametrize("driver", ["Driver", "StandaloneDriver"])
def test_every_device_activates_the_fixed_order(driver: str) -> None:
    code = (
        "from brian2.codegen.generators.GSL_generator import GSLCodeGenerator as G\n"
        "from spikebridge.backends.brian2 import drivers\n"
        "from spikebridge.backends.brian2.options import Brian2Options\n"
        "print(getattr(G.find_used_variables, '_spikebridge_sorted', False))\n"
        f"drivers.{driver}('brian2', Brian2Options()).activate()\n"
        "print(getattr(G.find_used_variables, '_spikebridge_sorted', False))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["False", "True"]
