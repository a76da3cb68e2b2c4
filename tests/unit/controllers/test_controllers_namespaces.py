"""The namespace controller finishes a deletion from events alone, as a client over the memory
backend (``store_client``)."""

from __future__ import annotations

import asyncio
from typing import Any

from store_client import StoreClient, memory_stores

from kubeward.api.registry.store import Store
from kubeward.api.resources.core import CONFIGMAPS, EVENTS, NAMESPACES, SECRETS
from kubeward.api.scheme import ResourceType
from kubeward.controllers.discovery import namespace_contents
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.namespaces import NamespaceController
from kubeward.controllers.sources import StoreSources
from kubeward.errors import NotFound
from kubeward.server.watch import Broadcasters

HOLD = "example.com/hold"


def controller_for(
    stores: dict[ResourceType, Store], informers: InformerFactory, **options: Any
) -> tuple[RecordingController, StoreClient]:
    client = StoreClient(stores)
    kinds = namespace_contents(list(stores))
    return RecordingController(informers, client.as_client(), kinds, **options), client


async def gone(store: Store, namespace: str, name: str) -> bool:
    try:
        await store.get(namespace, name)
    except NotFound:
        return True
    return False


async def until_true(check: Any) -> bool:
    for _ in range(500):
        if await check():
            return True
        await asyncio.sleep(0.01)
    return False


