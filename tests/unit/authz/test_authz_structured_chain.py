"""The --authorization-config chain against fake webhook transports: order, several webhooks,
match conditions, failure policies, and reloads that keep RBAC's index and Node's graph."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import Attributes, AuthzResult, Decision
from kubeward.authz.structured import ConfiguredAuthorizer, StructuredOptions
from kubeward.authz.webhook import Backoff
from kubeward.errors import InputError, ServiceUnavailable, StatusError

JANE = UserInfo("jane", groups=("dev", "system:authenticated"))
ADMIN = UserInfo("admin", groups=("system:authenticated",))
LIST_PODS = Attributes(user=JANE, verb="list", namespace="ns", api_version="v1", resource="pods")
HEALTH = Attributes(user=JANE, verb="get", resource_request=False, path="/healthz")


class FakeTransport:
    def __init__(self, server: str, reply: dict[str, Any] | StatusError) -> None:
        self.server = server
        self.reply = reply
        self.sent: list[dict[str, Any]] = []

    async def post_review(self, review: dict[str, Any], timeout: float) -> dict[str, Any]:
        self.sent.append(review)
        if isinstance(self.reply, StatusError):
            raise self.reply
        return {
            "apiVersion": review["apiVersion"],
            "kind": "SubjectAccessReview",
            "status": self.reply,
        }


class Transports:
    """One fake per kubeconfig path, as the server's wiring makes one client per webhook."""

    def __init__(self, replies: dict[str, dict[str, Any] | StatusError]) -> None:
        self.replies = replies
        self.made: dict[str, FakeTransport] = {}

    def __call__(self, path: Path) -> FakeTransport:
        transport = FakeTransport(path.name, self.replies[path.name])
        self.made[path.name] = transport
        return transport


def webhook(tmp: Path, name: str, **fields: Any) -> dict[str, Any]:
    kubeconfig = tmp / name
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    spec: dict[str, Any] = {
        "timeout": "1s",
        "subjectAccessReviewVersion": "v1",
        "failurePolicy": "NoOpinion",
        "connectionInfo": {"type": "KubeConfigFile", "kubeConfigFile": str(kubeconfig)},
    }
    spec.update(fields)
    return {"type": "Webhook", "name": name, "webhook": spec}


def write(path: Path, *authorizers: dict[str, Any]) -> None:
    """Replace the file (a new inode, as an editor's save or a ConfigMap update does)."""
    text = yaml.safe_dump(
        {
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "AuthorizationConfiguration",
            "authorizers": list(authorizers),
        }
    )
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def chain(path: Path, transports: Transports, world: Any = None) -> ConfiguredAuthorizer:
    options = StructuredOptions(path, transports, Backoff(initial=0.0, attempts=1), None, 0.0)
    return ConfiguredAuthorizer(options, rbac_index=world.index if world else None)


def grant_jane(world: Any) -> None:
    world.role("ns", "pod-lister", world.rule("list", "pods"))
    world.role_binding("ns", "jane-lists", "Role", "pod-lister", world.user("jane"))


def decide(authorizer: ConfiguredAuthorizer, attributes: Attributes = LIST_PODS) -> AuthzResult:
    return asyncio.run(authorizer.authorize_async(attributes))


def test_webhooks_are_asked_in_order_each_with_its_own_client(tmp_path: Path) -> None:
    transports = Transports({"first": {}, "second": {"allowed": True, "reason": "team policy"}})
    path = tmp_path / "authz.yaml"
    write(path, webhook(tmp_path, "first"), webhook(tmp_path, "second"))
    result = decide(chain(path, transports))
    assert (result.decision, result.reason, result.authorizer) == (
        Decision.ALLOW,
        "team policy",
        "second",
    )
    assert len(transports.made["first"].sent) == len(transports.made["second"].sent) == 1


def test_a_false_match_condition_skips_the_webhook(tmp_path: Path) -> None:
    transports = Transports({"opa": {"allowed": True}})
    path = tmp_path / "authz.yaml"
    only_resources = {
        "matchConditionSubjectAccessReviewVersion": "v1",
        "matchConditions": [
            {"expression": "has(request.resourceAttributes)"},
            {"expression": "request.resourceAttributes.namespace != 'kube-system'"},
            {"expression": "'dev' in request.groups"},
        ],
    }
    write(path, webhook(tmp_path, "opa", **only_resources))
    authorizer = chain(path, transports)
    assert decide(authorizer).decision is Decision.ALLOW
    assert decide(authorizer, HEALTH).decision is Decision.NO_OPINION
    system = Attributes(user=JANE, verb="get", namespace="kube-system", resource="pods")
    assert decide(authorizer, system).decision is Decision.NO_OPINION
    stranger = Attributes(user=ADMIN, verb="list", namespace="ns", resource="pods")
    assert decide(authorizer, stranger).decision is Decision.NO_OPINION
    assert len(transports.made["opa"].sent) == 1  # only the matching request reached it


@pytest.mark.parametrize(
    ("policy", "decision"), [("NoOpinion", Decision.NO_OPINION), ("Deny", Decision.DENY)]
)
def test_a_failing_webhook_answers_its_failure_policy(
    tmp_path: Path, policy: str, decision: Decision, world: Any
) -> None:
    transports = Transports({"down": ServiceUnavailable("connect: connection refused")})
    path = tmp_path / "authz.yaml"
    grant_jane(world)
    write(path, webhook(tmp_path, "down", failurePolicy=policy), {"type": "RBAC", "name": "rbac"})
    result = decide(chain(path, transports, world))
    if decision is Decision.DENY:
        assert (result.decision, result.authorizer) == (Decision.DENY, "down")
        assert result.error == "down: connect: connection refused"  # the request is a 500
    else:
        assert result.decision is Decision.ALLOW  # no opinion: RBAC decided


