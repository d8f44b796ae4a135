"""``pyNN.utility`` whose ``get_simulator`` picks spikebridge's drop-in modules.

PyNN's examples choose their simulator on the command line (``python VAbenchmarks.py nest``) through
``pyNN.utility.get_simulator``; with ``from spikebridge.pynn.utility import get_simulator`` as the only changed
line they run on ``nest``, ``brian2``, ``brian2_cpp`` or ``brian2_cuda`` (other names: PyNN's own modules).
"""

from __future__ import annotations

import argparse
from importlib import import_module
from types import ModuleType
from typing import Any

from pyNN.utility import *  # noqa: F403

DROP_INS = ("nest", "brian2", "brian2_cpp", "brian2_cuda")


def simulator_module(name: str) -> ModuleType:
    """``spikebridge.pynn.<name>`` for a drop-in's name, else ``pyNN.<name>``."""
    return import_module(f"spikebridge.pynn.{name}" if name in DROP_INS else f"pyNN.{name}")


def get_simulator(*arguments: Any) -> tuple[ModuleType, argparse.Namespace]:
    """As ``pyNN.utility.get_simulator``: the simulator named by the first positional argument, and the arguments."""
    parser = argparse.ArgumentParser()
    parser.add_argument("simulator", help=f"{', '.join(DROP_INS)} (spikebridge's drop-ins) or another PyNN backend")
    for argument in arguments:
        parser.add_argument(argument[0], help=argument[1], **(argument[2] if len(argument) > 2 else {}))
    args = parser.parse_args()
    return simulator_module(args.simulator), args
