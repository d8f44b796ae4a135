"""Restore a network's weights and delays from a run directory, on any backend.

Restoring happens on the instantiated arrays, before any backend sees them: train on one simulator, test on
another. The checkpoint's connectivity must be the one the model draws; otherwise the restore is refused
with the projection that differs and how.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import SpikebridgeError
from ..models.network import Network
from . import Results


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
