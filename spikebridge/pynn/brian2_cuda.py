"""A drop-in for ``pyNN.brian2`` on Brian2's ``cuda_standalone`` device (brian2cuda) (``import spikebridge.pynn.brian2_cuda as sim``).

As :mod:`spikebridge.pynn.brian2`; each ``run()`` is recorded, and the project is generated, compiled (cached) and
run when data are first read or at ``end()`` (:mod:`~spikebridge.pynn.device`).
"""

from .brian2 import *  # noqa: F403
from .device import Device, build_control

DEVICE = Device("cuda")
_control = build_control(DEVICE)
setup, run, run_for, run_until, reset, end = (_control[k] for k in ("setup", "run", "run_for", "run_until", "reset", "end"))
