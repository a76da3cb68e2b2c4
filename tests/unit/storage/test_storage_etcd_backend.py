"""The etcd backend's own rules over a fake ``EtcdClient`` (kubeward's seam): key layout, the
unknown outcome of a write that timed out and progress notifications (storage/etcd/backend.py
rules 1, 3 and 9)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest

from kubeward.errors import KeyExistsError, RevisionMismatch, StorageTimeout
from kubeward.storage.etcd.backend import (
    PROGRESS_EVERY,
    WRITE_ATTEMPTS,
    EtcdBackend,
    orders_progress_requests,
)
from kubeward.storage.etcd.client import (
    Compare,
    EtcdKV,
    MemberInfo,
    MemberStatus,
    Op,
    OpResult,
    Put,
    RangeResult,
    TxnResult,
    WatchBatch,
    WatchEvent,
)
from kubeward.storage.etcd.config import EtcdConfig


class FakeClient:
    """Answers each txn from a script: an exception to raise or a result to return."""

    def __init__(
        self, script: list[Any], batches: list[WatchBatch] | None = None, version: str = "3.4.23"
    ) -> None:
        self.script = script
        self.txns: list[tuple[list[Compare], list[Op]]] = []
        self.ranges: list[bytes] = []
        self.batches = batches or []
        self.version = version
        self.watches: list[tuple[int, float]] = []  # (start revision, progress_every)

    @property
    def endpoints(self) -> list[str]:
        return ["https://127.0.0.1:2379"]

    async def range(
        self,
        key: bytes,
        range_end: bytes = b"",
        *,
        revision: int = 0,
        limit: int = 0,
        count_only: bool = False,
    ) -> RangeResult:
        self.ranges.append(key)
        return RangeResult([], False, 0, 10)

    async def txn(self, compare: list[Compare], success: list[Op], failure: list[Op]) -> TxnResult:
        self.txns.append((compare, success))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, TxnResult)
        return step

    async def compact(self, revision: int) -> None:
        raise AssertionError("not in these tests")

    async def watch(
        self, key: bytes, range_end: bytes, start_revision: int, *, progress_every: float = 0.0
    ) -> AsyncGenerator[WatchBatch, None]:
        self.watches.append((start_revision, progress_every))
        for batch in self.batches:
            yield batch
        await asyncio.Event().wait()  # then quiet, as a live watch is

    async def status(self, endpoint: str) -> MemberStatus:
        return MemberStatus(endpoint, 1, 1, 10, 0, self.version, 2)

    async def members(self) -> list[MemberInfo]:
        return []

    async def snapshot(self, endpoint: str) -> AsyncGenerator[bytes, None]:
        raise AssertionError("not in these tests")
        yield  # pragma: no cover

    async def close(self) -> None:
        pass


def kv(key: bytes, value: bytes, created: int, modified: int) -> EtcdKV:
    return EtcdKV(key, value, created, modified, 1)


def failed_with(found: EtcdKV | None, revision: int = 20) -> TxnResult:
    return TxnResult(False, revision, [OpResult(kvs=[found] if found else [])])


def run(
    script: list[Any], scenario: Any, prefix: str = "/registry", client: FakeClient | None = None
) -> FakeClient:
    client = client if client is not None else FakeClient(script)

    async def main() -> None:
        backend = EtcdBackend(
            EtcdConfig(("https://127.0.0.1:2379",), compaction_interval=0, prefix=prefix), client
        )
        await backend.start()
        try:
            await scenario(backend)
        finally:
            await backend.close()

    asyncio.run(main())
    return client


def test_keys_swap_registry_for_the_prefix() -> None:
    async def scenario(b: EtcdBackend) -> None:
        created = await b.create("/registry/secrets/default/s", b"x")
        assert created.key == "/registry/secrets/default/s"

    client = run([TxnResult(True, 11, [OpResult()])], scenario, prefix="/kubernetes.io")
    [(compare, success)] = client.txns
    assert compare[0].key == b"/kubernetes.io/secrets/default/s"
    assert compare[0].target == "MOD" and compare[0].value == 0
    assert success == [Put(b"/kubernetes.io/secrets/default/s", b"x")]


def test_a_create_that_timed_out_but_was_applied_is_a_success() -> None:
    key = b"/registry/configmaps/default/c"
    mine = kv(key, b"mine", 15, 15)

    async def scenario(b: EtcdBackend) -> None:
        created = await b.create("/registry/configmaps/default/c", b"mine")
        assert (created.value, created.mod_revision, created.create_revision) == (b"mine", 15, 15)

    run([StorageTimeout("timed out"), failed_with(mine)], scenario)


def test_a_create_that_timed_out_and_lost_to_another_writer_is_a_timeout() -> None:
    theirs = kv(b"/registry/configmaps/default/c", b"theirs", 15, 15)

    async def scenario(b: EtcdBackend) -> None:
        with pytest.raises(StorageTimeout):
            await b.create("/registry/configmaps/default/c", b"mine")

    run([StorageTimeout("timed out"), failed_with(theirs)], scenario)


def test_a_create_of_an_existing_key_without_timeout_is_key_exists() -> None:
    theirs = kv(b"/registry/configmaps/default/c", b"mine", 15, 15)  # same value, no timeout

    async def scenario(b: EtcdBackend) -> None:
        with pytest.raises(KeyExistsError):
            await b.create("/registry/configmaps/default/c", b"mine")

    run([failed_with(theirs)], scenario)


def test_an_update_that_timed_out_but_was_applied_is_a_success() -> None:
    key = b"/registry/configmaps/default/c"
    applied = kv(key, b"v2", 5, 16)

    async def scenario(b: EtcdBackend) -> None:
        updated = await b.update("/registry/configmaps/default/c", b"v2", 9)
        assert (updated.value, updated.mod_revision, updated.create_revision) == (b"v2", 16, 5)

    client = run([StorageTimeout("timed out"), failed_with(applied)], scenario)
    assert [c[0][0].value for c in client.txns] == [9, 9]  # the retry compares the same revision


def test_an_update_losing_the_compare_is_a_revision_mismatch() -> None:
    other = kv(b"/registry/configmaps/default/c", b"other", 5, 12)

    async def scenario(b: EtcdBackend) -> None:
        with pytest.raises(RevisionMismatch) as caught:
            await b.update("/registry/configmaps/default/c", b"v2", 9)
        assert (caught.value.expected, caught.value.actual) == (9, 12)

    run([failed_with(other)], scenario)


def test_a_write_whose_every_attempt_timed_out_is_a_timeout() -> None:
    async def scenario(b: EtcdBackend) -> None:
        with pytest.raises(StorageTimeout):
            await b.delete("/registry/configmaps/default/c", 9)

    client = run([StorageTimeout(f"timed out {i}") for i in range(WRITE_ATTEMPTS)], scenario)
    assert len(client.txns) == WRITE_ATTEMPTS


def test_etcd_versions_that_order_progress_requests_after_events() -> None:
    assert [
        orders_progress_requests(v)
        for v in ("3.4.23", "3.4.30", "3.4.31", "3.5.0", "3.5.12", "3.5.13", "3.6.0", "x")
    ] == [False, False, True, False, False, True, True, False]


def watch_batch(revision: int, *keys: bytes) -> WatchBatch:
    return WatchBatch(
        revision, [WatchEvent(False, kv(k, b"v", revision, revision), None) for k in keys]
    )


@pytest.mark.parametrize(("version", "asks"), [("3.4.23", 0.0), ("3.5.13", PROGRESS_EVERY)])
def test_a_watch_reports_progress_after_the_events_it_covers(version: str, asks: float) -> None:
    batches = [
        watch_batch(11, b"/registry/pods/a"),
        WatchBatch(11, []),  # not past the last event: nothing to report
        WatchBatch(15, []),  # progress: nothing of ours up to 15
        watch_batch(16, b"/registry/pods/b"),
        WatchBatch(20, []),
    ]
    client = FakeClient([], batches, version)
    seen: list[tuple[str, int]] = []

    async def scenario(b: EtcdBackend) -> None:
        watch = b.watch("/registry/pods/", 10, on_progress=lambda r: seen.append(("progress", r)))
        for _ in range(2):
            event = await anext(watch)
            seen.append((event.key, event.revision))
        await asyncio.sleep(0.01)  # the generator reads on to the next empty batch
        task = asyncio.ensure_future(anext(watch))
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await watch.aclose()

    run([], scenario, client=client)
    assert seen == [
        ("/registry/pods/a", 11),
        ("progress", 15),
        ("/registry/pods/b", 16),
        ("progress", 20),
    ]
    assert client.watches == [(11, asks)]


def test_a_watch_without_on_progress_asks_for_none() -> None:
    client = FakeClient([], [], "3.5.13")

    async def scenario(b: EtcdBackend) -> None:
        watch = b.watch("/registry/pods/", 10)
        task = asyncio.ensure_future(anext(watch))
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    run([], scenario, client=client)
    assert client.watches == [(11, 0.0)]
