"""What only the SQLite backend promises: durability, one process per file, bounded files,
background compaction and checkpointing, and sqlite3 errors that never leak."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest
import uvloop

import kubeward
from kubeward.errors import StorageError
from kubeward.storage.compaction import CompactionPolicy
from kubeward.storage.factory import backend_from_url
from kubeward.storage.sqlite import SqliteBackend, SqliteOptions

NO_COMPACTION = CompactionPolicy(enabled=False)


def run(path: Path, scenario: Callable[[SqliteBackend], Awaitable[Any]], **options: Any) -> Any:
    options.setdefault("compaction", NO_COMPACTION)

    async def main() -> Any:
        backend = SqliteBackend(path, SqliteOptions(**options))
        await backend.start()
        try:
            return await scenario(backend)
        finally:
            await backend.close()

    return uvloop.run(main())


# A child process that writes as fast as it can and prints every acknowledged write.
WRITE_STORM = r"""
import asyncio, sys
import uvloop
from kubeward.storage.compaction import CompactionPolicy
from kubeward.storage.sqlite import SqliteBackend, SqliteOptions

async def main(path):
    backend = SqliteBackend(path, SqliteOptions(compaction=CompactionPolicy(enabled=False)))
    await backend.start()

    async def writer(n):
        counter = await backend.create(f"/registry/counters/{n}", b"0")
        print("update", counter.key, counter.mod_revision, 0, flush=True)
        i = 0
        while True:
            i += 1
            kv = await backend.create(f"/registry/storm/{n}/{i}", f"{n}-{i}".encode() * 50)
            print("create", kv.key, kv.mod_revision, i, flush=True)
            counter = await backend.update(counter.key, str(i).encode(), counter.mod_revision)
            print("update", counter.key, counter.mod_revision, i, flush=True)

    await asyncio.gather(*(writer(n) for n in range(8)))

