"""Model descriptions: the schema, bundled models, and ``instantiate`` (every random draw, once, in numpy)."""

from .instantiate import instantiate
from .io import bundled_models, dumps_toml, load_model, validate
from .network import CurrentData, Network, PoissonInputData, PopulationData, ProjectionData
from .schema import Model

__all__ = [
    "CurrentData",
    "Model",
    "Network",
    "PoissonInputData",
    "PopulationData",
    "ProjectionData",
    "bundled_models",
    "dumps_toml",
    "instantiate",
    "load_model",
    "validate",
]
