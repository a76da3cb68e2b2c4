"""The ``NamespaceLifecycle`` admission plugin: no new content in a missing or dying namespace.

Rules (upstream's ``k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle``):
 1. Creating a namespaced object in a namespace that does not exist is 404
    ``namespaces "NS" not found``.
 2. Creating one in a namespace that is terminating is 403 ``unable to create new content in
    namespace NS because it is being terminated``.
 3. The namespaces ``default``, ``kube-system`` and ``kube-public`` may not be deleted (403
    ``this namespace may not be deleted``) — applied when the server runs admission on
    deletes (``DELETE`` requests).
 Updates and deletes inside a terminating namespace stay allowed, so that finalizers can run.
 It runs in the mutating phase (``admit``), as upstream's does, although it changes nothing:
 a write into a missing namespace is 404 before defaults, validation or any other plugin.
"""

from __future__ import annotations

from kubeward.admission.interfaces import CREATE, DELETE, AdmissionRequest, ObjectReader, forbidden
from kubeward.errors import NotFound, StatusDetails

PLUGIN_NAME = "NamespaceLifecycle"
IMMORTAL_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


class NamespaceLifecyclePlugin:
    name = PLUGIN_NAME

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if request.group == "" and request.resource == "namespaces":
            if request.operation == DELETE and request.name in IMMORTAL_NAMESPACES:
                raise forbidden(request, "this namespace may not be deleted")
            return
        if request.operation != CREATE or not request.namespace or request.subresource:
            return
        namespace = await reader.get("namespaces", "", request.namespace)
        if namespace is None:
            raise NotFound(
                f'namespaces "{request.namespace}" not found',
                StatusDetails(name=request.namespace, kind="namespaces"),
            )
        meta = namespace.get("metadata") or {}
        if (
            meta.get("deletionTimestamp")
            or (namespace.get("status") or {}).get("phase") == "Terminating"
        ):
            raise forbidden(
                request,
                f"unable to create new content in namespace {request.namespace} because it is being terminated",
            )
