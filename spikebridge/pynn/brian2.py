"""A drop-in for ``pyNN.brian2`` (``import spikebridge.pynn.brian2 as sim``) on Brian2's runtime device.

Unchanged PyNN scripts run as on stock ``pyNN.brian2``, with connections loaded in bulk
(:mod:`~spikebridge.pynn.projections`), ``STDPMechanism`` with NEST's meaning for either delay fraction
(:mod:`~spikebridge.pynn.synapses`), every object on ``defaultclock`` and Brian2 seeded by ``setup(rng_seed=...)``.
"""

import pyNN.brian2 as _stock
from pyNN import common
from pyNN.brian2 import *  # noqa: F403
from pyNN.brian2 import simulator

from .cells import SpikeSourcePoisson as SpikeSourcePoisson
from .connectors import mended
from .device import Device, build_control
from .populations import Assembly as Assembly
from .populations import Population as Population
from .populations import PopulationView as PopulationView
from .projections import Projection as Projection
from .synapses import STDPMechanism as STDPMechanism

DEVICE = Device(None)
_control = build_control(DEVICE)
setup, run, run_for, run_until, reset, end = (_control[k] for k in ("setup", "run", "run_for", "run_until", "reset", "end"))

_connectors = mended(_stock)
globals().update(_connectors)  # the connectors, under their PyNN names
create = common.build_create(Population)
connect = common.build_connect(Projection, _connectors["FixedProbabilityConnector"], _stock.StaticSynapse)
record = common.build_record(simulator)
