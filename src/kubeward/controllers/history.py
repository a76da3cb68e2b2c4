"""ControllerRevisions: the template history of StatefulSets and DaemonSets
(``pkg/controller/history`` and the two controllers' ``getPatch``).

Rules:

 1. A revision's ``data`` is the strategic-merge patch that restores the owner's pod template:
    ``{"spec": {"template": {..., "$patch": "replace"}}}``; ``kubectl rollout history`` and
    ``undo`` read it as upstream's.
 2. Its name is ``<owner>-<hash>``, the hash of ``data`` (and of the owner's
    ``status.collisionCount`` when set) in Kubernetes' safe alphabet; its labels are the
    template's plus ``controller-revision-hash: <hash>``; the owner is its controller.
 3. Revisions are numbered from 1; the owner's current template reuses an equal revision
    (same ``data``), renumbered to the next number when it is not the newest one (a
    rollback), else a new revision with the next number is created.
 4. A name taken by a revision with other ``data`` (a hash collision) raises the owner's
    ``collisionCount``, which changes the hash.
 5. Revisions no pod uses beyond ``revisionHistoryLimit`` (default 10) are deleted, oldest first.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from kubeward.api import meta as m
from kubeward.api.resources.apps_sets import CONTROLLER_REVISIONS
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient
from kubeward.controllers import ownership
from kubeward.controllers.deployment_util import template_hash
from kubeward.errors import AlreadyExists

REVISION_HASH_LABEL = "controller-revision-hash"
DEFAULT_HISTORY_LIMIT = 10
_MAX_PREFIX = 223


def template_patch(owner: m.JSONObject) -> m.JSONObject:
    """Rule 1."""
    template = copy.deepcopy((owner.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def template_of(revision: m.JSONObject) -> m.JSONObject:
    """The pod template a revision restores (rule 1)."""
    template = copy.deepcopy(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return dict(template)


def revision_number(revision: m.JSONObject) -> int:
    return int(revision.get("revision") or 0)


def hash_of(revision: m.JSONObject) -> str:
    return str(m.labels_of(revision).get(REVISION_HASH_LABEL) or "")


def new_revision(
    owner: m.JSONObject, rt: ResourceType, number: int, collision_count: int | None
) -> m.JSONObject:
    """Rule 2."""
    data = template_patch(owner)
    digest = template_hash(data, collision_count)
    template = (owner.get("spec") or {}).get("template") or {}
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels[REVISION_HASH_LABEL] = digest
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": f"{m.name_of(owner)[:_MAX_PREFIX]}-{digest}",
            "namespace": m.namespace_of(owner),
            "labels": labels,
            "ownerReferences": [ownership.new_controller_ref(owner, rt)],
        },
        "data": data,
        "revision": number,
    }


def sort_revisions(revisions: Iterable[m.JSONObject]) -> list[m.JSONObject]:
    """Oldest first (by number, then creation, then name)."""
    return sorted(
        revisions,
        key=lambda r: (
            revision_number(r),
            str(m.metadata(r).get("creationTimestamp") or ""),
            m.name_of(r),
        ),
    )


def equal_revisions(revisions: Iterable[m.JSONObject], wanted: m.JSONObject) -> list[m.JSONObject]:
    """Rule 3: the revisions with the same ``data`` as ``wanted``."""
    return [r for r in revisions if (r.get("data") or {}) == wanted.get("data")]


def next_number(revisions: list[m.JSONObject]) -> int:
    return max((revision_number(r) for r in revisions), default=0) + 1


def history_limit(owner: m.JSONObject) -> int:
    value = (owner.get("spec") or {}).get("revisionHistoryLimit")
    return DEFAULT_HISTORY_LIMIT if value is None else int(value)


def surplus(revisions: list[m.JSONObject], live: set[str], limit: int) -> list[m.JSONObject]:
    """Rule 5: the revisions to delete (``live`` names those still in use)."""
    unused = [r for r in sort_revisions(revisions) if m.name_of(r) not in live]
    excess = len(unused) - limit
    return unused[:excess] if excess > 0 else []


async def _create(
    client: APIClient, owner: m.JSONObject, rt: ResourceType, number: int, collisions: int
) -> tuple[m.JSONObject, int]:
    """Rule 4: create the revision, raising ``collisions`` while its name is taken."""
    namespace = m.namespace_of(owner)
    while True:
        wanted = new_revision(owner, rt, number, collisions or None)
        try:
            return await client.create(CONTROLLER_REVISIONS, wanted, namespace), collisions
        except AlreadyExists:
            found = await client.get(CONTROLLER_REVISIONS, m.name_of(wanted), namespace)
            if (found.get("data") or {}) == wanted["data"]:
                return found, collisions
            collisions += 1


async def sync_revisions(
    client: APIClient, owner: m.JSONObject, rt: ResourceType, revisions: list[m.JSONObject]
) -> tuple[m.JSONObject, m.JSONObject, int | None, list[m.JSONObject]]:
    """Rules 3 and 4: (current, update, collisionCount, all revisions) for the owner."""
    status = owner.get("status") or {}
    collisions = status.get("collisionCount")
    ordered = sort_revisions(revisions)
    number = next_number(ordered)
    wanted = new_revision(owner, rt, number, collisions)
    equal = equal_revisions(ordered, wanted)
    if equal and ordered and equal[-1] is ordered[-1]:
        update = ordered[-1]
    elif equal:
        renumbered = copy.deepcopy(equal[-1])
        renumbered["revision"] = number
        update = await client.update(
            CONTROLLER_REVISIONS, renumbered, namespace=m.namespace_of(owner)
        )
        ordered = [update if m.name_of(r) == m.name_of(update) else r for r in ordered]
    else:
        update, count = await _create(client, owner, rt, number, int(collisions or 0))
        if count:
            collisions = count
        ordered.append(update)
    current = next((r for r in ordered if m.name_of(r) == status.get("currentRevision")), update)
    return current, update, collisions, sort_revisions(ordered)


def hash_of_pod(pod: m.JSONObject) -> str:
    """The ``controller-revision-hash`` label of a pod (a DaemonSet's: the hash itself)."""
    return str(m.labels_of(pod).get(REVISION_HASH_LABEL) or "")
