"""Kubernetes' authorizer library: ``authorizer.group('apps').resource('deployments').check('get')``.

Rules (``k8s.io/apiserver/pkg/cel/library/authz.go``):
 1. ``authorizer`` is an opaque value (a marker map, as ``values`` describes); ``path(p)`` makes
    a non-resource check, ``group(g)`` a resource check that ``resource``, ``subresource``,
    ``namespace`` and ``name`` narrow; ``serviceAccount(ns, name)`` is an authorizer asking for
    that service account instead of the requester.
 2. ``check(verb)`` asks the authorizer of the evaluation in progress (:data:`CHECKER`, set by
    the caller around an evaluation; this module knows no authorizer) and gives a decision:
    ``allowed()``, ``reason()``, ``errored()``, ``error()``. Without a checker it is an
    evaluation error.
 3. A check costs 350,000 (cel-go's estimate for a call to the authorizer), so one expression
    may make at most two within the per-call limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

from kubeward.cel.library.declarations import Function, Overload
from kubeward.cel.types import BOOL, OPAQUE, STRING
from kubeward.errors import CELEvaluationError

MARKER = "kubeward.Authz"
AUTHORIZER, RESOURCE, PATH, DECISION = "authorizer", "resource", "path", "decision"
CHECK_COST = 350_000.0

#: The attributes of one check (``user``: "" for the requester, else a service account's name;
#: ``verb``; ``group``, ``resource``, ``subresource``, ``namespace``, ``name`` or ``path``) ->
#: (allowed, reason, error).
Checker = Callable[[dict[str, str]], tuple[bool, str, str]]
CHECKER: ContextVar[Checker | None] = ContextVar("kubeward_cel_authorizer", default=None)


def authorizer_value() -> dict[str, str]:
    """The ``authorizer`` variable's value: the requester's authorizer."""
    return {MARKER: AUTHORIZER, "user": ""}


def _of(kind: str, value: Any) -> dict[str, str]:
    if isinstance(value, dict) and value.get(MARKER) == kind:
        return value
    raise CELEvaluationError("no such overload")


def _narrow(kind: str, key: str) -> Callable[[Any, str], dict[str, str]]:
    def narrow(value: Any, text: str) -> dict[str, str]:
        return {**_of(kind, value), key: text}

    return narrow


def group(value: Any, text: str) -> dict[str, str]:
    return {MARKER: RESOURCE, "user": _of(AUTHORIZER, value)["user"], "group": text}


def path(value: Any, text: str) -> dict[str, str]:
    return {MARKER: PATH, "user": _of(AUTHORIZER, value)["user"], "path": text}


def service_account(value: Any, namespace: str, name: str) -> dict[str, str]:
    _of(AUTHORIZER, value)
    return {MARKER: AUTHORIZER, "user": f"system:serviceaccount:{namespace}:{name}"}


def check(value: Any, verb: str) -> dict[str, str]:
    """Rule 2."""
    if not isinstance(value, dict) or value.get(MARKER) not in (RESOURCE, PATH):
        raise CELEvaluationError("no such overload")
    checker = CHECKER.get()
    if checker is None:
        raise CELEvaluationError("authorizer is not available")
    attributes = {k: str(v) for k, v in value.items() if k != MARKER}
    attributes["verb"] = verb
    allowed, reason, error = checker(attributes)
    return {
        MARKER: DECISION,
        "allowed": "true" if allowed else "false",
        "reason": reason,
        "error": error,
    }


def _check_cost(sizes: Sequence[float]) -> float:
    return CHECK_COST


def _member(name: str, params: tuple[Any, ...], result: Any, impl: Callable[..., Any]) -> Function:
    return Function(
        name, (Overload(f"authz_{name.lower()}", (OPAQUE, *params), result, impl, member=True),)
    )


FUNCTIONS: tuple[Function, ...] = (
    _member("group", (STRING,), OPAQUE, group),
    _member("path", (STRING,), OPAQUE, path),
    _member("serviceAccount", (STRING, STRING), OPAQUE, service_account),
    _member("resource", (STRING,), OPAQUE, _narrow(RESOURCE, "resource")),
    _member("subresource", (STRING,), OPAQUE, _narrow(RESOURCE, "subresource")),
    _member("namespace", (STRING,), OPAQUE, _narrow(RESOURCE, "namespace")),
    _member("name", (STRING,), OPAQUE, _narrow(RESOURCE, "name")),
    Function(
        "check",
        (Overload("authz_check", (OPAQUE, STRING), OPAQUE, check, member=True, cost=_check_cost),),
    ),
    _member("allowed", (), BOOL, lambda d: _of(DECISION, d)["allowed"] == "true"),
    _member("reason", (), STRING, lambda d: _of(DECISION, d)["reason"]),
    _member("errored", (), BOOL, lambda d: bool(_of(DECISION, d)["error"])),
    _member("error", (), STRING, lambda d: _of(DECISION, d)["error"]),
)
