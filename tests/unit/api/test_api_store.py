"""The generic store over the in-memory backend: Kubernetes object semantics."""

import asyncio
import dataclasses

import orjson
import pytest

from kubeward.api.registry.store import ListOptions, Store, WatchEvent
from kubeward.api.resources import build_scheme
from kubeward.api.resources.core import CONFIGMAPS, NAMESPACES, PODS
from kubeward.api.selectors import parse_field_selector, parse_label_selector
from kubeward.errors import AlreadyExists, BadRequest, Conflict, Invalid, NotFound
from kubeward.storage.memory import MemoryBackend


def run(coro):
    return asyncio.run(coro)


def stores():
    backend = MemoryBackend()
    scheme, strategies = build_scheme()
    return backend, {rt: Store(rt, strategies[rt], backend) for rt in scheme if rt.stored}


def configmap(name, data=None, labels=None):
    return {"metadata": {"name": name, "labels": labels or {}}, "data": data or {"k": "v"}}


def test_create_fills_metadata_and_get_returns_it():
    async def go():
        backend, s = stores()
        await backend.start()
        created = await s[CONFIGMAPS].create("default", configmap("one"))
        got = await s[CONFIGMAPS].get("default", "one")
        return created, got

    created, got = run(go())
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert meta["namespace"] == "default"
    assert created["kind"] == "ConfigMap" and created["apiVersion"] == "v1"
    assert got["metadata"]["resourceVersion"] == meta["resourceVersion"]


def test_create_twice_is_already_exists_and_generate_name_makes_names():
    async def go():
        backend, s = stores()
        await backend.start()
        await s[CONFIGMAPS].create("default", configmap("one"))
        with pytest.raises(AlreadyExists, match='configmaps "one" already exists'):
            await s[CONFIGMAPS].create("default", configmap("one"))
        generated = await s[CONFIGMAPS].create("default", {"metadata": {"generateName": "cm-"}})
        return generated["metadata"]["name"]

    name = run(go())
    assert name.startswith("cm-") and len(name) == len("cm-") + 5


def test_invalid_names_and_labels_are_422_with_causes_and_nothing_is_stored():
    async def go():
        backend, s = stores()
        await backend.start()
        with pytest.raises(Invalid) as caught:
            await s[CONFIGMAPS].create("default", configmap("Bad_Name", labels={"a b": "c"}))
        listed = await s[CONFIGMAPS].list("default", ListOptions())
        return caught.value, listed

    error, listed = run(go())
    fields = [c.field for c in error.details.causes]
    assert "metadata.name" in fields and "metadata.labels" in fields
    assert error.message.startswith(
        'ConfigMap "Bad_Name" is invalid: [metadata.name: Invalid value: "Bad_Name"'
    )
    assert listed["items"] == []


def test_stale_resource_version_is_a_conflict_and_unconditional_update_wins():
    async def go():
        backend, s = stores()
        await backend.start()
        store = s[CONFIGMAPS]
        first = await store.create("default", configmap("one"))
        stale = dict(first, data={"k": "2"})
        await store.update("default", "one", dict(first, data={"k": "1"}))
        with pytest.raises(Conflict, match="the object has been modified"):
            await store.update("default", "one", stale)
        unconditional = dict(first, data={"k": "3"})
        unconditional["metadata"] = {
            k: v for k, v in first["metadata"].items() if k != "resourceVersion"
        }
        return await store.update("default", "one", unconditional)

    final = run(go())
    assert final["data"] == {"k": "3"}


