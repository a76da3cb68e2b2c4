"""scheduling.k8s.io/v1 priorityclasses (``api.validation.scheduling``).

The two system classes are written at server start by :func:`ensure_system_priority_classes`
(upstream's ``scheduling/bootstrap-system-priority-classes`` hook) and cannot be deleted:
upstream's PriorityClass storage answers 403 ``this is a system priority class and cannot be
deleted``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from kubeward.api.meta import JSONObject, name_of
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType
from kubeward.api.validation import scheduling as v
from kubeward.errors import AlreadyExists, Cause, Forbidden, NotFound, StatusDetails

if TYPE_CHECKING:
    from kubeward.api.registry.store import Store

log = logging.getLogger("kubeward.apiserver.scheduling")

PRIORITY_CLASSES = ResourceType(
    "scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, short_names=("pc",)
)
TYPES = (PRIORITY_CLASSES,)


class PriorityClassStrategy(Strategy):
    generation_fields = ("value", "globalDefault", "description", "preemptionPolicy")

    def default(self, obj: JSONObject) -> None:
        v.default_priority_class(obj)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return v.validate_priority_class(obj)

    def validate_update(self, new: JSONObject, old: JSONObject) -> list[Cause]:
        return v.validate_priority_class_update(new, old)

    def check_delete(self, obj: JSONObject) -> None:
        name = name_of(obj)
        if name in v.SYSTEM_NAMES:
            raise Forbidden(
                f'priorityclasses.scheduling.k8s.io "{name}" is forbidden: this is a system '
                "priority class and cannot be deleted",
                StatusDetails(name=name, group="scheduling.k8s.io", kind="priorityclasses"),
            )


STRATEGIES: dict[ResourceType, type[Strategy]] = {PRIORITY_CLASSES: PriorityClassStrategy}


async def ensure_system_priority_classes(stores: Mapping[ResourceType, Store]) -> int:
    """Create the system classes that are absent (module rule); returns how many were made."""
    store = stores[PRIORITY_CLASSES]
    created = 0
    for desired in v.SYSTEM_PRIORITY_CLASSES:
        name = name_of(desired)
        try:
            await store.get("", name)
            continue
        except NotFound:
            pass
        try:
            await store.create("", copy.deepcopy(desired))
        except AlreadyExists:
            continue  # another API server made it meanwhile
        log.info("created PriorityClass %s", name)
        created += 1
    return created
