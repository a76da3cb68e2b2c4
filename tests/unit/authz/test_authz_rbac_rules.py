"""Rule matching, table-driven from the Kubernetes RBAC documentation and evaluation_helpers.go."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import Attributes, Decision
from kubeward.authz.rbac.rules import PolicyRule, go_quote, go_quote_list, rule_allows

JANE = UserInfo("jane")


def res(verb: str, resource: str, *, sub: str = "", name: str = "", group: str = "") -> Attributes:
    return Attributes(
        JANE,
        verb,
        namespace="default",
        api_group=group,
        resource=resource,
        subresource=sub,
        name=name,
    )


def url(verb: str, path: str) -> Attributes:
    return Attributes(JANE, verb, resource_request=False, path=path)


def rule(
    verbs: str,
    groups: tuple[str, ...] = ("",),
    resources: str = "",
    names: str = "",
    urls: str = "",
) -> PolicyRule:
    return PolicyRule(
        tuple(verbs.split()),
        groups if resources else (),
        tuple(resources.split()),
        tuple(names.split()),
        tuple(urls.split()),
    )


CASES = [
    # verbs
    ("verb listed", rule("get list", resources="pods"), res("get", "pods"), True),
    ("verb not listed", rule("get list", resources="pods"), res("delete", "pods"), False),
    ("verb star", rule("*", resources="pods"), res("deletecollection", "pods"), True),
    # API groups
    (
        "core group only matches core",
        rule("get", ("",), "deployments"),
        res("get", "deployments", group="apps"),
        False,
    ),
    (
        "named group",
        rule("get", ("apps",), "deployments"),
        res("get", "deployments", group="apps"),
        True,
    ),
    (
        "group star",
        rule("get", ("*",), "deployments"),
        res("get", "deployments", group="apps"),
        True,
    ),
    # resources and subresources (docs: "Referring to resources")
    ("resource exact", rule("get", resources="pods"), res("get", "pods"), True),
    (
        "resource does not cover its subresource",
        rule("get", resources="pods"),
        res("get", "pods", sub="log"),
        False,
    ),
    (
        "subresource named",
        rule("get", resources="pods pods/log"),
        res("get", "pods", sub="log"),
        True,
    ),
    (
        "subresource named, other subresource",
        rule("get", resources="pods/log"),
        res("get", "pods", sub="exec"),
        False,
    ),
    (
        "subresource does not cover its resource",
        rule("get", resources="pods/log"),
        res("get", "pods"),
        False,
    ),
    ("star covers subresources", rule("get", resources="*"), res("get", "pods", sub="log"), True),
    (
        "star/subresource",
        rule("update", ("*",), "*/scale"),
        res("update", "deployments", sub="scale", group="apps"),
        True,
    ),
    (
        "star/subresource needs that subresource",
        rule("update", ("*",), "*/scale"),
        res("update", "deployments", group="apps"),
        False,
    ),
    (
        "star/subresource other subresource",
        rule("update", ("*",), "*/scale"),
        res("update", "deployments", sub="status"),
        False,
    ),
    (
        "resource/star is not a wildcard",
        rule("get", resources="pods/*"),
        res("get", "pods", sub="log"),
        False,
    ),
    # resourceNames (docs: "Referring to resources" — list, watch, create, deletecollection)
    (
        "resourceName matches",
        rule("get update", resources="configmaps", names="my-configmap"),
        res("get", "configmaps", name="my-configmap"),
        True,
    ),
    (
        "resourceName other name",
        rule("get", resources="configmaps", names="my-configmap"),
        res("get", "configmaps", name="other"),
        False,
    ),
    (
        "resourceNames never match list",
        rule("list", resources="configmaps", names="my-configmap"),
        res("list", "configmaps"),
        False,
    ),
    (
        "resourceNames never match watch",
        rule("watch", resources="configmaps", names="my-configmap"),
        res("watch", "configmaps"),
        False,
    ),
    (
        "resourceNames never match create",
        rule("create", resources="configmaps", names="my-configmap"),
        res("create", "configmaps"),
        False,
    ),
    (
        "resourceNames never match deletecollection",
        rule("deletecollection", resources="configmaps", names="a"),
        res("deletecollection", "configmaps"),
        False,
    ),
    (
        "a watch of one named object matches",
        rule("watch", resources="configmaps", names="a"),
        res("watch", "configmaps", name="a"),
        True,
    ),
    (
        "no resourceNames matches every name",
        rule("get", resources="configmaps"),
        res("get", "configmaps", name="x"),
        True,
    ),
    # non-resource URLs (docs: "/healthz", "/healthz/*")
    ("url exact", rule("get", urls="/healthz"), url("get", "/healthz"), True),
    ("url exact is not a prefix", rule("get", urls="/healthz"), url("get", "/healthz/etcd"), False),
    ("url star suffix", rule("get", urls="/healthz/*"), url("get", "/healthz/etcd"), True),
    (
        "url star suffix does not match the bare path",
        rule("get", urls="/healthz/*"),
        url("get", "/healthz"),
        False,
    ),
    ("url star", rule("get", urls="*"), url("get", "/metrics"), True),
    ("url verb", rule("get", urls="/metrics"), url("post", "/metrics"), False),
    # kinds do not mix
    ("resource rule never matches a path", rule("*", ("*",), "*"), url("get", "/healthz"), False),
    ("url rule never matches a resource", rule("*", urls="*"), res("get", "pods"), False),
]


@pytest.mark.parametrize(
    ("rule_", "attributes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule_allows(rule_: PolicyRule, attributes: Attributes, expected: bool) -> None:
    assert rule_allows(attributes, rule_) is expected


@pytest.mark.parametrize(
    ("rule_", "text"),
    [
        (
            PolicyRule(("get",), ("",), ("secrets",)),
            '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
        ),
        (
            PolicyRule(("get", "update"), ("",), ("configmaps",), ("a",)),
            '{APIGroups:[""], Resources:["configmaps"], ResourceNames:["a"], Verbs:["get" "update"]}',
        ),
        (
            PolicyRule(("get",), non_resource_urls=("/healthz",)),
            '{NonResourceURLs:["/healthz"], Verbs:["get"]}',
        ),
    ],
    ids=["resource", "resource-names", "non-resource"],
)
def test_compact_string_reads_as_kubernetes_prints_it(rule_: PolicyRule, text: str) -> None:
    assert rule_.compact_string() == text


def test_rule_round_trips_through_json() -> None:
    raw = {
        "apiGroups": ["apps"],
        "resources": ["deployments"],
        "resourceNames": ["web"],
        "verbs": ["get"],
    }
    assert PolicyRule.from_dict(raw).to_dict() == raw


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("jane", '"jane"'),
        ('a"b', '"a\\"b"'),
        ("tab\t", '"tab\\t"'),
        ("é", '"é"'),
        ("\x01", '"\\x01"'),
    ],
    ids=["plain", "quote", "tab", "unicode", "control"],
)
def test_go_quote(text: str, quoted: str) -> None:
    assert go_quote(text) == quoted


def test_go_quote_list() -> None:
    assert go_quote_list(["system:authenticated", "dev"]) == '["system:authenticated" "dev"]'
    assert go_quote_list([]) == "[]"


@pytest.mark.parametrize(
    ("rule_", "attributes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_authorizer_decides_as_rule_allows(
    world: Any, rule_: PolicyRule, attributes: Attributes, expected: bool
) -> None:
    # The authorizer's hot loop matches resource rules inline; it must agree with the table.
    world.cluster_role("r", rule_.to_dict())
    world.cluster_role_binding("b", "r", world.user("jane"))
    for namespace in ("default", ""):
        decision = world.rbac.authorize(replace(attributes, namespace=namespace)).decision
        assert (decision is Decision.ALLOW) is expected
