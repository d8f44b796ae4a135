"""PyNN's connectors, mended for numpy 2: a population of one cell gives a 0-d mask, which numpy 2 refuses to
``nonzero()`` (``OneToOneConnector`` between single cells fails on stock PyNN 0.13, e.g. in ``simple_STDP.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import numpy as np
from pyNN.connectors import MapConnector


class _AtLeast1dMasks:
    """Hands PyNN's connection loop 1-d masks: a 0-d boolean means the one pre-synaptic cell, as under numpy 1."""

    def _standard_connect(self, projection: Any, connection_map_generator: Callable[..., Iterator[Any]], distance_map: Any = None) -> Any:
        def masks(*args: Any) -> Iterator[Any]:
            for mask in connection_map_generator(*args):
                yield np.atleast_1d(mask) if isinstance(mask, np.ndarray | np.generic) and np.ndim(mask) == 0 else mask

        return super()._standard_connect(projection, masks, distance_map)  # type: ignore[misc]


def mended(module: ModuleType) -> dict[str, type]:
    """Every map-based connector of a PyNN simulator module, mended, under its own name."""
    return {
        name: type(name, (_AtLeast1dMasks, obj), {"__doc__": obj.__doc__, "__module__": __name__})
        for name, obj in vars(module).items()
        if isinstance(obj, type) and issubclass(obj, MapConnector) and obj is not MapConnector
    }
