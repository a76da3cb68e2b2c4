"""Admission webhooks over HTTPS with the real kubectl: a webhook that refuses, one that
patches, selectors, failure policies, warnings, and the configurations' own validation."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubectl_runner import Kubectl
from webhook_server import WebhookServer, running_webhook

from kubeward.testing import running_cluster


def answer(review: dict[str, Any]) -> dict[str, Any]:
    request = review["request"]
    obj = request.get("object") or {}
    labels = (obj.get("metadata") or {}).get("labels") or {}
    response: dict[str, Any] = {"uid": request["uid"], "allowed": True}
    if request["resource"]["resource"] == "pods" and labels.get("forbidden") == "true":
        response = {
            "uid": request["uid"],
            "allowed": False,
            "status": {
                "code": 403,
                "reason": "Forbidden",
                "message": "pods labelled forbidden=true are not allowed here",
            },
        }
    elif request["resource"]["resource"] == "configmaps" and request["operation"] == "CREATE":
        patch = [{"op": "add", "path": "/metadata/labels", "value": {"stamped-by": "webhook"}}]
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(json.dumps(patch).encode()).decode()
        response["warnings"] = ["configmap stamped by the mutating webhook"]
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}


def configuration(
    kind: str, name: str, webhook: WebhookServer, resources: list[str], **extra: Any
) -> dict[str, Any]:
    hook = {
        "name": f"{name}.kubeward.test",
        "clientConfig": {"url": webhook.url, "caBundle": webhook.ca_bundle},
        "rules": [
            {
                "operations": ["CREATE", "UPDATE"],
                "apiGroups": [""],
                "apiVersions": ["v1"],
                "resources": resources,
            }
        ],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "timeoutSeconds": 5,
        **extra,
    }
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": name},
        "webhooks": [hook],
    }


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kubectl, WebhookServer]]:
    base = tmp_path_factory.mktemp("admission-webhooks")
    with (
        running_webhook(base / "hook", "/admit", answer, client_auth=False) as webhook,
        running_cluster() as cluster,
    ):
        kubectl = Kubectl(cluster.admin_kubeconfig, base / "home")
        kubectl.run("create", "namespace", "guarded")
        kubectl.run("label", "namespace", "guarded", "webhooks=on")
        for doc in (
            configuration(
                "ValidatingWebhookConfiguration",
                "deny-forbidden",
                webhook,
                ["pods"],
                namespaceSelector={"matchLabels": {"webhooks": "on"}},
            ),
            configuration("MutatingWebhookConfiguration", "stamp", webhook, ["configmaps"]),
        ):
            kubectl.run("create", "-f", "-", input=json.dumps(doc))
        yield kubectl, webhook


def pod(name: str, labels: dict[str, str]) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        }
    )


def test_a_webhook_refusal_is_what_kubectl_shows(setup: tuple[Kubectl, WebhookServer]) -> None:
    kubectl, webhook = setup
    refused = kubectl.run(
        "create", "-n", "guarded", "-f", "-", input=pod("bad", {"forbidden": "true"}), check=False
    )
    assert refused.returncode != 0
    assert (
        'admission webhook "deny-forbidden.kubeward.test" denied the request:'
        " pods labelled forbidden=true are not allowed here"
    ) in refused.stderr
    assert "(Forbidden)" in refused.stderr
    assert (
        kubectl.run("get", "pod", "bad", "-n", "guarded", check=False).returncode != 0
    )  # nothing stored
    kubectl.run("create", "-n", "guarded", "-f", "-", input=pod("good", {}))
    review = next(r for r in webhook.received if r["request"].get("name") == "good")
    assert review["request"]["kind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert review["request"]["userInfo"]["username"] == "kubernetes-admin"


def test_the_namespace_selector_limits_the_webhook(setup: tuple[Kubectl, WebhookServer]) -> None:
    kubectl, _ = setup
    kubectl.run("create", "-n", "default", "-f", "-", input=pod("elsewhere", {"forbidden": "true"}))


def test_a_mutating_webhook_patches_and_warns(setup: tuple[Kubectl, WebhookServer]) -> None:
    kubectl, _ = setup
    created = kubectl.run("create", "configmap", "stamped", "--from-literal=k=v")
    assert "Warning: configmap stamped by the mutating webhook" in created.stderr
    labels = json.loads(
        kubectl.run("get", "configmap", "stamped", "-o", "jsonpath={.metadata.labels}").stdout
    )
    assert labels == {"stamped-by": "webhook"}


@pytest.mark.parametrize(("policy", "fails"), [("Fail", True), ("Ignore", False)])
def test_an_unreachable_webhook_follows_its_failure_policy(
    setup: tuple[Kubectl, WebhookServer], policy: str, fails: bool
) -> None:
    kubectl, webhook = setup
    doc = configuration(
        "ValidatingWebhookConfiguration",
        f"down-{policy.lower()}",
        webhook,
        ["secrets"],
        failurePolicy=policy,
    )
    doc["webhooks"][0]["clientConfig"]["url"] = "https://127.0.0.1:9/unreachable"
    kubectl.run("create", "-f", "-", input=json.dumps(doc))
    try:
        result = kubectl.run(
            "create", "secret", "generic", f"s-{policy.lower()}", "--from-literal=a=b", check=False
        )
        assert (result.returncode != 0) is fails
        if fails:
            assert 'failed calling webhook "down-fail.kubeward.test"' in result.stderr
    finally:
        kubectl.run("delete", "validatingwebhookconfiguration", f"down-{policy.lower()}")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"name": "short"},
            'webhooks[0].name: Invalid value: "short": should be a domain with at least three segments separated by dots',
        ),
        (
            {"sideEffects": None},
            "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun",
        ),
        (
            {"timeoutSeconds": 31},
            "webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds",
        ),
        (
            {"clientConfig": {"url": "http://insecure.example/x"}},
            "'https' is the only allowed URL scheme",
        ),
    ],
    ids=["name", "side-effects", "timeout", "http"],
)
def test_bad_configurations_are_422(
    setup: tuple[Kubectl, WebhookServer], change: dict[str, Any], message: str
) -> None:
    kubectl, webhook = setup
    doc = configuration("ValidatingWebhookConfiguration", "bad", webhook, ["pods"])
    doc["webhooks"][0].update(change)
    doc["webhooks"][0] = {k: v for k, v in doc["webhooks"][0].items() if v is not None}
    refused = kubectl.run("create", "-f", "-", input=json.dumps(doc), check=False)
    assert "is invalid" in refused.stderr
    assert message in refused.stderr
