"""An in-memory backend, for unit tests only.

It keeps the same log the SQLite backend keeps, in Python lists, and follows the same rules
(``storage/log.py``) and the same fan-out (``storage/fanout.py``), so tests of the layers above
storage can run without files and still meet the real contract — the contract suite in
``tests/unit/storage`` proves it. Nothing is durable and every operation runs on the event loop;
do not serve a real cluster from it.
"""

from __future__ import annotations

import asyncio
import bisect
import builtins
import contextlib
from collections.abc import AsyncGenerator, Callable

from kubeward.errors import CompactedError, StorageError
from kubeward.storage.compaction import CompactionPolicy, run_compactor
from kubeward.storage.fanout import WatchHub, stream_events
from kubeward.storage.interfaces import Event, KeyValue, ListResult
from kubeward.storage.log import (
    Create,
    Delete,
    LogRecord,
    Update,
    WriteOp,
    apply_write,
    check_compaction_target,
    check_read_revision,
    prefix_end,
    survives_compaction,
)


class MemoryBackend:
    """The ``Backend`` contract over Python lists (unit tests only)."""

    def __init__(
        self, *, compaction: CompactionPolicy | None = None, watch_buffer: int = 1024
    ) -> None:
        self._policy = compaction or CompactionPolicy()
        self._hub = WatchHub(watch_buffer)
        self._log: list[LogRecord] = []  # every kept record, by revision
        self._versions: dict[str, list[LogRecord]] = {}  # per key, by revision
        self._keys: list[str] = []  # sorted keys of ``_versions``
        self._revision = 0
        self._compacted = 0
        self._started = False
        self._compactor: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        if self._policy.enabled:
            self._compactor = asyncio.create_task(
                run_compactor(
                    self._policy, self.current_revision, self.compacted_revision, self.compact
                )
            )

    async def close(self) -> None:
        if self._compactor is not None:
            self._compactor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._compactor
            self._compactor = None
        self._hub.close()

    def _check_open(self) -> None:
        if not self._started:
            raise StorageError("memory storage: not started")
        if self._hub.closed:
            raise StorageError("memory storage: closed")

    # --- reads --------------------------------------------------------------------------------
    async def current_revision(self) -> int:
        return self._revision

    async def compacted_revision(self) -> int:
        return self._compacted

    def _at(self, key: str, revision: int) -> LogRecord | None:
        versions = self._versions.get(key)
        if not versions:
            return None
        index = bisect.bisect_right(versions, revision, key=lambda r: r.revision)
        if index == 0:
            return None
        record = versions[index - 1]
        return record if record.live else None

    async def get(self, key: str, revision: int = 0) -> KeyValue | None:
        self._check_open()
        at = check_read_revision(revision, self._compacted, self._revision)
        record = self._at(key, at)
        return record.to_key_value() if record else None

    def _keys_under(self, prefix: str, start_after: str = "") -> list[str]:
        if start_after and start_after >= prefix:
            first = bisect.bisect_right(self._keys, start_after)
        else:
            first = bisect.bisect_left(self._keys, prefix)
        end = prefix_end(prefix)
        last = len(self._keys) if end is None else bisect.bisect_left(self._keys, end)
        return self._keys[first:last]

    async def list(
        self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = ""
    ) -> ListResult:
        self._check_open()
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        at = check_read_revision(revision, self._compacted, self._revision)
        found = [r for k in self._keys_under(prefix, start_after) if (r := self._at(k, at))]
        if limit and len(found) > limit:
            page = found[:limit]
            return ListResult([r.to_key_value() for r in page], at, True, len(found) - limit)
        return ListResult([r.to_key_value() for r in found], at, False, 0)

    async def count(self, prefix: str) -> int:
        self._check_open()
        return sum(1 for k in self._keys_under(prefix) if self._at(k, self._revision))

    # --- writes -------------------------------------------------------------------------------
    def _append(self, op: WriteOp) -> KeyValue:
        self._check_open()
        versions = self._versions.get(op.key)
        latest = versions[-1] if versions else None
        record = apply_write(op, latest, self._revision + 1)
        if versions is None:
            self._versions[op.key] = [record]
            bisect.insort(self._keys, op.key)
        else:
            versions.append(record)
        self._log.append(record)
        self._revision = record.revision
        self._hub.publish(record.revision, [record.to_event()] if self._hub.has_subscribers else [])
        return record.to_key_value()

    async def create(self, key: str, value: bytes) -> KeyValue:
        return self._append(Create(key, value))

    async def update(self, key: str, value: bytes, expected_revision: int) -> KeyValue:
        return self._append(Update(key, value, expected_revision))

    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue:
        return self._append(Delete(key, expected_revision))

    # --- history ------------------------------------------------------------------------------
    async def compact(self, revision: int) -> None:
        self._check_open()
        if not check_compaction_target(revision, self._compacted, self._revision):
            return
        for key in list(self._versions):
            versions = self._versions[key]
            successors = [r.revision for r in versions[1:]] + [0]
            kept = [
                r
                for r, successor in zip(versions, successors, strict=True)
                if survives_compaction(r, successor, revision)
            ]
            if kept:
                self._versions[key] = kept
            else:
                del self._versions[key]
        self._keys = sorted(self._versions)
        self._log = sorted((r for vs in self._versions.values() for r in vs), key=_revision_of)
        self._compacted = revision

    async def _history(
        self, prefix: str, after: int, upto: int, limit: int
    ) -> builtins.list[Event]:
        if after < self._compacted:
            raise CompactedError(after, self._compacted)
        first = bisect.bisect_right(self._log, after, key=_revision_of)
        events: list[Event] = []
        for record in self._log[first:]:
            if record.revision > upto or len(events) == limit:
                break
            if record.key.startswith(prefix):
                events.append(record.to_event())
        return events

    def watch(
        self,
        prefix: str,
        from_revision: int,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> AsyncGenerator[Event, None]:
        del on_progress  # interfaces.py rule 7: this store reports no progress of its own
        if not self._started:
            raise StorageError("memory storage: not started")
        return stream_events(self._hub, prefix, from_revision, self._history, self._compacted)


def _revision_of(record: LogRecord) -> int:
    return record.revision
