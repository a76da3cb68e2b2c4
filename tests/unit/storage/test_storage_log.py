"""The rules of the log (kubeward/storage/log.py), table by table."""

from __future__ import annotations

import pytest

from kubeward.errors import (
    CompactedError,
    KeyExistsError,
    KeyNotFoundError,
    RevisionMismatch,
    StorageError,
)
from kubeward.storage.interfaces import EventType
from kubeward.storage.log import (
    Create,
    Delete,
    LogRecord,
    Update,
    WriteOp,
    apply_write,
    check_read_revision,
    prefix_end,
    survives_compaction,
)

LIVE = LogRecord(5, "/k", 3, 3, False, b"v5", b"v3")
TOMBSTONE = LogRecord(6, "/k", 3, 5, True, b"v5", b"v5")


@pytest.mark.parametrize(
    ("op", "latest", "expected"),
    [
        (Create("/k", b"new"), None, LogRecord(9, "/k", 9, 0, False, b"new", None)),
        (Create("/k", b"new"), TOMBSTONE, LogRecord(9, "/k", 9, 0, False, b"new", None)),
        (Update("/k", b"v9", 5), LIVE, LogRecord(9, "/k", 3, 5, False, b"v9", b"v5")),
        (Update("/k", b"v9", 0), LIVE, LogRecord(9, "/k", 3, 5, False, b"v9", b"v5")),
        (Delete("/k", 5), LIVE, LogRecord(9, "/k", 3, 5, True, b"v5", b"v5")),
        (Delete("/k", 0), LIVE, LogRecord(9, "/k", 3, 5, True, b"v5", b"v5")),
    ],
    ids=[
        "create-new",
        "create-after-delete",
        "update-matching",
        "update-unconditional",
        "delete-matching",
        "delete-unconditional",
    ],
)
def test_apply_write_appends(op: WriteOp, latest: LogRecord | None, expected: LogRecord) -> None:
    assert apply_write(op, latest, 9) == expected


@pytest.mark.parametrize(
    ("op", "latest", "error"),
    [
        (Create("/k", b"x"), LIVE, KeyExistsError),
        (Update("/k", b"x", 5), None, KeyNotFoundError),
        (Update("/k", b"x", 6), TOMBSTONE, KeyNotFoundError),
        (Update("/k", b"x", 4), LIVE, RevisionMismatch),
        (Delete("/k", 0), None, KeyNotFoundError),
        (Delete("/k", 0), TOMBSTONE, KeyNotFoundError),
        (Delete("/k", 7), LIVE, RevisionMismatch),
    ],
    ids=[
        "create-live",
        "update-missing",
        "update-deleted",
        "update-stale",
        "delete-missing",
        "delete-deleted",
        "delete-stale",
    ],
)
def test_apply_write_refuses(op: WriteOp, latest: LogRecord | None, error: type[Exception]) -> None:
    with pytest.raises(error):
        apply_write(op, latest, 9)


@pytest.mark.parametrize(
    ("record", "kind", "value", "prev"),
    [
        (LogRecord(3, "/k", 3, 0, False, b"a", None), EventType.CREATE, b"a", None),
        (LIVE, EventType.UPDATE, b"v5", b"v3"),
        (TOMBSTONE, EventType.DELETE, b"v5", b"v5"),
    ],
    ids=["create", "update", "delete"],
)
def test_records_become_events(
    record: LogRecord, kind: EventType, value: bytes, prev: bytes | None
) -> None:
    event = record.to_event()
    assert (event.type, event.value, event.prev_value) == (kind, value, prev)
    assert (event.revision, event.create_revision) == (record.revision, record.create_revision)


@pytest.mark.parametrize(
    ("record", "successor", "compact_to", "kept"),
    [
        (LIVE, 0, 10, True),
        (LIVE, 7, 10, False),
        (LIVE, 11, 10, True),
        (LIVE, 7, 5, True),
        (TOMBSTONE, 0, 10, False),
        (TOMBSTONE, 0, 6, False),
        (TOMBSTONE, 0, 5, True),
    ],
    ids=[
        "newest-version-at-or-below",
        "superseded-at-or-below",
        "superseded-above",
        "above-the-compaction",
        "tombstone-below",
        "tombstone-at",
        "tombstone-above",
    ],
)
def test_survives_compaction(
    record: LogRecord, successor: int, compact_to: int, kept: bool
) -> None:
    assert survives_compaction(record, successor, compact_to) is kept


@pytest.mark.parametrize(
    ("revision", "served", "error"),
    [
        (0, 20, None),
        (11, 11, None),
        (20, 20, None),
        (10, 0, CompactedError),
        (3, 0, CompactedError),
        (21, 0, StorageError),
        (-1, 0, ValueError),
    ],
    ids=["latest", "just-above-compacted", "current", "compacted", "older", "future", "negative"],
)
def test_check_read_revision(revision: int, served: int, error: type[Exception] | None) -> None:
    if error is None:
        assert check_read_revision(revision, 10, 20) == served
    else:
        with pytest.raises(error):
            check_read_revision(revision, 10, 20)


@pytest.mark.parametrize(
    ("prefix", "end"),
    [
        ("/registry/pods/", "/registry/pods0"),
        ("a", "b"),
        ("", None),
        ("\U0010ffff", None),
        ("a\U0010ffff", "b"),
        ("\ud7ff", "\ue000"),
    ],
    ids=["slash", "letter", "empty", "max-code-point", "trailing-max", "before-surrogates"],
)
def test_prefix_end(prefix: str, end: str | None) -> None:
    assert prefix_end(prefix) == end


@pytest.mark.parametrize(
    "key",
    ["/registry/pods/", "/registry/pods/default/web", "/registry/pods/\U0010ffff"],
    ids=["the-prefix", "a-child", "max-code-point-child"],
)
def test_prefix_end_bounds_every_key_under_the_prefix(key: str) -> None:
    end = prefix_end("/registry/pods/")
    assert end is not None and "/registry/pods/" <= key < end
    assert end <= "/registry/pods0"  # the first string after the prefix's range
