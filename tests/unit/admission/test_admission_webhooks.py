"""Admission webhooks on plain values: rule matching, selectors, the review and its answer,
patching and reinvocation, failure policies — against a fake transport."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from typing import Any

import pytest

from kubeward.admission.interfaces import CREATE, DELETE, AdmissionRequest
from kubeward.admission.webhooks import MutatingWebhooks, ValidatingWebhooks
from kubeward.admission.webhooks.matching import rule_matches
from kubeward.admission.webhooks.review import denial, review_request
from kubeward.api.user import UserInfo
from kubeward.errors import BadRequest, InternalError, ServiceUnavailable, StatusError


def request(**changes: Any) -> AdmissionRequest:
    base: dict[str, Any] = {
        "operation": CREATE,
        "group": "",
        "version": "v1",
        "resource": "pods",
        "kind": "Pod",
        "subresource": "",
        "namespace": "dev",
        "name": "web",
        "user": UserInfo("jane", groups=("devs",)),
        "object": {"metadata": {"name": "web", "labels": {"app": "web"}}},
    }
    return AdmissionRequest(**{**base, **changes})


RULE = {"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}


@pytest.mark.parametrize(
    ("rule", "changes", "matches"),
    [
        (RULE, {}, True),
        (RULE, {"operation": "UPDATE"}, False),
        ({**RULE, "operations": ["*"]}, {"operation": "DELETE"}, True),
        (RULE, {"subresource": "status"}, False),
        ({**RULE, "resources": ["pods/status"]}, {"subresource": "status"}, True),
        ({**RULE, "resources": ["pods/*"]}, {"subresource": "exec"}, True),
        ({**RULE, "resources": ["*"]}, {"resource": "configmaps"}, True),
        ({**RULE, "resources": ["*"]}, {"subresource": "status"}, False),
        ({**RULE, "resources": ["*/*"]}, {"subresource": "status"}, True),
        (
            {**RULE, "resources": ["*/status"]},
            {"resource": "deployments", "subresource": "status"},
            True,
        ),
        ({**RULE, "apiGroups": ["apps"]}, {}, False),
        ({**RULE, "scope": "Cluster"}, {}, False),
        ({**RULE, "scope": "Namespaced"}, {}, True),
        (
            {**RULE, "scope": "Cluster", "resources": ["nodes"]},
            {"resource": "nodes", "namespace": ""},
            True,
        ),
    ],
    ids=[
        "exact",
        "operation",
        "any-operation",
        "no-subresource",
        "subresource",
        "all-subresources",
        "any-resource",
        "star-excludes-subresources",
        "everything",
        "one-subresource-of-all",
        "group",
        "cluster-scope",
        "namespaced-scope",
        "cluster-object",
    ],
)
def test_rules(rule: dict[str, Any], changes: dict[str, Any], matches: bool) -> None:
    assert rule_matches(rule, request(**changes)) is matches


def test_the_review_sent_on_delete_has_only_the_old_object() -> None:
    old = {"metadata": {"name": "web"}}
    review = review_request(request(operation=DELETE, object=old, old_object=old, dry_run=True))
    body = review["request"]
    assert (body["object"], body["oldObject"], body["dryRun"]) == (None, old, True)
    assert body["resource"] == {"group": "", "version": "v1", "resource": "pods"}
    assert body["userInfo"] == {"username": "jane", "groups": ["devs"]}


@pytest.mark.parametrize(
    ("status", "message", "code"),
    [
        ({"message": "no", "code": 403}, 'admission webhook "w.x.y" denied the request: no', 403),
        ({"reason": "Nope"}, 'admission webhook "w.x.y" denied the request: Nope', 400),
        ({"code": 200}, 'admission webhook "w.x.y" denied the request without explanation', 400),
    ],
)
def test_denials_are_worded_as_upstream(status: dict[str, Any], message: str, code: int) -> None:
    error = denial("w.x.y", status)
    assert (error.message, error.code) == (message, code)


class FakeTransport:
    server = "https://hook.example/admit"

    def __init__(self, reply: Any) -> None:
        self.reply = reply
        self.sent: list[dict[str, Any]] = []

    async def post_review(self, review: dict[str, Any], timeout: float) -> dict[str, Any]:
        self.sent.append(review)
        if isinstance(self.reply, StatusError):
            raise self.reply
        response = self.reply(review) if callable(self.reply) else self.reply
        return {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": {"uid": review["request"]["uid"], **response},
        }


class Reader:
    def __init__(
        self, configurations: list[dict[str, Any]], namespace_labels: dict[str, str] | None = None
    ) -> None:
        self.configurations = configurations
        self.namespace_labels = namespace_labels or {}

    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return {"metadata": {"name": name, "labels": self.namespace_labels}}

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        return self.configurations


def hook(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "clientConfig": {"url": f"https://{name}/"},
        "rules": [RULE],
        "sideEffects": "None",
        **extra,
    }


def plugin(cls: type[Any], transports: dict[str, FakeTransport]) -> Any:
    instance = cls()
    instance.set_webhook_transport(lambda url, _ca: transports[url.split("/")[2]])
    return instance


def test_selectors_pick_the_webhooks() -> None:
    transports = {
        "a.x.y": FakeTransport({"allowed": True}),
        "b.x.y": FakeTransport({"allowed": True}),
    }
    configs = [
        {
            "metadata": {"name": "c"},
            "webhooks": [
                hook("a.x.y", objectSelector={"matchLabels": {"app": "web"}}),
                hook("b.x.y", namespaceSelector={"matchLabels": {"team": "other"}}),
            ],
        }
    ]
    asyncio.run(
        plugin(ValidatingWebhooks, transports).validate(
            request(), Reader(configs, {"team": "mine"})
        )
    )
    assert (len(transports["a.x.y"].sent), len(transports["b.x.y"].sent)) == (1, 0)


def test_dry_run_needs_side_effect_free_webhooks() -> None:
    configs = [{"metadata": {"name": "c"}, "webhooks": [hook("a.x.y", sideEffects="Some")]}]
    with pytest.raises(
        BadRequest, match=re.escape('admission webhook "a.x.y" does not support dry run')
    ):
        asyncio.run(plugin(ValidatingWebhooks, {}).validate(request(dry_run=True), Reader(configs)))


@pytest.mark.parametrize(("policy", "raises"), [("Fail", True), ("Ignore", False)])
def test_failure_policies(policy: str, raises: bool) -> None:
    transports = {"a.x.y": FakeTransport(ServiceUnavailable("connection refused"))}
    configs = [{"metadata": {"name": "c"}, "webhooks": [hook("a.x.y", failurePolicy=policy)]}]
    call = plugin(ValidatingWebhooks, transports).validate(request(), Reader(configs))
    if raises:
        with pytest.raises(
            InternalError, match=re.escape('failed calling webhook "a.x.y": connection refused')
        ):
            asyncio.run(call)
    else:
        asyncio.run(call)


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {
        "allowed": True,
        "patchType": "JSONPatch",
        "patch": base64.b64encode(json.dumps(list(operations)).encode()).decode(),
    }


def test_patches_apply_in_place_and_if_needed_webhooks_are_called_again() -> None:
    first = FakeTransport(lambda review: {"allowed": True})
    second = FakeTransport(patch({"op": "add", "path": "/metadata/labels/tier", "value": "front"}))
    configs = [
        {"metadata": {"name": "1"}, "webhooks": [hook("a.x.y", reinvocationPolicy="IfNeeded")]},
        {"metadata": {"name": "2"}, "webhooks": [hook("b.x.y")]},
    ]
    admitted = request()
    asyncio.run(
        plugin(MutatingWebhooks, {"a.x.y": first, "b.x.y": second}).admit(admitted, Reader(configs))
    )
    assert admitted.object["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert len(first.sent) == 2  # called again: the second webhook changed the object after it
    assert first.sent[1]["request"]["object"]["metadata"]["labels"]["tier"] == "front"
