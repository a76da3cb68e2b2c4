"""Owner references, as the workload controllers write and read them (client-go's
``metav1.NewControllerRef`` and the controller-manager's ``ControllerRefManager``).

Rules:

 1. An object has at most one controller: the owner reference with ``controller: true``.
    A controller writes it with ``blockOwnerDeletion: true``, so a foreground deletion of the
    owner waits for the object.
 2. Claiming (adopt or release) follows ``ClaimObject``: an object whose controller is this
    owner (same uid) is kept while the selector matches and released (its reference removed)
    when it stops matching; an orphan that matches is adopted, unless the owner or the orphan
    is being deleted; an object controlled by someone else is never touched.
 3. Adoption and release are merge patches that carry ``metadata.uid``: the API server refuses
    a patch whose uid is not the object's, so an object deleted and re-created under the same
    name is never adopted by mistake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from kubeward.api import meta as m
from kubeward.api.scheme import ResourceType
from kubeward.api.selectors import LabelSelector


def controller_ref(obj: m.JSONObject) -> m.JSONObject | None:
    """Rule 1: the owner reference with ``controller: true``, if any."""
    for ref in m.metadata(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller") is True:
            return ref
    return None


def new_controller_ref(owner: m.JSONObject, rt: ResourceType) -> m.JSONObject:
    """Rule 1: the reference a controller puts on what it creates."""
    meta = m.metadata(owner)
    return {
        "apiVersion": rt.api_version,
        "kind": rt.kind,
        "name": str(meta.get("name") or ""),
        "uid": str(meta.get("uid") or ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def uid_of(obj: m.JSONObject) -> str:
    return str(m.metadata(obj).get("uid") or "")


def is_deleting(obj: m.JSONObject) -> bool:
    return bool(m.metadata(obj).get("deletionTimestamp"))


def adopt_patch(obj: m.JSONObject, ref: m.JSONObject) -> m.JSONObject:
    """Rule 3: the merge patch that makes ``ref`` the object's controller."""
    refs = [r for r in m.metadata(obj).get("ownerReferences") or [] if r.get("uid") != ref["uid"]]
    return {"metadata": {"ownerReferences": [*refs, ref], "uid": uid_of(obj)}}


def release_patch(obj: m.JSONObject, owner_uid: str) -> m.JSONObject:
    """Rule 3: the merge patch that removes the references to ``owner_uid``."""
    refs = [r for r in m.metadata(obj).get("ownerReferences") or [] if r.get("uid") != owner_uid]
    return {"metadata": {"ownerReferences": refs or None, "uid": uid_of(obj)}}


async def claim(
    owner: m.JSONObject,
    rt: ResourceType,
    selector: LabelSelector,
    candidates: Iterable[m.JSONObject],
    patch: Callable[[m.JSONObject, m.JSONObject], Any],
) -> list[m.JSONObject]:
    """Rule 2: the candidates this owner controls once adoption and release are done.

    ``patch(obj, body)`` sends a merge patch for ``obj`` (awaitable).
    """
    owner_uid = uid_of(owner)
    claimed: list[m.JSONObject] = []
    for obj in candidates:
        ref = controller_ref(obj)
        labels = m.metadata(obj).get("labels") or {}
        if ref is not None:
            if ref.get("uid") != owner_uid:
                continue
            if selector.matches(labels):
                claimed.append(obj)
            elif not is_deleting(owner):
                await patch(obj, release_patch(obj, owner_uid))
            continue
        if is_deleting(owner) or is_deleting(obj) or not selector.matches(labels):
            continue
        adopted = await patch(obj, adopt_patch(obj, new_controller_ref(owner, rt)))
        claimed.append(adopted if isinstance(adopted, dict) and adopted else obj)
    return claimed
