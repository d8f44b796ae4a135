"""spikebridge: describe a spiking network once, run it on NEST or Brian2 through PyNN, analyse any backend's results.

Load a bundled model (with overrides in the ``--set`` syntax) and draw its network, once, in numpy:

>>> import spikebridge
>>> model = spikebridge.load_model("vogels_abbott_coba", ["simulation.duration=200"])
>>> net = spikebridge.instantiate(model)
>>> net.n_cells, net.duration  # cells, ms
(4020, 200.0)

Simulating it needs a simulator; any run directory reads back the same way, whichever backend wrote it::

    results = spikebridge.run(model, backend="nest", out="runs/coba")
    spikebridge.load("runs/coba").rates("exc").mean()   # Hz

The names exported here are documented where they are defined: :func:`~spikebridge.models.io.load_model`,
:func:`~spikebridge.models.io.validate` and :class:`~spikebridge.models.schema.Model`;
:func:`~spikebridge.models.instantiate`; :func:`~spikebridge.workflows.run.run`;
:func:`~spikebridge.rundir.results.load` and :class:`~spikebridge.rundir.results.Results`; the errors in
:mod:`spikebridge.errors`.
"""

from .errors import BackendError, ModelError, RunDirectoryError, SpikebridgeError
from .models import Model, instantiate, load_model, validate
from .rundir import Results, load
from .workflows.run import run

__version__ = "0.1.0"

__all__ = [
    "BackendError",
    "Model",
    "ModelError",
    "Results",
    "RunDirectoryError",
    "SpikebridgeError",
    "instantiate",
    "load",
    "load_model",
    "run",
    "validate",
]
