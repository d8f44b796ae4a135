"""spikebridge: describe a spiking network once, run it on NEST or Brian2 through PyNN, analyse any backend's results.

>>> import spikebridge
>>> model = spikebridge.load_model("vogels_abbott_coba", ["simulation.duration=200"])  # doctest: +SKIP
>>> results = spikebridge.run(model, backend="nest")                                    # doctest: +SKIP
>>> spikebridge.load(results.path).rates("exc").mean()                                  # doctest: +SKIP
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
