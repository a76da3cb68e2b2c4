"""FlowSchema matching against Kubernetes' bootstrap configuration, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.api.request_info import parse_request_info
from kubeward.api.user import UserInfo, service_account_groups, service_account_username
from kubeward.server.flowcontrol import FlowControl, bootstrap
from kubeward.server.flowcontrol.classifier import (
    non_resource_rule_matches,
    ordered,
    resource_rule_matches,
)
from kubeward.server.flowcontrol.config import (
    FlowSchema,
    NonResourceRule,
    ResourceRule,
    concurrency_limits,
    flow_schema_from_object,
    priority_level_from_object,
)

AUTH = "system:authenticated"


def user(name: str, *groups: str) -> UserInfo:
    return UserInfo(name, groups=(*groups, AUTH))


def service_account(namespace: str, name: str) -> UserInfo:
    return UserInfo(
        service_account_username(namespace, name),
        groups=(*service_account_groups(namespace), AUTH),
    )


ANONYMOUS = UserInfo("system:anonymous", groups=("system:unauthenticated",))
ADMIN = user("kubernetes-admin", "kubeadm:cluster-admins")
MASTER = user("root", "system:masters")
NODE = user("system:node:n1", "system:nodes")
KCM = user("system:kube-controller-manager")
SCHEDULER = user("system:kube-scheduler")

# (user, method, path, query) -> (FlowSchema, priority level, flow distinguisher)
CASES: list[tuple[str, UserInfo, str, str, dict[str, str], tuple[str, str, str]]] = [
    ("masters-anything", MASTER, "DELETE", "/api/v1/namespaces/x", {}, ("exempt", "exempt", "")),
    ("masters-nonresource", MASTER, "GET", "/metrics", {}, ("exempt", "exempt", "")),
    ("anonymous-readyz", ANONYMOUS, "GET", "/readyz", {}, ("probes", "exempt", "")),
    ("admin-livez", ADMIN, "GET", "/livez", {}, ("probes", "exempt", "")),
    (
        "probes-are-get-only",
        ANONYMOUS,
        "POST",
        "/healthz",
        {},
        ("global-default", "global-default", "system:anonymous"),
    ),
    (
        "anonymous-version",
        ANONYMOUS,
        "GET",
        "/version",
        {},
        ("global-default", "global-default", "system:anonymous"),
    ),
    (
        "kubeadm-admin",
        ADMIN,
        "GET",
        "/api/v1/namespaces/default/pods",
        {},
        ("global-default", "global-default", "kubernetes-admin"),
    ),
    (
        "service-account",
        service_account("team", "app"),
        "POST",
        "/api/v1/namespaces/team/configmaps",
        {},
        ("service-accounts", "workload-low", "system:serviceaccount:team:app"),
    ),
    (
        "kube-system-service-account",
        service_account("kube-system", "replicaset-controller"),
        "GET",
        "/apis/apps/v1/namespaces/web/replicasets",
        {},
        ("kube-system-service-accounts", "workload-high", "web"),
    ),
    (
        "kube-system-sa-leader-election",
        service_account("kube-system", "x"),
        "PUT",
        "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x",
        {},
        ("system-leader-election", "leader-election", "system:serviceaccount:kube-system:x"),
    ),
    (
        "kcm-configmap-lock",
        KCM,
        "GET",
        "/api/v1/namespaces/kube-system/configmaps/lock",
        {},
        ("system-leader-election", "leader-election", "system:kube-controller-manager"),
    ),
    (
        "kcm-endpoints",
        KCM,
        "PUT",
        "/api/v1/namespaces/web/endpoints/svc",
        {},
        ("endpoint-controller", "workload-high", "system:kube-controller-manager"),
    ),
    (
        "kcm-list-pods",
        KCM,
        "GET",
        "/api/v1/namespaces/web/pods",
        {},
        ("kube-controller-manager", "workload-high", "web"),
    ),
    (
        "kcm-cluster-scoped",
        KCM,
        "GET",
        "/api/v1/nodes",
        {},
        ("kube-controller-manager", "workload-high", ""),
    ),
    (
        "scheduler-binding",
        SCHEDULER,
        "POST",
        "/api/v1/namespaces/web/pods/p/binding",
        {},
        ("kube-scheduler", "workload-high", "web"),
    ),
    (
        "node-status",
        NODE,
        "PATCH",
        "/api/v1/nodes/n1/status",
        {},
        ("system-node-high", "node-high", "system:node:n1"),
    ),
    (
        "node-lease",
        NODE,
        "PUT",
        "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1",
        {},
        ("system-node-high", "node-high", "system:node:n1"),
    ),
    (
        "node-pods",
        NODE,
        "GET",
        "/api/v1/pods",
        {"fieldSelector": "spec.nodeName=n1"},
        ("system-nodes", "system", "system:node:n1"),
    ),
    (
        "node-watch",
        NODE,
        "GET",
        "/api/v1/namespaces/a/secrets",
        {"watch": "true"},
        ("system-nodes", "system", "system:node:n1"),
    ),
]


@pytest.fixture(scope="module")
def flow_control() -> FlowControl:
    return FlowControl(600)


@pytest.mark.parametrize(
    ("who", "method", "path", "query", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bootstrap_classification(
    flow_control: FlowControl,
    who: UserInfo,
    method: str,
    path: str,
    query: dict[str, str],
    expected: tuple[str, str, str],
) -> None:
    found = flow_control.classify(who, parse_request_info(method, path, query))
    assert (found.schema.name, found.level.name, found.flow) == expected
    assert found.exempt is (expected[1] == "exempt")


def test_bootstrap_names_and_precedences_are_upstreams() -> None:
    schemas = {s.name: s for s in map(flow_schema_from_object, bootstrap.flow_schemas())}
    assert {name: s.matching_precedence for name, s in schemas.items()} == {
        "exempt": 1,
        "probes": 2,
        "system-leader-election": 100,
        "endpoint-controller": 150,
        "workload-leader-election": 200,
        "system-node-high": 400,
        "system-nodes": 500,
        "kube-controller-manager": 800,
        "kube-scheduler": 800,
        "kube-system-service-accounts": 900,
        "service-accounts": 9000,
        "global-default": 9900,
        "catch-all": 10000,
    }
    levels = {p.name: p for p in map(priority_level_from_object, bootstrap.priority_levels())}
    shape = {
        name: (p.exempt, p.shares, p.reject, p.queues, p.hand_size, p.queue_length_limit)
        for name, p in levels.items()
    }
    assert shape == {
        "exempt": (True, 0, False, 0, 0, 0),
        "catch-all": (False, 5, True, 0, 0, 0),
        "system": (False, 30, False, 64, 6, 50),
        "node-high": (False, 40, False, 64, 6, 50),
        "leader-election": (False, 10, False, 16, 4, 50),
        "workload-high": (False, 40, False, 128, 6, 50),
        "workload-low": (False, 100, False, 128, 6, 50),
        "global-default": (False, 20, False, 128, 6, 50),
    }


def test_concurrency_shares_of_the_default_server_limit() -> None:
    levels = [priority_level_from_object(o) for o in bootstrap.priority_levels()]
    # 400 + 200 seats shared by 245 nominal shares, rounded up as upstream rounds.
    assert concurrency_limits(levels, 600) == {
        "catch-all": 13,
        "system": 74,
        "node-high": 98,
        "leader-election": 25,
        "workload-high": 98,
        "workload-low": 245,
        "global-default": 49,
    }
    assert min(concurrency_limits(levels, 3).values()) == 1


def test_ties_in_precedence_go_by_name() -> None:
    first = FlowSchema("b", "x", 5)
    second = FlowSchema("a", "x", 5)
    assert [s.name for s in ordered([FlowSchema("c", "x", 1), first, second])] == ["c", "a", "b"]


RESOURCE_RULES = [
    (
        "subresource-listed",
        ResourceRule(("*",), ("",), ("nodes/status",), (), True),
        "PATCH",
        "/api/v1/nodes/n/status",
        True,
    ),
    (
        "subresource-not-resource",
        ResourceRule(("*",), ("",), ("nodes",), (), True),
        "PATCH",
        "/api/v1/nodes/n/status",
        False,
    ),
    (
        "cluster-scope-needed",
        ResourceRule(("*",), ("*",), ("*",), ("*",), False),
        "GET",
        "/api/v1/nodes",
        False,
    ),
    (
        "namespace-listed",
        ResourceRule(("get",), ("",), ("pods",), ("a",), False),
        "GET",
        "/api/v1/namespaces/a/pods/p",
        True,
    ),
    (
        "namespace-other",
        ResourceRule(("get",), ("",), ("pods",), ("a",), False),
        "GET",
        "/api/v1/namespaces/b/pods/p",
        False,
    ),
    (
        "verb-other",
        ResourceRule(("get",), ("",), ("pods",), ("*",), False),
        "DELETE",
        "/api/v1/namespaces/a/pods/p",
        False,
    ),
    (
        "group-other",
        ResourceRule(("*",), ("apps",), ("*",), ("*",), False),
        "GET",
        "/api/v1/namespaces/a/pods",
        False,
    ),
]


@pytest.mark.parametrize(
    ("rule", "method", "path", "matches"),
    [case[1:] for case in RESOURCE_RULES],
    ids=[case[0] for case in RESOURCE_RULES],
)
def test_resource_rules(rule: ResourceRule, method: str, path: str, matches: bool) -> None:
    assert resource_rule_matches(rule, parse_request_info(method, path, {})) is matches


NON_RESOURCE_RULES = [
    ("exact", ("get",), ("/healthz",), "/healthz", True),
    ("exact-other", ("get",), ("/healthz",), "/healthz/etcd", False),
    ("prefix", ("get",), ("/healthz/*",), "/healthz/etcd", True),
    ("star", ("*",), ("*",), "/anything", True),
    ("verb", ("post",), ("*",), "/anything", False),
]


@pytest.mark.parametrize(
    ("verbs", "urls", "path", "matches"),
    [case[1:] for case in NON_RESOURCE_RULES],
    ids=[case[0] for case in NON_RESOURCE_RULES],
)
def test_non_resource_rules(
    verbs: tuple[str, ...], urls: tuple[str, ...], path: str, matches: bool
) -> None:
    rule = NonResourceRule(verbs, urls)
    assert non_resource_rule_matches(rule, parse_request_info("GET", path, {})) is matches


def _schema(name: str, level: str, precedence: int, username: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "uid": f"uid-{name}"},
        "spec": {
            "priorityLevelConfiguration": {"name": level},
            "matchingPrecedence": precedence,
            "distinguisherMethod": {"type": "ByUser"},
            "rules": [
                {
                    "subjects": [{"kind": "User", "user": {"name": username}}],
                    "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                }
            ],
        },
    }


def test_configuration_changes_apply_to_the_next_classification() -> None:
    flow_control = FlowControl(600)
    info = parse_request_info("GET", "/version", {})
    assert flow_control.classify(ADMIN, info).schema.name == "global-default"
    schemas = [*bootstrap.flow_schemas(), _schema("admins", "workload-high", 50, ADMIN.name)]
    flow_control.configure(schemas, bootstrap.priority_levels())
    found = flow_control.classify(ADMIN, info)
    assert (found.schema.name, found.level.name, found.schema.uid) == (
        "admins",
        "workload-high",
        "uid-admins",
    )


def test_a_dangling_schema_is_skipped() -> None:
    flow_control = FlowControl(600)
    schemas = [*bootstrap.flow_schemas(), _schema("lost", "no-such-level", 50, ADMIN.name)]
    flow_control.configure(schemas, bootstrap.priority_levels())
    info = parse_request_info("GET", "/version", {})
    assert flow_control.classify(ADMIN, info).schema.name == "global-default"


def test_mandatory_objects_stand_in_when_deleted() -> None:
    flow_control = FlowControl(600)
    flow_control.configure(
        bootstrap.suggested_flow_schemas(), bootstrap.suggested_priority_levels()
    )
    info = parse_request_info("GET", "/api/v1/pods", {})
    assert flow_control.classify(MASTER, info).level.name == "exempt"
    assert flow_control.classify(UserInfo("x", groups=("y",)), info).level.name == "catch-all"
    assert "catch-all" in flow_control.queue_sets


def test_an_unchanged_level_keeps_its_queue_set() -> None:
    flow_control = FlowControl(600)
    before = flow_control.queue_sets["global-default"]
    levels = bootstrap.priority_levels()
    flow_control.configure(bootstrap.flow_schemas(), levels)
    assert flow_control.queue_sets["global-default"] is before
    for level in levels:
        if level["metadata"]["name"] == "global-default":
            level["spec"]["limited"]["limitResponse"]["queuing"]["queueLengthLimit"] = 7
    flow_control.configure(bootstrap.flow_schemas(), levels)
    assert flow_control.queue_sets["global-default"] is not before
    assert flow_control.queue_sets["global-default"].queue_length_limit == 7