def test_pod_status_is_kept_by_main_updates_and_generation_moves_with_spec():
    async def go():
        backend, s = stores()
        await backend.start()
        store = s[PODS]
        pod = {
            "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        }
        created = await store.create("default", pod)
        with_status = dict(created, status={"phase": "Running"})
        after_status = await store.update("default", "web", with_status, subresource="status")
        changed = dict(after_status, status={"phase": "Failed"})
        changed["spec"] = dict(after_status["spec"], activeDeadlineSeconds=10)
        after_main = await store.update("default", "web", changed)
        return created, after_status, after_main

    created, after_status, after_main = run(go())
    assert created["metadata"]["generation"] == 1
    assert after_status["status"]["phase"] == "Running"
    assert after_status["metadata"]["generation"] == 1
    assert after_main["status"]["phase"] == "Running"
    assert after_main["metadata"]["generation"] == 2


def test_pod_spec_is_immutable_but_image_may_change():
    async def go():
        backend, s = stores()
        await backend.start()
        store = s[PODS]
        pod = {
            "metadata": {"name": "web"},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        }
        created = await store.create("default", pod)
        image = dict(created)
        image["spec"] = dict(
            created["spec"], containers=[dict(created["spec"]["containers"][0], image="nginx:2")]
        )
        updated = await store.update("default", "web", image)
        bad = dict(updated)
        bad["spec"] = dict(updated["spec"], restartPolicy="Never")
        with pytest.raises(Invalid, match="pod updates may not change fields"):
            await store.update("default", "web", bad)
        return updated

    assert run(go())["spec"]["containers"][0]["image"] == "nginx:2"


def test_finalizers_hold_deletion_until_removed():
    async def go():
        backend, s = stores()
        await backend.start()
        store = s[CONFIGMAPS]
        cm = configmap("held")
        cm["metadata"]["finalizers"] = ["example.com/hold"]
        await store.create("default", cm)
        marked, deleted_now = await store.delete("default", "held")
        assert not deleted_now and marked["metadata"]["deletionTimestamp"]
        current = await store.get("default", "held")
        current["metadata"]["finalizers"] = []
        await store.update("default", "held", current)
        with pytest.raises(NotFound):
            await store.get("default", "held")

    run(go())


def test_list_filters_by_labels_and_fields_and_pages_consistently():
    async def go():
        backend, s = stores()
        await backend.start()
        store = s[CONFIGMAPS]
        for i in range(7):
            await store.create(
                "default", configmap(f"cm{i}", labels={"parity": "even" if i % 2 == 0 else "odd"})
            )
        even = await store.list(
            "default", ListOptions(label_selector=parse_label_selector("parity=even"))
        )
        named = await store.list(
            "default", ListOptions(field_selector=parse_field_selector("metadata.name=cm3"))
        )
        page1 = await store.list("default", ListOptions(limit=3))
        await store.create("default", configmap("zz-late"))
        page2 = await store.list(
            "default", ListOptions(limit=3, continue_token=page1["metadata"]["continue"])
        )
        page3 = await store.list(
            "default", ListOptions(limit=3, continue_token=page2["metadata"]["continue"])
        )
        with pytest.raises(BadRequest, match=r"field label not supported: spec\.foo"):
            await store.list(
                "default", ListOptions(field_selector=parse_field_selector("spec.foo=x"))
            )
        return even, named, page1, page2, page3

    even, named, page1, page2, page3 = run(go())
    assert [i["metadata"]["name"] for i in even["items"]] == ["cm0", "cm2", "cm4", "cm6"]
    assert [i["metadata"]["name"] for i in named["items"]] == ["cm3"]
    assert page1["metadata"]["remainingItemCount"] == 4
    names = [i["metadata"]["name"] for p in (page1, page2, page3) for i in p["items"]]
    assert names == [
        f"cm{i}" for i in range(7)
    ]  # the late create is not in the consistent snapshot
    assert "continue" not in page3["metadata"]


def test_namespace_deletion_waits_for_its_finalizer():
    async def go():
        backend, s = stores()
        await backend.start()
        store = s[NAMESPACES]
        await store.create("", {"metadata": {"name": "team"}})
        marked, now = await store.delete("", "team")
        assert not now and marked["status"]["phase"] == "Terminating"

        def clear(obj):
            obj["spec"]["finalizers"] = []
            return obj

        await store.guaranteed_update("", "team", clear)
        with pytest.raises(NotFound):
            await store.get("", "team")

    run(go())


def test_a_patch_without_a_resource_version_outlasts_any_number_of_lost_races():
    async def go():
        backend, s = stores()
        await backend.start()
        store = s[CONFIGMAPS]
        await store.create("default", configmap("racy"))
        lost = 0

        async def mutate_losing_twelve_races():
            nonlocal lost

            def mutate(obj):
                return {**obj, "data": {"mine": "yes"}}

            original = store._write_update

            async def racing(namespace, name, new, current, **kw):
                nonlocal lost
                if lost < 12:  # another writer wins each of the first 12 rounds
                    lost += 1
                    fresh = await store.get(namespace, name)
                    winner = {**fresh, "data": {"other": str(lost)}}
                    await original(namespace, name, winner, fresh, **kw)
                return await original(namespace, name, new, current, **kw)

            store._write_update = racing
            try:
                return await store.guaranteed_update("default", "racy", mutate)
            finally:
                store._write_update = original

        written = await mutate_losing_twelve_races()
        assert lost == 12 and written["data"] == {"mine": "yes"}

        def stale(obj):
            return {**obj, "metadata": {**obj["metadata"], "resourceVersion": "1"}}

        with pytest.raises(Conflict):  # a precondition that does not hold is still a 409
            await store.guaranteed_update("default", "racy", stale)

    run(go())


# --- lists spliced from the stored bytes (Store.list_json) -----------------------------------
class CountingBackend(MemoryBackend):
    """The memory backend, counting list calls (how many pages a selector costs)."""

    def __init__(self):
        super().__init__()
        self.list_calls = 0

    async def list(self, prefix, **kwargs):
        self.list_calls += 1
        return await super().list(prefix, **kwargs)


async def filled_store(count=30):
    backend = CountingBackend()
    await backend.start()
    _, strategies = build_scheme()
    store = Store(CONFIGMAPS, strategies[CONFIGMAPS], backend)
    for namespace in ("default", "other"):
        for i in range(count):
            await store.create(
                namespace,
                configmap(
                    f"cm-{i:03}", {"i": str(i), "quote": 'a "b" {c}'}, {"tenth": str(i % 10)}
                ),
            )
    return backend, store


async def every_page(store, namespace, opts, encoded):
    """Walk the continue tokens; each page as list() returns it or as list_json() decodes."""
    pages = []
    while True:
        if encoded:
            page = orjson.loads(await store.list_json(namespace, opts))
        else:
            page = await store.list(namespace, opts)
        pages.append(page)
        token = page["metadata"].get("continue")
        if not token:
            return pages
        opts = dataclasses.replace(opts, continue_token=token)


LIST_CASES = [
    ("everything", "default", ListOptions()),
    ("all-namespaces", "", ListOptions()),
    ("pages-of-7", "default", ListOptions(limit=7)),
    ("label-selector", "default", ListOptions(label_selector=parse_label_selector("tenth=3"))),
    (
        "label-selector-pages",
        "",
        ListOptions(limit=2, label_selector=parse_label_selector("tenth in (1,4)")),
    ),
    (
        "by-name",
        "default",
        ListOptions(field_selector=parse_field_selector("metadata.name=cm-004")),
    ),
    (
        "by-namespace-field",
        "",
        ListOptions(field_selector=parse_field_selector("metadata.namespace=other"), limit=9),
    ),
]


@pytest.mark.parametrize(
    ("namespace", "opts"), [c[1:] for c in LIST_CASES], ids=[c[0] for c in LIST_CASES]
)
def test_list_json_is_the_decoded_list_page_for_page(namespace, opts):
    async def go():
        _, store = await filled_store()
        decoded = await every_page(store, namespace, opts, encoded=False)
        spliced = await every_page(store, namespace, opts, encoded=True)
        return decoded, spliced

    decoded, spliced = run(go())
    assert spliced == decoded
    assert sum(len(p["items"]) for p in decoded) > 0
    for page in spliced:
        for item in page["items"]:
            assert "apiVersion" not in item and "kind" not in item
            assert item["metadata"]["resourceVersion"].isdigit()


def test_list_json_keeps_remaining_count_continue_and_revision():
    async def go():
        _, store = await filled_store(count=10)
        first = orjson.loads(await store.list_json("default", ListOptions(limit=4)))
        at = first["metadata"]["resourceVersion"]
        await store.create("default", configmap("late"))  # after the first page
        second = orjson.loads(
            await store.list_json(
                "default", ListOptions(limit=4, continue_token=first["metadata"]["continue"])
            )
        )
        return first, second, at

    first, second, at = run(go())
    assert first["kind"] == "ConfigMapList" and first["apiVersion"] == "v1"
    assert first["metadata"]["remainingItemCount"] == 6
    assert [i["metadata"]["name"] for i in second["items"]] == [f"cm-{i:03}" for i in range(4, 8)]
    assert second["metadata"]["resourceVersion"] == at  # one snapshot for every page
    assert second["metadata"]["remainingItemCount"] == 2


def test_values_stored_in_another_key_order_take_the_decoding_path():
    async def go():
        _, store = await filled_store(count=2)
        key = CONFIGMAPS.storage_key("default", "legacy")
        legacy = {
            "data": {"x": "1"},
            "metadata": {"name": "legacy", "namespace": "default", "uid": "u"},
            "kind": "ConfigMap",
            "apiVersion": "v1",
        }
        await store.backend.create(key, orjson.dumps(legacy))
        decoded = await store.list("default", ListOptions())
        spliced = orjson.loads(await store.list_json("default", ListOptions()))
        return decoded, spliced

    decoded, spliced = run(go())
    assert spliced == decoded
    assert [i["metadata"]["name"] for i in spliced["items"]] == ["cm-000", "cm-001", "legacy"]


def test_stored_values_lead_with_type_and_metadata_and_carry_no_resource_version():
    async def go():
        _, store = await filled_store(count=1)
        await store.update(
            "default",
            "cm-000",
            {"data": {"a": "b"}, "metadata": {"name": "cm-000", "resourceVersion": ""}},
        )
        await store.guaranteed_update("default", "cm-000", lambda obj: {**obj, "data": {"c": "d"}})
        kv = await store.backend.get(CONFIGMAPS.storage_key("default", "cm-000"))
        return kv.value

    value = run(go())
    assert value.startswith(b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-000"')
    assert b"resourceVersion" not in value


def test_a_selector_reads_pages_that_double_instead_of_one_item_at_a_time():
    async def go():
        backend, store = await filled_store(count=100)
        backend.list_calls = 0
        opts = ListOptions(limit=3, label_selector=parse_label_selector("tenth=9"))
        page = orjson.loads(await store.list_json("default", opts))
        return page, backend.list_calls

    page, calls = run(go())
    assert [i["metadata"]["name"] for i in page["items"]] == ["cm-009", "cm-019", "cm-029"]
    assert "remainingItemCount" not in page["metadata"]  # never with a selector
    assert calls <= 5  # 3, 6, 12, 24: the 30 items up to cm-029 in four reads


def test_custom_resource_list_items_are_typed_in_both_encodings():
    """As the apiextensions server writes them; built-in kinds' items stay untyped."""
    from kubeward.api.customresources.kinds import served_kinds

    crd = {
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget", "singular": "widget"},
            "versions": [
                {"name": "v1", "served": True, "storage": True,
                 "schema": {"openAPIV3Schema": {"type": "object"}}},
            ],
        }
    }  # fmt: skip
    (rt,) = served_kinds(crd)

    async def go():
        backend = MemoryBackend()
        await backend.start()
        widgets = Store(rt, rt.strategy(rt), backend)
        await widgets.create("default", {"apiVersion": "example.com/v1", "kind": "Widget",
                                         "metadata": {"name": "w"}})  # fmt: skip
        return await widgets.list("default", ListOptions()), orjson.loads(
            await widgets.list_json("default", ListOptions())
        )

    decoded, spliced = run(go())
    assert decoded == spliced
    (item,) = decoded["items"]
    assert (item["apiVersion"], item["kind"]) == ("example.com/v1", "Widget")
    assert item["metadata"]["resourceVersion"]


def test_watch_event_field_sets_are_made_once_for_every_watcher():
    _, s = stores()
    store = s[PODS]
    calls = []
    real = store.strategy.field_set

    def counting(obj):
        calls.append(obj["metadata"]["name"])
        return real(obj)

    store.strategy.field_set = counting  # an instance attribute: this store's strategy only
    before = {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": ""}}
    after = {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "node-1"}}
    event = WatchEvent("MODIFIED", after, 5, previous=before)
    mine = ListOptions(field_selector=parse_field_selector("spec.nodeName=node-1"))
    other = ListOptions(field_selector=parse_field_selector("spec.nodeName=node-2"))
    assert store.event_matches(event, mine)
    assert not store.event_matches(event, mine, previous=True)
    for _ in range(50):  # fifty more watchers of other nodes
        assert not store.event_matches(event, other)
        assert not store.event_matches(event, other, previous=True)
    assert calls == ["p", "p"]  # once for the object, once for the one before
    labelled = ListOptions(label_selector=parse_label_selector("app=web"))
    assert not store.event_matches(event, labelled)
    assert not store.event_matches(WatchEvent("ADDED", after, 6), mine, previous=True)
