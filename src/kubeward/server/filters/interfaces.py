"""The one shape every filter of the request path has, and the state a request carries through it.

A filter is an object with ``async __call__(state, next)``: it may look at or fill in the
:class:`RequestState`, answer on its own (raise a ``StatusError``), or call ``next(state)`` and
return what the rest of the chain answered. ``filters.chain`` composes them in the order of
DESIGN.md, "The request path", as k8s.io/apiserver's ``DefaultBuildHandlerChain`` does.

Rules:
 1. Filters learn about the request only through ``RequestState``: the request info, the
    authenticated user, the user the request runs as, warnings and response headers are typed
    fields set by the filter that owns them. ``state.request`` is there for what only the wire
    has (headers, the peer certificate, the body stream), never for another filter's results.
 2. A filter that refuses raises a ``StatusError``; the recovery filter turns it into a Status.
 3. Headers a filter wants on the response (``Warning``, the priority-and-fairness headers) go
    into ``state.response_headers``/``state.warnings``; they are written when the response
    starts, whether it is the handler's answer, a refusal or a streamed watch.
 4. ``state.on_response_started`` callbacks run once, when the response headers are about to
    be sent: a watch is "initialized" then, and priority and fairness gives its seat back.
 5. Whatever waits on the client rather than on the server (reading a body that has not
    arrived yet) runs inside ``state.waiting_for_client()``: priority and fairness lends the
    request's seat out meanwhile, so a client that is slow to send holds no seat.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web

from kubeward.api.request_info import RequestInfo
from kubeward.api.user import UserInfo

Handler = Callable[["RequestState"], Awaitable[web.StreamResponse]]
"""The rest of the chain, as a filter sees it: give it the state, get a response."""


@contextlib.asynccontextmanager
async def _holding_nothing() -> AsyncIterator[None]:
    yield


class Filter(Protocol):
    """One stage of the request path."""

    async def __call__(self, state: RequestState, next: Handler) -> web.StreamResponse: ...


@dataclass
class RequestState:
    """What the filters have learned about one request (rule 1).

    ``info`` is set by the request-info filter, ``requester`` by authentication, ``user`` by
    impersonation (the authenticated user when nobody is impersonated). The defaults stand for
    "not yet known" and are never used by a filter that runs after the one that sets them.
    """

    request: web.Request
    info: RequestInfo = field(default_factory=lambda: RequestInfo(verb="", path=""))
    requester: UserInfo = field(default_factory=lambda: UserInfo(""))
    user: UserInfo = field(default_factory=lambda: UserInfo(""))
    warnings: list[str] = field(default_factory=list)
    response_headers: dict[str, str] = field(default_factory=dict)
    on_response_started: list[Callable[[], None]] = field(default_factory=list)
    # Priority and fairness: which FlowSchema and priority level the request was classified to.
    flow_schema: str = ""
    priority_level: str = ""
    # Rule 5: replaced by priority and fairness while the request holds a seat.
    waiting_for_client: Callable[[], contextlib.AbstractAsyncContextManager[None]] = field(
        default=_holding_nothing
    )

    def response_started(self) -> None:
        """Run (once) what waits for the response to start (rule 4)."""
        callbacks, self.on_response_started = self.on_response_started, []
        for callback in callbacks:
            callback()


def _state_key() -> Any:
    """aiohttp 3.14 wants typed keys for the request's storage (and warns about strings)."""
    request_key = getattr(web, "RequestKey", None)
    if request_key is not None:
        return request_key("kubeward_request_state", RequestState)
    return "kubeward.request_state"


STATE_KEY: Any = _state_key()


def state_of(request: web.Request) -> RequestState | None:
    """The state the server attached to ``request``, if it came through the chain."""
    state = request.get(STATE_KEY)
    return state if isinstance(state, RequestState) else None
