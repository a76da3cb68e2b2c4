"""Tables of ValidatingAdmissionPolicy and its bindings, as kubectl prints them upstream."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kubeward.api.tables.registry import printer_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
GROUP = "admissionregistration.k8s.io"
CREATED = {"name": "p", "creationTimestamp": "2024-06-01T11:00:00Z"}


def test_policy_columns() -> None:
    printer = printer_for((GROUP, "ValidatingAdmissionPolicy"))
    assert [c.name for c in printer.columns] == ["Name", "Validations", "ParamKind", "Age"]
    with_param = {
        "metadata": CREATED,
        "spec": {
            "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "validations": [{"expression": "true"}, {"expression": "false"}],
        },
    }
    assert printer.print_row(with_param, NOW).cells == ("p", 2, "v1/ConfigMap", "60m")
    assert printer.print_row({"metadata": CREATED, "spec": {}}, NOW).cells[2] == "<unset>"


@pytest.mark.parametrize(
    ("ref", "shown"),
    [
        (None, "<unset>"),
        ({"name": "limit", "namespace": "apps"}, "apps/limit"),
        ({"name": "limit"}, "*/limit"),
        ({"selector": {"matchLabels": {"a": "b"}}}, "a=b"),
    ],
    ids=["unset", "namespaced", "any-namespace", "selector"],
)
def test_binding_param_ref(ref: dict[str, Any] | None, shown: str) -> None:
    printer = printer_for((GROUP, "ValidatingAdmissionPolicyBinding"))
    spec: dict[str, Any] = {"policyName": "p"}
    if ref is not None:
        spec["paramRef"] = ref
    assert printer.print_row({"metadata": CREATED, "spec": spec}, NOW).cells[1:3] == ("p", shown)
