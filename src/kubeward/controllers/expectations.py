"""Expectations: what a controller has asked for and not yet seen in its informer's cache
(``pkg/controller/controller_utils.go``'s ``ControllerExpectations``).

A ReplicaSet controller that creates three pods must not, when it is called again before the
three creations reach its cache, create three more. Rules:

 1. Before creating ``n`` objects for ``key`` the controller expects ``n`` additions; before
    deleting, it expects the deletion of each named object.
 2. Each addition (or deletion) the informer reports lowers the count for its owner's key; a
    write that failed is lowered by the controller itself.
 3. A key is *satisfied* — the controller may act on it — when nothing is pending, when it
    has no record, or when the record is older than five minutes (a lost event must not block
    the owner forever).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

EXPECTATIONS_TIMEOUT = 300.0


@dataclass
class _Record:
    adds: int = 0
    deletes: set[str] = field(default_factory=set)
    stamp: float = field(default_factory=time.monotonic)


class Expectations:
    def __init__(self) -> None:
        self._records: dict[str, _Record] = {}

    def satisfied(self, key: str) -> bool:
        """Rule 3."""
        record = self._records.get(key)
        if record is None:
            return True
        if record.adds <= 0 and not record.deletes:
            return True
        return time.monotonic() - record.stamp > EXPECTATIONS_TIMEOUT

    def expect_creations(self, key: str, count: int) -> None:
        """Rule 1."""
        self._records[key] = _Record(adds=count)

    def expect_deletions(self, key: str, names: list[str]) -> None:
        """Rule 1 (``names`` identify the objects, e.g. ``namespace/name``)."""
        self._records[key] = _Record(deletes=set(names))

    def expect(self, key: str, count: int, names: list[str]) -> None:
        """Rule 1, for creations and deletions made in one pass."""
        self._records[key] = _Record(adds=count, deletes=set(names))

    def creation_observed(self, key: str) -> None:
        """Rule 2."""
        record = self._records.get(key)
        if record is not None:
            record.adds -= 1

    def deletion_observed(self, key: str, name: str) -> None:
        """Rule 2."""
        record = self._records.get(key)
        if record is not None:
            record.deletes.discard(name)

    def forget(self, key: str) -> None:
        self._records.pop(key, None)
