"""kube-apiserver's compaction rounds (storage/etcd/compactor.py rules 1-3) over a fake client."""

from __future__ import annotations

import asyncio
from typing import Any

from kubeward.storage.etcd.client import Compare, EtcdKV, Get, Op, OpResult, Put, TxnResult
from kubeward.storage.etcd.compactor import COMPACT_REV_KEY, compact_round


class FakeEtcd:
    """Just enough of etcd for the compaction transaction: one key with a version."""

    def __init__(self, revision: int) -> None:
        self.revision = revision
        self.version = 0
        self.value = b""
        self.compacted: list[int] = []

    async def txn(self, compare: list[Compare], success: list[Op], failure: list[Op]) -> TxnResult:
        [check] = compare
        assert (check.key, check.target, check.result) == (COMPACT_REV_KEY, "VERSION", "EQUAL")
        if check.value == self.version:
            [put] = success
            assert isinstance(put, Put)
            self.revision += 1
            self.version += 1
            self.value = put.value
            return TxnResult(True, self.revision, [OpResult()])
        [get] = failure
        assert isinstance(get, Get)
        kv = EtcdKV(COMPACT_REV_KEY, self.value, 1, self.revision, self.version)
        return TxnResult(False, self.revision, [OpResult(kvs=[kv])])

    async def compact(self, revision: int) -> None:
        self.compacted.append(revision)


def rounds(etcd: FakeEtcd, *steps: Any) -> list[tuple[int, int, int]]:
    async def main() -> list[tuple[int, int, int]]:
        return [await compact_round(etcd, version, revision) for version, revision in steps]  # type: ignore[arg-type]

    return asyncio.run(main())


def test_the_first_round_only_records_and_the_next_compacts_to_it() -> None:
    etcd = FakeEtcd(revision=100)
    [(version, seen, done)] = rounds(etcd, (0, 0))
    assert (version, done, etcd.compacted) == (1, 0, [])  # rule 2: nothing at start
    etcd.revision += 50  # an interval of writes
    [(version, _, done)] = rounds(etcd, (version, seen))
    assert (version, done, etcd.compacted) == (2, seen, [seen])
    assert etcd.value == str(seen).encode()  # rule 3: the key holds the revision compacted to


def test_a_server_that_lost_the_round_only_learns_the_version() -> None:
    etcd = FakeEtcd(revision=100)
    [(winner_version, _, _)] = rounds(etcd, (0, 0))
    [(loser_version, _, done)] = rounds(etcd, (0, 0))  # a second server, a step behind
    assert (loser_version, done) == (winner_version, 0)
    assert etcd.compacted == []
