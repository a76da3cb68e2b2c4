"""The plain in-flight limit, used when priority and fairness is turned off.

As k8s.io/apiserver's ``WithMaxInFlightLimit`` (``--enable-priority-and-fairness=false``):

 1. At most ``--max-requests-inflight`` read-only and ``--max-mutating-requests-inflight``
    mutating requests run at once; one more is refused at once with 429 ``TooManyRequests``,
    ``Retry-After: 1`` and the message "Too many requests, please try again later.".
 2. Watches are long-running and are not counted at all (upstream counts them only under
    priority and fairness).
 3. There is no fairness between users and no exempt level: that is what priority and
    fairness adds, and why it is on by default.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from kubeward.errors import StatusDetails, TooManyRequests
from kubeward.server.filters.interfaces import Handler, RequestState
from kubeward.server.filters.timeout import is_long_running

MUTATING_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
TOO_MANY_REQUESTS = "Too many requests, please try again later."


def too_many_requests(retry_after_seconds: int = 1) -> TooManyRequests:
    return TooManyRequests(
        TOO_MANY_REQUESTS, StatusDetails(retry_after_seconds=retry_after_seconds)
    )


class MaxInFlight:
    def __init__(self, max_read_only: int, max_mutating: int) -> None:
        self._read_only = asyncio.Semaphore(max_read_only)
        self._mutating = asyncio.Semaphore(max_mutating)

    async def __call__(self, state: RequestState, next: Handler) -> web.StreamResponse:
        if is_long_running(state.info):
            return await next(state)
        limit = self._mutating if state.info.verb in MUTATING_VERBS else self._read_only
        if limit.locked():
            raise too_many_requests()
        async with limit:
            return await next(state)
