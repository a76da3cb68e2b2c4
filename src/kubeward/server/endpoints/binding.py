"""``pods/binding``: how a scheduler assigns a pod to a node.

kube-scheduler never updates a pod's ``spec.nodeName`` itself; it POSTs a ``Binding`` to
``/api/v1/namespaces/NS/pods/NAME/binding`` and the API server assigns the pod. As upstream's
BindingREST (``pkg/registry/core/pod/storage``):

 1. The body is a v1 Binding; its name must be the pod's (400 ``name in URL does not match name
    in Binding object``); ``target.kind`` is empty or ``Node`` and ``target.name`` is required
    (422, worded as ``ValidatePodBinding``).
 2. A pod being deleted cannot be bound (409 ``pod NAME is being deleted, cannot be assigned to
    a host``); a pod already bound keeps its node (409 ``pod NAME is already assigned to node
    "N"``).
 3. Binding sets ``spec.nodeName``, merges the Binding's annotations into the pod's, and sets the
    ``PodScheduled`` condition True; it is one guarded update of the pod (retried on a lost
    race), answered with a 201 Success Status.
 4. Who may bind is authorization's business (``create`` on ``pods/binding``: the scheduler's
    bootstrap role); the pod update itself runs no admission, as upstream's internal update.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubeward.api import meta as m
from kubeward.api.codec import decode_body
from kubeward.api.request_info import RequestInfo
from kubeward.api.resources.core import PODS
from kubeward.api.user import UserInfo
from kubeward.api.validation import field
from kubeward.errors import BadRequest, Cause, Conflict, NotFound, StatusDetails, invalid
from kubeward.server.http import json_response, success_status
from kubeward.server.resources import RequestContext

if TYPE_CHECKING:
    from kubeward.server.app import APIServer


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def binding_causes(binding: dict[str, Any]) -> list[Cause]:
    """Rule 1's validation of the target."""
    target = binding.get("target")
    if not isinstance(target, dict):
        target = {}
    causes: list[Cause] = []
    if target.get("kind") not in (None, "", "Node"):
        causes.append(field.invalid("target.kind", target.get("kind"), "must be empty or 'Node'"))
    if not target.get("name"):
        causes.append(field.required("target.name"))
    return causes


def assign(pod: m.JSONObject, name: str, node: str, annotations: dict[str, Any]) -> m.JSONObject:
    """Rules 2 and 3 on the current pod."""
    meta = m.metadata(pod)
    details = StatusDetails(name=name, kind="pods")
    if meta.get("deletionTimestamp"):
        raise Conflict(
            f'Operation cannot be fulfilled on pods/binding "{name}": pod {name} is being'
            " deleted, cannot be assigned to a host",
            details,
        )
    spec = pod.setdefault("spec", {})
    if spec.get("nodeName"):
        raise Conflict(
            f'Operation cannot be fulfilled on pods/binding "{name}": pod {name} is already'
            f' assigned to node "{spec["nodeName"]}"',
            details,
        )
    spec["nodeName"] = node
    if annotations:
        meta["annotations"] = {**(meta.get("annotations") or {}), **annotations}
    status = pod.setdefault("status", {})
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
    conditions.append(
        {
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": m.format_time(m.now()),
        }
    )
    status["conditions"] = conditions
    return pod


def register(server: APIServer) -> None:
    async def handle(
        request: web.Request, info: RequestInfo, user: UserInfo, body: bytes
    ) -> web.StreamResponse:
        store = server.stores.get(PODS)
        if store is None or not info.name:
            raise NotFound("the server could not find the requested resource")
        binding = decode_body(body, request.headers.get("Content-Type"))
        if not isinstance(binding, dict):
            raise BadRequest("the body of a binding request must be a Binding object")
        meta = _mapping(binding.get("metadata"))
        if meta.get("name") and meta["name"] != info.name:
            raise BadRequest("name in URL does not match name in Binding object")
        causes = binding_causes(binding)
        if causes:
            raise invalid("Binding", info.name, causes, "")
        node = str(_mapping(binding.get("target")).get("name"))
        annotations = _mapping(meta.get("annotations"))
        ctx = RequestContext(request, info, user, PODS, store)
        await store.guaranteed_update(
            info.namespace,
            info.name,
            lambda pod: assign(pod, info.name, node, annotations),
            subresource="binding",
            dry_run=ctx.dry_run,
        )
        return json_response({**success_status(), "code": 201}, status=201)

    server.virtual[("", "pods", "binding")] = handle