uvloop.run(main(sys.argv[1]))
"""


def test_every_acknowledged_write_survives_kill_9_during_a_write_storm(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    env = dict(os.environ, PYTHONPATH=str(Path(kubeward.__file__).resolve().parents[1]))
    child = subprocess.Popen(
        [sys.executable, "-c", WRITE_STORM, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None
    lines: list[bytes] = []
    try:
        while len(lines) < 3000:
            line = child.stdout.readline()
            assert line, child.stderr.read().decode() if child.stderr else "child died"
            lines.append(line)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        rest, _ = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    lines += rest.splitlines(keepends=True)
    # Only whole lines are acknowledgements: the kill may cut the child's last print anywhere.
    acked = [
        f for f in (line.decode().split() for line in lines if line.endswith(b"\n")) if len(f) == 4
    ]
    creates = [(key, int(rev), int(i)) for kind, key, rev, i in acked if kind == "create"]
    updates = [(key, int(rev), int(i)) for kind, key, rev, i in acked if kind == "update"]

    async def verify(backend: SqliteBackend) -> None:
        for key, revision, i in creates:
            kv = await backend.get(key)
            assert kv is not None, key
            assert (kv.mod_revision, kv.value) == (
                revision,
                f"{key.split('/')[3]}-{i}".encode() * 50,
            )
        for key, revision, i in updates:
            kv = await backend.get(key, revision)
            assert kv is not None and kv.mod_revision == revision
            assert kv.value == str(i).encode()
        newest = max(revision for _, revision, _ in creates + updates)
        assert await backend.current_revision() >= newest
        after = await backend.create("/registry/after-restart", b"x")
        assert after.mod_revision == await backend.current_revision() > newest

    run(path, verify)
    assert len(creates) > 1000


def test_data_revision_and_compaction_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "state.db"

    async def first(b: SqliteBackend) -> tuple[int, int]:
        kv = await b.create("/registry/a", b"1")
        for i in range(2, 10):
            kv = await b.update(kv.key, str(i).encode(), kv.mod_revision)
        gone = await b.create("/registry/b", b"b")
        await b.delete(gone.key)
        await b.compact(5)
        return kv.mod_revision, await b.current_revision()

    a_revision, current = run(path, first)

    async def second(b: SqliteBackend) -> None:
        assert await b.current_revision() == current
        assert await b.compacted_revision() == 5
        kv = await b.get("/registry/a")
        assert kv is not None and (kv.value, kv.mod_revision) == (b"9", a_revision)
        assert (await b.get("/registry/a", 6)).value == b"6"  # type: ignore[union-attr]
        assert await b.get("/registry/b") is None
        assert (await b.create("/registry/c", b"c")).mod_revision == current + 1

    run(path, second)


def test_compacting_everything_never_lets_the_revision_go_back(tmp_path: Path) -> None:
    path = tmp_path / "state.db"

    async def first(b: SqliteBackend) -> int:
        kv = await b.create("/registry/a", b"1")
        gone = await b.delete(kv.key)
        await b.compact(gone.mod_revision)
        return gone.mod_revision

    last = run(path, first)

    async def second(b: SqliteBackend) -> int:
        return (await b.create("/registry/a", b"again")).mod_revision

    assert run(path, second) == last + 1


def test_a_new_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.db"

    async def write(b: SqliteBackend) -> None:
        await b.create("/registry/secrets/default/s", b"secret")

    run(path, write)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_second_backend_on_the_same_file_is_refused_until_the_first_closes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"

    async def scenario(first: SqliteBackend) -> None:
        await first.create("/registry/a", b"1")
        second = SqliteBackend(path, SqliteOptions(compaction=NO_COMPACTION))
        with pytest.raises(StorageError, match="in use by another process"):
            await second.start()

    run(path, scenario)

    async def reopened(b: SqliteBackend) -> bytes | None:
        kv = await b.get("/registry/a")
        return kv.value if kv else None

    assert run(path, reopened) == b"1"


@pytest.mark.parametrize(
    ("content", "message", "cause"),
    [
        (b"this is not an SQLite database at all, just some text" * 100, "not a database", True),
        (None, "schema version 99 is newer", False),
    ],
    ids=["garbage", "newer-schema"],
)
def test_an_unusable_file_is_a_storage_error_naming_it(
    tmp_path: Path, content: bytes | None, message: str, cause: bool
) -> None:
    path = tmp_path / "state.db"
    if content is None:
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA user_version = 99")
    else:
        path.write_bytes(content)

    async def nothing(b: SqliteBackend) -> None:
        raise AssertionError("start() should have failed")

    with pytest.raises(StorageError, match=message) as caught:
        run(path, nothing)
    assert isinstance(caught.value.__cause__, sqlite3.Error) is cause
    assert str(path) in str(caught.value)
    path.unlink()  # the lock was released: a fresh file opens fine

    async def revision(b: SqliteBackend) -> int:
        return await b.current_revision()

    assert run(path, revision) == 0


def test_a_write_sqlite_rejects_is_a_storage_error_and_the_backend_goes_on(
    tmp_path: Path,
) -> None:
    async def scenario(b: SqliteBackend) -> None:
        first = await b.create("/registry/a", b"1")
        with pytest.raises(StorageError) as caught:
            await b.create("/registry/b", cast(bytes, object()))  # SQLite cannot bind it
        assert isinstance(caught.value.__cause__, sqlite3.Error)
        assert await b.get("/registry/b") is None
        second = await b.create("/registry/c", b"3")
        assert second.mod_revision == first.mod_revision + 1

    run(tmp_path / "state.db", scenario)


async def eventually(condition: Callable[[], Awaitable[bool]]) -> bool:
    """Poll ``condition`` until it holds (False after a minute: the background task is stuck)."""
    for _ in range(12_000):
        if await condition():
            return True
        await asyncio.sleep(0.005)
    return False


def test_compaction_runs_in_the_background(tmp_path: Path) -> None:
    async def scenario(b: SqliteBackend) -> None:
        kv = await b.create("/registry/a", b"x")
        for _ in range(300):
            kv = await b.update(kv.key, os.urandom(100), kv.mod_revision)

        async def compacted() -> bool:
            return await b.compacted_revision() >= kv.mod_revision - 10

        assert await eventually(compacted)
        assert (await b.get(kv.key, kv.mod_revision - 9)) is not None

    policy = CompactionPolicy(keep_revisions=10, keep_seconds=0, interval_seconds=0.01)
    run(tmp_path / "state.db", scenario, compaction=policy)


def test_checkpointing_runs_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "state.db"

    async def scenario(b: SqliteBackend) -> int:
        empty = path.stat().st_size
        for i in range(300):
            await b.create(f"/registry/k{i}", os.urandom(1000))

        async def checkpointed() -> bool:  # the pages moved from the WAL into the file
            return path.stat().st_size > empty + 250_000

        assert await eventually(checkpointed)
        return empty

    assert run(path, scenario, checkpoint_interval=0.01) < 250_000


def test_the_wal_stays_bounded_under_a_write_storm(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    limit = 256 * 1024
    sizes: list[int] = []

    async def scenario(b: SqliteBackend) -> None:
        for i in range(4000):
            await b.create(f"/registry/storm/{i:05}", os.urandom(2000))
            if i % 100 == 99:
                sizes.append(os.stat(str(path) + "-wal").st_size)

    run(path, scenario, wal_limit=limit, checkpoint_interval=3600)
    written = 4000 * 2000
    assert max(sizes) < 8 * limit < written // 2


def test_compaction_keeps_the_file_from_growing_without_bound(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    rounds, per_round, size = 4, 3000, 4000
    sizes: list[int] = []

    async def scenario(b: SqliteBackend) -> None:
        kv = await b.create("/registry/leases/node", os.urandom(size))
        for _ in range(rounds):
            for _ in range(per_round):
                kv = await b.update(kv.key, os.urandom(size), kv.mod_revision)
            await b.compact(kv.mod_revision - 10)
            sizes.append(path.stat().st_size + os.stat(str(path) + "-wal").st_size)

    run(path, scenario, wal_limit=1024 * 1024)
    # The file holds about one round of history (the window between compactions), not all of
    # it, and does not grow round after round.
    assert sizes[-1] < rounds * per_round * size / 3
    assert sizes[-1] < 1.5 * sizes[0]
    assert path.stat().st_size < 1024 * 1024  # closed: the free pages went back


def test_synchronous_full_from_the_url(tmp_path: Path) -> None:
    backend = backend_from_url(f"sqlite://{tmp_path}/state.db?synchronous=full")
    assert isinstance(backend, SqliteBackend)

    async def main() -> bytes | None:
        await backend.start()
        try:
            kv = await backend.create("/registry/a", b"durable")
            got = await backend.get(kv.key)
            return got.value if got else None
        finally:
            await backend.close()

    assert uvloop.run(main()) == b"durable"


def test_no_operation_fails_under_mixed_load_with_background_work(tmp_path: Path) -> None:
    """Writers, listers, watchers, compaction and checkpoints at once: no "database is locked"."""

    async def scenario(b: SqliteBackend) -> tuple[int, int]:
        stop = asyncio.Event()
        listed = 0

        async def writer(w: int) -> None:
            kv = await b.create(f"/registry/pods/w{w}", b"0")
            for i in range(150):
                kv = await b.update(kv.key, os.urandom(500) + str(i).encode(), kv.mod_revision)

        async def lister() -> None:
            nonlocal listed
            while not stop.is_set():
                page = await b.list("/registry/pods/", limit=5)
                listed += len(page.items)
                await b.get("/registry/pods/w0")

        async def watcher() -> int:
            seen = 0
            async for _ in b.watch("/registry/pods/", await b.current_revision()):
                seen += 1
                if seen == 16 * 151:
                    return seen
            return seen

        watching = asyncio.create_task(watcher())
        listers = [asyncio.create_task(lister()) for _ in range(3)]
        await asyncio.sleep(0.01)
        await asyncio.gather(*(writer(w) for w in range(16)))
        seen = await asyncio.wait_for(watching, 60)
        stop.set()
        await asyncio.gather(*listers)
        return seen, listed

    policy = CompactionPolicy(keep_revisions=50, keep_seconds=0, interval_seconds=0.005)
    seen, listed = run(
        tmp_path / "state.db",
        scenario,
        compaction=policy,
        checkpoint_interval=0.005,
        wal_limit=128 * 1024,
        compaction_chunk=10,
        watch_buffer=10_000,  # this test is not about slow watchers
    )
    assert seen == 16 * 151
    assert listed > 0


SCHEMA_1_KEYS = {
    "/registry/core/configmaps/default/x": "/registry/configmaps/default/x",
    "/registry/core/namespaces/default": "/registry/namespaces/default",
    "/registry/core/services/endpoints/s": "/registry/services/specs/endpoints/s",
    "/registry/core/endpoints/default/s": "/registry/services/endpoints/default/s",
    "/registry/core/nodes/n": "/registry/minions/n",
    "/registry/apps/deployments/default/d": "/registry/deployments/default/d",
    "/registry/coredns.example.com/things/t": "/registry/coredns.example.com/things/t",
}
SCHEMA_2_KEYS = {
    "/registry/configmaps/default/x": "/registry/configmaps/default/x",
    "/registry/services/default/s": "/registry/services/specs/default/s",
    "/registry/endpoints/default/s": "/registry/services/endpoints/default/s",
    "/registry/replicationcontrollers/default/r": "/registry/controllers/default/r",
    "/registry/apps/deployments/default/d": "/registry/deployments/default/d",
    "/registry/rbac.authorization.k8s.io/clusterroles/admin": "/registry/clusterroles/admin",
    "/registry/networking.k8s.io/ingresses/default/i": "/registry/ingress/default/i",
    "/registry/networking.k8s.io/ingressclasses/c": "/registry/ingressclasses/c",
    "/registry/networking.k8s.io/ipaddresses/10.0.0.1": "/registry/ipaddresses/10.0.0.1",
    "/registry/apiextensions.k8s.io/customresourcedefinitions/w.example.com": (
        "/registry/apiextensions.k8s.io/customresourcedefinitions/w.example.com"
    ),
    "/registry/example.com/deployments/default/d": "/registry/example.com/deployments/default/d",
}


@pytest.mark.parametrize(
    ("version", "old_keys"), [(1, SCHEMA_1_KEYS), (2, SCHEMA_2_KEYS)], ids=["schema-1", "schema-2"]
)
def test_an_older_file_has_its_keys_renamed_to_kubes_once(
    tmp_path: Path, version: int, old_keys: dict[str, str]
) -> None:
    """sqlite_dialect.py rules 5 and 6: keys move to kube-apiserver's layout, history kept."""
    path = tmp_path / "state.db"

    async def write(b: SqliteBackend) -> dict[str, int]:
        return {k: (await b.create(k, k.encode())).mod_revision for k in old_keys}

    revisions = run(path, write)
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {version}")  # as kubeward wrote it before

    async def read(b: SqliteBackend) -> dict[str, tuple[bytes, int] | None]:
        found = {}
        for old, new in old_keys.items():
            kv = await b.get(new)
            found[old] = (kv.value, kv.mod_revision) if kv else None
            if old != new:
                assert await b.get(old) is None
        return found

    expected = {old: (old.encode(), revisions[old]) for old in old_keys}
    assert run(path, read) == expected
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    assert run(path, read) == expected  # opening again renames nothing more
