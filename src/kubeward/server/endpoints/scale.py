"""The ``scale`` subresource: a workload's replica count, read and written as a Scale.

``kubectl scale``, the Python client's ``*_scale`` calls and autoscalers never touch the
workload itself: they GET, PUT or PATCH ``.../deployments/NAME/scale`` and speak
``autoscaling/v1`` ``Scale``. As upstream's scale REST storage for Deployments:

 1. A kind offers ``/scale`` by declaring :class:`~kubeward.api.scheme.ScalePaths` on its
    ``scale`` subresource; :func:`register` serves every such kind, so ReplicaSets and
    StatefulSets (and custom resources) need nothing more than the declaration.
 2. GET answers a Scale whose metadata is the object's name, namespace, uid, resourceVersion
    and creationTimestamp; ``spec.replicas`` and ``status.replicas`` are read at the declared
    paths (absent means 0); ``status.selector`` is the label selector as a string
    (``app=web,tier in (a,b)``, requirements sorted by key), as ``kubectl get hpa`` and
    autoscalers read it.
 3. PUT takes a Scale (its apiVersion and kind default from the URL and must agree with it);
    PATCH applies a merge, JSON or strategic merge patch to the current Scale; a server-side
    apply body is merged into it.
 4. The resulting Scale is validated as upstream validates it: ``spec.replicas`` must be an
    integer of at least 0 (422 ``Scale.autoscaling "NAME" is invalid``); a ``resourceVersion``
    on it is a precondition on the object (409 Conflict when stale).
 5. Only the object's replica count changes, through the ordinary update of the parent
    resource, so admission, the kind's strategy and ``dryRun`` apply; the answer is the Scale
    of the object as written.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from kubeward.admission.interfaces import UPDATE
from kubeward.api import meta as m
from kubeward.api.codec import decode_body
from kubeward.api.openapi import conform, decoding_error, patch_decoding_error
from kubeward.api.patch import apply_patch
from kubeward.api.patch.strategies import root_type
from kubeward.api.request_info import RequestInfo
from kubeward.api.scheme import ResourceType, ScalePaths
from kubeward.api.selectors import LabelSelector
from kubeward.api.user import UserInfo
from kubeward.api.validation import field
from kubeward.errors import BadRequest, MethodNotAllowed, NotFound, invalid
from kubeward.server.http import json_response
from kubeward.server.resources import RequestContext

if TYPE_CHECKING:
    from kubeward.server.app import APIServer, VirtualHandler

SCALE_GROUP = "autoscaling"
SCALE_VERSION = "v1"
SCALE_API_VERSION = f"{SCALE_GROUP}/{SCALE_VERSION}"
SCALE_KIND = "Scale"
_SCALE_MERGE_ROOT = root_type(SCALE_GROUP, SCALE_VERSION, SCALE_KIND)


def register(server: APIServer) -> None:
    """Serve ``/scale`` for every kind that declares its scale paths (rule 1), including kinds
    added to the scheme later (custom resources)."""

    def follow(rt: ResourceType, added: bool) -> None:
        sub = rt.subresource("scale")
        if sub is None or sub.scale is None:
            return
        key = (rt.group, rt.resource, "scale")
        if added:
            server.virtual[key] = _handler(server, rt, sub.scale)
        else:
            server.virtual.pop(key, None)

    for rt in server.scheme:
        follow(rt, True)
    server.scheme.subscribe(follow)


def _lookup(obj: Mapping[str, Any], path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _assign(obj: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target = obj
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[last] = value


def selector_string(selector: Any) -> str:
    """A label selector as ``metav1.LabelSelectorAsSelector(...).String()`` writes it."""
    if isinstance(selector, str):
        return selector
    if not isinstance(selector, Mapping):
        return ""
    compiled = LabelSelector.from_dict(selector)
    return ",".join(str(r) for r in sorted(compiled.requirements, key=lambda r: r.key))


def _selector(obj: Mapping[str, Any], paths: ScalePaths) -> Any:
    selector = _lookup(obj, paths.label_selector)
    if paths.selector_is_map and isinstance(selector, Mapping):
        return {"matchLabels": selector}
    return selector


def scale_of(obj: Mapping[str, Any], paths: ScalePaths) -> m.JSONObject:
    """The Scale that shows ``obj`` (rule 2)."""
    meta = m.metadata(dict(obj))
    scale_meta = {
        key: meta[key]
        for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        if meta.get(key)
    }
    return {
        "kind": SCALE_KIND,
        "apiVersion": SCALE_API_VERSION,
        "metadata": scale_meta,
        "spec": {"replicas": _lookup(obj, paths.spec_replicas) or 0},
        "status": {
            "replicas": _lookup(obj, paths.status_replicas) or 0,
            "selector": selector_string(_selector(obj, paths)),
        },
    }


def _check_scale(scale: Any, name: str) -> int:
    """Rule 4: the new replica count, or the 422 upstream answers."""
    if not isinstance(scale, dict):
        raise BadRequest("the body of a scale request must be a Scale object")
    api_version, kind = scale.get("apiVersion"), scale.get("kind")
    if api_version and api_version != SCALE_API_VERSION:
        raise BadRequest(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({SCALE_API_VERSION})"
        )
    if kind and kind != SCALE_KIND:
        raise BadRequest(
            f"the kind in the data ({kind}) does not match the expected kind ({SCALE_KIND})"
        )
    body_name = (scale.get("metadata") or {}).get("name")
    if body_name and body_name != name:
        raise BadRequest(
            f"the name of the object ({body_name}) does not match the name on the URL ({name})"
        )
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if isinstance(replicas, bool) or not isinstance(replicas, int):
        cause = field.invalid("spec.replicas", replicas, "must be an integer")
        raise invalid(SCALE_KIND, name, [cause], SCALE_GROUP)
    if replicas < 0:
        cause = field.invalid("spec.replicas", replicas, "must be greater than or equal to 0")
        raise invalid(SCALE_KIND, name, [cause], SCALE_GROUP)
    return replicas


def _conform(scale: object, *, patching: bool) -> None:
    """A Scale of the right JSON types (400, or 422 for a patch's result), as any body is."""
    if not isinstance(scale, dict):
        return  # _check_scale says what is wrong
    try:
        conform(scale, SCALE_GROUP, SCALE_VERSION, SCALE_KIND).drop_unknown()
    except BadRequest as exc:
        if patching:
            raise patch_decoding_error(exc, scale) from None
        raise decoding_error(exc, kind=SCALE_KIND, version=SCALE_API_VERSION) from None


def _handler(server: APIServer, rt: ResourceType, paths: ScalePaths) -> VirtualHandler:
    async def handle(
        request: web.Request, info: RequestInfo, user: UserInfo, body: bytes
    ) -> web.StreamResponse:
        store = server.stores.get(rt)
        if store is None or not info.name:
            raise NotFound("the server could not find the requested resource")
        ctx = RequestContext(request, info, user, rt, store)
        if info.verb == "get":
            current = await store.get(info.namespace, info.name)
            return json_response(scale_of(current, paths))
        if info.verb not in ("update", "patch"):
            raise MethodNotAllowed(
                "the server does not allow this method on the requested resource "
                f"({request.method.lower()} {rt.resource} {info.name})"
            )
        content_type = request.headers.get("Content-Type") or ""

        def mutate(current: m.JSONObject) -> m.JSONObject:
            old_scale = scale_of(current, paths)
            if info.verb == "update":
                new_scale = decode_body(body, content_type or None)
            elif content_type.split(";")[0].strip() == "application/apply-patch+yaml":
                # Server-side apply of a Scale: one field manager, so a merge gives its result.
                applied = orjson.dumps(decode_body(body, "application/yaml"))
                new_scale = apply_patch(
                    copy.deepcopy(old_scale),
                    applied,
                    "application/merge-patch+json",
                    merge_root=_SCALE_MERGE_ROOT,
                )
            else:
                new_scale = apply_patch(
                    copy.deepcopy(old_scale),
                    body,
                    content_type,
                    merge_root=_SCALE_MERGE_ROOT,
                )
            _conform(new_scale, patching=info.verb == "patch")
            replicas = _check_scale(new_scale, info.name)
            _assign(current, paths.spec_replicas, replicas)
            wanted = (new_scale.get("metadata") or {}).get("resourceVersion")
            meta = m.metadata(current)
            if wanted:
                meta["resourceVersion"] = str(wanted)
            else:
                meta.pop("resourceVersion", None)
            return current

        updated = await store.guaranteed_update(
            info.namespace,
            info.name,
            mutate,
            dry_run=ctx.dry_run,
            scope=server.handlers.request_scope(ctx),
            admission=server.handlers.admission_for(ctx, UPDATE),
        )
        return json_response(scale_of(updated, paths))

    return handle
