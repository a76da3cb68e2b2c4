"""Which combinations of list and watch query parameters the API accepts, as upstream decides.

kube-apiserver validates a request's ``ListOptions`` before it touches storage
(``ValidateListOptions`` in apimachinery's ``meta/internalversion/validation``) and answers a
bad combination with 422 ``Invalid`` for kind ``ListOptions`` of group ``meta.k8s.io``, one
cause per problem. kubeward accepts exactly what it accepts, with the WatchList feature on
(beta and on by default since 1.32).

Rules for a list (``watch`` not set):

1. ``resourceVersionMatch`` needs a ``resourceVersion``, is forbidden with ``continue``, must be
   ``Exact`` or ``NotOlderThan``, and ``Exact`` is forbidden for resourceVersion ``"0"``.
2. ``sendInitialEvents`` is forbidden.

Rules for a watch:

3. ``sendInitialEvents`` (true or false) requires ``resourceVersionMatch=NotOlderThan``; an
   empty ``resourceVersion`` is allowed and means "a consistent read of the current state".
   client-go's WatchList sends exactly
   ``sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=``.
4. ``resourceVersionMatch`` is forbidden without ``sendInitialEvents``, must be
   ``NotOlderThan``, and is forbidden with ``continue``.

:func:`initial_events` then says whether a watch starts with the current objects: the value
of ``sendInitialEvents`` when given, else (the legacy rule) when ``resourceVersion`` is empty
or ``"0"``.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubeward.api.validation import field
from kubeward.errors import Cause, Invalid, invalid

EXACT = "Exact"
NOT_OLDER_THAN = "NotOlderThan"
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})

_MATCH = "resourceVersionMatch"
_SEND_INITIAL = "sendInitialEvents"


def list_option_causes(query: Mapping[str, str], *, watch: bool) -> list[Cause]:
    """The problems upstream finds in these list or watch parameters (rules 1-4)."""
    match = query.get(_MATCH, "")
    resource_version = query.get("resourceVersion", "")
    continue_token = query.get("continue", "")
    send_initial_given = _SEND_INITIAL in query
    causes: list[Cause] = []
    if watch:
        if send_initial_given and match != NOT_OLDER_THAN:
            causes.append(
                field.forbidden(
                    _MATCH,
                    f"sendInitialEvents requires setting resourceVersionMatch to {NOT_OLDER_THAN}",
                )
            )
        if match:
            if not send_initial_given:
                causes.append(
                    field.forbidden(
                        _MATCH,
                        "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                    )
                )
            if match != NOT_OLDER_THAN:
                causes.append(field.not_supported(_MATCH, match, [NOT_OLDER_THAN]))
            if continue_token:
                causes.append(
                    field.forbidden(
                        _MATCH, "resourceVersionMatch is forbidden when continue is provided"
                    )
                )
        return causes
    if match:
        if not resource_version:
            causes.append(
                field.forbidden(
                    _MATCH, "resourceVersionMatch is forbidden unless resourceVersion is provided"
                )
            )
        if continue_token:
            causes.append(
                field.forbidden(
                    _MATCH, "resourceVersionMatch is forbidden when continue is provided"
                )
            )
        if match not in (EXACT, NOT_OLDER_THAN):
            causes.append(field.not_supported(_MATCH, match, [EXACT, NOT_OLDER_THAN, ""]))
        if match == EXACT and resource_version == "0":
            causes.append(
                field.forbidden(
                    _MATCH, 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"'
                )
            )
    if send_initial_given:
        causes.append(field.forbidden(_SEND_INITIAL, "sendInitialEvents is forbidden for list"))
    return causes


def list_options_error(causes: list[Cause]) -> Invalid:
    """The 422 kube-apiserver answers: ``ListOptions.meta.k8s.io "" is invalid: ...``."""
    return invalid("ListOptions", "", causes, group="meta.k8s.io")


def check_list_options(query: Mapping[str, str], *, watch: bool) -> None:
    """Raise the 422 for a combination upstream refuses; do nothing otherwise."""
    causes = list_option_causes(query, watch=watch)
    if causes:
        raise list_options_error(causes)


def initial_events(query: Mapping[str, str]) -> bool:
    """Whether a (valid) watch begins with ADDED events for the current objects."""
    if _SEND_INITIAL in query:
        return query[_SEND_INITIAL] in _TRUE
    return query.get("resourceVersion", "") in ("", "0")
