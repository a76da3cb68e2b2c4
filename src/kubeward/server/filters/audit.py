"""Audit: the stage where the audit log will be written. Today it records nothing.

The seam is here, in the chain's place for it (after authentication, so the event can name
the user; before impersonation, so it can name both the requester and the impersonated user),
as k8s.io/apiserver's ``WithAudit``. When the audit log lands (DESIGN.md, "Later"), this filter
emits the stages from what the state already carries:

 - ``RequestReceived`` before calling ``next``: ``state.info``, ``state.requester``;
 - ``ResponseStarted`` from ``state.on_response_started`` (long-running requests: watches);
 - ``ResponseComplete`` when ``next`` returns, ``Panic`` when it raises something unexpected.

Nothing else in the chain has to change for it.
"""

from __future__ import annotations

from aiohttp import web

from kubeward.server.filters.interfaces import Handler, RequestState


class Audit:
    async def __call__(self, state: RequestState, next: Handler) -> web.StreamResponse:
        return await next(state)
