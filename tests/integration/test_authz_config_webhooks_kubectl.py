"""--authorization-config with two real policy services over mutual TLS, then Node and RBAC:
kubectl shows each decision, a matchCondition keeps a webhook out of a request, failurePolicy
Deny ends the chain when its webhook fails, and an edit to the file applies without a restart."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubectl_runner import Kubectl
from webhook_server import WebhookServer, running_webhook

from kubeward.authz.modes import Backoff, WebhookSettings
from kubeward.testing import Cluster, running_cluster


def reply(review: dict[str, Any], **status: Any) -> dict[str, Any]:
    return {"apiVersion": review["apiVersion"], "kind": review["kind"], "status": status}


def guard_policy(review: dict[str, Any]) -> dict[str, Any] | float:
    """The first service: no secrets for mallory; it stalls for "slow"; no opinion otherwise."""
    spec = review["spec"]
    if spec["user"] == "slow":
        return 5.0
    if spec["user"] == "mallory" and spec["resourceAttributes"].get("resource") == "secrets":
        return reply(review, allowed=False, denied=True, reason="no secrets for contractors")
    return reply(review, allowed=False)


def opa_policy(review: dict[str, Any]) -> dict[str, Any]:
    """The second service: alice may read anything."""
    spec = review["spec"]
    verb = (spec.get("resourceAttributes") or {}).get("verb")
    if spec["user"] == "alice" and verb in ("get", "list", "watch"):
        return reply(review, allowed=True, reason="alice reads everything (rule 7)")
    return reply(review, allowed=False)


def webhook_entry(name: str, server: WebhookServer, *conditions: str) -> dict[str, Any]:
    return {
        "type": "Webhook",
        "name": name,
        "webhook": {
            "timeout": "1s",
            "subjectAccessReviewVersion": "v1",
            "matchConditionSubjectAccessReviewVersion": "v1",
            "failurePolicy": "Deny" if name == "guard" else "NoOpinion",
            "connectionInfo": {"type": "KubeConfigFile", "kubeConfigFile": str(server.kubeconfig)},
            # The control plane's own identities never wait for a policy service.
            "matchConditions": [
                {"expression": "!request.user.startsWith('system:')"},
                *({"expression": c} for c in conditions),
            ],
        },
    }


def write_config(path: Path, *webhooks: dict[str, Any]) -> None:
    document = {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AuthorizationConfiguration",
        "authorizers": [
            *webhooks,
            {"type": "Node", "name": "node"},
            {"type": "RBAC", "name": "rbac"},
        ],
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(document))
    os.replace(tmp, path)


class Setup:
    def __init__(
        self, cluster: Cluster, guard: WebhookServer, opa: WebhookServer, base: Path, config: Path
    ) -> None:
        self.cluster, self.guard, self.opa, self.base, self.config = (
            cluster,
            guard,
            opa,
            base,
            config,
        )
        self.admin = Kubectl(cluster.admin_kubeconfig, base / "home-admin")

    def kubectl_as(self, user: str) -> Kubectl:
        return Kubectl(self.cluster.kubeconfig_for(user), self.base / f"home-{user}")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    base = tmp_path_factory.mktemp("authz-config")
    with (
        running_webhook(base / "guard", "/guard", guard_policy) as guard,
        running_webhook(base / "opa", "/opa", opa_policy) as opa,
    ):
        config = base / "authorization-config.yaml"
        write_config(
            config,
            webhook_entry("guard", guard, "has(request.resourceAttributes)"),
            webhook_entry("opa", opa),
        )
        fast = WebhookSettings(backoff=Backoff(initial=0.05, attempts=2))
        with running_cluster(
            server_options={"authorization_config_file": config, "authorization_webhook": fast}
        ) as cluster:
            yield Setup(cluster, guard, opa, base, config)


def test_the_second_webhook_allows_after_the_first_has_no_opinion(setup: Setup) -> None:
    alice = setup.kubectl_as("alice")
    assert "kube-root-ca.crt" in alice.run("get", "configmaps", "-n", "kube-public").stdout
    assert alice.run("auth", "can-i", "list", "configmaps", "-n", "kube-public").stdout == "yes\n"
    for server in (setup.guard, setup.opa):
        assert any(
            r["spec"]["user"] == "alice"
            and r["spec"].get("resourceAttributes", {}).get("resource") == "configmaps"
            for r in server.received
        )
        assert set(server.client_subjects) == {"kube-apiserver"}  # mutual TLS


def test_match_conditions_keep_a_webhook_out(setup: Setup) -> None:
    alice = setup.kubectl_as("alice")
    assert '"gitVersion"' in alice.run("get", "--raw", "/version").stdout
    # guard asks only about resources: a non-resource request never reaches it; opa saw it.
    assert not any("nonResourceAttributes" in r["spec"] for r in setup.guard.received)
    assert any(
        r["spec"].get("nonResourceAttributes", {}).get("path") == "/version"
        for r in setup.opa.received
    )
    # The controllers and the scheduler work all along, and neither service heard of them.
    for server in (setup.guard, setup.opa):
        assert not any(r["spec"]["user"].startswith("system:") for r in server.received)


def test_a_denial_ends_the_chain_with_its_reason(setup: Setup) -> None:
    setup.admin.run(
        "create", "clusterrolebinding", "mallory-admin", "--clusterrole=admin", "--user=mallory"
    )
    mallory = setup.kubectl_as("mallory")
    refused = mallory.run("get", "secrets", "-n", "default", check=False)
    assert refused.returncode != 0
    assert 'User "mallory" cannot list resource "secrets"' in refused.stderr
    assert "no secrets for contractors" in refused.stderr
    can_i = mallory.run("auth", "can-i", "list", "secrets", check=False).stdout
    assert can_i.startswith("no - no secrets for contractors\n")
    assert mallory.run("get", "configmaps", "-n", "default").returncode == 0  # RBAC decides


def test_failure_policy_deny_ends_the_chain_when_the_webhook_fails(setup: Setup) -> None:
    setup.admin.run(
        "create", "rolebinding", "slow-view", "--clusterrole=view", "--user=slow", "-n", "default"
    )
    slow = setup.kubectl_as("slow")
    refused = slow.run("get", "pods", "-n", "default", check=False)
    assert refused.returncode != 0
    # RBAC would allow: guard's failure is a denial, and an undecided request is a 500.
    assert "Internal error occurred" in refused.stderr
    assert sum(r["spec"]["user"] == "slow" for r in setup.guard.received) >= 2  # retried


def test_an_edit_applies_without_a_restart(setup: Setup) -> None:
    alice = setup.kubectl_as("alice")
    assert alice.run("get", "secrets", "-n", "default").returncode == 0  # opa allows
    write_config(setup.config, webhook_entry("guard", setup.guard))  # opa is gone
    deadline = time.monotonic() + 20
    while True:
        result = alice.run("get", "secrets", "-n", "default", check=False)
        if result.returncode != 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert 'User "alice" cannot list resource "secrets"' in result.stderr  # RBAC decides now
    # A broken edit keeps the chain that works.
    setup.config.write_text("kind: AuthorizationConfiguration\n")
    time.sleep(1.0)  # past the file check interval; the answer must not change
    again = alice.run("get", "secrets", "-n", "default", check=False)
    assert 'User "alice" cannot list resource "secrets"' in again.stderr
    assert setup.admin.run("get", "namespaces").returncode == 0
