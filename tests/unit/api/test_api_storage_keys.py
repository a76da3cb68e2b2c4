"""Storage keys are kube-apiserver's (api/scheme.py ``storage_prefix``), and the SQLite schema-3
renames (storage/sqlite_dialect.py rule 6) move exactly the kinds whose keys changed."""

from __future__ import annotations

from kubeward.api.allocation.services import IP_PREFIX
from kubeward.api.resources import build_scheme, served_versions
from kubeward.api.scheme import ResourceType
from kubeward.storage.sqlite_dialect import KEY_RENAMES_V3


def stored() -> list[ResourceType]:
    """Every stored built-in kind, the off-by-default ones too (api.features)."""
    scheme, _ = build_scheme(frozenset(gv for gvs in served_versions_by_gv() for gv in gvs))
    return [rt for rt in scheme if rt.stored]


def served_versions_by_gv() -> list[set[str]]:
    return [
        {f"{group}/{version}" if group else version for version in versions}
        for group, versions in served_versions().items()
    ]


def key(group: str, resource: str, namespace: str, name: str) -> str:
    for rt in stored():
        if (rt.group, rt.resource) == (group, resource):
            return rt.storage_key(namespace, name)
    raise AssertionError(f"no kind {group}/{resource}")


def test_built_in_kinds_are_keyed_by_resource_with_kubes_exceptions() -> None:
    assert [
        key("apps", "deployments", "ns", "d"),
        key("rbac.authorization.k8s.io", "clusterroles", "", "admin"),
        key("", "services", "ns", "s"),
        key("", "endpoints", "ns", "s"),
        key("", "nodes", "", "n"),
        key("", "replicationcontrollers", "ns", "r"),
        key("networking.k8s.io", "ingresses", "ns", "i"),
        key("events.k8s.io", "events", "ns", "e"),
        key("", "pods", "ns", "p"),
        key("apiextensions.k8s.io", "customresourcedefinitions", "", "w.example.com"),
    ] == [
        "/registry/deployments/ns/d",
        "/registry/clusterroles/admin",
        "/registry/services/specs/ns/s",
        "/registry/services/endpoints/ns/s",
        "/registry/minions/n",
        "/registry/controllers/ns/r",
        "/registry/ingress/ns/i",
        "/registry/events/ns/e",
        "/registry/pods/ns/p",
        "/registry/apiextensions.k8s.io/customresourcedefinitions/w.example.com",
    ]
    assert IP_PREFIX == "/registry/ipaddresses/"


def test_custom_resources_are_keyed_by_group_and_plural() -> None:
    widget = ResourceType("example.com", "v1", "Widget", "widgets", True, keyed_by_group=True)
    assert widget.storage_key("ns", "w") == "/registry/example.com/widgets/ns/w"


def test_no_two_kinds_share_keys() -> None:
    prefixes = {}
    for rt in stored():
        group = rt.group if rt.storage_group is None else rt.storage_group
        prefixes[(group, rt.resource)] = rt.storage_prefix()
    values = sorted(set(prefixes.values()))
    assert len(values) == len(prefixes)
    assert [(a, b) for a in values for b in values if a != b and b.startswith(a)] == []


def test_the_schema_3_renames_are_exactly_the_changed_prefixes() -> None:
    changed = {}
    for rt in stored():
        group = rt.group if rt.storage_group is None else rt.storage_group
        before = f"/registry/{group}/{rt.resource}/" if group else f"/registry/{rt.resource}/"
        if before != rt.storage_prefix():
            changed[before] = rt.storage_prefix()
    changed["/registry/networking.k8s.io/ipaddresses/"] = IP_PREFIX
    assert dict(KEY_RENAMES_V3) == changed
    order = [old for old, _ in KEY_RENAMES_V3]
    # Services move under services/specs/ before Endpoints move under services/endpoints/.
    assert order.index("/registry/services/") < order.index("/registry/endpoints/")
