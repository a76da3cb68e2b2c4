"""The NamespaceLifecycle admission plugin."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubeward.admission.interfaces import AdmissionRequest
from kubeward.admission.plugins.namespacelifecycle import NamespaceLifecyclePlugin
from kubeward.api.user import UserInfo
from kubeward.errors import Forbidden, NotFound, StatusError

NAMESPACES: dict[str, dict[str, Any]] = {
    "live": {"metadata": {"name": "live"}, "status": {"phase": "Active"}},
    "dying": {
        "metadata": {"name": "dying", "deletionTimestamp": "2026-01-01T00:00:00Z"},
        "status": {"phase": "Terminating"},
    },
}


class Reader:
    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return NAMESPACES.get(name) if resource == "namespaces" else None

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        return []


def validate(operation: str, resource: str, namespace: str, name: str = "x") -> None:
    request = AdmissionRequest(operation, "", resource, "", "", namespace, name, UserInfo("u"), {})
    asyncio.run(NamespaceLifecyclePlugin().admit(request, Reader()))


@pytest.mark.parametrize(
    ("operation", "resource", "namespace", "name", "error", "message"),
    [
        ("CREATE", "configmaps", "nowhere", "x", NotFound, 'namespaces "nowhere" not found'),
        (
            "CREATE",
            "configmaps",
            "dying",
            "x",
            Forbidden,
            'configmaps "x" is forbidden: unable to create new content in namespace dying because it is being terminated',
        ),
        (
            "DELETE",
            "namespaces",
            "",
            "kube-system",
            Forbidden,
            'namespaces "kube-system" is forbidden: this namespace may not be deleted',
        ),
    ],
    ids=["missing", "terminating", "immortal"],
)
def test_refusals(
    operation: str, resource: str, namespace: str, name: str, error: type[StatusError], message: str
) -> None:
    with pytest.raises(error) as caught:
        validate(operation, resource, namespace, name)
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("operation", "resource", "namespace", "name"),
    [
        ("CREATE", "configmaps", "live", "x"),
        ("UPDATE", "configmaps", "dying", "x"),
        ("DELETE", "namespaces", "", "live"),
    ],
    ids=["live-create", "update-while-dying", "delete-ordinary"],
)
def test_allowed(operation: str, resource: str, namespace: str, name: str) -> None:
    validate(operation, resource, namespace, name)
