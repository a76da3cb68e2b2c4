"""The embedded storage: the ``Backend`` contract on one SQLite file.

Layers, as in kine: the rules of the log live in ``log.py``, the SQL in ``sqlite_dialect.py``,
the single writer in ``sqlite_writer.py``, the watch fan-out in ``fanout.py``; this module
decides which thread runs what and owns the file. Rules:

 1. Durability. The file is in WAL mode with ``synchronous=NORMAL``; a write is acknowledged
    after its transaction commits, i.e. after its WAL frames were handed to the kernel with
    write(2). That survives the death of the process (``kill -9``, a crash, an OOM kill): the
    kernel still writes the pages out and the next open replays the WAL. It does *not* survive
    a kernel crash or power loss: the most recent acknowledged writes (since the last
    checkpoint's fsync) can be lost, though the file stays consistent — WAL frames are
    checksummed and a torn tail is discarded. ``synchronous="FULL"`` (URL
    ``sqlite:///path.db?synchronous=full``) fsyncs the WAL at every commit and survives power
    loss too, at the price of one fsync per write batch.
 2. No "database is locked": every write goes through the one writer thread
    (``sqlite_writer.py``); readers never take the write lock, and a busy timeout covers the
    moments a reader must wait (WAL recovery after a crash).
 3. The event loop never waits on disk for long. A ``get`` runs inline on the loop: it is one
    lookup in the ``(key, revision)`` index, measured at about 10 µs
    (``benchmarks/storage.py``), far less than the ~60 µs a thread hop costs. Lists, counts and
    watch history can be large and run on ``reader_threads`` threads, each with its own
    connection.
 4. Writes become visible to ``current_revision()`` and to watchers when their acknowledgement
    reaches the loop. A ``get`` or ``list`` may see a write a few microseconds before that (it
    is committed but not yet acknowledged); the revision such a read reports is still exact,
    and watching from it misses nothing.
 5. Background work: a compactor keeps the history window of ``compaction.py``; a PASSIVE
    checkpoint runs every ``checkpoint_interval`` seconds after writes on a reader thread, and
    the writer restarts the WAL when it outgrows ``wal_limit`` (sqlite_writer.py rule 5). Pages
    freed by compaction are reused, and up to ``vacuum_pages`` of them are returned to the file
    system after each compaction chunk, so the file does not grow without bound.
 6. One process per file: an exclusive ``flock`` on ``<file>.lock`` is held while the backend
    is open, so a second server on the same file fails at start instead of corrupting the
    revision sequence. A new file is created with mode 0600 — it holds Secrets.
 7. ``close()`` ends every watch, finishes every write already queued, checkpoints and closes.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import fcntl
import functools
import logging
import os
import sqlite3
import threading
from collections.abc import AsyncGenerator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kubeward.errors import StorageError
from kubeward.storage import sqlite_dialect as sql
from kubeward.storage.compaction import CompactionPolicy, run_compactor
from kubeward.storage.fanout import WatchHub, stream_events
from kubeward.storage.interfaces import Event, KeyValue, ListResult
from kubeward.storage.log import Create, Delete, LogRecord, Update, WriteOp, check_compaction_target
from kubeward.storage.sqlite_writer import CompactChunk, LogWriter, Outcome, WriterSettings

log = logging.getLogger(__name__)

T = TypeVar("T")

SYNCHRONOUS_MODES = ("NORMAL", "FULL")


@dataclass(frozen=True)
class SqliteOptions:
    """Tuning of the SQLite backend; the defaults are what ``kubeward serve`` uses."""

    synchronous: str = "NORMAL"
    compaction: CompactionPolicy = field(default_factory=CompactionPolicy)
    watch_buffer: int = 1024
    checkpoint_interval: float = 1.0
    wal_limit: int = 64 * 1024 * 1024
    busy_timeout: float = 5.0
    max_batch: int = 256
    reader_threads: int = 2
    compaction_chunk: int = 1000
    vacuum_pages: int = 2048

    def __post_init__(self) -> None:
        if self.synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ValueError(
                f"synchronous must be one of {SYNCHRONOUS_MODES}, got {self.synchronous!r}"
            )
        if min(self.watch_buffer, self.max_batch, self.reader_threads, self.compaction_chunk) < 1:
            raise ValueError(f"invalid SQLite options: {self}")


class SqliteBackend:
    """The ``Backend`` contract on one SQLite file (rules 1-7)."""

    def __init__(self, path: str | os.PathLike[str], options: SqliteOptions | None = None) -> None:
        self.path = os.fspath(path)
        self._options = options or SqliteOptions()
        self._hub = WatchHub(self._options.watch_buffer)
        self._compacted = 0
        self._batches = 0  # committed write batches, to skip idle checkpoints
        self._state = "new"  # new → open → closing → closed
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock_fd: int | None = None
        self._writer: LogWriter | None = None
        self._inline: sqlite3.Connection | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._reader_local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._reader_conns_lock = threading.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._compaction_lock = asyncio.Lock()

    # --- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        if self._state != "new":
            return
        self._loop = asyncio.get_running_loop()
        self._take_file_lock()
        opts = self._options
        self._writer = LogWriter(
            self.path,
            WriterSettings(
                busy_timeout=opts.busy_timeout,
                synchronous=opts.synchronous.upper(),
                wal_limit=opts.wal_limit,
                max_batch=opts.max_batch,
                vacuum_pages=opts.vacuum_pages,
            ),
            self._loop,
            self._on_commit,
        )
        try:
            revision, self._compacted = await self._writer.start()
            with sql.translated_errors(self.path):
                self._inline = self._connect_reader()
        except BaseException:
            await self._writer.stop()
            self._release_file_lock()
            raise
        self._hub.revision = revision
        self._readers = ThreadPoolExecutor(
            opts.reader_threads, thread_name_prefix="kubeward-sqlite-read"
        )
        self._state = "open"
        if opts.compaction.enabled:
            compactor = run_compactor(
                opts.compaction, self.current_revision, self.compacted_revision, self.compact
            )
            self._tasks.append(asyncio.create_task(compactor))
        self._tasks.append(asyncio.create_task(self._checkpoint_periodically()))

    async def close(self) -> None:
        if self._state != "open":
            return
        self._state = "closing"
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:  # a bug in a background task must not keep the file locked
                log.exception("storage background task of %s failed", self.path)
        self._hub.close()
        if self._readers is not None:
            await asyncio.get_running_loop().run_in_executor(
                None, functools.partial(self._readers.shutdown, wait=True)
            )
        with self._reader_conns_lock:
            conns, self._reader_conns = self._reader_conns, []
        if self._inline is not None:
            conns.append(self._inline)
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        if self._writer is not None:
            await self._writer.stop()
        self._release_file_lock()
        self._state = "closed"

    def _take_file_lock(self) -> None:
        lock_path = self.path + ".lock"
        try:
            directory = os.path.dirname(self.path)
            if directory:
                os.makedirs(directory, mode=0o700, exist_ok=True)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StorageError(f"sqlite storage {self.path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise StorageError(
                f"sqlite storage {self.path}: in use by another process (locked {lock_path})"
            ) from exc
        self._lock_fd = fd
        try:  # create the file ourselves so that it is private from its first byte
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            self._release_file_lock()
            raise StorageError(f"sqlite storage {self.path}: {exc.strerror or exc}") from exc

    def _release_file_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _connect_reader(self) -> sqlite3.Connection:
        return sql.connect(
            self.path,
            busy_timeout=self._options.busy_timeout,
            synchronous=self._options.synchronous.upper(),
            read_only=True,
        )

    def _check_open(self) -> None:
        if self._state != "open":
            raise StorageError(f"sqlite storage {self.path}: {self._state}, not open")

    # --- the threads --------------------------------------------------------------------------
    def _on_commit(
        self, outcomes: list[tuple[asyncio.Future[Any], Outcome]], records: list[LogRecord]
    ) -> None:
        """Runs on the loop once per committed batch (sqlite_writer.py rule 4)."""
        self._batches += 1
        if records:
            events = [r.to_event() for r in records] if self._hub.has_subscribers else []
            self._hub.publish(records[-1].revision, events)
        for future, outcome in outcomes:
            if isinstance(outcome, CompactChunk):
                self._compacted = max(self._compacted, outcome.upto)
            if future.done():  # the caller was cancelled; the write stands regardless
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _on_reader_thread(self, read: Callable[[sqlite3.Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._reader_local, "conn", None)
        with sql.translated_errors(self.path):
            if conn is None:
                conn = self._connect_reader()
                self._reader_local.conn = conn
                with self._reader_conns_lock:
                    self._reader_conns.append(conn)
            return read(conn)

    async def _read(self, read: Callable[[sqlite3.Connection], T]) -> T:
        self._check_open()
        assert self._loop is not None and self._readers is not None
        return await self._loop.run_in_executor(self._readers, self._on_reader_thread, read)

    async def _write(self, op: WriteOp) -> KeyValue:
        self._check_open()
        assert self._writer is not None
        record: LogRecord = await self._writer.submit(op)
        return record.to_key_value()

    # --- the contract -------------------------------------------------------------------------
    async def current_revision(self) -> int:
        return self._hub.revision

    async def compacted_revision(self) -> int:
        return self._compacted

    async def get(self, key: str, revision: int = 0) -> KeyValue | None:
        self._check_open()
        assert self._inline is not None
        try:  # not translated_errors(): this is the hot path, and a with-block costs a µs
            return sql.get(self._inline, key, revision)
        except sqlite3.Error as exc:
            raise sql.storage_error(self.path, exc) from exc

    async def create(self, key: str, value: bytes) -> KeyValue:
        return await self._write(Create(key, value))

    async def update(self, key: str, value: bytes, expected_revision: int) -> KeyValue:
        return await self._write(Update(key, value, expected_revision))

    async def delete(self, key: str, expected_revision: int = 0) -> KeyValue:
        return await self._write(Delete(key, expected_revision))

    async def list(
        self, prefix: str, *, revision: int = 0, limit: int = 0, start_after: str = ""
    ) -> ListResult:
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        return await self._read(
            functools.partial(
                sql.list_page,
                prefix=prefix,
                revision=revision,
                limit=limit,
                start_after=start_after,
            )
        )

    async def count(self, prefix: str) -> int:
        return await self._read(functools.partial(sql.count, prefix=prefix))

    def watch(
        self,
        prefix: str,
        from_revision: int,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> AsyncGenerator[Event, None]:
        del on_progress  # interfaces.py rule 7: this store reports no progress of its own
        if self._state == "new":
            raise StorageError(f"sqlite storage {self.path}: not started")
        return stream_events(self._hub, prefix, from_revision, self._history, self._compacted)

    async def _history(
        self, prefix: str, after: int, upto: int, limit: int
    ) -> builtins.list[Event]:
        return await self._read(
            functools.partial(sql.history, prefix=prefix, after=after, upto=upto, limit=limit)
        )

    async def compact(self, revision: int) -> None:
        """Compact to ``revision`` a chunk at a time, letting writes in between each chunk."""
        self._check_open()
        assert self._writer is not None
        async with self._compaction_lock:
            if not check_compaction_target(revision, self._compacted, self._hub.revision):
                return
            after = self._compacted
            while after < revision:
                upto = min(revision, after + self._options.compaction_chunk)
                await self._writer.submit(CompactChunk(after, upto))
                after = upto

    async def _checkpoint_periodically(self) -> None:
        seen = self._batches
        while True:
            await asyncio.sleep(self._options.checkpoint_interval)
            if self._batches == seen:
                continue
            seen = self._batches
            try:
                await self._read(functools.partial(sql.checkpoint, mode="PASSIVE"))
            except Exception as exc:  # never let a failed checkpoint end the task
                log.warning("checkpoint of %s failed, will retry: %s", self.path, exc)
