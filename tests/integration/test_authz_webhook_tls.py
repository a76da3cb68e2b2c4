"""Webhook authorization against a real policy service over mutual TLS: allow, deny with its
reason, no opinion falling through to RBAC, a timeout falling through, the cache observed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_runner import Kubectl
from webhook_server import WebhookServer, running_webhook

from kubeward.authz.modes import Backoff, WebhookSettings
from kubeward.testing import running_cluster


def policy(review: dict[str, Any]) -> dict[str, Any] | float:
    """The remote policy: alice may read anything; mallory never touches secrets; slow stalls."""
    spec = review["spec"]
    attributes = spec.get("resourceAttributes") or {}
    status: dict[str, Any] = {"allowed": False}
    if spec["user"] == "slow":
        return 5.0
    if spec["user"] == "alice" and attributes.get("verb") in ("get", "list", "watch"):
        status = {"allowed": True, "reason": "alice reads everything (policy rule 7)"}
    elif spec["user"] == "mallory" and attributes.get("resource") == "secrets":
        status = {"allowed": False, "denied": True, "reason": "no secrets for contractors"}
    return {"apiVersion": review["apiVersion"], "kind": review["kind"], "status": status}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, WebhookServer, Path]]:
    base = tmp_path_factory.mktemp("authz-webhook")
    with running_webhook(base / "webhook", "/authorize", policy) as webhook:
        settings = WebhookSettings(
            version="v1", timeout=0.5, backoff=Backoff(initial=0.05, attempts=2)
        )
        with running_cluster(
            authorization_mode="Webhook,RBAC",
            server_options={
                "authorization_webhook_config_file": webhook.kubeconfig,
                "authorization_webhook": settings,
            },
        ) as cluster:
            yield cluster, webhook, base


def kubectl_as(setup: tuple[Any, WebhookServer, Path], user: str) -> Kubectl:
    cluster, _, base = setup
    return Kubectl(cluster.kubeconfig_for(user), base / f"home-{user}")


def test_the_webhook_allows_and_sees_the_request_over_mutual_tls(setup: Any) -> None:
    _, webhook, _ = setup
    alice = kubectl_as(setup, "alice")
    assert "kube-root-ca.crt" in alice.run("get", "configmaps", "-n", "kube-public").stdout
    review = next(
        r
        for r in webhook.received
        if r["spec"]["user"] == "alice"
        and r["spec"].get("resourceAttributes", {}).get("resource") == "configmaps"
    )
    assert review["apiVersion"] == "authorization.k8s.io/v1"
    assert review["spec"]["groups"] == ["system:authenticated"]
    assert review["spec"]["resourceAttributes"] == {
        "namespace": "kube-public",
        "verb": "list",
        "version": "v1",
        "resource": "configmaps",
    }
    assert set(webhook.client_subjects) == {"kube-apiserver"}


def test_a_denial_stops_the_chain_with_the_webhooks_reason(setup: Any) -> None:
    cluster, _, _ = setup
    mallory = kubectl_as(setup, "mallory")
    # RBAC would allow mallory: the webhook's deny comes first and decides.
    admin = Kubectl(cluster.admin_kubeconfig, setup[2] / "home-admin")
    admin.run(
        "create",
        "clusterrolebinding",
        "mallory-admin",
        "--clusterrole=cluster-admin",
        "--user=mallory",
    )
    refused = mallory.run("get", "secrets", "-n", "default", check=False)
    assert refused.returncode != 0
    assert 'User "mallory" cannot list resource "secrets"' in refused.stderr
    assert "no secrets for contractors" in refused.stderr
    assert mallory.run("get", "configmaps", "-n", "default").returncode == 0  # no opinion → RBAC


def test_no_opinion_falls_through_to_rbac(setup: Any) -> None:
    cluster, _, _ = setup
    bob = kubectl_as(setup, "bob")
    refused = bob.run("get", "pods", "-n", "default", check=False)
    assert 'User "bob" cannot list resource "pods"' in refused.stderr
    assert cluster.can("bob", "list", "pods", namespace="default") is False
    admin = Kubectl(cluster.admin_kubeconfig, setup[2] / "home-admin")
    admin.run(
        "create", "rolebinding", "bob-view", "--clusterrole=view", "--user=bob", "-n", "default"
    )
    assert bob.run("get", "pods", "-n", "default").returncode == 0


def test_a_timeout_falls_through_and_an_undecided_request_is_a_500(setup: Any) -> None:
    cluster, webhook, _ = setup
    slow = kubectl_as(setup, "slow")
    refused = slow.run("get", "pods", "-n", "default", check=False)
    assert refused.returncode != 0
    assert "Internal error occurred" in refused.stderr  # kube-apiserver's answer, not a 403
    admin = Kubectl(cluster.admin_kubeconfig, setup[2] / "home-admin")
    admin.run(
        "create", "rolebinding", "slow-view", "--clusterrole=view", "--user=slow", "-n", "default"
    )
    assert slow.run("get", "pods", "-n", "default").returncode == 0  # RBAC decides
    assert sum(r["spec"]["user"] == "slow" for r in webhook.received) >= 2  # retried


def test_answers_are_cached(setup: Any) -> None:
    cluster, webhook, _ = setup
    before = len(webhook.received)
    assert cluster.can("alice", "get", "nodes", name="n1") is True
    after_first = len(webhook.received)
    assert after_first == before + 1
    assert cluster.can("alice", "get", "nodes", name="n1") is True
    assert len(webhook.received) == after_first  # the second identical question stayed here
