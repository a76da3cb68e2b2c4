"""Priority and fairness: a request waits for a seat of its priority level, or is refused.

Rules (k8s.io/apiserver's ``WithPriorityAndFairness``; the mechanism is ``server.flowcontrol``):
 1. The request is classified by the FlowSchemas for ``state.user`` (after impersonation, as
    upstream) and ``state.info``; the response carries ``X-Kubernetes-PF-FlowSchema-UID`` and
    ``X-Kubernetes-PF-PriorityLevel-UID`` naming the schema and level, refusals included.
 2. An exempt request goes on at once. Any other waits for a seat of its level; when its queue
    is full or it waited too long it is refused with 429 ``TooManyRequests``, ``Retry-After: 1``
    and "Too many requests, please try again later.".
 3. A watch holds its seat only while it starts: the seat is given back when its response
    starts (headers sent), and the long stream that follows is not counted. Every other
    request holds its seat until its handler returns.
 4. While the request waits for its client (a body still arriving, ``state.waiting_for_client``)
    its seat is given back, and taken again, through its queue, when the client is done; 429
    if that second wait fails. Upstream holds the seat while the body trickles in, so that one
    user's slow bodies can fill a level; here they cost the level nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from kubeward.server.filters.interfaces import Handler, RequestState
from kubeward.server.filters.max_inflight import too_many_requests
from kubeward.server.filters.timeout import is_long_running
from kubeward.server.flowcontrol import Classification, FlowControl, Seat

FLOW_SCHEMA_UID_HEADER = "X-Kubernetes-PF-FlowSchema-UID"
PRIORITY_LEVEL_UID_HEADER = "X-Kubernetes-PF-PriorityLevel-UID"


class PriorityAndFairness:
    def __init__(self, flow_control: FlowControl) -> None:
        self.flow_control = flow_control

    async def __call__(self, state: RequestState, next: Handler) -> web.StreamResponse:
        classification = self.flow_control.classify(state.user, state.info)
        state.flow_schema = classification.schema.name
        state.priority_level = classification.level.name
        if classification.schema.uid:
            state.response_headers[FLOW_SCHEMA_UID_HEADER] = classification.schema.uid
        if classification.level.uid:
            state.response_headers[PRIORITY_LEVEL_UID_HEADER] = classification.level.uid
        holder = _SeatHolder(self.flow_control, classification)
        await holder.take()
        if is_long_running(state.info):
            state.on_response_started.append(holder.give_back)
        state.waiting_for_client = holder.lent_out
        try:
            return await next(state)
        finally:
            holder.give_back()


class _SeatHolder:
    """The seat of one request: taken, given back, lent out while the client is slow (rule 4)."""

    def __init__(self, flow_control: FlowControl, classification: Classification) -> None:
        self.flow_control = flow_control
        self.classification = classification
        self.seat: Seat | None = None
        self.done = False

    async def take(self) -> None:
        seat = await self.flow_control.acquire(self.classification)
        if seat is None:
            raise too_many_requests()
        self.seat = seat

    def give_back(self) -> None:
        self.done = True
        if self.seat is not None:
            self.seat.release()
            self.seat = None

    @contextlib.asynccontextmanager
    async def lent_out(self) -> AsyncIterator[None]:
        if self.done or self.seat is None:
            yield
            return
        self.seat.release()
        self.seat = None
        yield
        if not self.done:
            await self.take()
