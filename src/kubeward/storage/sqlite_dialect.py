"""The SQLite dialect: the schema, the SQL of every operation, and sqlite3 error translation.

Everything here is synchronous and takes a connection; ``sqlite.py`` decides which thread runs
it. The rules themselves live in ``log.py``; this module only says them in SQL. Rules:

 1. One table, ``kv_log``, is the log: one row per write, ``revision`` its primary key. A
    tombstone row stores an empty value; its last value is the value of the row at
    ``prev_revision``, which compaction keeps for as long as the tombstone can be read (log.py
    rule 5). ``kv_meta`` holds the compacted revision. ``PRAGMA user_version`` is the schema
    version; a newer file than this code understands is refused.
 2. The state at revision R is, per key, the newest row at or below R when that row is not a
    tombstone — found through the ``(key, revision, deleted)`` index, which also orders lists by
    key and answers counts without touching the table.
 3. Every read that checks a revision against the compacted or current revision does so inside
    one read transaction, so it cannot race a compaction.
 4. Every ``sqlite3.Error`` leaves this layer as ``StorageError`` naming the file, with the
    original as ``__cause__``.
 5. Schema 2 changes no table: it records that the core group's keys follow kube-apiserver's
    layout, ``/registry/<resource>/...`` (api/scheme.py), not schema 1's
    ``/registry/core/<resource>/...``. A schema-1 file has those keys renamed once, in the
    transaction that upgrades it; revisions and history are untouched (no group of custom
    resources can be called ``core``: theirs have a dot).
 6. Schema 3 likewise records kube-apiserver's keys for the other built-in kinds:
    ``/registry/<resource>/...`` whatever the group (``/registry/apps/deployments/`` becomes
    ``/registry/deployments/``) and its exceptions (``/registry/services/specs/``,
    ``/registry/services/endpoints/``, ``/registry/minions/``, ``/registry/controllers/``,
    ``/registry/ingress/``, ``/registry/ipaddresses/``). A file below schema 3 has those keys
    renamed once, in order (Services before Endpoints, which move under ``services/``), in the
    transaction that upgrades it; revisions and history are untouched. The list is fixed here,
    as it was at schema 3 (tests/unit/api check it against api/scheme.py); custom resources'
    groups have a dot and none is renamed.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

from kubeward.errors import CompactedError, StorageError
from kubeward.storage.interfaces import Event, KeyValue, ListResult
from kubeward.storage.log import LogRecord, check_read_revision, prefix_end

SCHEMA_VERSION = 3
_CORE_V1 = "/registry/core/"  # rule 5
_RENAME = "UPDATE kv_log SET key = ? || substr(key, ?) WHERE key >= ? AND key < ?"
# Rule 6: (prefix below schema 3, kube-apiserver's prefix), applied in this order.
KEY_RENAMES_V3: tuple[tuple[str, str], ...] = (
    ("/registry/nodes/", "/registry/minions/"),
    ("/registry/services/", "/registry/services/specs/"),
    ("/registry/endpoints/", "/registry/services/endpoints/"),
    ("/registry/replicationcontrollers/", "/registry/controllers/"),
    ("/registry/discovery.k8s.io/endpointslices/", "/registry/endpointslices/"),
    ("/registry/apps/deployments/", "/registry/deployments/"),
    ("/registry/apps/replicasets/", "/registry/replicasets/"),
    ("/registry/coordination.k8s.io/leases/", "/registry/leases/"),
    ("/registry/networking.k8s.io/networkpolicies/", "/registry/networkpolicies/"),
    ("/registry/networking.k8s.io/ingresses/", "/registry/ingress/"),
    ("/registry/networking.k8s.io/ingressclasses/", "/registry/ingressclasses/"),
    ("/registry/rbac.authorization.k8s.io/clusterrolebindings/", "/registry/clusterrolebindings/"),
    ("/registry/rbac.authorization.k8s.io/clusterroles/", "/registry/clusterroles/"),
    ("/registry/rbac.authorization.k8s.io/rolebindings/", "/registry/rolebindings/"),
    ("/registry/rbac.authorization.k8s.io/roles/", "/registry/roles/"),
    (
        "/registry/certificates.k8s.io/certificatesigningrequests/",
        "/registry/certificatesigningrequests/",
    ),
    ("/registry/flowcontrol.apiserver.k8s.io/flowschemas/", "/registry/flowschemas/"),
    (
        "/registry/flowcontrol.apiserver.k8s.io/prioritylevelconfigurations/",
        "/registry/prioritylevelconfigurations/",
    ),
    ("/registry/apps/statefulsets/", "/registry/statefulsets/"),
    ("/registry/apps/daemonsets/", "/registry/daemonsets/"),
    ("/registry/apps/controllerrevisions/", "/registry/controllerrevisions/"),
    ("/registry/batch/jobs/", "/registry/jobs/"),
    ("/registry/batch/cronjobs/", "/registry/cronjobs/"),
    ("/registry/autoscaling/horizontalpodautoscalers/", "/registry/horizontalpodautoscalers/"),
    ("/registry/policy/poddisruptionbudgets/", "/registry/poddisruptionbudgets/"),
    ("/registry/scheduling.k8s.io/priorityclasses/", "/registry/priorityclasses/"),
    ("/registry/storage.k8s.io/storageclasses/", "/registry/storageclasses/"),
    ("/registry/storage.k8s.io/csidrivers/", "/registry/csidrivers/"),
    ("/registry/storage.k8s.io/csinodes/", "/registry/csinodes/"),
    ("/registry/storage.k8s.io/volumeattachments/", "/registry/volumeattachments/"),
    (
        "/registry/admissionregistration.k8s.io/validatingwebhookconfigurations/",
        "/registry/validatingwebhookconfigurations/",
    ),
    (
        "/registry/admissionregistration.k8s.io/mutatingwebhookconfigurations/",
        "/registry/mutatingwebhookconfigurations/",
    ),
    (
        "/registry/admissionregistration.k8s.io/validatingadmissionpolicies/",
        "/registry/validatingadmissionpolicies/",
    ),
    (
        "/registry/admissionregistration.k8s.io/validatingadmissionpolicybindings/",
        "/registry/validatingadmissionpolicybindings/",
    ),
    ("/registry/networking.k8s.io/ipaddresses/", "/registry/ipaddresses/"),
    (
        "/registry/admissionregistration.k8s.io/mutatingadmissionpolicies/",
        "/registry/mutatingadmissionpolicies/",
    ),
    (
        "/registry/admissionregistration.k8s.io/mutatingadmissionpolicybindings/",
        "/registry/mutatingadmissionpolicybindings/",
    ),
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv_log (
    revision        INTEGER PRIMARY KEY,
    key             TEXT    NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision   INTEGER NOT NULL,
    deleted         INTEGER NOT NULL,
    value           BLOB    NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_log_key_revision ON kv_log (key, revision, deleted);
CREATE INDEX IF NOT EXISTS kv_log_tombstones ON kv_log (revision) WHERE deleted = 1;
CREATE TABLE IF NOT EXISTS kv_meta (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO kv_meta (name, value) VALUES ('compacted', 0);
"""

