"""Builders for the bootstrap policy objects, so the data modules read like the policy.

Every bootstrap object carries Kubernetes' marks (``bootstrappolicy.addDefaultMetadata``):

 1. the label ``kubernetes.io/bootstrapping: rbac-defaults``;
 2. the annotation ``rbac.authorization.kubernetes.io/autoupdate: "true"``, which an
    administrator sets to ``"false"`` to keep the server from reconciling the object.

Lists of verbs and resources are written as space-separated words; API groups as a tuple,
where ``CORE`` (``""``) is the core group.
"""

from __future__ import annotations

from typing import Any

from kubeward.authz.rbac.objects import RBAC_GROUP

AUTOUPDATE_ANNOTATION = "rbac.authorization.kubernetes.io/autoupdate"
BOOTSTRAPPING_LABEL = "kubernetes.io/bootstrapping"
BOOTSTRAPPING_VALUE = "rbac-defaults"
AGGREGATE_TO_ADMIN = "rbac.authorization.k8s.io/aggregate-to-admin"
AGGREGATE_TO_EDIT = "rbac.authorization.k8s.io/aggregate-to-edit"
AGGREGATE_TO_VIEW = "rbac.authorization.k8s.io/aggregate-to-view"

CORE = ""
READ = "get list watch"
WRITE = "create delete deletecollection patch update"
READ_WRITE = "create delete deletecollection get list patch update watch"
EVENTS_RULE_GROUPS = (CORE, "events.k8s.io")

Object = dict[str, Any]


def rule(
    verbs: str,
    groups: tuple[str, ...] = (),
    resources: str = "",
    names: str = "",
    urls: str = "",
) -> dict[str, list[str]]:
    """A PolicyRule as JSON, fields in the API's order."""
    out: dict[str, list[str]] = {}
    if groups:
        out["apiGroups"] = list(groups)
    if resources:
        out["resources"] = resources.split()
    if names:
        out["resourceNames"] = names.split()
    if urls:
        out["nonResourceURLs"] = urls.split()
    out["verbs"] = verbs.split()
    return out


def events_rule() -> dict[str, list[str]]:
    """``eventsRule()`` of the policy: create, patch and update events in both groups."""
    return rule("create patch update", EVENTS_RULE_GROUPS, "events")


def _metadata(name: str, namespace: str = "", labels: dict[str, str] | None = None) -> Object:
    meta: Object = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = {BOOTSTRAPPING_LABEL: BOOTSTRAPPING_VALUE, **(labels or {})}
    meta["annotations"] = {AUTOUPDATE_ANNOTATION: "true"}
    return meta


def cluster_role(
    name: str,
    rules: list[dict[str, list[str]]],
    *,
    labels: dict[str, str] | None = None,
    aggregate_from: str = "",
) -> Object:
    """A ClusterRole; ``aggregate_from`` is the label its aggregationRule selects on."""
    role: Object = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRole",
        "metadata": _metadata(name, labels=labels),
    }
    if aggregate_from:
        role["aggregationRule"] = {
            "clusterRoleSelectors": [{"matchLabels": {aggregate_from: "true"}}]
        }
    role["rules"] = rules
    return role


def role(namespace: str, name: str, rules: list[dict[str, list[str]]]) -> Object:
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "Role",
        "metadata": _metadata(name, namespace),
        "rules": rules,
    }


def user(name: str) -> dict[str, str]:
    return {"apiGroup": RBAC_GROUP, "kind": "User", "name": name}


def group(name: str) -> dict[str, str]:
    return {"apiGroup": RBAC_GROUP, "kind": "Group", "name": name}


def service_account(namespace: str, name: str) -> dict[str, str]:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def cluster_role_binding(name: str, role_name: str, subjects: list[dict[str, str]]) -> Object:
    """A ClusterRoleBinding; one without subjects has no ``subjects`` field, as upstream."""
    binding: Object = {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": _metadata(name),
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role_name},
    }
    if subjects:
        binding["subjects"] = subjects
    return binding


def role_binding(
    namespace: str, name: str, role_name: str, subjects: list[dict[str, str]]
) -> Object:
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "RoleBinding",
        "metadata": _metadata(name, namespace),
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": role_name},
        "subjects": subjects,
    }
