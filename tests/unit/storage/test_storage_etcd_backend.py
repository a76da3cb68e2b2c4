"""The etcd backend's own rules over a fake ``EtcdClient`` (kubeward's seam): key layout and the
unknown outcome of a write that timed out (storage/etcd/backend.py rules 1 and 3)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest

from kubeward.errors import KeyExistsError, RevisionMismatch, StorageTimeout
from kubeward.storage.etcd.backend import WRITE_ATTEMPTS, EtcdBackend
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
)
from kubeward.storage.etcd.config import EtcdConfig


class FakeClient:
    """Answers each txn from a script: an exception to raise or a result to return."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.txns: list[tuple[list[Compare], list[Op]]] = []
        self.ranges: list[bytes] = []

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
        self, key: bytes, range_end: bytes, start_revision: int
    ) -> AsyncGenerator[WatchBatch, None]:
        raise AssertionError("not in these tests")
        yield  # pragma: no cover

    async def status(self, endpoint: str) -> MemberStatus:
        raise AssertionError("not in these tests")

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


def run(script: list[Any], scenario: Any, prefix: str = "/registry") -> FakeClient:
    client = FakeClient(script)

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