_STATE = (
    "SELECT (SELECT max(revision) FROM kv_log),"
    " (SELECT value FROM kv_meta WHERE name = 'compacted')"
)
_LATEST = (
    "SELECT revision, create_revision, prev_revision, deleted, value FROM kv_log"
    " WHERE key = ? ORDER BY revision DESC LIMIT 1"
)
_AT = (
    "SELECT revision, create_revision, prev_revision, deleted, value FROM kv_log"
    " WHERE key = ? AND revision <= ? ORDER BY revision DESC LIMIT 1"
)
_APPEND = (
    "INSERT INTO kv_log (revision, key, create_revision, prev_revision, deleted, value)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
# The live rows of a key range at revision ?: a row at or below it with no newer row at or below it.
_LIVE_AT = (
    " l.revision <= ? AND l.deleted = 0 AND NOT EXISTS (SELECT 1 FROM kv_log AS n"
    " WHERE n.key = l.key AND n.revision > l.revision AND n.revision <= ?)"
)
_HISTORY = (
    "SELECT l.revision, l.key, l.create_revision, l.prev_revision, l.deleted, l.value, p.value"
    " FROM kv_log AS l LEFT JOIN kv_log AS p ON p.revision = l.prev_revision"
    " WHERE l.revision > ? AND l.revision <= ? AND {range} ORDER BY l.revision LIMIT ?"
)
# log.py rule 5: drop the predecessor of every row written in (after, upto].
_COMPACT_SUPERSEDED = (
    "DELETE FROM kv_log WHERE revision IN (SELECT prev_revision FROM kv_log"
    " WHERE revision > ? AND revision <= ? AND prev_revision > 0)"
)
# log.py rule 6: drop tombstones at or below upto (the partial index keeps this cheap).
_COMPACT_TOMBSTONES = "DELETE FROM kv_log WHERE deleted = 1 AND revision <= ?"
_SET_COMPACTED = "UPDATE kv_meta SET value = ? WHERE name = 'compacted'"


def storage_error(path: str, exc: BaseException) -> StorageError:
    """The ``StorageError`` a sqlite3 (or unexpected) error becomes (rule 4)."""
    error = StorageError(f"sqlite storage {path}: {exc}")
    error.__cause__ = exc
    return error


@contextlib.contextmanager
def translated_errors(path: str) -> Iterator[None]:
    """Turn ``sqlite3.Error`` raised inside the block into ``StorageError`` (rule 4)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise storage_error(path, exc) from exc


def connect(
    path: str, *, busy_timeout: float, synchronous: str, read_only: bool
) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with our pragmas."""
    conn = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints are scheduled by sqlite.py
        conn.execute("PRAGMA cache_size = -16384")  # 16 MiB
        if read_only:
            conn.execute("PRAGMA query_only = 1")
    except BaseException:
        conn.close()
        raise
    return conn


def prepare(conn: sqlite3.Connection, path: str, *, wal_limit: int) -> tuple[int, int]:
    """Create or check the schema, switch to WAL; returns (current revision, compacted revision).

    Raises:
        StorageError: the file's schema is newer than this code, or WAL cannot be used.
        sqlite3.Error: anything SQLite refuses (the caller translates it, rule 4).
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"sqlite storage {path}: schema version {version} is newer than this kubeward"
            f" understands ({SCHEMA_VERSION})"
        )
    if version == 0:
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # takes effect only before tables exist
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StorageError(f"sqlite storage {path}: cannot use WAL journal mode (got {mode})")
    conn.execute(f"PRAGMA journal_size_limit = {int(wal_limit)}")
    conn.executescript(_SCHEMA)
    if 0 < version < SCHEMA_VERSION:  # rules 5-6: renames and the version commit together
        renames = [(_CORE_V1, "/registry/")] if version < 2 else []
        renames += KEY_RENAMES_V3
        conn.execute("BEGIN IMMEDIATE")
        try:
            for old, new in renames:
                conn.execute(_RENAME, (new, len(old) + 1, old, prefix_end(old)))
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    else:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return read_state(conn)


def read_state(conn: sqlite3.Connection) -> tuple[int, int]:
    """(current revision, compacted revision) as of this connection's snapshot (log.py rule 8)."""
    newest, compacted = conn.execute(_STATE).fetchone()
    return max(newest or 0, compacted), compacted


@contextlib.contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction: every statement inside sees the same snapshot (rule 3)."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        conn.execute("COMMIT")


def _record(key: str, row: tuple[int, int, int, int, bytes]) -> LogRecord:
    revision, create_revision, prev_revision, deleted, value = row
    return LogRecord(revision, key, create_revision, prev_revision, bool(deleted), value, None)


# --- reads ----------------------------------------------------------------------------------
def latest(conn: sqlite3.Connection, key: str) -> LogRecord | None:
    """The newest row of ``key`` (a tombstone included; ``prev_value`` not loaded)."""
    row = conn.execute(_LATEST, (key,)).fetchone()
    return _record(key, row) if row else None


def get(conn: sqlite3.Connection, key: str, revision: int) -> KeyValue | None:
    """``Backend.get`` (log.py rule 1 for liveness, ``check_read_revision`` for the revision)."""
    if revision == 0:
        row = conn.execute(_LATEST, (key,)).fetchone()
    else:
        with snapshot(conn):
            current, compacted = read_state(conn)
            at = check_read_revision(revision, compacted, current)
            row = conn.execute(_AT, (key, at)).fetchone()
    if row is None or row[3]:
        return None
    mod_revision, create_revision, _, _, value = row
    return KeyValue(key, value, create_revision, mod_revision)


def _key_range(prefix: str, start_after: str = "") -> tuple[str, list[str]]:
    """The SQL condition on ``l.key`` for keys under ``prefix`` and after ``start_after``."""
    if start_after and start_after >= prefix:
        clauses, params = ["l.key > ?"], [start_after]
    else:
        clauses, params = ["l.key >= ?"], [prefix]
    end = prefix_end(prefix)
    if end is not None:
        clauses.append("l.key < ?")
        params.append(end)
    return " AND ".join(clauses), params


def list_page(
    conn: sqlite3.Connection, prefix: str, revision: int, limit: int, start_after: str
) -> ListResult:
    """``Backend.list``: one page and the count after it, in one snapshot."""
    with snapshot(conn):
        current, compacted = read_state(conn)
        at = check_read_revision(revision, compacted, current)
        condition, params = _key_range(prefix, start_after)
        sql = (
            f"SELECT l.key, l.value, l.create_revision, l.revision FROM kv_log AS l"
            f" WHERE {condition} AND {_LIVE_AT} ORDER BY l.key"
        )
        if not limit:
            rows = conn.execute(sql, (*params, at, at)).fetchall()
            return ListResult([KeyValue(*row) for row in rows], at, False, 0)
        rows = conn.execute(f"{sql} LIMIT ?", (*params, at, at, limit + 1)).fetchall()
        if len(rows) <= limit:
            return ListResult([KeyValue(*row) for row in rows], at, False, 0)
        last_key = rows[limit - 1][0]
        condition, params = _key_range(prefix, last_key)
        remaining = conn.execute(
            f"SELECT count(*) FROM kv_log AS l WHERE {condition} AND {_LIVE_AT}", (*params, at, at)
        ).fetchone()[0]
    return ListResult([KeyValue(*row) for row in rows[:limit]], at, True, remaining)


def count(conn: sqlite3.Connection, prefix: str) -> int:
    """``Backend.count`` at the newest revision."""
    with snapshot(conn):
        current, _ = read_state(conn)
        condition, params = _key_range(prefix)
        sql = f"SELECT count(*) FROM kv_log AS l WHERE {condition} AND {_LIVE_AT}"
        result: int = conn.execute(sql, (*params, current, current)).fetchone()[0]
    return result


def history(
    conn: sqlite3.Connection, prefix: str, after: int, upto: int, limit: int
) -> list[Event]:
    """Up to ``limit`` events under ``prefix`` in ``(after, upto]``, in revision order.

    Raises:
        CompactedError: ``after`` is below the compacted revision (events are missing).
    """
    with snapshot(conn):
        _, compacted = read_state(conn)
        if after < compacted:
            raise CompactedError(after, compacted)
        condition, params = _key_range(prefix)
        rows = conn.execute(
            _HISTORY.format(range=condition), (after, upto, *params, limit)
        ).fetchall()
    events = []
    for revision, key, create_revision, prev_revision, deleted, value, prev_value in rows:
        if deleted:
            value = prev_value if prev_value is not None else b""
        record = LogRecord(
            revision, key, create_revision, prev_revision, bool(deleted), value, prev_value
        )
        events.append(record.to_event())
    return events


# --- writes (the writer thread only) ----------------------------------------------------------
def append(conn: sqlite3.Connection, record: LogRecord) -> None:
    value = b"" if record.deleted else record.value
    conn.execute(
        _APPEND,
        (
            record.revision,
            record.key,
            record.create_revision,
            record.prev_revision,
            int(record.deleted),
            value,
        ),
    )


def compact(conn: sqlite3.Connection, after: int, upto: int) -> None:
    """Compact ``(after, upto]`` of the log (log.py rules 5-7) inside the caller's transaction."""
    conn.execute(_COMPACT_SUPERSEDED, (after, upto))
    conn.execute(_COMPACT_TOMBSTONES, (upto,))
    conn.execute(_SET_COMPACTED, (upto,))


def release_free_pages(conn: sqlite3.Connection, pages: int) -> None:
    """Give up to ``pages`` free pages back to the file system, in a transaction of its own.

    ``executescript`` because the pragma frees one page per step and ``execute`` steps once.
    """
    conn.executescript(f"PRAGMA incremental_vacuum({int(pages)})")


def checkpoint(conn: sqlite3.Connection, mode: str) -> tuple[int, int, int]:
    """Run a WAL checkpoint; returns SQLite's (busy, WAL frames, frames checkpointed)."""
    busy, frames, done = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    return busy, frames, done
