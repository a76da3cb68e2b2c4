"""The log-structured core shared by every backend that keeps its own history.

Storage is an append-only log of records, one per write, ordered by revision, as in kine: the
state of the store at revision R is, for each key, its newest record at or below R, unless that
record is a tombstone. The backends differ only in where the log lives (SQLite tables, Python
lists); the rules below are decided here, once, so they cannot drift apart.

Write rules (``apply_write``), for a key whose newest record is ``latest`` (None if never written):
 1. A key is *live* when ``latest`` exists and is not a tombstone.
 2. Create needs a key that is not live; the record starts a new life:
    ``create_revision = revision`` and ``prev_revision = 0``.
 3. Update and delete need a live key (else ``KeyNotFoundError``) and, unless the expected
    revision is 0, ``latest.revision == expected`` (else ``RevisionMismatch``). The record keeps
    ``create_revision`` and points ``prev_revision`` at ``latest``.
 4. A delete appends a tombstone; its event carries the last value as ``value`` and ``prev_value``.

Event rule (``LogRecord.to_event``): a record whose ``create_revision`` equals its revision is a
CREATE, a tombstone is a DELETE, anything else an UPDATE.

Compaction rules (``survives_compaction``), compacting to revision C:
 5. A record whose key was written again at a revision <= C is dropped: no read above C can see
    it, and no event above C needs it as its ``prev_value`` (the successor is at or below C).
 6. A tombstone at or below C is dropped: the key reads as absent either way.
 7. Everything else is kept; in particular every record above C and, for each key, the newest
    live record at or below C.
 8. Compaction may drop the newest record of the whole log, so a store reopened reads its
    current revision as the larger of its newest record and its compacted revision: the
    revision never goes backwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubeward.errors import (
    CompactedError,
    KeyExistsError,
    KeyNotFoundError,
    RevisionMismatch,
    StorageError,
)
from kubeward.storage.interfaces import Event, EventType, KeyValue


@dataclass(frozen=True)
class Create:
    key: str
    value: bytes


@dataclass(frozen=True)
class Update:
    key: str
    value: bytes
    expected_revision: int


@dataclass(frozen=True)
class Delete:
    key: str
    expected_revision: int


WriteOp = Create | Update | Delete


@dataclass(frozen=True)
class LogRecord:
    """One entry of the log.

    For a tombstone, ``value`` is the last value the key had (so the DELETE event and the
    ``delete`` result can carry it); ``prev_value`` is the value of the record at
    ``prev_revision`` (None when ``prev_revision`` is 0).
    """

    revision: int
    key: str
    create_revision: int
    prev_revision: int
    deleted: bool
    value: bytes
    prev_value: bytes | None

    @property
    def live(self) -> bool:
        return not self.deleted

    def to_key_value(self) -> KeyValue:
        return KeyValue(self.key, self.value, self.create_revision, self.revision)

    def to_event(self) -> Event:
        if self.deleted:
            kind = EventType.DELETE
        elif self.create_revision == self.revision:
            kind = EventType.CREATE
        else:
            kind = EventType.UPDATE
        return Event(
            kind, self.key, self.value, self.prev_value, self.revision, self.create_revision
        )


def apply_write(op: WriteOp, latest: LogRecord | None, revision: int) -> LogRecord:
    """The record ``op`` appends at ``revision`` (rules 1-4), or the error it fails with.

    Raises:
        KeyExistsError, KeyNotFoundError, RevisionMismatch.
    """
    is_live = latest is not None and latest.live
    if isinstance(op, Create):
        if is_live:
            raise KeyExistsError(op.key)
        return LogRecord(revision, op.key, revision, 0, False, op.value, None)
    if latest is None or not is_live:
        raise KeyNotFoundError(op.key)
    if op.expected_revision and latest.revision != op.expected_revision:
        raise RevisionMismatch(op.key, op.expected_revision, latest.revision)
    if isinstance(op, Update):
        return LogRecord(
            revision, op.key, latest.create_revision, latest.revision, False, op.value, latest.value
        )
    return LogRecord(
        revision, op.key, latest.create_revision, latest.revision, True, latest.value, latest.value
    )


def survives_compaction(record: LogRecord, successor_revision: int, compact_to: int) -> bool:
    """Whether ``record`` stays when compacting to ``compact_to`` (rules 5-7).

    ``successor_revision`` is the revision of the key's next record (0 if none).
    """
    if record.revision > compact_to:
        return True
    if successor_revision and successor_revision <= compact_to:
        return False
    return not record.deleted


def check_read_revision(revision: int, compacted: int, current: int) -> int:
    """The revision a read asked for as ``revision`` is served at (0 = ``current``).

    Raises:
        ValueError: a negative revision (a caller bug).
        CompactedError: ``revision`` is at or below the compacted revision.
        StorageError: ``revision`` is newer than every write.
    """
    if revision < 0:
        raise ValueError(f"revision must be >= 0, got {revision}")
    if revision == 0:
        return current
    if revision <= compacted:
        raise CompactedError(revision, compacted)
    if revision > current:
        raise StorageError(f"revision {revision} is newer than the current revision {current}")
    return revision


def check_compaction_target(revision: int, compacted: int, current: int) -> bool:
    """Whether compacting to ``revision`` has work to do.

    Raises:
        StorageError: ``revision`` is newer than the current revision.
    """
    if revision > current:
        raise StorageError(
            f"cannot compact to revision {revision}: the current revision is {current}"
        )
    return revision > compacted


def prefix_end(prefix: str) -> str | None:
    """The smallest string above every string that starts with ``prefix`` (None: no bound).

    Keys are compared by code point, which for the UTF-8 that SQLite stores is byte order, so
    ``prefix <= key < prefix_end(prefix)`` selects exactly the keys under ``prefix``.
    """
    stem = prefix.rstrip("\U0010ffff")
    if not stem:
        return None
    following = ord(stem[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates cannot be encoded; no key contains one
        following = 0xE000
    return stem[:-1] + chr(following)
