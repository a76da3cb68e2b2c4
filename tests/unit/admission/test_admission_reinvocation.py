"""Reinvocation across plugins (``admission.interfaces`` rule 6): a MutatingAdmissionPolicy
with ``reinvocationPolicy: IfNeeded`` runs again when a MutatingAdmissionWebhook, later in the
chain, changed the object after it — once, and not at all under ``Never``."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest

from kubeward.admission.chain import AdmissionChain
from kubeward.admission.interfaces import CREATE, AdmissionRequest
from kubeward.admission.policy import MutatingAdmissionPolicyPlugin
from kubeward.admission.webhooks.plugin import MutatingWebhooks
from kubeward.api.user import UserInfo

POLICIES = "mutatingadmissionpolicies.admissionregistration.k8s.io"
BINDINGS = "mutatingadmissionpolicybindings.admissionregistration.k8s.io"
RULE = {
    "operations": ["CREATE"],
    "apiGroups": ["apps"],
    "apiVersions": ["v1"],
    "resources": ["deployments"],
}


class Reader:
    """The policy, its binding and the webhook configuration (kubeward's reader seam)."""

    def __init__(self, reinvocation: str) -> None:
        copy_replicas = (
            '[JSONPatch{op: "add", path: "/metadata/labels/replicas", '
            "value: string(object.spec.replicas)}]"
        )
        self.objects: dict[str, list[dict[str, Any]]] = {
            POLICIES: [
                {
                    "metadata": {"name": "label-replicas"},
                    "spec": {
                        "failurePolicy": "Fail",
                        "reinvocationPolicy": reinvocation,
                        "matchConstraints": {"resourceRules": [RULE]},
                        "mutations": [
                            {"patchType": "JSONPatch", "jsonPatch": {"expression": copy_replicas}}
                        ],
                    },
                }
            ],
            BINDINGS: [
                {"metadata": {"name": "b"}, "spec": {"policyName": "label-replicas"}},
            ],
            "mutatingwebhookconfigurations.admissionregistration.k8s.io": [
                {
                    "metadata": {"name": "scale"},
                    "webhooks": [
                        {
                            "name": "scale.example.com",
                            "clientConfig": {"url": "https://scale.example.com/"},
                            "rules": [RULE],
                            "sideEffects": "None",
                        }
                    ],
                }
            ],
        }

    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return {"metadata": {"name": name, "labels": {}}} if resource == "namespaces" else None

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        return self.objects.get(resource, [])

    def resource_for(self, api_version: str, kind: str) -> tuple[str, bool] | None:
        return None


class ScalingWebhook:
    """Sets replicas to 4 (a JSON patch), as a remote webhook would answer."""

    server = "https://scale.example.com/"

    def __init__(self) -> None:
        self.calls = 0

    async def post_review(self, review: dict[str, Any], timeout: float) -> dict[str, Any]:
        self.calls += 1
        patch = [{"op": "replace", "path": "/spec/replicas", "value": 4}]
        return {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": {
                "uid": review["request"]["uid"],
                "allowed": True,
                "patchType": "JSONPatch",
                "patch": base64.b64encode(json.dumps(patch).encode()).decode(),
            },
        }


class CountingPolicies(MutatingAdmissionPolicyPlugin):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def admit(self, request: AdmissionRequest, reader: Any) -> None:
        self.calls += 1
        await super().admit(request, reader)


@pytest.mark.parametrize(("reinvocation", "label"), [("IfNeeded", "4"), ("Never", "1")])
def test_a_policy_runs_again_after_a_later_webhook_changed_the_object(
    reinvocation: str, label: str
) -> None:
    webhook = ScalingWebhook()
    webhooks = MutatingWebhooks()
    webhooks.set_webhook_transport(lambda url, ca: webhook)
    policies = CountingPolicies()
    chain = AdmissionChain(mutating=(policies, webhooks))  # upstream's order
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "dev", "labels": {"app": "web"}},
        "spec": {"replicas": 1},
    }
    request = AdmissionRequest(
        CREATE, "apps", "deployments", "Deployment", "", "dev", "web",
        UserInfo("alice"), deployment, version="v1",
    )  # fmt: skip
    asyncio.run(chain.bind(request, Reader(reinvocation)).mutate(deployment, None))
    assert deployment["spec"]["replicas"] == 4
    assert deployment["metadata"]["labels"]["replicas"] == label
    # IfNeeded: the whole mutating chain ran twice, the webhook (Never) was not called again
    assert policies.calls == (2 if reinvocation == "IfNeeded" else 1)
    assert webhook.calls == 1