class RecordingController(NamespaceController):
    """Records what each reconcile asked for: a delay would be a timer, i.e. polling."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asked: list[float | None] = []

    async def reconcile(self, key: str) -> float | None:
        again = await super().reconcile(key)
        self.asked.append(again)
        return again


def test_deleting_a_namespace_with_contents_finishes_on_the_contents_deletion_events() -> None:
    async def scenario() -> tuple[
        dict[str, Any], bool, bool, RecordingController, list[tuple[str, str, str]]
    ]:
        stores = await memory_stores()
        broadcasters = Broadcasters()
        informers = InformerFactory(StoreSources(stores, broadcasters.for_store), resync=0)
        controller, client = controller_for(stores, informers)
        informers.start()
        running = asyncio.create_task(controller.run())
        await stores[NAMESPACES].create("", {"metadata": {"name": "doomed"}})
        await stores[CONFIGMAPS].create("doomed", {"metadata": {"name": "plain"}})
        await stores[SECRETS].create("doomed", {"metadata": {"name": "held", "finalizers": [HOLD]}})
        await stores[EVENTS].create(
            "doomed",
            {
                "metadata": {"name": "noted"},
                "involvedObject": {"kind": "ConfigMap", "name": "plain", "namespace": "doomed"},
                "reason": "Test",
                "message": "m",
            },
        )
        await stores[NAMESPACES].create("", {"metadata": {"name": "bystander"}})
        await stores[CONFIGMAPS].create("bystander", {"metadata": {"name": "kept"}})
        await informers.wait_for_sync()
        await stores[NAMESPACES].delete("", "doomed")

        async def held_is_terminating() -> bool:
            secret = await stores[SECRETS].get("doomed", "held")
            return bool(secret["metadata"].get("deletionTimestamp"))

        assert await until_true(held_is_terminating)
        assert await until_true(lambda: gone(stores[CONFIGMAPS], "doomed", "plain"))
        # The finalizer holds the secret, and the secret holds the namespace; its conditions
        # say so (rule 6).

        async def conditions_say_why() -> bool:
            status = (await stores[NAMESPACES].get("", "doomed")).get("status") or {}
            by_type = {c["type"]: c for c in status.get("conditions") or []}
            held = by_type.get("NamespaceFinalizersRemaining") or {}
            return held.get("message") == (
                f"Some content in the namespace has finalizers remaining: {HOLD} in 1 resource"
                " instances"
            )

        assert await until_true(conditions_say_why)
        waiting = await stores[NAMESPACES].get("", "doomed")
        held = await stores[SECRETS].get("doomed", "held")
        held["metadata"]["finalizers"] = []
        await stores[SECRETS].update("doomed", "held", held)
        namespace_gone = await until_true(lambda: gone(stores[NAMESPACES], "", "doomed"))
        event_gone = await gone(stores[EVENTS], "doomed", "noted")
        bystander_kept = not await gone(stores[CONFIGMAPS], "bystander", "kept")
        running.cancel()
        await informers.stop()
        await broadcasters.close()
        return waiting, namespace_gone and event_gone, bystander_kept, controller, client.writes

    waiting, namespace_gone, bystander_kept, controller, writes = asyncio.run(scenario())
    # Events are not followed: a deletecollection per pass empties them (rule 3); the
    # namespace goes through its finalize subresource (rule 2).
    assert ("deletecollection", "events", "doomed") in writes
    assert ("update", "namespaces/finalize", "doomed") in writes
    assert waiting["status"]["phase"] == "Terminating"
    conditions = {c["type"]: c for c in waiting["status"]["conditions"]}
    assert conditions["NamespaceContentRemaining"]["status"] == "True"
    assert conditions["NamespaceContentRemaining"]["message"] == (
        "Some resources are remaining: secrets. has 1 resource instances"
    )
    assert conditions["NamespaceDeletionDiscoveryFailure"]["status"] == "False"
    assert conditions["NamespaceDeletionContentFailure"]["reason"] == "ContentDeleted"
    assert namespace_gone
    assert bystander_kept
    assert controller.asked and all(again is None for again in controller.asked)
    assert controller.queue.failures("doomed") == 0


def test_contents_are_left_to_the_client_during_the_grace_period() -> None:
    """``kubectl delete -f`` lists the namespace first; its own deletes of the rest must succeed."""

    async def scenario() -> tuple[list[float | None], bool]:
        stores = await memory_stores()
        informers = InformerFactory(StoreSources(stores), resync=0)
        controller, _ = controller_for(stores, informers, deletion_grace=3600)
        informers.start()
        running = asyncio.create_task(controller.run())
        await stores[NAMESPACES].create("", {"metadata": {"name": "doomed"}})
        await stores[CONFIGMAPS].create("doomed", {"metadata": {"name": "plain"}})
        await informers.wait_for_sync()

        async def looked_at_it() -> bool:
            return len(controller.asked) > before

        before = 0
        await until_true(looked_at_it)  # the namespace's creation
        before = len(controller.asked)
        await stores[NAMESPACES].delete("", "doomed")
        await until_true(looked_at_it)  # its deletion: in grace, nothing done
        # A change inside the namespace during the grace does not bring the controller either.
        changed = await stores[CONFIGMAPS].update(
            "doomed", "plain", {"metadata": {"name": "plain"}, "data": {"a": "b"}}
        )
        configmaps = informers.informer(CONFIGMAPS)

        async def cache_has_the_change() -> bool:
            cached = configmaps.get("doomed/plain") or {}
            return (
                cached.get("metadata", {}).get("resourceVersion")
                == (changed["metadata"]["resourceVersion"])
            )

        await until_true(cache_has_the_change)
        for _ in range(20):
            await asyncio.sleep(0)
        still_there = not await gone(stores[CONFIGMAPS], "doomed", "plain")
        running.cancel()
        await informers.stop()
        return controller.asked, still_there

    asked, still_there = asyncio.run(scenario())
    assert asked == [None, None]
    assert still_there


def test_only_the_kubernetes_finalizer_is_removed() -> None:
    """Another controller's finalizer in ``spec.finalizers`` stays for that controller."""

    async def scenario() -> dict[str, Any]:
        stores = await memory_stores()
        informers = InformerFactory(StoreSources(stores), resync=0)
        controller, _ = controller_for(stores, informers, deletion_grace=0)
        informers.start()
        running = asyncio.create_task(controller.run())
        await stores[NAMESPACES].create(
            "",
            {
                "metadata": {"name": "shared"},
                "spec": {"finalizers": ["kubernetes", "example.com/other"]},
            },
        )
        await informers.wait_for_sync()
        await stores[NAMESPACES].delete("", "shared")

        async def released() -> bool:
            namespace = await stores[NAMESPACES].get("", "shared")
            return namespace["spec"]["finalizers"] == ["example.com/other"]

        assert await until_true(released)
        running.cancel()
        await informers.stop()
        return await stores[NAMESPACES].get("", "shared")

    namespace = asyncio.run(scenario())
    assert namespace["status"]["phase"] == "Terminating"
