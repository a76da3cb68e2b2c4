"""The priority-and-fairness state of a running server: configuration, classification, seats.

:class:`FlowControl` holds the current FlowSchemas and priority levels (replaced whole by
:meth:`FlowControl.configure` whenever the stored objects change) and one :class:`QueueSet` per
limited level. Rules:

 1. ``configure`` takes effect for the next request that is classified. A level whose limit,
    queues, hand size and queue length are unchanged keeps its queue set (and the requests in
    it); a changed level gets a new one, and the requests already in the old one finish there.
 2. The mandatory objects (``exempt`` and ``catch-all``, schemas and levels) are always in the
    configuration: when the stored ones are missing, their bootstrap values stand in, so
    ``system:masters`` is exempt and every request is classified whatever was deleted.
 3. A request in an Exempt level is counted but never waits and is never refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubeward.api.request_info import RequestInfo
from kubeward.api.user import UserInfo
from kubeward.server.flowcontrol import bootstrap
from kubeward.server.flowcontrol.classifier import classify, distinguisher, ordered
from kubeward.server.flowcontrol.config import (
    FlowSchema,
    PriorityLevel,
    concurrency_limits,
    flow_schema_from_object,
    priority_level_from_object,
)
from kubeward.server.flowcontrol.queueset import QueueSet, Seat, flow_hash


@dataclass(frozen=True)
class Classification:
    """Where a request goes: its FlowSchema, its priority level and its flow."""

    schema: FlowSchema
    level: PriorityLevel
    flow: str

    @property
    def exempt(self) -> bool:
        return self.level.exempt


class _ExemptSeat(Seat):
    pass


class FlowControl:
    def __init__(self, server_concurrency_limit: int, *, wait_limit: float = 15.0) -> None:
        self.server_concurrency_limit = server_concurrency_limit
        self.wait_limit = wait_limit
        self.schemas: list[FlowSchema] = []
        self.levels: dict[str, PriorityLevel] = {}
        self.limits: dict[str, int] = {}
        self.queue_sets: dict[str, QueueSet] = {}
        self.exempt_executing = 0
        self.configure(bootstrap.flow_schemas(), bootstrap.priority_levels())

    def configure(
        self, schemas: Iterable[Mapping[str, Any]], levels: Iterable[Mapping[str, Any]]
    ) -> None:
        """Replace the configuration with these stored objects (rules 1 and 2)."""
        by_level = {level.name: level for level in map(priority_level_from_object, levels)}
        for raw in bootstrap.mandatory_priority_levels():
            fallback = priority_level_from_object(raw)
            by_level.setdefault(fallback.name, fallback)
        by_schema = {schema.name: schema for schema in map(flow_schema_from_object, schemas)}
        for raw in bootstrap.mandatory_flow_schemas():
            fallback_schema = flow_schema_from_object(raw)
            by_schema.setdefault(fallback_schema.name, fallback_schema)
        limits = concurrency_limits(by_level.values(), self.server_concurrency_limit)
        queue_sets: dict[str, QueueSet] = {}
        for name, level in by_level.items():
            if level.exempt:
                continue
            current = self.queue_sets.get(name)
            if current is not None and _same_shape(current, level, limits[name]):
                queue_sets[name] = current
                continue
            queue_sets[name] = QueueSet(
                limits[name],
                queues=level.queues,
                hand_size=level.hand_size,
                queue_length_limit=level.queue_length_limit,
                wait_limit=self.wait_limit,
            )
        self.schemas = ordered(by_schema.values())
        self.levels = by_level
        self.limits = limits
        self.queue_sets = queue_sets

    def classify(self, user: UserInfo, info: RequestInfo) -> Classification:
        schema = classify(self.schemas, user, info, self.levels)
        if schema is None:  # only when catch-all was replaced by one that does not match
            schema = flow_schema_from_object(bootstrap.mandatory_flow_schemas()[1])
        level = self.levels[schema.priority_level]
        return Classification(schema, level, distinguisher(schema, user, info))

    async def acquire(self, classification: Classification) -> Seat | None:
        """A seat in the request's level, or None when it is rejected (429)."""
        if classification.exempt:
            self.exempt_executing += 1
            return _ExemptSeat(self._exempt_done)
        queue_set = self.queue_sets[classification.level.name]
        return await queue_set.acquire(flow_hash(classification.schema.name, classification.flow))

    def _exempt_done(self) -> None:
        self.exempt_executing -= 1


def _same_shape(queue_set: QueueSet, level: PriorityLevel, limit: int) -> bool:
    return (
        queue_set.concurrency_limit == limit
        and len(queue_set.queues) == level.queues
        and queue_set.hand_size == level.hand_size
        and queue_set.queue_length_limit == level.queue_length_limit
    )
