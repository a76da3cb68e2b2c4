"""Custom objects across the versions of their definition: storage version, None and Webhook
conversion (through a fake webhook caller, kubeward's own seam), validation of the conversion
stanza, deprecation warnings."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import orjson
import pytest

from kubeward.api.customresources.conversion import (
    Converter,
    WebhookEndpoint,
    service_endpoint,
)
from kubeward.api.customresources.kinds import served_kinds
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.scheme import ResourceType
from kubeward.api.selectors import parse_field_selector
from kubeward.api.validation.apiextensions import default_crd, validate_crd, validate_crd_update
from kubeward.errors import ConversionFailed, WebhookCallError
from kubeward.storage.memory import MemoryBackend

SCHEMA_V1 = {
    "type": "object",
    "properties": {
        "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
    },
}
SCHEMA_V2 = {
    "type": "object",
    "properties": {
        "spec": {"type": "object", "properties": {"count": {"type": "integer"}}},
    },
}


def definition(strategy: str = "None", **webhook: Any) -> dict[str, Any]:
    crd: dict[str, Any] = {
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": SCHEMA_V1},
                },
                {
                    "name": "v2",
                    "served": True,
                    "storage": False,
                    "schema": {"openAPIV3Schema": SCHEMA_V2},
                },
            ],
            "conversion": {"strategy": strategy},
        },
    }
    if strategy == "Webhook":
        crd["spec"]["conversion"]["webhook"] = {
            "clientConfig": {"url": "https://conv.example:8443/convert"},
            "conversionReviewVersions": ["v1"],
            **webhook,
        }
    default_crd(crd)
    return crd


class FakeWebhook:
    """Renames ``spec.size`` (v1) to ``spec.count`` (v2) and back; records every review."""

    def __init__(self) -> None:
        self.reviews: list[dict[str, Any]] = []
        self.answer: Any = None  # a fixed answer instead of converting
        self.fail: WebhookCallError | None = None

    async def __call__(self, endpoint: WebhookEndpoint, body: bytes, timeout: float) -> bytes:
        review = orjson.loads(body)
        self.reviews.append(review)
        if self.fail is not None:
            raise self.fail
        if self.answer is not None:
            answer = copy.deepcopy(self.answer)
            if isinstance(answer.get("response"), dict):
                answer["response"]["uid"] = review["request"]["uid"]
            return orjson.dumps(answer)
        request = review["request"]
        out = []
        for obj in request["objects"]:
            obj = copy.deepcopy(obj)
            spec = obj.get("spec") or {}
            if request["desiredAPIVersion"].endswith("/v2") and "size" in spec:
                spec["count"] = spec.pop("size")
            if request["desiredAPIVersion"].endswith("/v1") and "count" in spec:
                spec["size"] = spec.pop("count")
            obj["apiVersion"] = request["desiredAPIVersion"]
            obj["metadata"]["generation"] = 99  # not the webhook's to change: restored
            obj["metadata"].setdefault("labels", {})["converted"] = "yes"
            out.append(obj)
        return orjson.dumps(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "ConversionReview",
                "response": {
                    "uid": request["uid"],
                    "result": {"status": "Success"},
                    "convertedObjects": out,
                },
            }
        )


def stores(crd: dict[str, Any], caller: Any = None) -> tuple[MemoryBackend, dict[str, Store]]:
    backend = MemoryBackend()
    kinds: list[ResourceType] = served_kinds(crd, caller)
    return backend, {rt.version: Store(rt, rt.strategy(rt), backend) for rt in kinds if rt.strategy}


def widget(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": spec}


async def stored_api_version(backend: MemoryBackend, name: str) -> dict[str, Any]:
    kv = await backend.get(f"/registry/example.com/widgets/default/{name}")
    assert kv is not None
    found: dict[str, Any] = orjson.loads(kv.value)
    return found


def test_none_conversion_stores_at_the_storage_version_and_serves_every_version() -> None:
    async def go() -> None:
        backend, s = stores(definition())
        await backend.start()
        created = await s["v2"].create("default", widget("a", {"count": 3}))
        assert created["apiVersion"] == "example.com/v2"
        raw = await stored_api_version(backend, "a")
        assert raw["apiVersion"] == "example.com/v1"  # stored at the storage version
        assert (await s["v1"].get("default", "a"))["apiVersion"] == "example.com/v1"
        assert (await s["v2"].get("default", "a"))["apiVersion"] == "example.com/v2"
        listed = orjson.loads(await s["v2"].list_json("default", ListOptions()))
        assert [i["apiVersion"] for i in listed["items"]] == ["example.com/v2"]
        updated = await s["v2"].update("default", "a", {**created, "spec": {"count": 4}})
        assert updated["apiVersion"] == "example.com/v2"
        assert (await stored_api_version(backend, "a"))["apiVersion"] == "example.com/v1"

    asyncio.run(go())


def test_webhook_conversion_round_trips_every_read_and_write() -> None:
    async def go() -> None:
        hook = FakeWebhook()
        backend, s = stores(definition("Webhook"), hook)
        await backend.start()
        created = await s["v2"].create("default", widget("a", {"count": 3}))
        assert created["spec"] == {"count": 3}
        assert created["apiVersion"] == "example.com/v2"
        raw = await stored_api_version(backend, "a")
        assert raw["apiVersion"] == "example.com/v1"
        assert raw["spec"] == {"size": 3}
        assert raw["metadata"]["generation"] == 1  # only labels and annotations are taken
        assert raw["metadata"]["labels"] == {"converted": "yes"}
        got = await s["v2"].get("default", "a")
        assert got["spec"] == {"count": 3}
        assert (await s["v1"].get("default", "a"))["spec"] == {"size": 3}
        review = hook.reviews[0]
        assert review["apiVersion"] == "apiextensions.k8s.io/v1"
        assert review["request"]["desiredAPIVersion"] == "example.com/v1"

    asyncio.run(go())


def test_a_list_is_converted_in_one_review() -> None:
    async def go() -> None:
        hook = FakeWebhook()
        backend, s = stores(definition("Webhook"), hook)
        await backend.start()
        for name in ("a", "b", "c"):
            await s["v1"].create("default", widget(name, {"size": 1}))
        assert hook.reviews == []  # created at the storage version: nothing to convert
        listed = orjson.loads(await s["v2"].list_json("default", ListOptions()))
        assert [i["spec"] for i in listed["items"]] == [{"count": 1}] * 3
        assert len(hook.reviews) == 1
        assert len(hook.reviews[0]["request"]["objects"]) == 3
        plain = await s["v2"].list("default", ListOptions())
        assert {i["apiVersion"] for i in plain["items"]} == {"example.com/v2"}

    asyncio.run(go())


def test_watch_events_are_converted() -> None:
    async def go() -> None:
        hook = FakeWebhook()
        backend, s = stores(definition("Webhook"), hook)
        await backend.start()
        start = await backend.current_revision()
        await s["v1"].create("default", widget("a", {"size": 2}))
        events = s["v2"].watch_from("default", start)
        event = await asyncio.wait_for(anext(events), 5)
        await events.aclose()
        assert event.type == "ADDED"
        assert event.object["apiVersion"] == "example.com/v2"
        assert event.object["spec"] == {"count": 2}

    asyncio.run(go())


FAILURES = [
    (
        "unreachable",
        WebhookCallError('Post "https://conv.example:8443/convert?timeout=30s": refused'),
        None,
        'conversion webhook for example.com/v1, Kind=Widget failed: Post "https://conv.example:8443/convert?timeout=30s": refused',
    ),
    (
        "refused by the webhook",
        None,
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "ConversionReview", "response": {"result": {"status": "Failure", "message": "no way"}}},
        "conversion webhook for example.com/v1, Kind=Widget failed: no way",
    ),
    (
        "wrong kind of answer",
        None,
        {"apiVersion": "v1", "kind": "Status"},
        "conversion webhook for example.com/v1, Kind=Widget failed: expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got v1, Kind=Status",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "fail", "answer", "message"), FAILURES, ids=[f[0] for f in FAILURES]
)
def test_a_failed_conversion_is_a_500_worded_as_upstream(
    name: str, fail: WebhookCallError | None, answer: Any, message: str
) -> None:
    async def go() -> None:
        hook = FakeWebhook()
        backend, s = stores(definition("Webhook"), hook)
        await backend.start()
        await s["v1"].create("default", widget("a", {"size": 1}))
        hook.fail = fail
        hook.answer = answer
        with pytest.raises(ConversionFailed) as caught:
            await s["v2"].get("default", "a")
        status = caught.value.to_status()
        assert status["code"] == 500
        assert "reason" not in status
        assert status["message"] == message

    asyncio.run(go())


def test_a_webhook_may_not_change_identity_or_count() -> None:
    async def go() -> None:
        crd = definition("Webhook")
        obj = {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "a", "namespace": "default", "uid": "1"},
        }

        async def renaming(endpoint: WebhookEndpoint, body: bytes, timeout: float) -> bytes:
            request = orjson.loads(body)["request"]
            out = [
                {**o, "apiVersion": "example.com/v2", "metadata": {"name": "b"}}
                for o in request["objects"]
            ]
            return orjson.dumps(
                {
                    "apiVersion": "apiextensions.k8s.io/v1",
                    "kind": "ConversionReview",
                    "response": {
                        "uid": request["uid"],
                        "result": {"status": "Success"},
                        "convertedObjects": out + out,
                    },
                }
            )

        with pytest.raises(ConversionFailed, match="returned 2 objects, expected 1"):
            await Converter(crd, renaming).convert_one(obj, "example.com/v2")

        async def one(endpoint: WebhookEndpoint, body: bytes, timeout: float) -> bytes:
            request = orjson.loads(body)["request"]
            out = [
                {**o, "apiVersion": "example.com/v2", "metadata": {"name": "b"}}
                for o in request["objects"]
            ]
            return orjson.dumps(
                {
                    "apiVersion": "apiextensions.k8s.io/v1",
                    "kind": "ConversionReview",
                    "response": {
                        "uid": request["uid"],
                        "result": {"status": "Success"},
                        "convertedObjects": out,
                    },
                }
            )

        with pytest.raises(ConversionFailed, match="at index 0: must have the same name: a != b"):
            await Converter(crd, one).convert_one(obj, "example.com/v2")

    asyncio.run(go())


def test_a_service_is_called_at_its_cluster_dns_name() -> None:
    endpoint = service_endpoint(
        {"service": {"namespace": "ops", "name": "conv", "path": "/convert"}, "caBundle": "Zm9v"}
    )
    assert endpoint == WebhookEndpoint(
        "https://conv.ops.svc:443/convert?timeout=30s", b"foo", "conv.ops.svc"
    )
    assert service_endpoint({"url": "https://h:1/c"}).url == "https://h:1/c?timeout=30s"


def test_a_deprecated_version_carries_its_warning() -> None:
    crd = definition()
    crd["spec"]["versions"][0]["deprecated"] = True
    crd["spec"]["versions"][1].update(deprecated=True, deprecationWarning="use v3")
    kinds = served_kinds(crd)
    assert [k.deprecation_warning for k in kinds] == [
        "example.com/v1 Widget is deprecated",
        "use v3",
    ]


BAD_CONVERSIONS = [
    ({"strategy": "Webhook"}, "spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook"),
    ({"strategy": "Webhook"}, "spec.conversion.conversionReviewVersions: Required value"),
    ({"strategy": "Webhook", "webhook": {"clientConfig": {"url": "https://h/c"}, "conversionReviewVersions": ["v2"]}},
     'spec.conversion.conversionReviewVersions: Invalid value: ["v2"]: must include at least one of v1, v1beta1'),
    ({"strategy": "Webhook", "webhook": {"clientConfig": {"url": "http://h/c"}, "conversionReviewVersions": ["v1"]}},
     "spec.conversion.webhookClientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]"),
    ({"strategy": "Webhook", "webhook": {"clientConfig": {"url": "https://h/c?x=1"}, "conversionReviewVersions": ["v1"]}},
     'spec.conversion.webhookClientConfig.url: Invalid value: "x=1": query parameters are not permitted in the URL'),
    ({"strategy": "Webhook", "webhook": {"clientConfig": {}, "conversionReviewVersions": ["v1"]}},
     "spec.conversion.webhookClientConfig: Required value: exactly one of url or service is required"),
    ({"strategy": "Webhook", "webhook": {"clientConfig": {"service": {"name": "s", "port": 0}}, "conversionReviewVersions": ["v1", "v1"]}},
     "spec.conversion.webhookClientConfig.service.namespace: Required value: service namespace is required"),
    ({"strategy": "Webhook", "webhook": {"clientConfig": {"service": {"name": "s", "namespace": "n", "port": 0}}, "conversionReviewVersions": ["v1"]}},
     "spec.conversion.webhookClientConfig.service.port: Invalid value: 0: port is not valid"),
    ({"strategy": "Webhook", "webhook": {"clientConfig": {"service": {"name": "s", "namespace": "n", "path": "c"}}, "conversionReviewVersions": ["v1", "v1"]}},
     'spec.conversion.conversionReviewVersions[1]: Invalid value: "v1": duplicate version'),
    ({"strategy": "None", "webhook": {"clientConfig": {"url": "https://h/c"}}},
     "spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not set to Webhook"),
    ({"strategy": "Magic"}, 'spec.conversion.strategy: Unsupported value: "Magic": supported values: "None", "Webhook"'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("conversion", "expected"), BAD_CONVERSIONS, ids=[b[1][:70] for b in BAD_CONVERSIONS]
)
def test_the_conversion_stanza_is_validated_as_upstream(
    conversion: dict[str, Any], expected: str
) -> None:
    crd = definition()
    crd["spec"]["conversion"] = conversion
    found = [f"{c.field}: {c.message}" for c in validate_crd(crd)]
    assert any(f.startswith(expected) for f in found), found


def test_a_webhook_definition_is_valid() -> None:
    assert validate_crd(definition("Webhook")) == []
    crd = definition("Webhook")
    crd["spec"]["conversion"]["webhook"]["clientConfig"] = {
        "service": {"name": "s", "namespace": "n", "path": "/convert", "port": 8443}
    }
    assert validate_crd(crd) == []


STORED_VERSIONS = [
    (["v1"], []),
    (["v1", "v2"], []),
    ([], ["status.storedVersions: Invalid value: []: must have at least one stored version"]),
    (["v2"], ['status.storedVersions: Invalid value: "v1": must have the storage version v1']),
    (["v1", "v0"], ['status.storedVersions[1]: Invalid value: "v0": must appear in spec.versions']),
]  # fmt: skip


@pytest.mark.parametrize(
    ("stored", "expected"), STORED_VERSIONS, ids=[str(s[0]) for s in STORED_VERSIONS]
)
def test_stored_versions_keep_the_storage_version_and_name_only_known_versions(
    stored: list[str], expected: list[str]
) -> None:
    old = definition()
    old["status"] = {"storedVersions": ["v1", "v2"]}
    new = copy.deepcopy(old)
    new["status"]["storedVersions"] = stored
    assert [f"{c.field}: {c.message}" for c in validate_crd_update(new, old)] == expected


def test_selectors_see_objects_at_the_version_asked_for() -> None:
    async def go() -> None:
        hook = FakeWebhook()
        crd = definition("Webhook")
        crd["spec"]["versions"][1]["selectableFields"] = [{"jsonPath": ".spec.count"}]
        backend, s = stores(crd, hook)
        await backend.start()
        await s["v1"].create("default", widget("a", {"size": 3}))
        await s["v1"].create("default", widget("b", {"size": 4}))
        opts = ListOptions(field_selector=parse_field_selector("spec.count=3"))
        listed = orjson.loads(await s["v2"].list_json("default", opts))
        assert [(i["metadata"]["name"], i["spec"]) for i in listed["items"]] == [
            ("a", {"count": 3})
        ]
        assert len(hook.reviews) == 1  # the page converted once, before filtering

    asyncio.run(go())


def test_the_first_review_version_kube_apiserver_speaks_is_sent() -> None:
    async def go() -> None:
        crd = definition("Webhook", conversionReviewVersions=["v9", "v1beta1", "v1"])
        seen: list[dict[str, Any]] = []

        async def v1beta1(endpoint: WebhookEndpoint, body: bytes, timeout: float) -> bytes:
            review = orjson.loads(body)
            seen.append(review)
            objects = [
                {**o, "apiVersion": review["request"]["desiredAPIVersion"]}
                for o in review["request"]["objects"]
            ]
            # v1beta1 answers are not checked for their kind or uid, as upstream.
            return orjson.dumps(
                {"response": {"result": {"status": "Success"}, "convertedObjects": objects}}
            )

        obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "a"}}
        converted = await Converter(crd, v1beta1).convert_one(obj, "example.com/v2")
        assert converted["apiVersion"] == "example.com/v2"
        assert seen[0]["apiVersion"] == "apiextensions.k8s.io/v1beta1"

    asyncio.run(go())


def test_a_conversion_services_port_defaults_to_443() -> None:
    crd = definition("Webhook")
    crd["spec"]["conversion"]["webhook"]["clientConfig"] = {
        "service": {"name": "s", "namespace": "n"}
    }
    default_crd(crd)
    assert crd["spec"]["conversion"]["webhook"]["clientConfig"]["service"]["port"] == 443
