"""File names of a run directory."""

from __future__ import annotations

RECORDINGS = "recordings.nwb"
META = "meta.json"
MODEL = "model.toml"
NETWORK = "network.npz"
CONNECTIONS = "connections.npz"
WEIGHTS = "weights.parquet"
REQUIRED = (META, MODEL, RECORDINGS, NETWORK, CONNECTIONS)
