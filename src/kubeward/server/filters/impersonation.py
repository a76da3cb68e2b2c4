"""Impersonation: ``Impersonate-*`` headers change the user the rest of the chain sees.

The rules (which headers, what each needs to be allowed, the groups added) are
``server.impersonation``'s; this filter applies them to ``state.requester`` and sets
``state.user``. A refused part is a 403 worded as any other authorization refusal.
"""

from __future__ import annotations

import logging

from aiohttp import web

from kubeward.authz.interfaces import Authorizer
from kubeward.errors import ImpersonationRefused
from kubeward.server.filters.authorization import forbidden
from kubeward.server.filters.interfaces import Handler, RequestState
from kubeward.server.impersonation import impersonate

log = logging.getLogger("kubeward.apiserver")


class Impersonation:
    def __init__(self, authorizer: Authorizer) -> None:
        self.authorizer = authorizer

    async def __call__(self, state: RequestState, next: Handler) -> web.StreamResponse:
        request = state.request
        try:
            state.user = await impersonate(request.headers, state.requester, self.authorizer)
        except ImpersonationRefused as exc:
            log.info("403 %s %s: %s", request.method, request.path, exc)
            raise forbidden(exc.attributes, exc.reason) from None
        return await next(state)
