"""``Connections.sorted``: (pre, post) order, and the arrays themselves where they are in it already."""

from __future__ import annotations

import numpy as np

from spikebridge.backends.base import Connections


def test_sorted_orders_by_pre_then_post_and_keeps_each_synapse_whole() -> None:
    pre, post = np.array([2, 0, 2, 0, 1]), np.array([1, 3, 0, 3, 5])
    c = Connections(pre, post, np.arange(5.0), np.arange(5.0) + 10).sorted()
    assert c.pre.tolist() == [0, 0, 1, 2, 2] and c.post.tolist() == [3, 3, 5, 0, 1]
    assert c.weight.tolist() == [1.0, 3.0, 4.0, 2.0, 0.0] and (c.delay - c.weight == 10).all()  # stable; rows intact


def test_sorted_connections_are_returned_as_they_are() -> None:
    c = Connections(np.array([0, 0, 1, 1]), np.array([1, 1, 0, 2]), np.ones(4), np.ones(4))
    assert c.sorted() is c
    unsorted = Connections(np.array([0, 1, 1]), np.array([1, 2, 0]), np.ones(3), np.ones(3))
    assert unsorted.sorted() is not unsorted
