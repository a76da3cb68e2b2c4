"""Tables of FlowSchema and PriorityLevelConfiguration, as Kubernetes' ``printers.go`` prints them.

Rules:
 1. FlowSchema: PRIORITYLEVEL is the referenced level's name, MATCHINGPRECEDENCE the number,
    DISTINGUISHERMETHOD the method's type or ``*`` without one, MISSINGPL the status of the
    ``Dangling`` condition (``True``/``False``), ``?`` when there is none.
 2. PriorityLevelConfiguration: TYPE, then NOMINALCONCURRENCYSHARES, QUEUES, HANDSIZE and
    QUEUELENGTHLIMIT, each ``<none>`` when the level does not have it (an Exempt level, or a
    Limited one that rejects instead of queuing).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kubeward.api.tables._access import items, text, value_at
from kubeward.api.tables.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    KindKey,
    PrintedRow,
    TablePrinter,
    column,
)
from kubeward.api.tables.formatting import NONE, translate_timestamp_since

GROUP = "flowcontrol.apiserver.k8s.io"

FLOW_SCHEMA_COLUMNS = (
    NAME_COLUMN,
    column(
        "PriorityLevel",
        "`name` is the name of the priority level configuration being referenced Required.",
    ),
    column(
        "MatchingPrecedence",
        "`matchingPrecedence` is used to choose among the FlowSchemas that match a given request. "
        "The chosen FlowSchema is among those with the numerically lowest (which we take to be "
        "logically highest) MatchingPrecedence.  Each MatchingPrecedence value must be ranged in "
        "[1,10000]. Note that if the precedence is not specified, it will be set to 1000 as default.",
    ),
    column(
        "DistinguisherMethod",
        "`distinguisherMethod` defines how to compute the flow distinguisher for requests that "
        "match this schema. `nil` specifies that the distinguisher is disabled and thus will "
        "always be the empty string.",
    ),
    AGE_COLUMN,
    column("MissingPL", "references a broken or non-existent PriorityLevelConfiguration"),
)


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return translate_timestamp_since(value_at(obj, "metadata", "creationTimestamp"), now)


def print_flow_schema(schema: Mapping[str, Any], now: datetime) -> PrintedRow:
    precedence = value_at(schema, "spec", "matchingPrecedence")
    missing = "?"
    for condition in items(schema, "status", "conditions"):
        if isinstance(condition, Mapping) and condition.get("type") == "Dangling":
            missing = str(condition.get("status", "?"))
    return PrintedRow(
        (
            text(schema, "metadata", "name"),
            text(schema, "spec", "priorityLevelConfiguration", "name"),
            precedence if isinstance(precedence, int) else 0,
            text(schema, "spec", "distinguisherMethod", "type") or "*",
            _age(schema, now),
            missing,
        )
    )


PRIORITY_LEVEL_COLUMNS = (
    NAME_COLUMN,
    column(
        "Type",
        '`type` indicates whether this priority level is subject to limitation on request execution.  A value of `"Exempt"` means that requests of this priority level are not subject to a limit (and thus are never queued) and do not detract from the capacity made available to other priority levels.  A value of `"Limited"` means that (a) requests of this priority level _are_ subject to limits and (b) some of the server\'s limited capacity is made available exclusively to this priority level. Required.',
    ),
    column(
        "NominalConcurrencyShares",
        "`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level.",
    ),
    column("Queues", "`queues` is the number of queues for this priority level."),
    column(
        "HandSize",
        "`handSize` is a small positive number that configures the shuffle sharding of requests into queues.",
    ),
    column(
        "QueueLengthLimit",
        "`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time.",
    ),
    AGE_COLUMN,
)


def print_priority_level(level: Mapping[str, Any], now: datetime) -> PrintedRow:
    def number(*path: str) -> int | str:
        found = value_at(level, "spec", "limited", *path)
        return found if isinstance(found, int) and not isinstance(found, bool) else NONE

    return PrintedRow(
        (
            text(level, "metadata", "name"),
            text(level, "spec", "type"),
            number("nominalConcurrencyShares"),
            number("limitResponse", "queuing", "queues"),
            number("limitResponse", "queuing", "handSize"),
            number("limitResponse", "queuing", "queueLengthLimit"),
            _age(level, now),
        )
    )


PRINTERS: dict[KindKey, TablePrinter] = {
    (GROUP, "FlowSchema"): TablePrinter(FLOW_SCHEMA_COLUMNS, print_flow_schema),
    (GROUP, "PriorityLevelConfiguration"): TablePrinter(
        PRIORITY_LEVEL_COLUMNS, print_priority_level
    ),
}
"""The printers of this module, keyed by (API group, kind)."""