@pytest.mark.parametrize(
    ("policy", "decision"), [("NoOpinion", Decision.NO_OPINION), ("Deny", Decision.DENY)]
)
def test_a_condition_that_cannot_be_evaluated_answers_the_failure_policy(
    tmp_path: Path, policy: str, decision: Decision
) -> None:
    transports = Transports({"opa": {"allowed": True}})
    path = tmp_path / "authz.yaml"
    broken = {
        "failurePolicy": policy,
        "matchConditionSubjectAccessReviewVersion": "v1",
        "matchConditions": [{"expression": "request.resourceAttributes.name == 'x'"}],
    }
    write(path, webhook(tmp_path, "opa", **broken))
    result = decide(chain(path, transports))  # a list has no name: no such key
    assert result.decision is decision
    assert result.error == (
        "cel evaluation error: expression 'request.resourceAttributes.name == 'x'' resulted in"
        " error: no such key: name"
    )
    assert transports.made["opa"].sent == []


def test_an_edit_is_applied_and_rbac_keeps_its_index(tmp_path: Path, world: Any) -> None:
    transports = Transports({"opa": {"allowed": False, "denied": True, "reason": "frozen"}})
    path = tmp_path / "authz.yaml"
    grant_jane(world)
    write(path, {"type": "RBAC", "name": "rbac"})
    authorizer = chain(path, transports, world)
    rbac = authorizer.rbac
    assert decide(authorizer).decision is Decision.ALLOW
    write(path, webhook(tmp_path, "opa"), {"type": "RBAC", "name": "rbac"})
    result = decide(authorizer)
    assert (result.decision, result.reason) == (Decision.DENY, "frozen")
    assert authorizer.names == ("opa", "rbac")
    assert authorizer.rbac is rbac and rbac is not None and rbac.index is world.index


def test_a_bad_edit_keeps_the_previous_chain(
    tmp_path: Path, world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "authz.yaml"
    write(path, {"type": "AlwaysDeny", "name": "alwaysdeny"})
    authorizer = chain(path, Transports({}), world)
    path.write_text("kind: AuthorizationConfiguration\napiVersion: apiserver.config.k8s.io/v1\n")
    assert decide(authorizer).reason == "Everything is forbidden."  # still AlwaysDeny
    assert "at least one authorization mode must be defined" in caplog.text
    # Node was not in the first file: it cannot be added by a reload (as upstream).
    write(path, {"type": "Node", "name": "node"})
    assert decide(authorizer).reason == "Everything is forbidden."
    assert authorizer.names == ("alwaysdeny",)
    assert (
        "authorizer type Node is not allowed if it was not enabled at initial server startup"
        in (caplog.text)
    )


def test_a_bad_file_at_start_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "authz.yaml"
    write(path, {"type": "RBAC", "name": "kube-rbac"})
    with pytest.raises(
        InputError, match="expected name rbac for authorizer RBAC instead of kube-rbac"
    ):
        chain(path, Transports({}))


def test_in_cluster_config_cannot_be_built(tmp_path: Path) -> None:
    path = tmp_path / "authz.yaml"
    write(path, webhook(tmp_path, "w", connectionInfo={"type": "InClusterConfig"}))
    with pytest.raises(InputError, match="authorizer w: connectionInfo type InClusterConfig"):
        chain(path, Transports({}))


def test_system_masters_comes_first(tmp_path: Path) -> None:
    path = tmp_path / "authz.yaml"
    write(path, {"type": "AlwaysDeny", "name": "alwaysdeny"})
    root = Attributes(user=UserInfo("root", groups=("system:masters",)), verb="delete")
    assert decide(chain(path, Transports({})), root).decision is Decision.ALLOW


def test_cached_answers_and_a_zero_ttl(tmp_path: Path) -> None:
    transports = Transports({"cached": {"allowed": True}, "fresh": {"allowed": True}})
    path = tmp_path / "authz.yaml"
    write(path, webhook(tmp_path, "cached"))
    authorizer = chain(path, transports)
    decide(authorizer)
    decide(authorizer)
    assert len(transports.made["cached"].sent) == 1
    write(path, webhook(tmp_path, "fresh", authorizedTTL="0s"))
    with pytest.raises(InputError, match=r"authorizers\[0\].authorizedTTL: Required value"):
        chain(path, transports)


def test_abac_reads_the_policy_file_flag(tmp_path: Path) -> None:
    policy = tmp_path / "policy.jsonl"
    policy.write_text(
        '{"apiVersion": "abac.authorization.kubernetes.io/v1beta1", "kind": "Policy",'
        ' "spec": {"user": "jane", "namespace": "*", "resource": "*", "apiGroup": "*"}}\n'
    )
    path = tmp_path / "authz.yaml"
    write(path, {"type": "ABAC", "name": "abac"})
    options = StructuredOptions(path, Transports({}), policy_file=policy)
    authorizer = ConfiguredAuthorizer(options)
    assert authorizer.abac is not None
    assert decide(authorizer).decision is Decision.ALLOW
    with pytest.raises(InputError, match="authorizer type ABAC needs --authorization-policy-file"):
        ConfiguredAuthorizer(StructuredOptions(path, Transports({})))
