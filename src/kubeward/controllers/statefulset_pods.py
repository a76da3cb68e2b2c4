"""What a StatefulSet's pods and claims are made of (``pkg/controller/statefulset``'s
``stateful_set_utils.go``).

Rules:

 1. Pod ``i`` of set ``web`` is named ``web-i`` (ordinals run from ``spec.ordinals.start``,
    default 0). It carries the template's labels plus ``statefulset.kubernetes.io/pod-name``
    (its name) and ``apps.kubernetes.io/pod-index`` (its ordinal), ``hostname`` = its name,
    ``subdomain`` = ``spec.serviceName``, and the set as its controller.
 2. A pod belongs to a set when the set is its controller and its name is ``<set>-<ordinal>``.
 3. For each ``volumeClaimTemplates`` entry ``c`` pod ``i`` mounts claim ``c-<set>-i`` as
    volume ``c`` (replacing a template volume of that name). The claim carries the template's
    labels plus the set's ``matchLabels``; with ``persistentVolumeClaimRetentionPolicy.
    whenDeleted: Delete`` the set is its controller, so the garbage collector deletes it with
    the set. A claim of a pod in range follows a changed policy (the reference is added or
    removed), unless another controller owns it.
 4. A pod's revision is its ``controller-revision-hash`` label, which for a StatefulSet holds
    the revision's *name* (as upstream).
 5. A pod is *running and ready* in phase Running with a True Ready condition; *available*
    when ready for ``minReadySeconds``; *healthy* when running, ready and not terminating.
"""

from __future__ import annotations

import copy
import re

from kubeward.api import meta as m
from kubeward.api.resources.apps_sets import STATEFULSETS
from kubeward.controllers import ownership, podstate
from kubeward.controllers.history import REVISION_HASH_LABEL

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")


def spec(obj: m.JSONObject) -> m.JSONObject:
    value = obj.get("spec")
    return value if isinstance(value, dict) else {}


def start_ordinal(sts: m.JSONObject) -> int:
    return int((spec(sts).get("ordinals") or {}).get("start") or 0)


def replicas(sts: m.JSONObject) -> int:
    value = spec(sts).get("replicas")
    return 1 if value is None else int(value)


def ordinal_of(pod: m.JSONObject) -> tuple[str, int] | None:
    """Rule 2: (parent name, ordinal) from the pod's name."""
    found = _ORDINAL.match(m.name_of(pod))
    return (found.group(1), int(found.group(2))) if found else None


def is_member(sts: m.JSONObject, pod: m.JSONObject) -> bool:
    """Rule 2 (the name part)."""
    parsed = ordinal_of(pod)
    return parsed is not None and parsed[0] == m.name_of(sts)


def claim_name(template: m.JSONObject, sts: m.JSONObject, ordinal: int) -> str:
    """Rule 3."""
    return f"{m.name_of(template)}-{m.name_of(sts)}-{ordinal}"


def claim_templates(sts: m.JSONObject) -> list[m.JSONObject]:
    return [t for t in spec(sts).get("volumeClaimTemplates") or [] if isinstance(t, dict)]


def retention(sts: m.JSONObject, when: str) -> str:
    policy = spec(sts).get("persistentVolumeClaimRetentionPolicy") or {}
    return str(policy.get(when) or "Retain")


def new_claim(sts: m.JSONObject, template: m.JSONObject, ordinal: int) -> m.JSONObject:
    """Rule 3."""
    labels = dict(m.labels_of(template))
    labels.update((spec(sts).get("selector") or {}).get("matchLabels") or {})
    meta: m.JSONObject = {
        "name": claim_name(template, sts, ordinal),
        "namespace": m.namespace_of(sts),
        "labels": labels,
    }
    annotations = m.metadata(template).get("annotations")
    if annotations:
        meta["annotations"] = dict(annotations)
    if retention(sts, "whenDeleted") == "Delete":
        ref = ownership.new_controller_ref(sts, STATEFULSETS)
        meta["ownerReferences"] = [ref]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def claim_owner_update(sts: m.JSONObject, claim: m.JSONObject) -> m.JSONObject | None:
    """Rule 3: the claim with its owner references as the policy wants, or None if they are."""
    uid = ownership.uid_of(sts)
    refs = [r for r in m.metadata(claim).get("ownerReferences") or [] if isinstance(r, dict)]
    has = any(r.get("uid") == uid for r in refs)
    want = retention(sts, "whenDeleted") == "Delete"
    other = ownership.controller_ref(claim)
    if has == want or (other is not None and other.get("uid") != uid):
        return None
    kept = [r for r in refs if r.get("uid") != uid]
    if want:
        kept.append(ownership.new_controller_ref(sts, STATEFULSETS))
    updated = copy.deepcopy(claim)
    updated["metadata"]["ownerReferences"] = kept or None
    if not kept:
        del updated["metadata"]["ownerReferences"]
    return updated


def new_pod(sts: m.JSONObject, template: m.JSONObject, ordinal: int, revision: str) -> m.JSONObject:
    """Rules 1, 3 and 4: pod ``ordinal`` from ``template`` at ``revision``."""
    tmeta = template.get("metadata") or {}
    name = f"{m.name_of(sts)}-{ordinal}"
    labels = dict(tmeta.get("labels") or {})
    labels[POD_NAME_LABEL] = name
    labels[POD_INDEX_LABEL] = str(ordinal)
    labels[REVISION_HASH_LABEL] = revision
    meta: m.JSONObject = {
        "name": name,
        "namespace": m.namespace_of(sts),
        "labels": labels,
        "ownerReferences": [ownership.new_controller_ref(sts, STATEFULSETS)],
    }
    for field in ("annotations", "finalizers"):
        if tmeta.get(field):
            meta[field] = copy.deepcopy(tmeta[field])
    pod_spec: m.JSONObject = copy.deepcopy(template.get("spec") or {})
    pod_spec["hostname"] = name
    service = spec(sts).get("serviceName")
    if service:
        pod_spec["subdomain"] = service
    claims = claim_templates(sts)
    if claims:
        names = {m.name_of(c) for c in claims}
        volumes = [v for v in pod_spec.get("volumes") or [] if v.get("name") not in names]
        for claim in claims:
            volumes.append(
                {
                    "name": m.name_of(claim),
                    "persistentVolumeClaim": {"claimName": claim_name(claim, sts, ordinal)},
                }
            )
        pod_spec["volumes"] = volumes
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec}


def identity_patch(pod: m.JSONObject, ordinal: int) -> m.JSONObject | None:
    """Rule 1: the merge patch restoring the pod's identity labels, or None when they hold."""
    labels = m.labels_of(pod)
    wanted = {POD_NAME_LABEL: m.name_of(pod), POD_INDEX_LABEL: str(ordinal)}
    if all(labels.get(k) == v for k, v in wanted.items()):
        return None
    return {"metadata": {"labels": wanted, "uid": ownership.uid_of(pod)}}


def revision_of(pod: m.JSONObject) -> str:
    """Rule 4."""
    return str(m.labels_of(pod).get(REVISION_HASH_LABEL) or "")


def is_terminating(pod: m.JSONObject) -> bool:
    return bool(m.metadata(pod).get("deletionTimestamp"))


def has_ended(pod: m.JSONObject) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_running_and_ready(pod: m.JSONObject) -> bool:
    """Rule 5."""
    return (pod.get("status") or {}).get("phase") == "Running" and podstate.is_ready(pod)


def is_healthy(pod: m.JSONObject) -> bool:
    """Rule 5."""
    return is_running_and_ready(pod) and not is_terminating(pod)
