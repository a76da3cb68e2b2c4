"""The Certificates API's server-side rules: who asked, who may approve, who may sign.

These need the authenticated user and the authorizer, so they live here rather than in the
kind's strategy (``api.resources.certificates``). As Kubernetes does (the CSR registry strategy
and the ``CertificateApproval`` / ``CertificateSigning`` admission plugins):

 1. On create, ``spec.username``, ``uid``, ``groups`` and ``extra`` are the requester's, taken
    from the authenticated (or impersonated) user; whatever the client sent there is replaced.
 2. ``/approval`` changes only ``status.conditions``; ``/status`` changes the rest of the
    status but never the Approved or Denied conditions. Missing condition timestamps are
    filled in.
 3. Writing ``/approval`` needs, besides ``update`` on ``certificatesigningrequests/approval``
    (checked by the request path), the ``approve`` verb on the ``signers`` resource of group
    ``certificates.k8s.io`` named by ``spec.signerName`` or by its ``domain/*`` wildcard.
 4. Setting or changing ``status.certificate`` through ``/status`` needs the ``sign`` verb on
    the signer, checked the same way.

The store only knows a ``status`` subresource, so ``/approval`` and ``/status`` are routed here
as virtual handlers that run the ordinary verbs against the status path and mark the request
with the subresource it really came through.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING

from aiohttp import web

from kubeward.api import meta as m
from kubeward.api.request_info import RequestInfo
from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS, GROUP, KIND
from kubeward.api.user import UserInfo
from kubeward.api.validation import certificates as v
from kubeward.authz.interfaces import Attributes, Authorizer
from kubeward.errors import Forbidden, MethodNotAllowed, NotFound, StatusDetails, invalid
from kubeward.server.resources import RequestContext

if TYPE_CHECKING:
    from kubeward.server.app import APIServer, VirtualHandler

# Where the virtual handler records the subresource a request really came through.
_SUBRESOURCE_KEY = web.RequestKey("kubeward.certificates.subresource", str)
_PATHS = {"approval": v.APPROVAL, "status": v.STATUS, "": v.MAIN}


def register(server: APIServer) -> None:
    """Plug the CSR rules into ``server``: the admission hook and the two subresources."""
    rt = CERTIFICATE_SIGNING_REQUESTS
    for sub in ("approval", "status"):
        server.virtual[(rt.group, rt.resource, sub)] = _subresource_handler(server, sub)

    async def admit(ctx: RequestContext, obj: m.JSONObject, old: m.JSONObject | None) -> None:
        if ctx.rt.group != GROUP or ctx.rt.kind != KIND:
            return
        if old is None:
            fill_requester(obj, ctx.user)
            return
        subresource = ctx.request.get(_SUBRESOURCE_KEY, "")
        check_update(server.authorizer, ctx.user, obj, old, subresource)

    server.handlers.admission.append(admit)


def fill_requester(obj: m.JSONObject, user: UserInfo) -> None:
    """Rule 1: the requester's identity, never the client's claim."""
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    for key in ("username", "uid", "groups", "extra"):
        spec.pop(key, None)
    spec["username"] = user.name
    if user.uid:
        spec["uid"] = user.uid
    if user.groups:
        spec["groups"] = list(user.groups)
    if user.extra:
        spec["extra"] = {k: list(vals) for k, vals in user.extra.items()}


def check_update(
    authorizer: Authorizer, user: UserInfo, obj: m.JSONObject, old: m.JSONObject, subresource: str
) -> None:
    """Rules 2-4 for an update of ``old`` into ``obj`` (changed in place) via ``subresource``.

    Raises:
        Invalid: the update changes what its subresource may not change.
        Forbidden: the user may not approve (or sign) for the request's signer.
    """
    if subresource == "approval":
        conditions = (obj.get("status") or {}).get("conditions")
        obj["status"] = copy.deepcopy(old.get("status") or {})
        if conditions:
            obj["status"]["conditions"] = conditions
        else:
            obj["status"].pop("conditions", None)
        if not obj["status"]:
            obj.pop("status")
    if subresource in ("approval", "status"):
        _fill_condition_times(obj, old)
    causes = v.validate_csr_transition(obj, old, _PATHS.get(subresource, v.MAIN))
    if causes:
        raise invalid(KIND, m.name_of(old), causes, GROUP)
    signer = str((old.get("spec") or {}).get("signerName") or "")
    name = m.name_of(old)
    if subresource == "approval" and not signer_allowed(authorizer, user, "approve", signer):
        raise _refused(name, f'user not permitted to approve requests with signerName "{signer}"')
    if (
        subresource == "status"
        and v.certificate_bytes(obj) != v.certificate_bytes(old)
        and not signer_allowed(authorizer, user, "sign", signer)
    ):
        raise _refused(name, f'user not permitted to sign requests with signerName "{signer}"')


def signer_allowed(authorizer: Authorizer, user: UserInfo, verb: str, signer: str) -> bool:
    """``verb`` on ``signers/<signerName>``, or on ``signers/<domain>/*`` (rules 3 and 4)."""
    names = [signer]
    domain, sep, _ = signer.partition("/")
    if sep:
        names.append(f"{domain}/*")
    for name in names:
        attributes = Attributes(
            user=user, verb=verb, api_group=GROUP, api_version="*", resource="signers", name=name
        )
        if authorizer.authorize(attributes).allowed:
            return True
    return False


def _refused(name: str, why: str) -> Forbidden:
    resource = CERTIFICATE_SIGNING_REQUESTS
    return Forbidden(
        f'{resource.qualified_resource} "{name}" is forbidden: {why}',
        StatusDetails(name=name, group=GROUP, kind=resource.resource),
    )


def _fill_condition_times(obj: m.JSONObject, old: m.JSONObject) -> None:
    now = m.format_time(m.now())
    previous = {
        str(c.get("type")): c
        for c in ((old.get("status") or {}).get("conditions") or [])
        if isinstance(c, dict)
    }
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if not isinstance(cond, dict):
            continue
        if not cond.get("lastUpdateTime"):
            cond["lastUpdateTime"] = now
        if not cond.get("lastTransitionTime"):
            before = previous.get(str(cond.get("type")))
            same = before is not None and before.get("status") == cond.get("status")
            cond["lastTransitionTime"] = (
                (before or {}).get("lastTransitionTime") or now if same else now
            )


def _subresource_handler(server: APIServer, subresource: str) -> VirtualHandler:
    async def handle(
        request: web.Request, info: RequestInfo, user: UserInfo, body: bytes
    ) -> web.StreamResponse:
        rt = CERTIFICATE_SIGNING_REQUESTS
        store = server.stores.get(rt)
        if store is None or not info.name:
            raise NotFound("the server could not find the requested resource")
        request[_SUBRESOURCE_KEY] = subresource
        ctx = RequestContext(
            request, dataclasses.replace(info, subresource="status"), user, rt, store
        )
        handlers = server.handlers
        if info.verb == "get":
            return await handlers.get(ctx)
        if info.verb == "update":
            return await handlers.update(ctx, body)
        if info.verb == "patch":
            return await handlers.patch(ctx, body)
        raise MethodNotAllowed(
            "the server does not allow this method on the requested resource "
            f"({request.method.lower()} {rt.resource} {info.name})"
        )

    return handle
