"""Token authentication by a remote service over mutual TLS (the course's LDAP bridge): kubectl
with a token the bridge knows, RBAC on the groups it gives, refusals, TokenReview, the cache."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_runner import Kubectl
from webhook_server import WebhookServer, running_webhook

from kubeward.authn.factory import TokenWebhookSettings
from kubeward.testing import running_cluster
from kubeward.webhook_calls import Backoff

DIRECTORY = {
    "ldap-alice-0001": {"username": "alice", "uid": "1001", "groups": ["developers"]},
    "ldap-bob-0002": {"username": "bob", "uid": "1002", "groups": ["auditors"]},
    "ldap-carol-0003": {"username": "carol", "uid": "1003", "groups": ["auditors"]},
}


def bridge(review: dict[str, Any]) -> dict[str, Any] | float:
    token = review["spec"]["token"]
    if token == "ldap-locked":
        status: dict[str, Any] = {"authenticated": False, "error": "account locked in LDAP"}
    elif token in DIRECTORY:
        status = {"authenticated": True, "user": DIRECTORY[token]}
    else:
        status = {"authenticated": False}
    return {"apiVersion": review["apiVersion"], "kind": "TokenReview", "status": status}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, WebhookServer, Path]]:
    base = tmp_path_factory.mktemp("token-webhook")
    with running_webhook(base / "bridge", "/authenticate", bridge) as webhook:
        settings = TokenWebhookSettings(
            version="v1", timeout=2.0, backoff=Backoff(initial=0.05, attempts=2)
        )
        with running_cluster(
            server_options={
                "authentication_token_webhook_config_file": webhook.kubeconfig,
                "authentication_token_webhook": settings,
            }
        ) as cluster:
            admin = Kubectl(cluster.admin_kubeconfig, base / "home-admin")
            admin.run(
                "create",
                "rolebinding",
                "devs",
                "--clusterrole=edit",
                "--group=developers",
                "-n",
                "default",
            )
            yield cluster, webhook, base


def with_token(setup: tuple[Any, WebhookServer, Path], token: str) -> Kubectl:
    cluster, _, base = setup
    home = base / f"home-{token}"
    kubeconfig = base / f"{token}.conf"
    admin = Kubectl(cluster.admin_kubeconfig, home)
    view = admin.run("config", "view", "--raw", "--minify", "-o", "json").stdout
    doc = json.loads(view)
    doc["users"] = [{"name": "ldap", "user": {"token": token}}]
    doc["contexts"][0]["context"]["user"] = "ldap"
    kubeconfig.write_text(json.dumps(doc))
    return Kubectl(kubeconfig, home)


def test_a_token_the_bridge_knows_logs_in_with_its_groups(setup: Any) -> None:
    alice = with_token(setup, "ldap-alice-0001")
    whoami = json.loads(alice.run("auth", "whoami", "-o", "json").stdout)
    assert whoami["status"]["userInfo"] == {
        "username": "alice",
        "uid": "1001",
        "groups": ["developers", "system:authenticated"],
    }
    alice.run("create", "configmap", "from-ldap", "-n", "default", "--from-literal=k=v")
    refused = with_token(setup, "ldap-bob-0002").run(
        "get", "configmaps", "-n", "default", check=False
    )
    assert 'User "bob" cannot list resource "configmaps"' in refused.stderr


@pytest.mark.parametrize("token", ["ldap-locked", "not-in-ldap"])
def test_refused_tokens_are_401(setup: Any, token: str) -> None:
    refused = with_token(setup, token).run("get", "pods", check=False)
    assert refused.returncode != 0
    assert "You must be logged in to the server" in refused.stderr


def test_token_review_reports_the_bridges_user_and_the_cache_holds(setup: Any) -> None:
    cluster, webhook, base = setup
    admin = Kubectl(cluster.admin_kubeconfig, base / "home-admin")
    review = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": "ldap-carol-0003"},
    }
    before = len(webhook.received)
    for _ in range(2):
        answer = json.loads(
            admin.run("create", "-f", "-", "-o", "json", input=json.dumps(review)).stdout
        )
        assert answer["status"]["authenticated"] is True
        assert answer["status"]["user"]["username"] == "carol"
    assert len(webhook.received) == before + 1  # the second review was answered from the cache
    assert set(webhook.client_subjects) == {"kube-apiserver"}
