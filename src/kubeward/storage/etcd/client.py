"""What the etcd backend needs from an etcd client, independent of the transport.

etcd's v3 API is gRPC; the same messages are served as JSON by the gateway on the client port.
The backend speaks only the types below, so the transport (gateway.py today, gRPC later if a
measurement favours it) can change without touching the storage rules. Rules:

 1. Keys and values are bytes; revisions are ints (the transport decodes strings and base64).
 2. Every call either returns or raises an exception from ``kubeward.errors``: ``CompactedError``
    for a compacted revision, ``StorageUnavailable`` when no member could answer, ``StorageTimeout``
    when a request may or may not have been applied (an *unknown outcome*), ``StorageError`` for
    anything else. No exception of the transport library leaves the client.
 3. Reads retry on another member until they succeed or the request deadline passes; a write is
    retried on another member only when it certainly was not sent.
 4. A watch is a stream of batches; it ends with ``StorageUnavailable`` when its member is lost
    or has lost its leader, and the caller resumes on another member from the next revision.
    A batch without events is a progress notification: every event of the watch up to its
    revision has been sent. Watches ask for etcd's periodic notifications (``progress_notify``;
    every 10 min unless etcd's ``--experimental-watch-progress-notify-interval`` says otherwise);
    with ``progress_every`` a transport that can also asks for one that often
    (``WatchProgressRequest``). Only the periodic ones are ordered after the events on etcd
    before 3.4.31 and 3.5.13 (etcd issues 15220, 17507), so callers ask only of newer members.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Literal, Protocol


@dataclass(frozen=True)
class EtcdKV:
    key: bytes
    value: bytes
    create_revision: int
    mod_revision: int
    version: int


@dataclass(frozen=True)
class RangeResult:
    kvs: list[EtcdKV]
    more: bool
    count: int
    revision: int


@dataclass(frozen=True)
class Compare:
    """``target(key) result value``, e.g. ``mod_revision(key) == 7``."""

    key: bytes
    target: Literal["MOD", "CREATE", "VERSION"]
    result: Literal["EQUAL", "GREATER", "LESS", "NOT_EQUAL"]
    value: int


@dataclass(frozen=True)
class Put:
    key: bytes
    value: bytes
    prev_kv: bool = False


@dataclass(frozen=True)
class Get:
    key: bytes


@dataclass(frozen=True)
class Delete:
    key: bytes
    prev_kv: bool = False


Op = Put | Get | Delete


@dataclass(frozen=True)
class OpResult:
    """The result of one operation of a transaction: ``kvs`` for a Get, ``prev_kvs`` for a
    Put or Delete that asked for them, ``deleted`` for a Delete."""

    kvs: list[EtcdKV] = field(default_factory=list)
    prev_kvs: list[EtcdKV] = field(default_factory=list)
    deleted: int = 0


@dataclass(frozen=True)
class TxnResult:
    succeeded: bool
    revision: int
    responses: list[OpResult]


@dataclass(frozen=True)
class WatchEvent:
    deleted: bool
    kv: EtcdKV
    prev_kv: EtcdKV | None


@dataclass(frozen=True)
class WatchBatch:
    """One watch response: its events (maybe none: a progress notification) and the revision
    the member had reached when it sent them."""

    revision: int
    events: list[WatchEvent]


@dataclass(frozen=True)
class MemberStatus:
    endpoint: str
    member_id: int
    leader_id: int
    revision: int
    db_size: int
    version: str
    raft_term: int


@dataclass(frozen=True)
class MemberInfo:
    member_id: int
    name: str
    peer_urls: list[str]
    client_urls: list[str]


class EtcdClient(Protocol):
    """The calls the etcd backend makes (rules 1-4)."""

    @property
    def endpoints(self) -> list[str]: ...

    async def range(
        self,
        key: bytes,
        range_end: bytes = b"",
        *,
        revision: int = 0,
        limit: int = 0,
        count_only: bool = False,
    ) -> RangeResult: ...

    async def txn(self, compare: list[Compare], success: list[Op], failure: list[Op]) -> TxnResult:
        """Raises ``StorageTimeout`` when the outcome is unknown (rule 2)."""
        ...

    async def compact(self, revision: int) -> None: ...

    def watch(
        self, key: bytes, range_end: bytes, start_revision: int, *, progress_every: float = 0.0
    ) -> AsyncGenerator[WatchBatch, None]:
        """Events from ``start_revision`` (inclusive), with previous values, and progress
        notifications, requested every ``progress_every`` seconds if not 0 (rule 4)."""
        ...

    async def status(self, endpoint: str) -> MemberStatus: ...

    async def members(self) -> list[MemberInfo]: ...

    def snapshot(self, endpoint: str) -> AsyncGenerator[bytes, None]:
        """The member's database, in chunks (etcd's snapshot API)."""
        ...

    async def close(self) -> None: ...


def prefix_range_end(prefix: bytes) -> bytes:
    """The smallest key above every key starting with ``prefix`` (etcd's ``\\0`` for no bound)."""
    stem = prefix.rstrip(b"\xff")
    if not stem:
        return b"\x00"
    return stem[:-1] + bytes([stem[-1] + 1])
