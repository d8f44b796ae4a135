"""Restore a network's weights and delays from a run directory, on any backend.

Restoring happens on the instantiated arrays, before any backend sees them: train on one simulator, test on
another. The checkpoint's connectivity must be the one the model draws; otherwise the restore is refused
with the projection that differs and how.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SpikebridgeError
from ..models.network import Network
from . import Results
from .layout import META


class CheckpointError(SpikebridgeError):
    """A checkpoint does not fit the model it is restored into."""


def _describe_mismatch(name: str, saved_pre: np.ndarray, saved_post: np.ndarray, pre: np.ndarray, post: np.ndarray) -> str:
    if len(saved_pre) != len(pre):
        return f"projection {name!r}: the checkpoint has {len(saved_pre)} synapses, the model draws {len(pre)}"
    differ = np.flatnonzero((saved_pre != pre) | (saved_post != post))
    first = int(differ[0])
    return (
        f"projection {name!r}: {len(differ)} of {len(pre)} (pre, post) pairs differ, first at synapse {first} "
        f"(checkpoint {saved_pre[first]}->{saved_post[first]}, model {pre[first]}->{post[first]}); "
        "was the checkpoint made with another seed, size or connector?"
    )


def restore(network: Network, checkpoint: Results) -> Network:
    """A copy of ``network`` whose weights and delays are the checkpoint's final ones.

    Parameters
    ----------
    network
        The network instantiated from the model about to run.
    checkpoint
        A run of a model with the same projections and synapses (same seed, sizes and connectors).

    Returns
    -------
    Network
        ``network`` with each projection's weights (uS or nA) and delays (ms) replaced; nothing else changes.

    Raises
    ------
    CheckpointError
        A projection is missing from the checkpoint, connects other populations, or has other synapses.
    """
    saved_model = checkpoint.model
    projections = {}
    for name, prj in network.projections.items():
        if name not in saved_model.projections:
            raise CheckpointError(
                f"{checkpoint.path}: projection {name!r} is not in the checkpoint (it has: {', '.join(saved_model.projections) or 'none'})"
            )
        then = saved_model.projections[name]
        if (then.pre, then.post) != (prj.pre, prj.post):
            raise CheckpointError(
                f"{checkpoint.path}: projection {name!r} connects {then.pre}->{then.post} in the checkpoint, "
                f"{prj.pre}->{prj.post} in the model"
            )
        saved = checkpoint.connections(name)
        if len(saved.pre) != len(prj) or np.any(saved.pre != prj.pre_idx) or np.any(saved.post != prj.post_idx):
            raise CheckpointError(f"{checkpoint.path}: " + _describe_mismatch(name, saved.pre, saved.post, prj.pre_idx, prj.post_idx))
        projections[name] = dataclasses.replace(prj, weight=saved.weight.copy(), delay=saved.delay.copy())
    return dataclasses.replace(network, projections=projections)


def drawn_network_sha256(meta: Mapping[str, Any], path: Path | None = None) -> str | None:
    """The digest of the network the model drew, before any checkpoint's weights replaced its own.

    A run restored from a checkpoint starts from that checkpoint's trained weights, so its ``network_sha256``
    differs between two backends that trained the same drawn network; this is the digest to compare instead. Runs
    record it as ``drawn_network_sha256``; for a run written before that, the chain of ``restored_from`` checkpoints
    is followed to its first run: at the path recorded, or else beside ``path`` (the run's own folder), where a
    workflow keeps its checkpoints.

    Parameters
    ----------
    meta
        The run's metadata (``Results.meta``).
    path
        The run's folder, to find checkpoints whose recorded paths were relative to another working directory.

    Returns
    -------
    str or None
        The digest, or ``None`` when a checkpoint in the chain cannot be found.
    """
    seen: set[str] = set()
    while True:
        if meta.get("drawn_network_sha256"):
            return str(meta["drawn_network_sha256"])
        origin = meta.get("restored_from")
        if not origin:
            return str(meta["network_sha256"]) if meta.get("network_sha256") else None
        recorded = Path(str(origin["path"]))
        candidates = [recorded] + ([path.parent / recorded.name] if path is not None else [])
        found = next((c for c in candidates if (c / META).is_file() and str(c.resolve()) not in seen), None)
        if found is None:
            return None
        seen.add(str(found.resolve()))
        meta, path = json.loads((found / META).read_text()), found
