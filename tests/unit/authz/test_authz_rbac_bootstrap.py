"""The default policy: names, marks, what it grants, and its reconciliation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeward.api.user import UserInfo
from kubeward.api.validation.rbac import (
    validate_cluster_role,
    validate_cluster_role_binding,
    validate_role,
    validate_role_binding,
)
from kubeward.authz.interfaces import Attributes, Decision
from kubeward.authz.modes import build_authorizer
from kubeward.authz.rbac.aggregation import aggregate_cluster_roles
from kubeward.authz.rbac.bootstrap import (
    ReconcileOperation,
    bootstrap_objects,
    cluster_role_bindings,
    cluster_roles,
    reconcile,
)
from kubeward.authz.rbac.index import RBACIndex

REQUIRED_ROLES = [
    "cluster-admin",
    "admin",
    "edit",
    "view",
    "system:aggregate-to-admin",
    "system:aggregate-to-edit",
    "system:aggregate-to-view",
    "system:basic-user",
    "system:discovery",
    "system:public-info-viewer",
    "system:node",
    "system:node-proxier",
    "system:kube-scheduler",
    "system:kube-controller-manager",
    "system:auth-delegator",
    "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
    "system:certificates.k8s.io:kube-apiserver-client-approver",
    "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
    "system:certificates.k8s.io:kubelet-serving-approver",
    "system:certificates.k8s.io:legacy-unknown-approver",
]


def test_default_cluster_roles_are_there_with_their_marks() -> None:
    roles = {r["metadata"]["name"]: r for r in cluster_roles()}
    for name in REQUIRED_ROLES:
        meta = roles[name]["metadata"]
        assert meta["labels"]["kubernetes.io/bootstrapping"] == "rbac-defaults"
        assert meta["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] == "true"
    assert (
        roles["view"]["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    )
    assert roles["admin"]["aggregationRule"] == {
        "clusterRoleSelectors": [
            {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}}
        ]
    }


def test_every_default_object_passes_kubernetes_validation() -> None:
    validators = {
        "Role": validate_role,
        "ClusterRole": validate_cluster_role,
        "RoleBinding": validate_role_binding,
        "ClusterRoleBinding": validate_cluster_role_binding,
    }
    for obj in bootstrap_objects():
        assert validators[obj["kind"]](obj) == [], obj["metadata"]["name"]


def test_bootstrap_builders_return_fresh_copies() -> None:
    first = cluster_role_bindings()
    first[0]["subjects"].clear()
    assert cluster_role_bindings()[0]["subjects"]


@pytest.fixture(scope="module")
def chain() -> Any:
    objects = bootstrap_objects()
    aggregated = aggregate_cluster_roles([o for o in objects if o["kind"] == "ClusterRole"])
    index = RBACIndex()
    for obj in objects:
        if obj["kind"] == "ClusterRole" and obj["metadata"]["name"] in aggregated:
            obj = {**obj, "rules": aggregated[obj["metadata"]["name"]]}
        index.apply("ADDED", obj)
    return build_authorizer(["RBAC"], rbac_index=index)


ANONYMOUS = UserInfo("system:anonymous", groups=("system:unauthenticated",))
JANE = UserInfo("jane", groups=("system:authenticated",))


def path(user: UserInfo, p: str) -> Attributes:
    return Attributes(user, "get", resource_request=False, path=p)


GRANTS = [
    ("anonymous-healthz", path(ANONYMOUS, "/healthz"), Decision.ALLOW),
    ("anonymous-version", path(ANONYMOUS, "/version"), Decision.ALLOW),
    ("anonymous-livez", path(ANONYMOUS, "/livez"), Decision.ALLOW),
    ("anonymous-readyz", path(ANONYMOUS, "/readyz"), Decision.ALLOW),
    ("anonymous-no-discovery", path(ANONYMOUS, "/api"), Decision.NO_OPINION),
    ("anonymous-no-apis", path(ANONYMOUS, "/apis/apps"), Decision.NO_OPINION),
    ("anonymous-no-metrics", path(ANONYMOUS, "/metrics"), Decision.NO_OPINION),
    (
        "anonymous-no-pods",
        Attributes(ANONYMOUS, "list", namespace="default", resource="pods"),
        Decision.NO_OPINION,
    ),
    (
        "anonymous-no-self-review",
        Attributes(
            ANONYMOUS,
            "create",
            api_group="authorization.k8s.io",
            resource="selfsubjectaccessreviews",
        ),
        Decision.NO_OPINION,
    ),
    ("authenticated-discovery", path(JANE, "/apis/apps/v1"), Decision.ALLOW),
    (
        "authenticated-self-review",
        Attributes(
            JANE, "create", api_group="authorization.k8s.io", resource="selfsubjectaccessreviews"
        ),
        Decision.ALLOW,
    ),
    (
        "authenticated-self-rules-review",
        Attributes(
            JANE, "create", api_group="authorization.k8s.io", resource="selfsubjectrulesreviews"
        ),
        Decision.ALLOW,
    ),
    (
        "authenticated-no-pods",
        Attributes(JANE, "list", namespace="default", resource="pods"),
        Decision.NO_OPINION,
    ),
    (
        "kubeadm-cluster-admins",
        Attributes(
            UserInfo("kubernetes-admin", groups=("kubeadm:cluster-admins", "system:authenticated")),
            "delete",
            resource="nodes",
            name="n",
        ),
        Decision.ALLOW,
    ),
    (
        "scheduler-binds-pods",
        Attributes(
            UserInfo("system:kube-scheduler"),
            "create",
            namespace="x",
            resource="pods",
            subresource="binding",
            name="p",
        ),
        Decision.ALLOW,
    ),
    (
        "scheduler-no-secrets",
        Attributes(
            UserInfo("system:kube-scheduler"), "get", namespace="x", resource="secrets", name="s"
        ),
        Decision.NO_OPINION,
    ),
    (
        "controller-manager-lists-secrets",
        Attributes(UserInfo("system:kube-controller-manager"), "list", resource="secrets"),
        Decision.ALLOW,
    ),
    (
        "kube-proxy-watches-endpointslices",
        Attributes(
            UserInfo("system:kube-proxy"),
            "watch",
            api_group="discovery.k8s.io",
            resource="endpointslices",
        ),
        Decision.ALLOW,
    ),
    (
        "nodes-group-not-bound-by-rbac",
        Attributes(
            UserInfo("system:node:n1", groups=("system:nodes",)), "get", resource="nodes", name="n1"
        ),
        Decision.NO_OPINION,
    ),
    (
        "service-account-issuer-discovery",
        path(
            UserInfo("system:serviceaccount:a:b", groups=("system:serviceaccounts",)),
            "/openid/v1/jwks",
        ),
        Decision.ALLOW,
    ),
]


@pytest.mark.parametrize(
    ("attributes", "expected"), [g[1:] for g in GRANTS], ids=[g[0] for g in GRANTS]
)
def test_what_the_default_policy_grants(
    chain: Any, attributes: Attributes, expected: Decision
) -> None:
    assert chain.authorize(attributes).decision is expected


def test_admin_bound_in_a_namespace_manages_roles_there(chain: Any) -> None:
    index = chain.rbac.index
    index.apply(
        "ADDED",
        {
            "kind": "RoleBinding",
            "metadata": {"name": "admins", "namespace": "team"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "admin",
            },
            "subjects": [{"kind": "User", "name": "lead", "apiGroup": "rbac.authorization.k8s.io"}],
        },
    )
    lead = UserInfo("lead", groups=("system:authenticated",))
    create_role = Attributes(
        lead, "create", namespace="team", api_group="rbac.authorization.k8s.io", resource="roles"
    )
    assert chain.authorize(create_role).decision is Decision.ALLOW
    assert (
        chain.authorize(
            Attributes(lead, "get", namespace="team", resource="secrets", name="s")
        ).decision
        is Decision.ALLOW
    )
    assert (
        chain.authorize(
            Attributes(lead, "get", namespace="other", resource="secrets", name="s")
        ).decision
        is Decision.NO_OPINION
    )


# --- reconciliation -------------------------------------------------------------------------------

AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"


def role(
    rules: list[dict[str, Any]],
    annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "r"}
    if annotations is not None:
        meta["annotations"] = annotations
    if labels is not None:
        meta["labels"] = labels
    return {"kind": "ClusterRole", "metadata": meta, "rules": rules, **extra}


GET_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
LIST_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}
DESIRED = role(
    [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
    {AUTOUPDATE: "true"},
    {"kubernetes.io/bootstrapping": "rbac-defaults"},
)


def test_missing_object_is_created() -> None:
    result = reconcile(None, DESIRED)
    assert result is not None and result.operation is ReconcileOperation.CREATE
    assert result.object == DESIRED and result.object is not DESIRED


def test_protected_object_is_left_alone() -> None:
    assert reconcile(role([], {AUTOUPDATE: "false"}), DESIRED) is None


def test_missing_permissions_are_appended_broken_down_and_extras_kept() -> None:
    extra = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}
    existing = role(
        [GET_PODS, extra],
        {AUTOUPDATE: "true", "mine": "x"},
        {"kubernetes.io/bootstrapping": "rbac-defaults"},
    )
    result = reconcile(existing, DESIRED)
    assert result is not None and result.operation is ReconcileOperation.UPDATE
    assert result.object["rules"] == [GET_PODS, extra, LIST_PODS]
    assert result.object["metadata"]["annotations"] == {AUTOUPDATE: "true", "mine": "x"}
    assert existing["rules"] == [GET_PODS, extra]


def test_labels_and_annotations_are_added_stored_values_win() -> None:
    existing = role([GET_PODS, LIST_PODS], {AUTOUPDATE: "yes-please"})
    result = reconcile(existing, DESIRED)
    assert result is not None
    assert result.object["metadata"]["annotations"] == {AUTOUPDATE: "yes-please"}
    assert result.object["metadata"]["labels"] == {"kubernetes.io/bootstrapping": "rbac-defaults"}


def test_up_to_date_needs_nothing() -> None:
    assert reconcile(copy.deepcopy(DESIRED), DESIRED) is None


def test_aggregation_rule_reconciled() -> None:
    selector = {"matchLabels": {"a": "true"}}
    desired = role([], {AUTOUPDATE: "true"}, aggregationRule={"clusterRoleSelectors": [selector]})
    existing = role(
        [GET_PODS],
        {AUTOUPDATE: "true"},
        aggregationRule={"clusterRoleSelectors": [{"matchLabels": {"mine": "x"}}]},
    )
    result = reconcile(existing, desired)
    assert result is not None
    assert result.object["aggregationRule"]["clusterRoleSelectors"] == [
        {"matchLabels": {"mine": "x"}},
        selector,
    ]
    assert result.object["rules"] == [GET_PODS]
    dropped = reconcile(existing, role([], {AUTOUPDATE: "true"}))
    assert dropped is not None and "aggregationRule" not in dropped.object


def binding(
    subjects: list[dict[str, str]],
    role_name: str = "view",
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "b", "annotations": annotations or {AUTOUPDATE: "true"}},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": role_name,
        },
        "subjects": subjects,
    }


A = {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "a"}
B = {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "b"}


def test_binding_subjects_are_unioned() -> None:
    result = reconcile(binding([B]), binding([A]))
    assert result is not None and result.operation is ReconcileOperation.UPDATE
    assert result.object["subjects"] == [B, A]
    assert result.missing_subjects == (A,)
    assert reconcile(binding([A, B]), binding([A])) is None


def test_binding_with_other_role_ref_is_recreated() -> None:
    result = reconcile(binding([A], "edit"), binding([A], "view"))
    assert result is not None and result.operation is ReconcileOperation.RECREATE
    assert result.object["roleRef"]["name"] == "view"


def test_protected_binding_keeps_its_subjects() -> None:
    assert reconcile(binding([], annotations={AUTOUPDATE: "false"}), binding([A])) is None
