"""The request timeout: a non-long-running request that takes too long is answered with 504.

As k8s.io/apiserver's ``WithRequestDeadline`` and ``WithTimeoutForNonLongRunningRequests``:

 1. Watches are long-running and are not bounded here (their own ``timeoutSeconds`` and
    ``--min-request-timeout`` end them); so are the streaming subresources ``attach``,
    ``exec``, ``log``, ``portforward`` and ``proxy``, as kube-apiserver's
    ``BasicLongRunningRequestCheck`` lists them.
 2. Every other request gets ``--request-timeout`` (60 s by default); a ``?timeout=`` query
    parameter (a Go duration, as ``kubectl --request-timeout`` sends) shortens it, never
    lengthens it. A malformed one is a 400.
 3. When the time is up the handler is cancelled, whatever it was doing (waiting in a priority
    queue, reading a body, writing storage), its seat is given back, and the client gets a 504
    ``Timeout`` Status.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from kubeward.api.request_info import RequestInfo
from kubeward.errors import BadRequest, InputError, Timeout
from kubeward.pki.duration import parse_duration
from kubeward.server.filters.interfaces import Handler, RequestState

LONG_RUNNING_VERBS = frozenset({"watch"})
LONG_RUNNING_SUBRESOURCES = frozenset({"attach", "exec", "log", "portforward", "proxy"})


def is_long_running(info: RequestInfo) -> bool:
    """Rule 1."""
    return info.verb in LONG_RUNNING_VERBS or (
        info.is_resource_request and info.subresource in LONG_RUNNING_SUBRESOURCES
    )


class RequestTimeout:
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds

    def timeout_for(self, query_value: str | None) -> float:
        """Rule 2: the request's own timeout, capped by the server's."""
        if not query_value:
            return self.timeout_seconds
        try:
            asked = parse_duration(query_value).total_seconds()
        except InputError:
            raise BadRequest(
                f"invalid timeout specified in the request URL: {query_value!r}"
            ) from None
        if asked <= 0:
            return self.timeout_seconds
        return min(asked, self.timeout_seconds)

    async def __call__(self, state: RequestState, next: Handler) -> web.StreamResponse:
        if is_long_running(state.info):
            return await next(state)
        deadline = self.timeout_for(state.request.query.get("timeout"))
        # asyncio.timeout, unlike wait_for, runs the handler without a task of its own.
        scope = asyncio.timeout(deadline)
        try:
            async with scope:
                return await next(state)
        except TimeoutError:
            if not scope.expired():
                raise
            raise Timeout("request did not complete within the allowed duration") from None
