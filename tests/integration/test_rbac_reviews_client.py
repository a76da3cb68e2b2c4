"""Access reviews through the official Python client, and the bootstrap policy across restarts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from kubeward.server.wiring.rbac_wiring import reconcile_bootstrap_policy
from kubeward.testing import running_cluster


def eventually(check: Callable[[], Any], attempts: int = 100) -> Any:
    for _ in range(attempts - 1):
        try:
            return check()
        except AssertionError:
            time.sleep(0.1)
    return check()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_cluster(data_dir=tmp_path_factory.mktemp("reviews")) as running:
        yield running


@pytest.fixture(scope="module")
def api_client(cluster: Any) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(cluster.admin_kubeconfig))
    yield api
    api.close()


@pytest.fixture(scope="module")
def authz(api_client: client.ApiClient) -> client.AuthorizationV1Api:
    return client.AuthorizationV1Api(api_client)


@pytest.fixture(scope="module")
def rbac(api_client: client.ApiClient) -> client.RbacAuthorizationV1Api:
    return client.RbacAuthorizationV1Api(api_client)


def sar(
    user: str = "", groups: list[str] | None = None, **attributes: str
) -> client.V1SubjectAccessReview:
    resource = client.V1ResourceAttributes(**attributes) if "path" not in attributes else None
    non_resource = client.V1NonResourceAttributes(**attributes) if "path" in attributes else None
    return client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(
            user=user or None,
            groups=groups,
            resource_attributes=resource,
            non_resource_attributes=non_resource,
        )
    )


@pytest.mark.parametrize(
    ("user", "groups", "attributes", "allowed"),
    [
        ("jane", None, {"verb": "list", "resource": "pods", "namespace": "default"}, False),
        (
            "jane",
            ["system:masters"],
            {"verb": "list", "resource": "pods", "namespace": "default"},
            True,
        ),
        (
            "jane",
            ["system:authenticated"],
            {
                "verb": "create",
                "resource": "selfsubjectaccessreviews",
                "group": "authorization.k8s.io",
            },
            True,
        ),
        ("", ["system:unauthenticated"], {"verb": "get", "path": "/version"}, True),
        ("", ["system:unauthenticated"], {"verb": "get", "path": "/api"}, False),
        (
            "system:kube-scheduler",
            None,
            {
                "verb": "create",
                "resource": "pods",
                "subresource": "binding",
                "namespace": "default",
            },
            True,
        ),
    ],
    ids=[
        "no-binding",
        "system-masters",
        "basic-user",
        "public-info",
        "discovery-needs-auth",
        "scheduler",
    ],
)
def test_subject_access_review(
    authz: client.AuthorizationV1Api,
    user: str,
    groups: list[str] | None,
    attributes: dict[str, str],
    allowed: bool,
) -> None:
    answer = authz.create_subject_access_review(sar(user, groups, **attributes))
    assert answer.status.allowed is allowed
    assert answer.spec.user == (user or None)
    if not allowed:
        assert answer.status.reason.startswith("RBAC: no rule allows")


def test_subject_access_review_needs_a_user_or_group(authz: client.AuthorizationV1Api) -> None:
    with pytest.raises(ApiException) as caught:
        authz.create_subject_access_review(sar(verb="get", resource="pods"))
    assert caught.value.status == 422
    assert "spec.user: at least one of user or group must be specified" in caught.value.body


def test_local_subject_access_review_is_bound_to_its_namespace(
    authz: client.AuthorizationV1Api, rbac: client.RbacAuthorizationV1Api
) -> None:
    rbac.create_namespaced_role_binding(
        "kube-public",
        client.V1RoleBinding(
            metadata=client.V1ObjectMeta(name="lsar-view"),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="view"
            ),
            subjects=[
                client.RbacV1Subject(
                    kind="User", name="lsar-user", api_group="rbac.authorization.k8s.io"
                )
            ],
        ),
    )

    def review(namespace: str) -> bool:
        body = client.V1LocalSubjectAccessReview(
            spec=client.V1SubjectAccessReviewSpec(
                user="lsar-user",
                resource_attributes=client.V1ResourceAttributes(verb="list", resource="pods"),
            )
        )
        answer = authz.create_namespaced_local_subject_access_review(namespace, body)
        assert answer.spec.resource_attributes.namespace == namespace
        return bool(answer.status.allowed)

    def check() -> None:
        assert review("kube-public") is True

    eventually(check)
    assert review("default") is False
    with pytest.raises(ApiException) as caught:
        authz.create_namespaced_local_subject_access_review(
            "default",
            client.V1LocalSubjectAccessReview(
                spec=client.V1SubjectAccessReviewSpec(
                    user="lsar-user",
                    resource_attributes=client.V1ResourceAttributes(
                        verb="list", resource="pods", namespace="kube-public"
                    ),
                )
            ),
        )
    assert caught.value.status == 422
    assert "must match metadata.namespace" in caught.value.body


def test_self_reviews_answer_for_the_caller(authz: client.AuthorizationV1Api) -> None:
    answer = authz.create_self_subject_access_review(
        client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(verb="delete", resource="nodes")
            )
        )
    )
    assert answer.status.allowed is True
    assert 'ClusterRoleBinding "kubeadm:cluster-admins"' in answer.status.reason
    rules = authz.create_self_subject_rules_review(
        client.V1SelfSubjectRulesReview(
            spec=client.V1SelfSubjectRulesReviewSpec(namespace="default")
        )
    )
    assert rules.status.incomplete is False
    assert any(r.verbs == ["*"] and r.resources == ["*"] for r in rules.status.resource_rules)
    assert any(r.non_resource_urls == ["*"] for r in rules.status.non_resource_rules)
    with pytest.raises(ApiException) as caught:
        authz.create_self_subject_access_review(
            client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec())
        )
    assert caught.value.status == 422
    assert (
        "exactly one of nonResourceAttributes or resourceAttributes must be specified"
        in caught.value.body
    )


def test_bootstrap_policy_is_reconciled_honouring_autoupdate(
    cluster: Any, rbac: client.RbacAuthorizationV1Api
) -> None:
    # A protected role keeps its edits; an unprotected one gets its rules back; a deleted one returns.
    rbac.patch_cluster_role(
        "system:discovery",
        {
            "metadata": {"annotations": {"rbac.authorization.kubernetes.io/autoupdate": "false"}},
            "rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}],
        },
    )
    rbac.patch_cluster_role(
        "system:public-info-viewer", {"rules": [{"nonResourceURLs": ["/livez"], "verbs": ["get"]}]}
    )
    rbac.delete_cluster_role("system:auth-delegator")
    rbac.patch_cluster_role_binding("system:basic-user", {"subjects": []})
    running = cluster._running
    written = asyncio.run_coroutine_threadsafe(
        reconcile_bootstrap_policy(running.server.stores), cluster._loop
    ).result(timeout=30)
    assert written == 3
    discovery = rbac.read_cluster_role("system:discovery")
    assert [r.non_resource_urls for r in discovery.rules] == [["/healthz"]]
    public = rbac.read_cluster_role("system:public-info-viewer")
    urls = {url for rule in public.rules for url in rule.non_resource_urls}
    assert {"/livez", "/version", "/healthz", "/readyz"} <= urls
    assert rbac.read_cluster_role("system:auth-delegator").rules
    subjects = rbac.read_cluster_role_binding("system:basic-user").subjects
    assert [(s.kind, s.name) for s in subjects] == [("Group", "system:authenticated")]
