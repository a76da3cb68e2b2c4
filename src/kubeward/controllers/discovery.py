"""The kinds the garbage collector follows, read from the API server's discovery documents
(``GetDeletableResources``), so custom resources are followed as well as built-in kinds.

Rules:

 1. For every group, its preferred version; every resource of it (not a subresource) whose
    verbs include ``list``, ``watch`` and ``delete``, except events (``""`` and
    ``events.k8s.io``), which never own anything and change too often to follow.
 2. A kind the manager's scheme knows is returned as the scheme's own ``ResourceType``, so
    the informer factory shares one informer with the controllers that follow it too.
 3. A group whose discovery document cannot be read is skipped this time (the collector
    looks again at its next discovery sync); the core group must answer.
"""

from __future__ import annotations

import logging
from typing import Any

from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.errors import KubewardError

log = logging.getLogger("kubeward.controllers")

IGNORED = {("", "events"), ("events.k8s.io", "events")}
_NEEDED = ("list", "watch", "delete")


def _resources(
    group: str,
    version: str,
    document: dict[str, Any],
    known: dict[tuple[str, str, str], ResourceType],
) -> list[ResourceType]:
    found = []
    for entry in document.get("resources") or []:
        name = str(entry.get("name") or "")
        verbs = tuple(str(v) for v in entry.get("verbs") or [])
        if "/" in name or (group, name) in IGNORED or not all(v in verbs for v in _NEEDED):
            continue
        rt = known.get((group, version, name)) or ResourceType(
            group,
            version,
            str(entry.get("kind") or ""),
            name,
            bool(entry.get("namespaced")),
            verbs=verbs,
        )
        found.append(rt)
    return found


async def deletable_resources(
    client: APIClient, known: list[ResourceType] | None = None
) -> list[ResourceType]:
    """Rules 1-3."""
    by_name = {(rt.group, rt.version, rt.resource): rt for rt in known or []}
    core = await client.request("GET", "/api/v1")
    kinds = _resources("", "v1", core, by_name)
    groups = await client.request("GET", "/apis")
    for group in groups.get("groups") or []:
        preferred = (group.get("preferredVersion") or {}).get("groupVersion")
        name = str(group.get("name") or "")
        if not preferred or "/" not in str(preferred):
            continue
        try:
            document = await client.request("GET", f"/apis/{preferred}")
        except KubewardError as exc:
            log.warning("garbage collector: discovery of %s failed: %s", preferred, exc)
            continue
        kinds.extend(_resources(name, str(preferred).split("/", 1)[1], document, by_name))
    return kinds
