"""The kinds the API server serves, read from its discovery documents (client-go's
``ServerPreferredResources``), so that controllers which act on "everything" follow custom
resources as well as built-in kinds.

Rules:

 1. For every group, its preferred version; every resource of it (not a subresource), with the
    verbs discovery lists for it.
 2. A kind the manager's scheme knows is returned as the scheme's own ``ResourceType``, so
    the informer factory shares one informer with the controllers that follow it too.
 3. A group whose discovery document cannot be read is skipped this time and named in the
    result's ``failed`` (the caller looks again later); the core group must answer.
 4. The garbage collector follows what can be listed, watched and deleted
    (``GetDeletableResources``), the quota controller what is namespaced among those; both
    leave out events (``""`` and ``events.k8s.io``), which never own anything, are not quota'd
    (upstream's ``DefaultIgnoredResources``) and change too often to follow. The namespace
    controller deletes every namespaced kind that can be listed and deleted, events included.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.errors import KubewardError

log = logging.getLogger("kubeward.controllers")

IGNORED = {("", "events"), ("events.k8s.io", "events")}
_DELETABLE = ("list", "watch", "delete")


@dataclass(frozen=True)
class Served:
    """What discovery found (rule 1) and the group versions it could not read (rule 3)."""

    kinds: list[ResourceType]
    failed: list[str] = field(default_factory=list)


def _resources(
    group: str,
    version: str,
    document: dict[str, Any],
    known: dict[tuple[str, str, str], ResourceType],
) -> list[ResourceType]:
    found = []
    for entry in document.get("resources") or []:
        name = str(entry.get("name") or "")
        if "/" in name:
            continue
        verbs = tuple(str(v) for v in entry.get("verbs") or [])
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


async def served_resources(client: APIClient, known: list[ResourceType] | None = None) -> Served:
    """Rules 1-3."""
    by_name = {(rt.group, rt.version, rt.resource): rt for rt in known or []}
    core = await client.request("GET", "/api/v1")
    kinds = _resources("", "v1", core, by_name)
    failed: list[str] = []
    groups = await client.request("GET", "/apis")
    for group in groups.get("groups") or []:
        preferred = (group.get("preferredVersion") or {}).get("groupVersion")
        name = str(group.get("name") or "")
        if not preferred or "/" not in str(preferred):
            continue
        try:
            document = await client.request("GET", f"/apis/{preferred}")
        except KubewardError as exc:
            log.warning("discovery of %s failed: %s", preferred, exc)
            failed.append(str(preferred))
            continue
        kinds.extend(_resources(name, str(preferred).split("/", 1)[1], document, by_name))
    return Served(kinds, failed)


def followable(kinds: list[ResourceType]) -> list[ResourceType]:
    """Rule 4: what the garbage collector follows."""
    return [
        rt
        for rt in kinds
        if (rt.group, rt.resource) not in IGNORED and all(v in rt.verbs for v in _DELETABLE)
    ]


def quotable(kinds: list[ResourceType]) -> list[ResourceType]:
    """Rule 4: what the quota controller counts."""
    return [rt for rt in followable(kinds) if rt.namespaced]


def namespace_contents(kinds: list[ResourceType]) -> list[ResourceType]:
    """Rule 4: what the namespace controller deletes."""
    return [rt for rt in kinds if rt.namespaced and "list" in rt.verbs and "delete" in rt.verbs]


async def deletable_resources(
    client: APIClient, known: list[ResourceType] | None = None
) -> list[ResourceType]:
    """Rules 1-4 for the garbage collector."""
    return followable((await served_resources(client, known)).kinds)
