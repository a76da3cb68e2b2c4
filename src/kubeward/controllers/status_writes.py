"""Writing a controller's status, the way every controller here does it.

A controller computes the status it wants from its cache and writes it through the ``status``
subresource with the resourceVersion it read. Two answers are not errors: the object is gone
(404: nothing left to report on) and the object changed since the cache saw it (409: a newer
version is on its way through the watch; the controller looks again shortly). Anything else
is raised.
"""

from __future__ import annotations

import copy
import enum
from typing import Any

from kubeward.api import meta as m
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.errors import NotFound, StatusError


class Written(enum.Enum):
    DONE = "done"
    GONE = "gone"
    STALE = "stale"  # lost a race: the cache is behind


async def write_status(
    client: APIClient, rt: ResourceType, obj: m.JSONObject, status: dict[str, Any]
) -> Written:
    updated = copy.deepcopy(obj)
    updated["status"] = status
    try:
        await client.update(rt, updated, namespace=m.namespace_of(obj), subresource="status")
    except NotFound:
        return Written.GONE
    except StatusError as exc:
        if exc.code != 409:
            raise
        return Written.STALE
    return Written.DONE
