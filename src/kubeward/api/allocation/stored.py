"""Allocations kept in the storage backend, one key per allocated item.

Why one key per item (an address or a node port) rather than a bitmap: kube-apiserver 1.31+
(``MultiCIDRServiceAllocator``) records each Service address as its own ``IPAddress`` object
for the same reason — several API servers over one etcd then agree without a lock, because
taking an item is a single create-if-absent write and releasing it a single delete. A
``RangeAllocation`` bitmap instead makes every Service write a compare-and-swap on one shared
key, which serialises all of them and retries under contention. Rules:

 1. ``allocate(item)`` is one ``create`` of the item's key: it succeeds for exactly one caller,
    whichever API server it runs in; a present key means "already allocated".
 2. ``allocate_next()`` first tries a few random items of the dynamic band (each a
    create-if-absent, so a mostly empty range costs no list); when they are all taken it lists
    what is taken and walks the free items (the dynamic band from a random start, then the
    static band, as upstream); losing a race to another writer moves on to the next one.
 3. ``release(item)`` deletes the key; releasing a free item is not an error.
 4. A dry run reads but never writes: ``is_free`` and ``next_free`` answer what a real
    allocation would do now.
 5. Storage failures are ``InternalError`` (500); nothing else is raised.
 6. ``records()`` lists every allocation with the record stored for it, for the repair that
    frees allocations left behind by a crash between the allocation and the owner's write.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import orjson

from kubeward.api import meta as m
from kubeward.api.registry.revisions import encode
from kubeward.errors import InternalError, KeyExistsError, KeyNotFoundError, StorageError
from kubeward.storage.interfaces import Backend

# Random tries before listing what is taken (rule 2).
PROBES = 8
# A stored record for an item: the object kept under its key.
RecordMaker = Callable[[str], m.JSONObject]


class StoredAllocator:
    """Items ``item_at(0) … item_at(size-1)`` allocated through keys under ``prefix``."""

    def __init__(
        self,
        backend: Backend,
        prefix: str,
        size: int,
        static_band: int,
        item_at: Callable[[int], str],
        offset_of: Callable[[str], int],
    ) -> None:
        self._backend = backend
        self._prefix = prefix
        self._size = size
        self._static = min(static_band, size)
        self._item_at = item_at
        self._offset_of = offset_of

    def key(self, item: str) -> str:
        return self._prefix + item

    async def is_free(self, item: str) -> bool:
        try:
            return await self._backend.get(self.key(item)) is None
        except StorageError as exc:
            raise InternalError(f"reading allocation {item}: {exc}") from exc

    async def allocate(self, item: str, record: m.JSONObject) -> bool:
        """Take ``item`` (rule 1); False when it is already taken."""
        try:
            await self._backend.create(self.key(item), encode(record))
        except KeyExistsError:
            return False
        except StorageError as exc:
            raise InternalError(f"allocating {item}: {exc}") from exc
        return True

    async def release(self, item: str) -> None:
        """Free ``item`` (rule 3)."""
        try:
            await self._backend.delete(self.key(item))
        except KeyNotFoundError:
            return
        except StorageError as exc:
            raise InternalError(f"releasing {item}: {exc}") from exc

    async def records(self) -> list[tuple[str, m.JSONObject]]:
        """Every allocated item and its record (rule 6)."""
        found: list[tuple[str, m.JSONObject]] = []
        start_after = ""
        try:
            while True:
                page = await self._backend.list(self._prefix, limit=1000, start_after=start_after)
                for kv in page.items:
                    record = orjson.loads(kv.value)
                    found.append(
                        (kv.key[len(self._prefix) :], record if isinstance(record, dict) else {})
                    )
                if not page.more or not page.items:
                    return found
                start_after = page.items[-1].key
        except StorageError as exc:
            raise InternalError(f"listing allocations: {exc}") from exc

    async def _taken(self) -> set[int]:
        taken: set[int] = set()
        start_after = ""
        try:
            while True:
                page = await self._backend.list(self._prefix, limit=1000, start_after=start_after)
                for kv in page.items:
                    offset = self._offset_of(kv.key[len(self._prefix) :])
                    if offset >= 0:
                        taken.add(offset)
                if not page.more or not page.items:
                    return taken
                start_after = page.items[-1].key
        except StorageError as exc:
            raise InternalError(f"listing allocations: {exc}") from exc

    def _candidates(self, taken: set[int]) -> list[int]:
        """Free offsets in rule 2's order: the dynamic band from a random start, then static."""
        dynamic = list(range(self._static, self._size))
        static = list(range(0, self._static))
        if dynamic:
            start = random.randrange(len(dynamic))  # spreading, not secrecy
            dynamic = dynamic[start:] + dynamic[:start]
        if static:
            start = random.randrange(len(static))
            static = static[start:] + static[:start]
        return [o for o in dynamic + static if o not in taken]

    def _probes(self) -> list[int]:
        """Rule 2's first tries: random offsets of the dynamic band (all of a tiny range)."""
        band = range(self._static, self._size) if self._static < self._size else range(self._size)
        if not band:
            return []
        return [random.choice(band) for _ in range(min(PROBES, len(band)))]

    async def next_free(self) -> str | None:
        """The item ``allocate_next`` would take now, without taking it (rule 4)."""
        for offset in self._probes():
            if await self.is_free(self._item_at(offset)):
                return self._item_at(offset)
        free = self._candidates(await self._taken())
        return self._item_at(free[0]) if free else None

    async def allocate_next(self, record_for: RecordMaker) -> str | None:
        """Take a free item (rule 2); None when the range is full."""
        for offset in self._probes():
            item = self._item_at(offset)
            if await self.allocate(item, record_for(item)):
                return item
        for offset in self._candidates(await self._taken()):
            item = self._item_at(offset)
            if await self.allocate(item, record_for(item)):
                return item
        return None
