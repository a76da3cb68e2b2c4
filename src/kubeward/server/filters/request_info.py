"""Request info: the URL and method turned into verb, resource, namespace and name, once.

Every later filter (the request timeout, priority and fairness, authorization) and the handler
read ``state.info``; nobody parses the URL again. The rules are ``api.request_info``'s.
"""

from __future__ import annotations

from aiohttp import web

from kubeward.api.request_info import parse_request_info
from kubeward.server.filters.interfaces import Handler, RequestState


class RequestInfoFilter:
    async def __call__(self, state: RequestState, next: Handler) -> web.StreamResponse:
        request = state.request
        state.info = parse_request_info(request.method, request.path, request.query)
        return await next(state)
