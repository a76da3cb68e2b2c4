"""The revisioned key-value contract every storage backend fulfils.

The API server stores each object under a key such as ``/registry/pods/default/web`` and reads
its ``resourceVersion`` from the revision the backend gives each write. The contract is etcd's
(and kine's), kept small so that the SQLite backend, the in-memory backend of the unit tests and
a later etcd backend pass the same contract tests. Rules:

 1. There is one global revision, strictly increasing: every successful write (create, update,
    delete) gets the next one. A new SQLite or memory store's first write gets 1; etcd's empty
    cluster is already at revision 1, so its first write gets 2. A key's ``mod_revision`` is the revision of its
    last write, ``create_revision`` the revision of the create that started its current life.
 2. ``create`` succeeds only if the key is absent; ``update`` and ``delete`` take the
    ``mod_revision`` the caller read and fail with ``RevisionMismatch`` if the key has moved on
    (``expected_revision=0`` means "whatever it is now"). A missing key is ``KeyNotFoundError``.
 3. Reads at ``revision=0`` see the newest state; reads at an explicit revision see the store as
    it was then. A revision at or below the compacted revision is gone: ``CompactedError``.
    A revision newer than any write is refused with ``StorageError``.
 4. A list walks keys in order (code-point order, which is also UTF-8 byte order) and is read at
    one revision; the next page is asked for with ``start_after`` (the last key seen) and that
    same revision, so a paged list is one consistent snapshot however many writes happen between
    pages.
 5. A watch yields every event with a revision greater than ``from_revision`` whose key starts
    with the prefix, each exactly once, in revision order, first from history and then live. It
    raises ``CompactedError`` (from the iterator) when the events it needs were compacted away —
    at the start, or later if the watcher fell so far behind that the history it must catch up
    from was compacted meanwhile. It ends cleanly when the backend closes. A watch that is given
    up early should be closed (``aclose()`` on the async generators the backends here return)
    so it stops holding a subscription at once.
 6. Compaction keeps, for every live key, its newest version at or below the compacted revision, so
    every read and watch above it is still answered exactly.
 7. A watch given ``on_progress`` may call it with a revision R, between two events, to say that
    every event under the prefix up to R has been yielded (etcd's progress notifications). R is
    never below the last event yielded; a caller may hand it out as a watch bookmark. A backend
    that cannot tell never calls it.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class KeyValue:
    """One version of one key."""

    key: str
    value: bytes
    create_revision: int
    mod_revision: int


class EventType(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Event:
    """One write, as a watcher sees it.

    ``value`` is the new value; for a DELETE it is the last value the key had, and
    ``prev_value`` is that same last value. ``prev_value`` is None for a CREATE.
    """

    type: EventType
    key: str
    value: bytes
    prev_value: bytes | None
    revision: int
    create_revision: int


@dataclass(frozen=True)
class ListResult:
    """One page of a list.

    ``revision`` is the revision the page was read at (pass it back with ``start_after`` for
    the next page); ``more`` says the limit cut the page short; ``remaining`` counts the items
    after this page (Kubernetes' ``remainingItemCount``), 0 when ``more`` is false.
    """

    items: list[KeyValue]
    revision: int
    more: bool
    remaining: int


class Backend(Protocol):
    """A revisioned key-value store; see the module docstring for the rules."""

    async def start(self) -> None:
        """Open or create the store and start background compaction (and checkpointing)."""

    async def close(self) -> None:
        """Stop background work and end every open watch cleanly. Idempotent."""

    async def current_revision(self) -> int:
        """The revision of the newest acknowledged write (0 for an empty store)."""

    async def compacted_revision(self) -> int:
        """Reads at or below this revision raise ``CompactedError`` (0: nothing compacted)."""

    async def get(self, key: str, revision: int = 0) -> KeyValue | None:
        """The key at ``revision`` (0 = newest), or None if it did not exist then."""

    async def create(self, key: str, value: bytes) -> KeyValue:
        """Create ``key``; ``KeyExistsError`` if it exists."""

    async def update(self, key: str, value: bytes, expected_revision: int) -> KeyValue:
        """Replace the value if the key's ``mod_revision`` is still ``expected_revision``."""

    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue:
        """Delete the key; returns its last value with ``mod_revision`` = the delete's revision."""

    async def list(
        self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = ""
    ) -> ListResult:
        """Keys starting with ``prefix`` and after ``start_after``, in order, at one revision."""

    async def count(self, prefix: str) -> int:
        """How many keys start with ``prefix`` now."""

    def watch(
        self,
        prefix: str,
        from_revision: int,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> AsyncIterator[Event]:
        """Every event after ``from_revision`` under ``prefix``, then live events (rules 5, 7)."""

    async def compact(self, revision: int) -> None:
        """Drop history at or below ``revision`` (rule 6); a no-op if already compacted there."""
