"""The one thread that writes the SQLite log.

Why a thread of its own: SQLite allows one writer at a time, and a second connection that
tries to write waits on a lock and, past its timeout, fails with "database is locked". With
every write funnelled through one connection in one thread nothing ever contends for the write
lock, and the event loop never waits on disk. Rules:

 1. Writes are queued by the event loop and taken by the thread in arrival order. Whatever is
    queued when the thread becomes free (up to ``max_batch``) is committed as one transaction
    (group commit); inside it each write is checked and appended in order (log.py rules 1-4),
    so two writes racing for one key are decided exactly as if they had run one after the other.
 2. A write is acknowledged — its future resolved — only after its transaction has committed.
    A write that fails its check (exists, not found, revision mismatch) fails alone; an SQLite
    error rolls the whole batch back and fails every write in it with ``StorageError``.
 3. Revisions are assigned here, from a counter read from the file at start, so they are dense
    and strictly increasing; ``sqlite.py`` holds a file lock so no other process writes the file.
 4. Results go back to the event loop in commit order, one callback per batch, so watchers see
    events in revision order.
 5. Compaction runs here too, a chunk at a time between write batches, so it never holds the
    write lock for long. When the WAL file outgrows ``wal_limit`` the thread runs a RESTART
    checkpoint (waiting at most ``restart_wait`` for readers) so the WAL starts over from its
    beginning and ``journal_size_limit`` truncates it; a background PASSIVE checkpoint on a
    reader connection (sqlite.py) does most of the copying beforehand, off this thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from kubeward.errors import StorageError
from kubeward.storage import sqlite_dialect as sql
from kubeward.storage.log import LogRecord, WriteOp, apply_write

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompactChunk:
    """Compact ``(after, upto]`` of the log."""

    after: int
    upto: int


@dataclass(frozen=True)
class WriterSettings:
    busy_timeout: float
    synchronous: str
    wal_limit: int
    max_batch: int
    vacuum_pages: int
    restart_wait: float = 0.05


Outcome = LogRecord | CompactChunk | BaseException
_Request = tuple[WriteOp | CompactChunk, "asyncio.Future[Any]"]
CommitCallback = Callable[[list[tuple["asyncio.Future[Any]", Outcome]], list[LogRecord]], None]

_STOP = object()
_RESTART_BACKOFF_BATCHES = 64


class LogWriter:
    """Owns the writer connection and its thread (rules 1-5)."""

    def __init__(
        self,
        path: str,
        settings: WriterSettings,
        loop: asyncio.AbstractEventLoop,
        on_commit: CommitCallback,
    ) -> None:
        self._path = path
        self._settings = settings
        self._loop = loop
        self._on_commit = on_commit
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._ready: asyncio.Future[tuple[int, int]] = loop.create_future()
        self._stopped: asyncio.Future[None] = loop.create_future()
        self._thread = threading.Thread(
            target=self._run, name="kubeward-sqlite-writer", daemon=True
        )
        self._revision = 0
        self._restart_backoff = 0

    async def start(self) -> tuple[int, int]:
        """Open the file (in the thread); returns (current revision, compacted revision)."""
        self._thread.start()
        return await self._ready

    def submit(self, op: WriteOp | CompactChunk) -> asyncio.Future[Any]:
        """Queue ``op``; the future resolves to its ``LogRecord`` (or the chunk) once committed."""
        future: asyncio.Future[Any] = self._loop.create_future()
        self._queue.put((op, future))
        return future

    async def stop(self) -> None:
        """Finish every queued write, checkpoint, close the connection and end the thread."""
        if not self._thread.is_alive():
            return
        self._queue.put(_STOP)
        await self._stopped

    # --- the thread ---------------------------------------------------------------------------
    def _post(self, callback: Callable[..., object], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting any more
            self._loop.call_soon_threadsafe(callback, *args)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            conn = sql.connect(
                self._path,
                busy_timeout=self._settings.busy_timeout,
                synchronous=self._settings.synchronous,
                read_only=False,
            )
            state = sql.prepare(conn, self._path, wal_limit=self._settings.wal_limit)
        except Exception as exc:
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            error = exc if isinstance(exc, StorageError) else sql.storage_error(self._path, exc)
            self._post(_settle, self._ready, error)
            self._post(_settle, self._stopped, None)
            return
        self._revision = state[0]
        self._post(_settle, self._ready, state)
        try:
            self._serve(conn)
        finally:
            try:
                sql.checkpoint(conn, "TRUNCATE")
                conn.close()
            except sqlite3.Error as exc:
                log.warning("closing %s: %s", self._path, exc)
            self._post(_settle, self._stopped, None)

    def _serve(self, conn: sqlite3.Connection) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [cast(_Request, item)]
            stopping = False
            while len(batch) < self._settings.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(cast(_Request, item))
            self._commit(conn, batch)
            self._bound_wal(conn)
            if stopping:
                return

    def _commit(self, conn: sqlite3.Connection, batch: Sequence[_Request]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Outcome]] = []
        records: list[LogRecord] = []
        first_revision = self._revision
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op, future in batch:
                if isinstance(op, CompactChunk):
                    sql.compact(conn, op.after, op.upto)
                    outcomes.append((future, op))
                    continue
                try:
                    record = apply_write(op, sql.latest(conn, op.key), self._revision + 1)
                except StorageError as exc:
                    outcomes.append((future, exc))
                    continue
                sql.append(conn, record)
                self._revision = record.revision
                records.append(record)
                outcomes.append((future, record))
            conn.execute("COMMIT")
        except Exception as exc:  # rule 2: the whole batch fails
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            self._revision = first_revision
            records = []
            outcomes = [(future, sql.storage_error(self._path, exc)) for _, future in batch]
        self._post(self._on_commit, outcomes, records)
        compacted = any(isinstance(outcome, CompactChunk) for _, outcome in outcomes)
        if compacted and self._settings.vacuum_pages:
            try:
                sql.release_free_pages(conn, self._settings.vacuum_pages)
            except sqlite3.Error as exc:
                log.warning("returning free pages of %s: %s", self._path, exc)

    def _bound_wal(self, conn: sqlite3.Connection) -> None:
        if self._restart_backoff:
            self._restart_backoff -= 1
            return
        try:
            size = os.stat(self._path + "-wal").st_size
        except OSError:
            return
        if size <= self._settings.wal_limit:
            return
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._settings.restart_wait * 1000)}")
            busy, _, _ = sql.checkpoint(conn, "RESTART")
        except sqlite3.Error as exc:
            log.warning("checkpointing %s: %s", self._path, exc)
            busy = 1
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.execute(f"PRAGMA busy_timeout = {int(self._settings.busy_timeout * 1000)}")
        if busy:  # a long read holds an old snapshot: try again a little later
            self._restart_backoff = _RESTART_BACKOFF_BATCHES


def _settle(future: asyncio.Future[Any], outcome: object) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
