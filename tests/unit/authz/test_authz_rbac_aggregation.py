"""Aggregated ClusterRoles, as the clusterrole-aggregation controller computes them."""

from __future__ import annotations

from typing import Any

from kubeward.authz.rbac.aggregation import aggregate_cluster_roles, aggregated_rules, rules_equal
from kubeward.authz.rbac.bootstrap import cluster_roles


def cr(
    name: str,
    rules: list[dict[str, Any]],
    labels: dict[str, str] | None = None,
    selectors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": labels or {}},
        "rules": rules,
    }
    if selectors is not None:
        obj["aggregationRule"] = {"clusterRoleSelectors": selectors}
    return obj


def get(resource: str) -> dict[str, Any]:
    return {"apiGroups": [""], "resources": [resource], "verbs": ["get"]}


def test_rules_are_collected_in_selector_then_name_order_without_duplicates() -> None:
    monitoring = cr(
        "monitoring",
        [],
        selectors=[
            {"matchLabels": {"m": "true"}},
            {"matchExpressions": [{"key": "extra", "operator": "Exists"}]},
        ],
    )
    roles = [
        monitoring,
        cr("b-endpoints", [get("endpoints"), get("services")], {"m": "true"}),
        cr("a-services", [get("services")], {"m": "true"}),
        cr("c-pods", [get("pods")], {"extra": "x"}),
        cr("d-unlabelled", [get("secrets")]),
    ]
    rules = aggregated_rules(monitoring, roles)
    assert rules is not None
    assert [r.resources[0] for r in rules] == ["services", "endpoints", "pods"]


def test_not_aggregated_and_self_selection() -> None:
    plain = cr("plain", [get("pods")], {"m": "true"})
    assert aggregated_rules(plain, [plain]) is None
    selfish = cr(
        "selfish", [get("pods")], {"m": "true"}, selectors=[{"matchLabels": {"m": "true"}}]
    )
    assert aggregated_rules(selfish, [selfish]) == []


def test_bootstrap_admin_edit_view_settle_through_nesting() -> None:
    result = aggregate_cluster_roles(cluster_roles())
    assert set(result) == {"admin", "edit", "view"}
    view, edit, admin = result["view"], result["edit"], result["admin"]
    assert len(view) == 10
    # edit = system:aggregate-to-edit + view; admin = edit + system:aggregate-to-admin
    assert all(rule in edit for rule in view)
    assert all(rule in admin for rule in edit)
    assert {
        "apiGroups": ["rbac.authorization.k8s.io"],
        "resources": ["rolebindings", "roles"],
        "verbs": [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ],
    } in admin
    assert not any("secrets" in r.get("resources", []) and "get" in r["verbs"] for r in view)
    assert any("secrets" in r.get("resources", []) and "get" in r["verbs"] for r in edit)


def test_rules_equal_treats_absent_as_empty() -> None:
    assert rules_equal(None, [])
    assert rules_equal(
        [get("pods")],
        [{"verbs": ["get"], "resources": ["pods"], "apiGroups": [""], "resourceNames": []}],
    )
    assert not rules_equal([get("pods")], [get("secrets")])
