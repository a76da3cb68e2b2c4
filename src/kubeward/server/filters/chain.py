"""The request path, composed in one place (k8s.io/apiserver's ``DefaultBuildHandlerChain``).

From the outside in (DESIGN.md, "The request path"):

  panic recovery → request info → request timeout → authentication → audit → impersonation
  → priority and fairness (or the plain in-flight limit when it is off) → authorization → handler

The timeout sits where upstream's ``WithRequestDeadline`` does: after request info (it needs
to know whether the request is a watch) and around everything that can wait or work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web

from kubeward.authz.interfaces import Authorizer
from kubeward.server.filters.audit import Audit
from kubeward.server.filters.authentication import Authentication, RequestAuthenticator
from kubeward.server.filters.authorization import Authorization
from kubeward.server.filters.impersonation import Impersonation
from kubeward.server.filters.interfaces import Filter, Handler, RequestState
from kubeward.server.filters.max_inflight import MaxInFlight
from kubeward.server.filters.priority_fairness import PriorityAndFairness
from kubeward.server.filters.recovery import PanicRecovery
from kubeward.server.filters.request_info import RequestInfoFilter
from kubeward.server.filters.timeout import RequestTimeout
from kubeward.server.flowcontrol import FlowControl


@dataclass(frozen=True)
class ChainSettings:
    """What the filters need from the server's configuration and components."""

    authenticator: RequestAuthenticator
    authorizer: Authorizer
    request_timeout_seconds: float = 60.0
    flow_control: FlowControl | None = None  # None: priority and fairness is off
    max_requests_inflight: int = 400
    max_mutating_requests_inflight: int = 200


def default_filters(settings: ChainSettings) -> list[Filter]:
    """The filters of the request path, outermost first."""
    limit: Filter = (
        PriorityAndFairness(settings.flow_control)
        if settings.flow_control is not None
        else MaxInFlight(settings.max_requests_inflight, settings.max_mutating_requests_inflight)
    )
    return [
        PanicRecovery(),
        RequestInfoFilter(),
        RequestTimeout(settings.request_timeout_seconds),
        Authentication(settings.authenticator),
        Audit(),
        Impersonation(settings.authorizer),
        limit,
        Authorization(settings.authorizer),
    ]


def compose(filters: Sequence[Filter], handler: Handler) -> Handler:
    """``filters[0]`` outermost, ``handler`` innermost."""
    for current in reversed(filters):
        handler = _link(current, handler)
    return handler


def _link(current: Filter, next_handler: Handler) -> Handler:
    async def run(state: RequestState) -> web.StreamResponse:
        return await current(state, next_handler)

    return run


def build_handler_chain(handler: Handler, settings: ChainSettings) -> Handler:
    return compose(default_filters(settings), handler)
