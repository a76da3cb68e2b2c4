"""The ``Backend`` contract on etcd: several API servers share one replicated store.

Revisions are etcd's: a key's ``mod_revision`` is its resourceVersion and one global revision
orders every write, so the contract (storage/interfaces.py) maps onto etcd directly. Rules:

 1. Keys are kube-apiserver's: ``/registry/pods/ns/name`` is stored as ``<prefix>/pods/ns/name``
    (config.py rule 2), so ``etcdctl get --prefix /registry/pods`` finds them.
 2. Create is a transaction ``mod_revision(key) == 0 → put``; update and delete compare the
    ``mod_revision`` the caller read (or ``> 0``, "exists", for 0) and on failure read the key in
    the same transaction, so a lost compare is told apart from a missing key without a race.
 3. A write whose outcome is unknown (``StorageTimeout``: the member timed out after the
    request was sent) is retried on another member; because every write compares a revision,
    the retry cannot apply twice. If the retry's compare fails and the key now holds exactly
    the value we wrote, our first attempt was applied and that is the answer; if not, the
    caller gets ``StorageTimeout`` (504) — never a false "not applied".
 4. A list is one range read pinned to a revision (the first page's) with ``limit`` and
    ``count``; ``remaining`` is ``count`` minus the page.
 5. A watch asks etcd for events from ``from_revision + 1`` with previous values. When its
    member is lost (or loses its leader) it resumes on the next member from the revision after
    the last event it yielded: nothing is missed and nothing repeated. A compacted start is
    ``CompactedError``. A slow watcher is etcd's business: etcd parks it and catches it up, or
    cancels it with the compacted revision.
 6. ``compacted_revision`` is what this process knows without a round trip: its own
    compactions, ``compact_rev_key`` read by the compactor, and every ``CompactedError`` seen.
    It may lag another API server's compaction by one interval; reads below the real compacted
    revision still fail with ``CompactedError``.
 7. etcd's revision of an empty cluster is 1, not 0; the revision never goes backwards.
 8. etcd still serves reads *at* the revision it compacted to; the contract says that revision
    is gone, so reads and watches at or below a compacted revision this process knows are
    refused here before asking etcd (which refuses those below it).
 9. A watch given ``on_progress`` reports etcd's progress notifications (interfaces.py rule 7):
    an empty response with header revision R above the last event yielded means every event of
    the range up to R was sent, so R is reported and the watch resumes after R if its member is
    lost. etcd sends them periodically on its own; on members that order an on-demand
    notification after the events (etcd >= 3.4.31 or >= 3.5.13, the versions kube-apiserver
    requires for ``RequestWatchProgress``) the watch also asks every ``PROGRESS_EVERY`` seconds.
    Whether every member is such is read from their status at start; a member that does not
    answer counts as old.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from collections.abc import AsyncGenerator, Callable

from kubeward.errors import (
    CompactedError,
    KeyExistsError,
    KeyNotFoundError,
    RevisionMismatch,
    StorageError,
    StorageTimeout,
    StorageUnavailable,
)
from kubeward.storage.etcd.client import (
    Compare,
    Delete,
    EtcdClient,
    EtcdKV,
    Get,
    Op,
    Put,
    TxnResult,
    WatchBatch,
    WatchEvent,
    prefix_range_end,
)
from kubeward.storage.etcd.compactor import read_compacted, run_compactor
from kubeward.storage.etcd.config import EtcdConfig
from kubeward.storage.etcd.transports import new_client
from kubeward.storage.interfaces import Event, EventType, KeyValue, ListResult

ROOT = "/registry"
WRITE_ATTEMPTS = 3  # a timed-out write is retried twice: an election takes about a second
WATCH_RETRY_PAUSE = (0.05, 1.0)  # first and largest pause between watch resumptions
PROGRESS_EVERY = 5.0  # seconds between on-demand progress requests (rule 9)


class EtcdBackend:
    """The storage contract over an ``EtcdClient`` (rules 1-7)."""

    def __init__(self, config: EtcdConfig, client: EtcdClient | None = None) -> None:
        self._config = config
        self.client: EtcdClient = client if client is not None else new_client(config)
        self._prefix = config.prefix.rstrip("/") if config.prefix != "/" else ""
        self._compacted = 0
        self._started = False
        self._closed = False
        self._compactor: asyncio.Task[None] | None = None
        self._watches: set[asyncio.Event] = set()
        self.progress_on_demand = False  # rule 9

    # --- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self._learn_compacted(await read_compacted(self.client))
        self.progress_on_demand = await self._members_order_progress()
        if self._config.compaction_interval > 0:
            self._compactor = asyncio.create_task(
                run_compactor(self.client, self._config.compaction_interval, self._learn_compacted),
                name="etcd-compactor",
            )

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._compactor is not None:
            self._compactor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._compactor
        for stop in self._watches:
            stop.set()
        await self.client.close()

    async def _members_order_progress(self) -> bool:
        """Rule 9: whether every member orders on-demand progress notifications after events."""

        async def version(endpoint: str) -> str:
            try:
                return (await self.client.status(endpoint)).version
            except StorageError:
                return ""

        versions = await asyncio.gather(*(version(e) for e in self.client.endpoints))
        return all(orders_progress_requests(v) for v in versions)

    def _check_open(self) -> None:
        if not self._started:
            raise StorageError("etcd storage: not started")
        if self._closed:
            raise StorageError("etcd storage: closed")

    def _learn_compacted(self, revision: int) -> None:
        self._compacted = max(self._compacted, revision)

    # --- keys (rule 1) -----------------------------------------------------------------------------
    def _key(self, key: str) -> bytes:
        if not (key == ROOT or key.startswith(ROOT + "/")):
            raise StorageError(f"key {key!r} is not under {ROOT}/")
        return (self._prefix + key[len(ROOT) :]).encode()

    def _range_of(self, prefix: str) -> tuple[bytes, bytes]:
        """The etcd range holding every key that starts with ``prefix``."""
        if prefix.startswith(ROOT):
            start = (self._prefix + prefix[len(ROOT) :]).encode()
        elif ROOT.startswith(prefix):
            start = self._prefix.encode()
        else:
            start = b"\xff\xff\xff\xfe"  # no kubeward key starts with it: an empty range
        return start, prefix_range_end(start) if start else b"\x00"

    def _name(self, key: bytes) -> str:
        return ROOT + key.decode()[len(self._prefix) :]

    def _value(self, kv: EtcdKV) -> KeyValue:
        return KeyValue(self._name(kv.key), kv.value, kv.create_revision, kv.mod_revision)

    def _check_revision(self, revision: int) -> None:
        """Rule 8 (and a negative revision is a caller bug)."""
        if revision < 0:
            raise ValueError(f"revision must be >= 0, got {revision}")
        if revision and revision <= self._compacted:
            raise CompactedError(revision, self._compacted)

    def _compacted_error(self, exc: CompactedError) -> CompactedError:
        self._learn_compacted(exc.compacted)
        return CompactedError(exc.requested, max(self._compacted, exc.requested))

    # --- reads -------------------------------------------------------------------------------------
    async def current_revision(self) -> int:
        self._check_open()
        return (await self.client.range(self._key(ROOT), count_only=True)).revision

    async def compacted_revision(self) -> int:
        return self._compacted

    async def get(self, key: str, revision: int = 0) -> KeyValue | None:
        self._check_open()
        self._check_revision(revision)
        try:
            result = await self.client.range(self._key(key), revision=revision)
        except CompactedError as exc:
            raise self._compacted_error(exc) from None
        return self._value(result.kvs[0]) if result.kvs else None

    async def list(
        self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = ""
    ) -> ListResult:
        self._check_open()
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        self._check_revision(revision)
        start, end = self._range_of(prefix)
        if start_after and start_after >= prefix:
            start = max(start, self._key(start_after) + b"\x00")
        try:
            result = await self.client.range(start, end, revision=revision, limit=limit)
        except CompactedError as exc:
            raise self._compacted_error(exc) from None
        items = [self._value(kv) for kv in result.kvs]
        at = revision or result.revision
        if result.more:
            return ListResult(items, at, True, result.count - len(items))
        return ListResult(items, at, False, 0)

    async def count(self, prefix: str) -> int:
        self._check_open()
        start, end = self._range_of(prefix)
        return (await self.client.range(start, end, count_only=True)).count

    # --- writes (rules 2-3) --------------------------------------------------------------------------
    async def _write(
        self, key: str, compare: Compare, success: builtins.list[Op], written: bytes | None
    ) -> tuple[TxnResult, EtcdKV | None]:
        """Run the transaction (retrying an unknown outcome); returns it and, when our earlier
        attempt turned out applied, the key as it is now."""
        self._check_open()
        unknown: StorageTimeout | None = None
        for _ in range(WRITE_ATTEMPTS):
            try:
                result = await self.client.txn([compare], success, [Get(compare.key)])
            except StorageTimeout as exc:
                unknown = exc
                continue
            if result.succeeded or unknown is None:
                return result, None
            found = result.responses[0].kvs
            now = found[0] if found else None
            if written is not None and now is not None and now.value == written:
                return result, now
            if written is None and now is None:  # our delete was applied, at a revision unknown
                raise StorageTimeout(f"etcd: {key}: {unknown} (deleted, at an unknown revision)")
            raise StorageTimeout(f"etcd: {key}: {unknown} (and the key has changed since)")
        assert unknown is not None
        raise unknown

    async def create(self, key: str, value: bytes) -> KeyValue:
        k = self._key(key)
        result, applied = await self._write(
            key, Compare(k, "MOD", "EQUAL", 0), [Put(k, value)], value
        )
        if applied is not None and applied.create_revision == applied.mod_revision:
            return self._value(applied)
        if not result.succeeded:
            raise KeyExistsError(key)
        return KeyValue(key, value, result.revision, result.revision)

    async def update(self, key: str, value: bytes, expected_revision: int) -> KeyValue:
        k = self._key(key)
        compare = (
            Compare(k, "MOD", "EQUAL", expected_revision)
            if expected_revision
            else Compare(k, "MOD", "GREATER", 0)
        )
        result, applied = await self._write(key, compare, [Put(k, value, prev_kv=True)], value)
        if applied is not None:
            return self._value(applied)
        if not result.succeeded:
            raise self._lost(key, expected_revision, result)
        prev = result.responses[0].prev_kvs
        if not prev:  # the key was deleted between compare and put: cannot happen in one txn
            raise StorageError(f"etcd: update of {key!r} returned no previous value")
        return KeyValue(key, value, prev[0].create_revision, result.revision)

    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue:
        k = self._key(key)
        compare = (
            Compare(k, "MOD", "EQUAL", expected_revision)
            if expected_revision
            else Compare(k, "MOD", "GREATER", 0)
        )
        result, _ = await self._write(key, compare, [Delete(k, prev_kv=True)], None)
        if not result.succeeded:
            raise self._lost(key, expected_revision, result)
        prev = result.responses[0].prev_kvs
        if not prev:
            raise KeyNotFoundError(key)
        return KeyValue(key, prev[0].value, prev[0].create_revision, result.revision)

    def _lost(self, key: str, expected: int, result: TxnResult) -> StorageError:
        found = result.responses[0].kvs
        if not found:
            return KeyNotFoundError(key)
        return RevisionMismatch(key, expected, found[0].mod_revision)

    # --- watch (rule 5) ------------------------------------------------------------------------------
    def _event(self, event: WatchEvent) -> Event:
        name = self._name(event.kv.key)
        prev = event.prev_kv
        if event.deleted:
            last = prev.value if prev is not None else b""
            created = prev.create_revision if prev is not None else 0
            return Event(EventType.DELETE, name, last, last, event.kv.mod_revision, created)
        kind = (
            EventType.CREATE
            if event.kv.create_revision == event.kv.mod_revision
            else EventType.UPDATE
        )
        return Event(
            kind,
            name,
            event.kv.value,
            prev.value if prev is not None else None,
            event.kv.mod_revision,
            event.kv.create_revision,
        )

    def watch(
        self,
        prefix: str,
        from_revision: int,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> AsyncGenerator[Event, None]:
        if not self._started:
            raise StorageError("etcd storage: not started")
        if from_revision < 0:
            raise ValueError(f"from_revision must be >= 0, got {from_revision}")
        return self._watch(prefix, from_revision, on_progress)

    async def _watch(
        self, prefix: str, from_revision: int, on_progress: Callable[[int], None] | None
    ) -> AsyncGenerator[Event, None]:
        if from_revision < self._compacted:
            raise CompactedError(from_revision, self._compacted)
        start, end = self._range_of(prefix)
        position = from_revision
        pause = WATCH_RETRY_PAUSE[0]
        stop = asyncio.Event()
        self._watches.add(stop)
        try:
            while not self._closed:
                ask = PROGRESS_EVERY if on_progress is not None and self.progress_on_demand else 0.0
                stream = self.client.watch(start, end, position + 1, progress_every=ask)
                stopper = asyncio.ensure_future(stop.wait())
                batch_task: asyncio.Future[WatchBatch] | None = None
                try:
                    while True:
                        batch_task = asyncio.ensure_future(anext(stream))
                        done, _ = await asyncio.wait(
                            {batch_task, stopper}, return_when=asyncio.FIRST_COMPLETED
                        )
                        if batch_task not in done:
                            return
                        batch = batch_task.result()
                        for raw in batch.events:
                            if raw.kv.mod_revision > position:
                                position = raw.kv.mod_revision
                                pause = WATCH_RETRY_PAUSE[0]
                                yield self._event(raw)
                        if not batch.events and batch.revision > position:  # rule 9
                            position = batch.revision
                            if on_progress is not None:
                                on_progress(position)
                except CompactedError as exc:
                    raise self._compacted_error(exc) from None
                except (StorageUnavailable, StopAsyncIteration):
                    if self._closed:
                        return
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, WATCH_RETRY_PAUSE[1])
                finally:
                    stopper.cancel()
                    if batch_task is not None and not batch_task.done():
                        batch_task.cancel()
                        with contextlib.suppress(BaseException):
                            await batch_task
                    with contextlib.suppress(BaseException):
                        await stream.aclose()
        finally:
            self._watches.discard(stop)

    # --- history -------------------------------------------------------------------------------------
    async def compact(self, revision: int) -> None:
        self._check_open()
        if revision <= self._compacted:
            return
        with contextlib.suppress(CompactedError):  # compacted further by another API server
            await self.client.compact(revision)
        self._learn_compacted(revision)


def orders_progress_requests(version: str) -> bool:
    """Whether etcd ``version`` sends an on-demand progress notification only after the events
    it covers (rule 9; etcd issues 15220 and 17507, kube-apiserver's feature support checker)."""
    try:
        parts = tuple(int(p) for p in version.split("-", 1)[0].split("."))
    except ValueError:
        return False
    if len(parts) != 3:
        return False
    return parts >= (3, 5, 13) or (3, 4, 31) <= parts < (3, 5, 0)
