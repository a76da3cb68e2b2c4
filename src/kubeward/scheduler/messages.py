"""The ``FailedScheduling`` message, worded as kube-scheduler words it.

``0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node
affinity/selector.``: every node counted once under the first filter that refused it, the
reasons sorted, each prefixed by how many nodes gave it. With no node at all:
``no nodes available to schedule pods``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

NO_NODES = "no nodes available to schedule pods"


def fit_error(node_count: int, reasons: Iterable[str]) -> str:
    if node_count == 0:
        return NO_NODES
    counted = Counter(reasons)
    parts = sorted(f"{count} {reason}" for reason, count in counted.items())
    return f"0/{node_count} nodes are available: {', '.join(parts)}."
