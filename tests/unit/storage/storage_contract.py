"""The contract every storage backend must pass (see kubeward/storage/interfaces.py).

Not collected by itself: each backend's test module subclasses :class:`BackendContract` as a
``Test...`` class and implements ``make_backend`` — memory in tests/unit/storage, SQLite on
real files in tests/integration, etcd against a real cluster in tests/integration. A backend
may start above revision 0 (etcd's empty cluster is at revision 1, and the etcd tests share one
cluster), so every revision a test names is counted from ``await b.current_revision()`` at its
start, and each test's keys are its own (the etcd tests give each backend its own prefix).
Tests drive a backend with plain
``asyncio.run`` (or ``uvloop.run`` where a subclass says so); waits that could hang are bounded
by ``asyncio.wait_for`` so a lost event fails the test instead of stalling it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from kubeward.errors import (
    CompactedError,
    KeyExistsError,
    KeyNotFoundError,
    RevisionMismatch,
    StorageError,
)
from kubeward.storage.interfaces import Backend, Event, EventType, KeyValue

Scenario = Callable[[Backend], Awaitable[Any]]
DEADLINE = 60.0  # seconds; only a hang ever gets near it

PODS = "/registry/pods/"


async def collect(backend: Backend, prefix: str, from_revision: int, count: int) -> list[Event]:
    """The first ``count`` events of a watch (fails if they do not come)."""
    events: list[Event] = []

    async def gather() -> None:
        async for event in backend.watch(prefix, from_revision):
            events.append(event)
            if len(events) == count:
                return

    await asyncio.wait_for(gather(), DEADLINE)
    return events


async def state_at(backend: Backend, prefix: str, revision: int) -> dict[str, KeyValue]:
    page = await backend.list(prefix, revision=revision)
    return {kv.key: kv for kv in page.items}


class BackendContract:
    """Subclass as ``TestXxxContract`` and implement :meth:`make_backend`."""

    def make_backend(self, tmp_path: Path, *, watch_buffer: int = 1024) -> Backend:
        """A new, unstarted backend with background compaction off."""
        raise NotImplementedError

    def run_loop(self, coro: Awaitable[Any]) -> Any:
        return asyncio.run(coro)  # type: ignore[arg-type]

    def run(self, tmp_path: Path, scenario: Scenario, **options: Any) -> Any:
        async def main() -> Any:
            backend = self.make_backend(tmp_path, **options)
            await backend.start()
            try:
                return await scenario(backend)
            finally:
                await backend.close()

        return self.run_loop(main())

    # --- writes and revisions ---------------------------------------------------------------
    def test_writes_get_strictly_increasing_revisions(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            base = await b.current_revision()
            one = await b.create(PODS + "default/one", b"1")
            assert one.mod_revision == base + 1
            two = await b.create(PODS + "default/two", b"2")
            one_v2 = await b.update(one.key, b"1b", one.mod_revision)
            gone = await b.delete(two.key, two.mod_revision)
            revisions = [one.mod_revision, two.mod_revision, one_v2.mod_revision, gone.mod_revision]
            assert revisions == sorted(set(revisions))
            assert one.create_revision == one.mod_revision
            assert one_v2.create_revision == one.create_revision
            assert await b.current_revision() == gone.mod_revision

        self.run(tmp_path, scenario)

    def test_failed_writes_take_no_revision(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            kv = await b.create(PODS + "a", b"x")
            for attempt in (
                b.create(kv.key, b"y"),
                b.update(kv.key, b"y", kv.mod_revision + 7),
                b.update(PODS + "missing", b"y", 0),
                b.delete(PODS + "missing"),
            ):
                with pytest.raises(StorageError):
                    await attempt
            assert await b.current_revision() == kv.mod_revision
            nxt = await b.create(PODS + "b", b"x")
            assert nxt.mod_revision == kv.mod_revision + 1

        self.run(tmp_path, scenario)

    def test_create_of_existing_key_raises_key_exists(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            await b.create(PODS + "a", b"x")
            with pytest.raises(KeyExistsError) as caught:
                await b.create(PODS + "a", b"y")
            assert caught.value.key == PODS + "a"
            assert (await b.get(PODS + "a")) is not None
            assert (await b.get(PODS + "a")).value == b"x"  # type: ignore[union-attr]

        self.run(tmp_path, scenario)

    def test_create_after_delete_starts_a_new_life(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            first = await b.create(PODS + "a", b"x")
            await b.delete(first.key)
            again = await b.create(PODS + "a", b"y")
            assert again.create_revision == again.mod_revision > first.create_revision
            assert await b.get(PODS + "a") == again

        self.run(tmp_path, scenario)

    @pytest.mark.parametrize(
        ("offset", "error"),
        [(0, None), (-1, RevisionMismatch), (1, RevisionMismatch)],
        ids=["current-revision-wins", "stale-revision", "future-revision"],
    )
    def test_update_compares_the_revision(
        self, tmp_path: Path, offset: int, error: type[Exception] | None
    ) -> None:
        async def scenario(b: Backend) -> None:
            first = await b.create(PODS + "a", b"v1")
            kv = await b.update(PODS + "a", b"v2", first.mod_revision)
            expected = kv.mod_revision + offset
            if error is None:
                new = await b.update(kv.key, b"v3", expected)
                assert new.value == b"v3" and new.mod_revision == kv.mod_revision + 1
                assert await b.get(kv.key) == new
            else:
                with pytest.raises(error) as caught:
                    await b.update(kv.key, b"v3", expected)
                assert isinstance(caught.value, RevisionMismatch)
                assert (caught.value.expected, caught.value.actual) == (expected, kv.mod_revision)
                assert await b.get(kv.key) == kv

        self.run(tmp_path, scenario)

    def test_update_with_expected_zero_is_unconditional(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            kv = await b.create(PODS + "a", b"v1")
            await b.update(kv.key, b"v2", kv.mod_revision)
            new = await b.update(kv.key, b"v3", 0)
            assert (await b.get(kv.key)) == new and new.value == b"v3"

        self.run(tmp_path, scenario)

    @pytest.mark.parametrize(
        "operation",
        ["update", "delete", "update-after-delete", "delete-after-delete"],
        ids=str,
    )
    def test_writes_to_a_missing_key_raise_key_not_found(
        self, tmp_path: Path, operation: str
    ) -> None:
        async def scenario(b: Backend) -> None:
            key = PODS + "a"
            if operation.endswith("after-delete"):
                kv = await b.create(key, b"x")
                await b.delete(key, kv.mod_revision)
            with pytest.raises(KeyNotFoundError) as caught:
                if operation.startswith("update"):
                    await b.update(key, b"y", 0)
                else:
                    await b.delete(key)
            assert caught.value.key == key

        self.run(tmp_path, scenario)

    def test_delete_returns_the_last_value_at_the_delete_revision(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            kv = await b.create(PODS + "a", b"v1")
            kv = await b.update(kv.key, b"v2", kv.mod_revision)
            with pytest.raises(RevisionMismatch):
                await b.delete(kv.key, kv.mod_revision - 1)
            gone = await b.delete(kv.key, kv.mod_revision)
            assert gone == KeyValue(kv.key, b"v2", kv.create_revision, kv.mod_revision + 1)
            assert await b.get(kv.key) is None
            assert await b.current_revision() == gone.mod_revision

        self.run(tmp_path, scenario)

    def test_thirty_two_writers_on_one_key_exactly_one_wins_each_round(
        self, tmp_path: Path
    ) -> None:
        async def scenario(b: Backend) -> None:
            kv = await b.create(PODS + "contended", b"0")
            for round_number in range(1, 11):
                results = await asyncio.gather(
                    *(
                        b.update(kv.key, f"{round_number}:{w}".encode(), kv.mod_revision)
                        for w in range(32)
                    ),
                    return_exceptions=True,
                )
                winners = [r for r in results if isinstance(r, KeyValue)]
                losers = [r for r in results if isinstance(r, RevisionMismatch)]
                assert len(winners) == 1, results
                assert len(losers) == 31, results
                assert all(loser.actual == winners[0].mod_revision for loser in losers)
                assert await b.get(kv.key) == winners[0]
                kv = winners[0]

        self.run(tmp_path, scenario)

    # --- reads ----------------------------------------------------------------------------------
    def test_get_at_a_revision_sees_the_store_as_it_was(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            other = await b.create(PODS + "other", b"o")
            v1 = await b.create(PODS + "a", b"v1")
            v2 = await b.update(v1.key, b"v2", v1.mod_revision)
            gone = await b.delete(v1.key)
            v3 = await b.create(v1.key, b"v3")
            assert await b.get(v1.key, other.mod_revision) is None
            assert await b.get(v1.key, v1.mod_revision) == v1
            assert await b.get(v1.key, v2.mod_revision) == v2
            assert await b.get(v1.key, gone.mod_revision) is None
            assert await b.get(v1.key, v3.mod_revision) == v3
            assert await b.get(v1.key) == v3
            assert await b.get(PODS + "never") is None

        self.run(tmp_path, scenario)

    def test_reads_at_a_future_revision_are_refused(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            kv = await b.create(PODS + "a", b"x")
            for read in (
                b.get(kv.key, kv.mod_revision + 1),
                b.list(PODS, revision=kv.mod_revision + 99),
            ):
                with pytest.raises(StorageError) as caught:
                    await read
                assert not isinstance(caught.value, CompactedError)

        self.run(tmp_path, scenario)

    def test_list_returns_live_keys_under_the_prefix_in_order(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            for key in ("default/web", "kube-system/dns", "default/api", "default/db"):
                await b.create(PODS + key, key.encode())
            await b.create("/registry/podsecuritypolicies/x", b"not a pod")
            await b.create("/registry/pods", b"not under the prefix either")
            await b.delete(PODS + "default/db")
            page = await b.list(PODS)
            assert [kv.key for kv in page.items] == [
                PODS + "default/api",
                PODS + "default/web",
                PODS + "kube-system/dns",
            ]
            assert all(kv.value == kv.key[len(PODS) :].encode() for kv in page.items)
            assert (page.revision, page.more, page.remaining) == (
                await b.current_revision(),
                False,
                0,
            )
            default = await b.list(PODS + "default/")
            assert [kv.key for kv in default.items] == [PODS + "default/api", PODS + "default/web"]
            assert await b.count(PODS) == 3
            assert await b.count(PODS + "default/") == 2
            assert await b.count("/registry/") == 5
            assert len((await b.list("")).items) == 5

        self.run(tmp_path, scenario)

    @pytest.mark.parametrize(
        ("limit", "start_after", "keys", "more", "remaining"),
        [
            (0, "", ["a", "b", "c", "d", "e"], False, 0),
            (2, "", ["a", "b"], True, 3),
            (2, PODS + "b", ["c", "d"], True, 1),
            (2, PODS + "c", ["d", "e"], False, 0),
            (5, "", ["a", "b", "c", "d", "e"], False, 0),
            (9, PODS + "bb", ["c", "d", "e"], False, 0),
            (1, PODS + "e", [], False, 0),
        ],
        ids=[
            "no-limit",
            "first-page",
            "middle-page",
            "last-page",
            "limit-equals-size",
            "after-a-gap",
            "past-the-end",
        ],
    )
    def test_list_pages(
        self,
        tmp_path: Path,
        limit: int,
        start_after: str,
        keys: list[str],
        more: bool,
        remaining: int,
    ) -> None:
        async def scenario(b: Backend) -> None:
            for name in "ecadb":
                await b.create(PODS + name, name.encode())
            page = await b.list(PODS, limit=limit, start_after=start_after)
            assert [kv.key for kv in page.items] == [PODS + k for k in keys]
            assert (page.more, page.remaining) == (more, remaining)

        self.run(tmp_path, scenario)

    def test_pages_stay_at_one_revision_while_writes_continue(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            for i in range(40):
                await b.create(f"{PODS}p{i:03}", b"v0")
            first = await b.list(PODS, limit=6)
            expected = await state_at(b, PODS, first.revision)  # nothing written in between
            stop = asyncio.Event()

            async def churn() -> None:
                rng = random.Random(7)
                n = 0
                while not stop.is_set():
                    n += 1
                    key = f"{PODS}p{rng.randrange(60):03}"
                    current = await b.get(key)
                    if current is None:
                        await b.create(key, f"new{n}".encode())
                    elif rng.random() < 0.3:
                        await b.delete(key, current.mod_revision)
                    else:
                        await b.update(key, f"v{n}".encode(), current.mod_revision)
                    await asyncio.sleep(0)

            writer = asyncio.create_task(churn())
            seen = list(first.items)
            page = first
            while page.more:
                await asyncio.sleep(0.001)  # let the writer move the store on between pages
                page = await b.list(
                    PODS, revision=first.revision, limit=6, start_after=page.items[-1].key
                )
                assert page.revision == first.revision
                seen.extend(page.items)
            stop.set()
            await writer
            assert await b.current_revision() > first.revision  # writes really did continue
            assert [kv.key for kv in seen] == sorted(expected)
            assert {kv.key: kv for kv in seen} == expected

        self.run(tmp_path, scenario)

    # --- watch ----------------------------------------------------------------------------------
    def test_watch_replays_history_then_live_events(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            a1 = await b.create(PODS + "a", b"a1")
            start = await b.current_revision()
            a2 = await b.update(a1.key, b"a2", a1.mod_revision)
            await b.create("/registry/configmaps/x", b"elsewhere")
            watcher = asyncio.create_task(collect(b, PODS, start, 4))
            await asyncio.sleep(0.01)
            b1 = await b.create(PODS + "b", b"b1")
            gone = await b.delete(a2.key, a2.mod_revision)
            b2 = await b.update(b1.key, b"b2", b1.mod_revision)
            events = await watcher
            assert events == [
                Event(EventType.UPDATE, a1.key, b"a2", b"a1", a2.mod_revision, a1.create_revision),
                Event(EventType.CREATE, b1.key, b"b1", None, b1.mod_revision, b1.mod_revision),
                Event(
                    EventType.DELETE, a1.key, b"a2", b"a2", gone.mod_revision, a1.create_revision
                ),
                Event(EventType.UPDATE, b1.key, b"b2", b"b1", b2.mod_revision, b1.create_revision),
            ]

        self.run(tmp_path, scenario)

    def test_watch_from_a_future_revision_starts_there(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            a = await b.create(PODS + "a", b"1")
            watcher = asyncio.create_task(collect(b, PODS, a.mod_revision + 1, 1))
            await asyncio.sleep(0.01)
            await b.create(PODS + "b", b"2")
            c = await b.create(PODS + "c", b"3")
            [event] = await watcher
            assert (event.key, event.revision) == (c.key, a.mod_revision + 2)

        self.run(tmp_path, scenario)

    def test_watchers_see_every_event_once_in_order_under_concurrent_writes(
        self, tmp_path: Path
    ) -> None:
        marker = f"{PODS}w3/zz-marker"  # under every watched prefix

        async def scenario(b: Backend) -> None:
            for w in range(32):
                await b.create(f"{PODS}w{w}/seed", b"seed")
            start = await b.current_revision()
            acked: list[tuple[EventType, KeyValue]] = []

            async def writer(w: int) -> None:
                rng = random.Random(w)
                live = {f"{PODS}w{w}/seed": await b.get(f"{PODS}w{w}/seed")}
                for i in range(25):
                    choice = rng.random()
                    if live and choice < 0.25:
                        key = rng.choice(sorted(live))
                        gone = await b.delete(key, live.pop(key).mod_revision)  # type: ignore[union-attr]
                        acked.append((EventType.DELETE, gone))
                    elif live and choice < 0.6:
                        key = rng.choice(sorted(live))
                        old = live[key]
                        assert old is not None
                        live[key] = await b.update(key, f"{w}:{i}".encode(), old.mod_revision)
                        acked.append((EventType.UPDATE, live[key]))  # type: ignore[arg-type]
                    else:
                        kv = await b.create(f"{PODS}w{w}/k{i}", f"{w}:{i}".encode())
                        live[kv.key] = kv
                        acked.append((EventType.CREATE, kv))

            async def watch(prefix: str) -> list[Event]:
                events: list[Event] = []
                async for event in b.watch(prefix, start):
                    if event.key == marker:
                        return events
                    events.append(event)
                return events

            prefixes = [PODS, PODS, f"{PODS}w3/", f"{PODS}w3", "/registry/"]
            watchers = [asyncio.create_task(watch(prefix)) for prefix in prefixes]
            await asyncio.sleep(0.01)
            await asyncio.gather(*(writer(w) for w in range(32)))
            await b.create(marker, b"end")
            results = await asyncio.wait_for(asyncio.gather(*watchers), DEADLINE)

            acked.sort(key=lambda item: item[1].mod_revision)
            assert [kv.mod_revision for _, kv in acked] == list(
                range(start + 1, start + 1 + len(acked))
            )
            for prefix, events in zip(prefixes, results, strict=True):
                wanted = [(t, kv) for t, kv in acked if kv.key.startswith(prefix)]
                assert wanted, prefix
                assert [(e.type, e.key, e.value, e.revision) for e in events] == [
                    (t, kv.key, kv.value, kv.mod_revision) for t, kv in wanted
                ], prefix

        self.run(tmp_path, scenario)

    def test_a_slow_watcher_blocks_nobody_and_catches_up_from_history(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            base = await b.current_revision()
            first = await b.create(PODS + "k0", b"0")
            slow = b.watch(PODS, base)
            assert (await anext(slow)).revision == first.mod_revision  # now subscribed
            fast = asyncio.create_task(collect(b, PODS, first.mod_revision, 100))
            await asyncio.sleep(0.01)
            written = [await b.create(f"{PODS}k{i}", str(i).encode()) for i in range(1, 101)]
            # Every write was acknowledged although the slow watcher read nothing (buffer: 4).
            fast_events = await fast
            slow_events = [await asyncio.wait_for(anext(slow), DEADLINE) for _ in range(100)]
            await slow.aclose()  # type: ignore[attr-defined]
            expected = [(kv.key, kv.mod_revision) for kv in written]
            assert [(e.key, e.revision) for e in fast_events] == expected
            assert [(e.key, e.revision) for e in slow_events] == expected

        self.run(tmp_path, scenario, watch_buffer=4)

    def test_a_slow_watcher_whose_history_was_compacted_gets_compacted_error(
        self, tmp_path: Path
    ) -> None:
        async def scenario(b: Backend) -> None:
            base = await b.current_revision()
            await b.create(PODS + "k0", b"0")
            slow = b.watch(PODS, base)
            await anext(slow)
            for i in range(1, 20):
                await b.create(f"{PODS}k{i}", b"x")
            await b.compact(await b.current_revision() - 2)
            with pytest.raises(CompactedError):
                await asyncio.wait_for(anext(slow), DEADLINE)

        self.run(tmp_path, scenario, watch_buffer=4)

    def test_close_ends_every_watch(self, tmp_path: Path) -> None:
        async def main() -> list[int]:
            backend = self.make_backend(tmp_path)
            await backend.start()
            base = await backend.current_revision()
            kv = await backend.create(PODS + "a", b"1")
            seen: list[int] = []

            async def watch(prefix: str) -> None:
                async for event in backend.watch(prefix, base):
                    seen.append(event.revision)

            watchers = [asyncio.create_task(watch(p)) for p in (PODS, "/registry/", PODS + "a")]

            async def all_seen() -> None:
                while len(seen) < len(watchers):
                    await asyncio.sleep(0.001)

            await asyncio.wait_for(all_seen(), DEADLINE)  # every watcher is streaming
            await backend.close()
            await asyncio.wait_for(asyncio.gather(*watchers), DEADLINE)
            with pytest.raises(StorageError):
                await backend.get(kv.key)
            with pytest.raises(StorageError):
                await backend.create(PODS + "b", b"2")
            assert seen == [kv.mod_revision] * 3
            return seen

        self.run_loop(main())

    # --- compaction -----------------------------------------------------------------------------
    def test_compacted_revisions_raise_compacted_error(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            r = await b.current_revision()  # revision r + i holds "v{i}"
            kv = await b.create(PODS + "a", b"v1")
            for i in range(2, 7):
                kv = await b.update(kv.key, f"v{i}".encode(), kv.mod_revision)
            await b.compact(r + 4)
            assert await b.compacted_revision() == r + 4
            for old in (r + 1, r + 3, r + 4):
                with pytest.raises(CompactedError) as caught:
                    await b.get(kv.key, old)
                assert (caught.value.requested, caught.value.compacted) == (old, r + 4)
                with pytest.raises(CompactedError):
                    await b.list(PODS, revision=old)
            with pytest.raises(CompactedError):
                await anext(b.watch(PODS, r + 3))  # type: ignore[call-overload]
            assert (await b.get(kv.key, r + 5)).value == b"v5"  # type: ignore[union-attr]
            assert (await b.get(kv.key)) == kv
            [event] = await collect(b, PODS, r + 5, 1)
            assert (event.revision, event.value, event.prev_value) == (r + 6, b"v6", b"v5")
            [event] = await collect(b, PODS, r + 4, 1)
            assert (event.revision, event.value, event.prev_value) == (r + 5, b"v5", b"v4")
            await b.compact(r + 2)  # already compacted further: nothing to do
            assert await b.compacted_revision() == r + 4
            with pytest.raises(StorageError):
                await b.compact(kv.mod_revision + 1)

        self.run(tmp_path, scenario)

    @pytest.mark.parametrize("seed", [1, 2, 3], ids=lambda s: f"seed-{s}")
    def test_compaction_keeps_every_answer_above_the_compacted_revision(
        self, tmp_path: Path, seed: int
    ) -> None:
        async def scenario(b: Backend) -> None:
            rng = random.Random(seed)
            base = await b.current_revision()
            for _ in range(150):
                key = f"{PODS}k{rng.randrange(8)}"
                current = await b.get(key)
                if current is None:
                    await b.create(key, rng.randbytes(4))
                elif rng.random() < 0.25:
                    await b.delete(key, current.mod_revision)
                else:
                    await b.update(key, rng.randbytes(4), current.mod_revision)
            newest = await b.current_revision()
            cut = base + rng.randrange(40, 120)
            before_states = {r: await state_at(b, PODS, r) for r in range(cut + 1, newest + 1)}
            before_gets = {
                (k, r): await b.get(k, r)
                for k in {*before_states[newest]}
                for r in (cut + 1, newest)
            }
            before_events = await collect(b, PODS, cut, newest - cut)
            steps = (base + (cut - base) // 3, base + (cut - base) // 2, cut)
            for step in steps:  # several compactions, as in production
                await b.compact(step)
            assert {r: await state_at(b, PODS, r) for r in before_states} == before_states
            assert {key: await b.get(*key) for key in before_gets} == before_gets
            assert await collect(b, PODS, cut, newest - cut) == before_events
            assert await b.current_revision() == newest

        self.run(tmp_path, scenario)

    def test_compacting_to_the_newest_revision_keeps_the_revision(self, tmp_path: Path) -> None:
        async def scenario(b: Backend) -> None:
            kv = await b.create(PODS + "a", b"x")
            gone = await b.delete(kv.key)
            await b.compact(gone.mod_revision)
            assert await b.current_revision() == gone.mod_revision
            assert await b.get(kv.key) is None
            assert (await b.list(PODS)).items == []
            again = await b.create(kv.key, b"y")
            assert again.mod_revision == gone.mod_revision + 1

        self.run(tmp_path, scenario)
