"""Validation and defaulting of apps/v1 StatefulSet, DaemonSet and ControllerRevision.

From ``pkg/apis/apps/v1/defaults.go`` and ``pkg/apis/apps/validation/validation.go``, worded as
the API server words them.

Defaulting:

 1. StatefulSet: ``replicas`` 1, ``podManagementPolicy`` OrderedReady, ``updateStrategy``
    RollingUpdate with ``rollingUpdate.partition`` 0, ``revisionHistoryLimit`` 10,
    ``persistentVolumeClaimRetentionPolicy`` Retain/Retain; each volume claim template is a
    typed (``v1``/``PersistentVolumeClaim``) claim with ``volumeMode: Filesystem`` and status
    phase Pending; the object takes its template's labels when it has none.
 2. DaemonSet: ``updateStrategy`` RollingUpdate with ``maxUnavailable`` 1 and ``maxSurge`` 0,
    ``revisionHistoryLimit`` 10; labels from the template as above.

Validation:

 1. The selector is required, well formed, not empty and selects the template's labels; the
    template's ``restartPolicy`` is Always and it has no ``activeDeadlineSeconds``.
 2. StatefulSet: ``podManagementPolicy`` OrderedReady or Parallel; ``updateStrategy.type``
    RollingUpdate or OnDelete, ``rollingUpdate`` only with RollingUpdate, ``partition`` not
    negative; ``replicas``, ``minReadySeconds`` and ``revisionHistoryLimit`` not negative; on
    update only ``replicas``, ``ordinals``, ``template``, ``updateStrategy``,
    ``revisionHistoryLimit``, ``persistentVolumeClaimRetentionPolicy`` and ``minReadySeconds``
    may change.
 3. DaemonSet: ``updateStrategy.type`` RollingUpdate (which needs ``rollingUpdate``) or
    OnDelete; ``maxUnavailable`` and ``maxSurge`` are integers or percentages of at most 100%,
    exactly one of them non-zero; the selector is immutable.
 4. ControllerRevision: ``data`` is required and immutable, ``revision`` not negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeward.api.validation import field
from kubeward.api.validation.workload import (
    immutable,
    int_or_percent,
    nonnegative,
    percent_or_int_value,
    spec_of,
    validate_pod_template,
    validate_selector,
)
from kubeward.errors import Cause

POD_MANAGEMENT_POLICIES = ("OrderedReady", "Parallel")
RETENTION_POLICIES = ("Retain", "Delete")
STATEFULSET_MUTABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
)
_STATEFULSET_FORBIDDEN = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
    "'minReadySeconds' are forbidden"
)


def _labels_from_template(obj: dict[str, Any], spec: Mapping[str, Any]) -> None:
    template = spec.get("template")
    labels = (
        ((template.get("metadata") or {}).get("labels")) if isinstance(template, dict) else None
    )
    metadata = obj.setdefault("metadata", {})
    if isinstance(labels, dict) and not metadata.get("labels"):
        metadata["labels"] = dict(labels)


def default_statefulset(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("replicas", 1)
    if not spec.get("podManagementPolicy"):
        spec["podManagementPolicy"] = "OrderedReady"
    strategy = spec.setdefault("updateStrategy", {})
    if isinstance(strategy, dict):
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            if isinstance(rolling, dict):
                rolling.setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    retention = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
    if isinstance(retention, dict):
        retention.setdefault("whenDeleted", "Retain")
        retention.setdefault("whenScaled", "Retain")
    for claim in spec.get("volumeClaimTemplates") or []:
        if isinstance(claim, dict):
            _default_claim_template(claim)
    _labels_from_template(obj, spec)


def _default_claim_template(claim: dict[str, Any]) -> None:
    """A PVC template as upstream serves it: typed, ``volumeMode: Filesystem``, Pending."""
    claim.setdefault("apiVersion", "v1")
    claim.setdefault("kind", "PersistentVolumeClaim")
    claim_spec = claim.setdefault("spec", {})
    if isinstance(claim_spec, dict) and not claim_spec.get("volumeMode"):
        claim_spec["volumeMode"] = "Filesystem"
    status = claim.setdefault("status", {})
    if isinstance(status, dict) and not status.get("phase"):
        status["phase"] = "Pending"


def default_daemonset(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    strategy = spec.setdefault("updateStrategy", {})
    if isinstance(strategy, dict):
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            if isinstance(rolling, dict):
                rolling.setdefault("maxUnavailable", 1)
                rolling.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    _labels_from_template(obj, spec)


def _validate_daemon_template(spec: Mapping[str, Any], kind_name: str) -> list[Cause]:
    causes = validate_pod_template(spec.get("template"), "spec.template")
    pod_spec = (spec.get("template") or {}).get("spec") or {}
    if not isinstance(pod_spec, Mapping):
        return causes
    restart = pod_spec.get("restartPolicy")
    if restart != "Always":
        causes.append(field.not_supported("spec.template.spec.restartPolicy", restart, ("Always",)))
    if pod_spec.get("activeDeadlineSeconds") is not None:
        causes.append(
            field.forbidden(
                "spec.template.spec.activeDeadlineSeconds",
                f"activeDeadlineSeconds in {kind_name} is not Supported",
            )
        )
    return causes


def validate_statefulset(obj: Mapping[str, Any]) -> list[Cause]:
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return [field.required("spec")]
    causes: list[Cause] = []
    policy = spec.get("podManagementPolicy")
    if not policy:
        causes.append(field.required("spec.podManagementPolicy"))
    elif policy not in POD_MANAGEMENT_POLICIES:
        causes.append(
            field.invalid(
                "spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'"
            )
        )
    strategy = spec.get("updateStrategy") or {}
    kind = strategy.get("type") if isinstance(strategy, Mapping) else None
    if not kind:
        causes.append(field.required("spec.updateStrategy"))
    elif kind == "OnDelete":
        if strategy.get("rollingUpdate") is not None:
            causes.append(
                field.invalid(
                    "spec.updateStrategy.rollingUpdate",
                    strategy["rollingUpdate"],
                    "only allowed for updateStrategy 'RollingUpdate'",
                )
            )
    elif kind == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if isinstance(rolling, Mapping):
            causes.extend(nonnegative(rolling, "partition", "spec.updateStrategy.rollingUpdate"))
    else:
        causes.append(
            field.invalid("spec.updateStrategy", strategy, "must be 'RollingUpdate' or 'OnDelete'")
        )
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if isinstance(retention, Mapping):
        for key in ("whenDeleted", "whenScaled"):
            value = retention.get(key)
            if value not in RETENTION_POLICIES:
                causes.append(
                    field.not_supported(
                        f"spec.persistentVolumeClaimRetentionPolicy.{key}",
                        value,
                        RETENTION_POLICIES,
                    )
                )
    for key in ("revisionHistoryLimit", "replicas", "minReadySeconds"):
        causes.extend(nonnegative(spec, key, "spec"))
    for i, claim in enumerate(spec.get("volumeClaimTemplates") or []):
        name = ((claim.get("metadata") or {}).get("name")) if isinstance(claim, Mapping) else None
        if not name:
            causes.append(field.required(f"spec.volumeClaimTemplates[{i}].metadata.name"))
    causes.extend(validate_selector(spec, "spec", empty_refused_for="statefulset"))
    causes.extend(_validate_daemon_template(spec, "StatefulSet"))
    return causes


def validate_statefulset_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    new_spec, old_spec = spec_of(new), spec_of(old)
    fixed = set(new_spec) | set(old_spec)
    if any(new_spec.get(k) != old_spec.get(k) for k in fixed - set(STATEFULSET_MUTABLE)):
        return [field.forbidden("spec", _STATEFULSET_FORBIDDEN)]
    return []


def validate_daemonset(obj: Mapping[str, Any]) -> list[Cause]:
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return [field.required("spec")]
    causes = validate_selector(spec, "spec", empty_refused_for="daemonset")
    causes.extend(_validate_daemon_template(spec, "DaemonSet"))
    for key in ("minReadySeconds", "revisionHistoryLimit"):
        causes.extend(nonnegative(spec, key, "spec"))
    strategy = spec.get("updateStrategy") or {}
    kind = strategy.get("type") if isinstance(strategy, Mapping) else None
    path = "spec.updateStrategy"
    if kind == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, Mapping):
            causes.append(field.required(f"{path}.rollingUpdate"))
        else:
            causes.extend(_validate_rolling_daemonset(rolling, f"{path}.rollingUpdate"))
    elif kind != "OnDelete":
        causes.append(field.not_supported(path, kind, ("RollingUpdate", "OnDelete")))
    return causes


def _validate_rolling_daemonset(rolling: Mapping[str, Any], path: str) -> list[Cause]:
    causes: list[Cause] = []
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    has_unavailable = unavailable is not None and percent_or_int_value(unavailable) != 0
    has_surge = surge is not None and percent_or_int_value(surge) != 0
    causes.extend(int_or_percent(unavailable, f"{path}.maxUnavailable"))
    causes.extend(int_or_percent(surge, f"{path}.maxSurge"))
    if has_unavailable and has_surge:
        causes.append(
            field.invalid(
                f"{path}.maxSurge", surge, "may not be set when maxUnavailable is non-zero"
            )
        )
    elif not has_unavailable and not has_surge:
        causes.append(field.required(f"{path}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    return causes


def validate_daemonset_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    return immutable(spec_of(new), spec_of(old), "selector", "spec")


def validate_controller_revision(obj: Mapping[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    if obj.get("data") is None:
        causes.append(field.required("data", "data is mandatory"))
    causes.extend(nonnegative(obj, "revision", ""))
    return causes


def validate_controller_revision_update(
    new: Mapping[str, Any], old: Mapping[str, Any]
) -> list[Cause]:
    if new.get("data") != old.get("data"):
        return [field.invalid("data", new.get("data"), "field is immutable")]
    return []
