"""What every admission policy plugin does before evaluating: find the policies and bindings,
the request's namespace, and the values expressions see.

Shared by the ValidatingAdmissionPolicy and MutatingAdmissionPolicy plugins, as upstream's
``policy/generic`` dispatcher is. Rules (``generic`` and ``cel/activation`` of
k8s.io/apiserver 1.32):
 1. Policies and bindings come from the reader's informers (``cached``), in name order; a
    binding applies its ``spec.policyName``. A kind the server does not serve has none.
 2. Expressions see ``object`` (null on DELETE), ``oldObject`` (null on CREATE), ``request``
    (the AdmissionReview request), ``namespaceObject`` (the namespace's metadata, spec and
    status; null for cluster-scoped writes and for a Namespace itself) and ``authorizer``;
    the plugin adds ``params``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kubeward.admission.interfaces import CREATE, DELETE, AdmissionRequest, ObjectReader
from kubeward.admission.webhooks.review import review_request
from kubeward.cel.library import authz


def name_of(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


async def sorted_objects(reader: ObjectReader, resource: str) -> list[dict[str, Any]]:
    """Rule 1: every object of ``resource``, in name order."""
    cached: Callable[[str], Awaitable[list[dict[str, Any]]]] | None = getattr(
        reader, "cached", None
    )
    items = await (cached(resource) if cached else reader.list(resource, ""))
    return sorted(items, key=name_of)


async def bindings_by_policy(
    reader: ObjectReader, resource: str
) -> dict[str, list[dict[str, Any]]]:
    """Rule 1: the bindings of ``resource``, by the policy they name."""
    bindings: dict[str, list[dict[str, Any]]] = {}
    for binding in await sorted_objects(reader, resource):
        policy_name = str((binding.get("spec") or {}).get("policyName", ""))
        bindings.setdefault(policy_name, []).append(binding)
    return bindings


async def request_namespace(
    request: AdmissionRequest, reader: ObjectReader
) -> dict[str, Any] | None:
    """The Namespace object of a namespaced write (rule 2)."""
    is_namespace = request.group == "" and request.resource == "namespaces"
    if not request.namespace or is_namespace:
        return None
    return await reader.get("namespaces", "", request.namespace)


def namespace_labels(namespace: dict[str, Any] | None) -> dict[str, str]:
    return dict(((namespace or {}).get("metadata") or {}).get("labels") or {})


def namespace_object(namespace: dict[str, Any] | None) -> dict[str, Any] | None:
    """``namespaceObject``: the Namespace's metadata, spec and status (upstream's subset)."""
    if namespace is None:
        return None
    metadata = namespace.get("metadata") or {}
    kept = ("name", "generateName", "labels", "annotations", "uid", "creationTimestamp")
    return {
        "metadata": {k: metadata[k] for k in kept if k in metadata},
        "spec": namespace.get("spec") or {},
        "status": namespace.get("status") or {},
    }


def request_values(request: AdmissionRequest, namespace: dict[str, Any] | None) -> dict[str, Any]:
    """Rule 2 (all but ``params``)."""
    return {
        "object": None if request.operation == DELETE else request.object,
        "oldObject": None if request.operation == CREATE else request.old_object,
        "request": review_request(request)["request"],
        "namespaceObject": namespace_object(namespace),
        "authorizer": authz.authorizer_value(),
    }
