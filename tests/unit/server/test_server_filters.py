"""The filters of the request path, each alone and composed, with kubeward's own seams faked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from kubeward.api.user import UserInfo
from kubeward.authn.interfaces import AuthRequest, AuthResponse
from kubeward.authz.interfaces import NO_OPINION, Attributes, AuthzResult, Decision
from kubeward.errors import (
    AuthenticationError,
    BadRequest,
    Forbidden,
    NotFound,
    Timeout,
    TooManyRequests,
    Unauthorized,
)
from kubeward.server.filters import (
    FLOW_SCHEMA_UID_HEADER,
    PRIORITY_LEVEL_UID_HEADER,
    ChainSettings,
    RequestState,
    compose,
    default_filters,
)
from kubeward.server.filters.audit import Audit
from kubeward.server.filters.authentication import Authentication
from kubeward.server.filters.authorization import Authorization
from kubeward.server.filters.impersonation import Impersonation
from kubeward.server.filters.max_inflight import MaxInFlight
from kubeward.server.filters.priority_fairness import PriorityAndFairness
from kubeward.server.filters.recovery import PanicRecovery
from kubeward.server.filters.request_info import RequestInfoFilter
from kubeward.server.filters.timeout import RequestTimeout
from kubeward.server.flowcontrol import FlowControl, bootstrap

JANE = UserInfo("jane", groups=("dev", "system:authenticated"))


def run_async(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    def run() -> None:
        asyncio.run(test())

    run.__name__ = test.__name__
    return run


def state_for(method: str, path: str, headers: dict[str, str] | None = None) -> RequestState:
    request = make_mocked_request(method, path, headers=headers or {})
    state = RequestState(request)
    RequestInfoFilterSync.apply(state)
    state.requester = state.user = JANE
    return state


class RequestInfoFilterSync:
    @staticmethod
    def apply(state: RequestState) -> None:
        from kubeward.api.request_info import parse_request_info

        r = state.request
        state.info = parse_request_info(r.method, r.path, r.query)


async def ok(state: RequestState) -> web.StreamResponse:
    return web.Response(text="ok")


class FakeAuthenticator:
    def __init__(self, user: UserInfo | None, warnings: tuple[str, ...] = ()) -> None:
        self.user = user
        self.warnings = warnings
        self.seen: list[AuthRequest] = []

    async def authenticate_async(self, request: AuthRequest) -> AuthResponse:
        self.seen.append(request)
        if self.user is None:
            raise AuthenticationError("token expired")
        return AuthResponse(self.user, "fake", warnings=self.warnings)


class AllowList:
    """Allows (user, verb, resource-or-path) triples it lists; records what it was asked."""

    name = "allow-list"

    def __init__(self, *allowed: tuple[str, str, str]) -> None:
        self.allowed = set(allowed)
        self.asked: list[Attributes] = []

    def authorize(self, attributes: Attributes) -> AuthzResult:
        self.asked.append(attributes)
        target = attributes.resource if attributes.resource_request else attributes.path
        if (attributes.user.name, attributes.verb, target) in self.allowed:
            return AuthzResult(Decision.ALLOW)
        return NO_OPINION


# --- composition ---------------------------------------------------------------------------


def test_the_chain_is_in_the_designs_order() -> None:
    settings = ChainSettings(FakeAuthenticator(JANE), AllowList(), flow_control=FlowControl(10))
    assert [type(f) for f in default_filters(settings)] == [
        PanicRecovery,
        RequestInfoFilter,
        RequestTimeout,
        Authentication,
        Audit,
        Impersonation,
        PriorityAndFairness,
        Authorization,
    ]
    without_apf = ChainSettings(FakeAuthenticator(JANE), AllowList(), flow_control=None)
    assert MaxInFlight in [type(f) for f in default_filters(without_apf)]


@run_async
async def test_compose_runs_filters_outermost_first() -> None:
    calls: list[str] = []

    class Recording:
        def __init__(self, name: str) -> None:
            self.name = name

        async def __call__(self, state: RequestState, next: Any) -> web.StreamResponse:
            calls.append(f"{self.name}>")
            response: web.StreamResponse = await next(state)
            calls.append(f"<{self.name}")
            return response

    async def handler(state: RequestState) -> web.StreamResponse:
        calls.append("handler")
        return web.Response()

    chain = compose([Recording("a"), Recording("b")], handler)
    await chain(state_for("GET", "/version"))
    assert calls == ["a>", "b>", "handler", "<b", "<a"]


@run_async
async def test_the_whole_chain_answers_a_refusal_as_a_status() -> None:
    settings = ChainSettings(FakeAuthenticator(JANE), AllowList(), flow_control=FlowControl(10))
    chain = compose(default_filters(settings), ok)
    request = make_mocked_request("GET", "/api/v1/namespaces/default/pods")
    response = await chain(RequestState(request))
    assert isinstance(response, web.Response) and response.body is not None
    assert response.status == 403
    body = orjson.loads(response.body)  # type: ignore[arg-type]
    assert body["reason"] == "Forbidden"
    assert body["message"] == (
        'pods is forbidden: User "jane" cannot list resource "pods" in API group "" '
        'in the namespace "default"'
    )


# --- each filter -------------------------------------------------------------------------


@run_async
async def test_recovery_turns_errors_into_status_bodies() -> None:
    recovery = PanicRecovery()
    state = state_for("GET", "/x")

    async def not_found(state: RequestState) -> web.StreamResponse:
        raise NotFound("nope")

    async def broken(state: RequestState) -> web.StreamResponse:
        raise KeyError("secret detail")

    async def gone(state: RequestState) -> web.StreamResponse:
        raise ConnectionResetError

    answered = await recovery(state, not_found)
    assert answered.status == 404
    crashed = await recovery(state, broken)
    assert isinstance(crashed, web.Response) and crashed.body is not None
    assert crashed.status == 500
    assert b"secret detail" not in crashed.body  # type: ignore[operator]
    with pytest.raises(ConnectionResetError):
        await recovery(state, gone)


@run_async
async def test_request_info_is_parsed_once_into_the_state() -> None:
    request = make_mocked_request("GET", "/api/v1/watch/namespaces/a/pods/p")
    state = RequestState(request)
    seen: list[str] = []

    async def handler(state: RequestState) -> web.StreamResponse:
        seen.extend([state.info.verb, state.info.namespace, state.info.resource, state.info.name])
        return web.Response()

    await RequestInfoFilter()(state, handler)
    assert seen == ["watch", "a", "pods", "p"]


@run_async
async def test_timeout_answers_504_and_spares_watches() -> None:
    timeout = RequestTimeout(0.05)

    async def forever(state: RequestState) -> web.StreamResponse:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    with pytest.raises(Timeout):
        await timeout(state_for("GET", "/api/v1/pods"), forever)
    watch_state = state_for("GET", "/api/v1/pods?watch=true")
    task = asyncio.create_task(timeout(watch_state, forever))
    await asyncio.sleep(0.1)
    assert not task.done()  # a watch is long-running: not bounded by --request-timeout
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize(
    ("query", "expected"),
    [(None, 60.0), ("5s", 5.0), ("1m", 60.0), ("10m", 60.0), ("0", 60.0)],
    ids=["none", "shorter", "equal", "capped", "zero"],
)
def test_the_timeout_query_parameter_only_shortens(query: str | None, expected: float) -> None:
    assert RequestTimeout(60).timeout_for(query) == expected


def test_a_malformed_timeout_is_a_400() -> None:
    with pytest.raises(BadRequest, match="invalid timeout"):
        RequestTimeout(60).timeout_for("soon")


@run_async
async def test_authentication_sets_the_user_and_collects_warnings() -> None:
    authenticator = FakeAuthenticator(JANE, warnings=("basic auth is deprecated",))
    state = RequestState(make_mocked_request("GET", "/version", headers={"Authorization": "x"}))
    await Authentication(authenticator)(state, ok)
    assert state.requester == state.user == JANE
    assert state.warnings == ["basic auth is deprecated"]
    assert authenticator.seen[0].path == "/version"


@run_async
async def test_bad_credentials_are_a_bare_401() -> None:
    state = RequestState(make_mocked_request("GET", "/version"))
    with pytest.raises(Unauthorized) as refused:
        await Authentication(FakeAuthenticator(None))(state, ok)
    assert refused.value.message == "Unauthorized"


@run_async
async def test_audit_is_a_pass_through_seam() -> None:
    state = state_for("GET", "/version")
    response = await Audit()(state, ok)
    assert response.status == 200


@run_async
async def test_impersonation_changes_the_user_the_rest_sees() -> None:
    authorizer = AllowList(("jane", "impersonate", "users"))
    state = state_for("GET", "/version", headers={"Impersonate-User": "bob"})
    await Impersonation(authorizer)(state, ok)
    assert state.requester == JANE
    assert state.user.name == "bob"
    refused = state_for("GET", "/version", headers={"Impersonate-User": "root"})
    with pytest.raises(Forbidden, match='cannot impersonate resource "users"'):
        await Impersonation(AllowList())(refused, ok)


@run_async
async def test_authorization_allows_or_refuses_in_kubernetes_words() -> None:
    authorizer = AllowList(("jane", "get", "/version"))
    await Authorization(authorizer)(state_for("GET", "/version"), ok)
    with pytest.raises(Forbidden) as refused:
        await Authorization(authorizer)(state_for("GET", "/api/v1/namespaces/a/secrets/s"), ok)
    assert refused.value.message == (
        'secrets "s" is forbidden: User "jane" cannot get resource "secrets" in API group "" '
        'in the namespace "a"'
    )
    assert authorizer.asked[-1].name == "s"


@run_async
async def test_max_in_flight_refuses_the_one_too_many_and_ignores_watches() -> None:
    limit = MaxInFlight(max_read_only=1, max_mutating=1)
    release = asyncio.Event()

    async def slow(state: RequestState) -> web.StreamResponse:
        await release.wait()
        return web.Response()

    running = asyncio.create_task(limit(state_for("GET", "/api/v1/pods"), slow))
    await asyncio.sleep(0)
    with pytest.raises(TooManyRequests) as refused:
        await limit(state_for("GET", "/api/v1/pods"), ok)
    assert refused.value.message == "Too many requests, please try again later."
    assert refused.value.details is not None and refused.value.details.retry_after_seconds == 1
    # Mutating requests have their own limit; watches are not counted at all.
    assert (await limit(state_for("POST", "/api/v1/namespaces/a/pods"), ok)).status == 200
    assert (await limit(state_for("GET", "/api/v1/pods?watch=1"), ok)).status == 200
    release.set()
    await running


def _flow_control(*, queue_length: int = 50, hand_size: int = 6) -> FlowControl:
    flow_control = FlowControl(10, wait_limit=30)
    levels = bootstrap.priority_levels()
    for level in levels:
        if level["metadata"]["name"] == "global-default":
            queuing = level["spec"]["limited"]["limitResponse"]["queuing"]
            queuing["queueLengthLimit"] = queue_length
            queuing["handSize"] = hand_size
    for index, level in enumerate(levels):
        level["metadata"]["uid"] = f"level-{index}"
    schemas = bootstrap.flow_schemas()
    for index, schema in enumerate(schemas):
        schema["metadata"]["uid"] = f"schema-{index}"
    flow_control.configure(schemas, levels)
    return flow_control


@run_async
async def test_priority_and_fairness_names_the_schema_and_level() -> None:
    flow_control = _flow_control()
    state = state_for("GET", "/api/v1/pods")
    await PriorityAndFairness(flow_control)(state, ok)
    schema = next(s for s in flow_control.schemas if s.name == "global-default")
    assert state.flow_schema == state.priority_level == "global-default"
    assert state.response_headers == {
        FLOW_SCHEMA_UID_HEADER: schema.uid,
        PRIORITY_LEVEL_UID_HEADER: flow_control.levels["global-default"].uid,
    }
    assert flow_control.queue_sets["global-default"].executing == 0


@run_async
async def test_priority_and_fairness_refuses_when_the_queue_is_full() -> None:
    # One queue per flow, one place in it: jane's second waiting request is one too many.
    flow_control = _flow_control(queue_length=1, hand_size=1)
    seats = flow_control.limits["global-default"]
    release = asyncio.Event()

    async def slow(state: RequestState) -> web.StreamResponse:
        await release.wait()
        return web.Response()

    apf = PriorityAndFairness(flow_control)
    busy = [asyncio.create_task(apf(state_for("GET", "/api/v1/pods"), slow)) for _ in range(seats)]
    queued = asyncio.create_task(apf(state_for("GET", "/api/v1/pods"), slow))
    await asyncio.sleep(0)
    refused_state = state_for("GET", "/api/v1/pods")
    with pytest.raises(TooManyRequests) as refused:
        await apf(refused_state, ok)
    assert refused.value.details is not None and refused.value.details.retry_after_seconds == 1
    assert FLOW_SCHEMA_UID_HEADER in refused_state.response_headers
    # system:masters is exempt: it goes on while jane's level is full.
    root = state_for("GET", "/api/v1/pods")
    root.user = UserInfo("root", groups=("system:masters", "system:authenticated"))
    assert (await apf(root, ok)).status == 200
    release.set()
    await asyncio.gather(*busy, queued)


@run_async
async def test_a_watch_gives_its_seat_back_when_its_response_starts() -> None:
    flow_control = _flow_control()
    queue_set = flow_control.queue_sets["global-default"]
    started = asyncio.Event()
    finish = asyncio.Event()

    async def watch(state: RequestState) -> web.StreamResponse:
        assert queue_set.executing == 1  # initializing: holds a seat
        state.response_started()  # what the server does when the headers go out
        started.set()
        await finish.wait()
        return web.StreamResponse()

    task = asyncio.create_task(
        PriorityAndFairness(flow_control)(state_for("GET", "/api/v1/pods?watch=true"), watch)
    )
    await started.wait()
    assert queue_set.executing == 0  # streaming: counted no more
    finish.set()
    await task
    assert queue_set.executing == 0


@run_async
async def test_a_request_waiting_for_its_client_holds_no_seat() -> None:
    flow_control = _flow_control()
    queue_set = flow_control.queue_sets["global-default"]
    seen: list[int] = []

    async def reads_a_slow_body(state: RequestState) -> web.StreamResponse:
        seen.append(queue_set.executing)
        async with state.waiting_for_client():
            seen.append(queue_set.executing)
        seen.append(queue_set.executing)
        return web.Response()

    await PriorityAndFairness(flow_control)(
        state_for("POST", "/api/v1/namespaces/a/pods"), reads_a_slow_body
    )
    assert seen == [1, 0, 1]
    assert queue_set.executing == 0


@run_async
async def test_taking_the_seat_back_after_the_client_can_be_refused() -> None:
    flow_control = _flow_control(queue_length=1, hand_size=1)
    seats = flow_control.limits["global-default"]
    queue_set = flow_control.queue_sets["global-default"]
    queue_set.wait_limit = 0.01  # the second wait gives up at once

    async def reads_while_others_take_every_seat(state: RequestState) -> web.StreamResponse:
        async with state.waiting_for_client():
            for _ in range(seats):
                assert await queue_set.acquire(12345) is not None
        raise AssertionError("the seat cannot be taken back")

    with pytest.raises(TooManyRequests):
        await PriorityAndFairness(flow_control)(
            state_for("POST", "/api/v1/namespaces/a/pods"), reads_while_others_take_every_seat
        )


def test_a_429_carries_retry_after() -> None:
    from kubeward.server.filters.max_inflight import too_many_requests
    from kubeward.server.http import status_response

    response = status_response(too_many_requests())
    assert response.status == 429
    assert response.headers["Retry-After"] == "1"
    assert response.body is not None
    body = orjson.loads(response.body)  # type: ignore[arg-type]
    assert body["details"] == {"retryAfterSeconds": 1}
    assert body["message"] == "Too many requests, please try again later."
