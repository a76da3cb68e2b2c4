"""Compaction driven by the API servers, as kube-apiserver drives it (``--etcd-compaction-interval``).

etcd keeps every revision until told to compact. kube-apiserver compacts from each API server
and coordinates through one key so that several servers compact once per interval, not once
each. Rules (kube-apiserver's storage/etcd3 compactor):

 1. Every ``interval`` seconds each API server runs a transaction on ``compact_rev_key``: if its
    *version* is still the one this server last saw, put the revision this server observed one
    interval ago and compact etcd to it; otherwise only learn the new version. The version is
    the logical clock: exactly one server wins each round.
 2. The first round only records the current revision (nothing is compacted at start), so the
    newest ``interval`` of history is always kept.
 3. The key's value is the revision compacted to, so every server (and ``kubeward etcd status``)
    learns how far history goes back from it.
 4. A failed round is logged and retried next interval; it never ends the task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from kubeward.errors import CompactedError, StorageError
from kubeward.storage.etcd.client import Compare, EtcdClient, Get, Put

log = logging.getLogger(__name__)

COMPACT_REV_KEY = b"compact_rev_key"


async def compact_round(
    client: EtcdClient, seen_version: int, revision: int
) -> tuple[int, int, int]:
    """One round (rule 1): returns (version now, current revision, revision compacted to or 0)."""
    result = await client.txn(
        [Compare(COMPACT_REV_KEY, "VERSION", "EQUAL", seen_version)],
        [Put(COMPACT_REV_KEY, str(revision).encode())],
        [Get(COMPACT_REV_KEY)],
    )
    if not result.succeeded:
        kvs = result.responses[0].kvs
        return (kvs[0].version if kvs else 0), result.revision, 0
    if revision == 0:  # rule 2
        return seen_version + 1, result.revision, 0
    with contextlib.suppress(CompactedError):  # someone compacted further already
        await client.compact(revision)
    return seen_version + 1, result.revision, revision


async def read_compacted(client: EtcdClient) -> int:
    """The revision the API servers last compacted to (rule 3; 0 if never)."""
    kvs = (await client.range(COMPACT_REV_KEY)).kvs
    try:
        return int(kvs[0].value) if kvs else 0
    except ValueError:
        return 0


async def run_compactor(
    client: EtcdClient, interval: float, compacted: Callable[[int], None]
) -> None:
    """Compact every ``interval`` seconds until cancelled (rules 1-4); ``compacted`` learns each
    revision compacted to."""
    version, revision = 0, 0
    while True:
        try:
            version, current, done = await compact_round(client, version, revision)
            revision = current
            if done:
                compacted(done)
            else:
                compacted(await read_compacted(client))
        except StorageError as exc:
            log.warning("etcd compaction failed, will retry: %s", exc)
        await asyncio.sleep(interval)
