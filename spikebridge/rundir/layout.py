"""File names of a run directory."""

from __future__ import annotations

RECORDINGS = "recordings.nwb"
META = "meta.json"
MODEL = "model.toml"
NETWORK = "network.npz"
CONNECTIONS = "connections.npz"
WEIGHTS = "weights.parquet"
REQUIRED = (META, MODEL, RECORDINGS, NETWORK, CONNECTIONS)

FORMAT = 1
"""Version of this layout, recorded as ``format`` in meta.json; a run of another version is never reused."""
