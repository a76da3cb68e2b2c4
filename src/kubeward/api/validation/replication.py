"""Validation and defaulting of core/v1 ReplicationController and PodTemplate, as
``ValidateReplicationController`` / ``ValidatePodTemplate`` and ``SetDefaults_ReplicationController``.

Rules:
 1. A controller without a selector selects its template's labels; without labels it is labelled
    with them too; ``replicas`` defaults to 1.
 2. ``replicas`` and ``minReadySeconds`` are not negative; the selector is non-empty and made of
    valid labels; the template is required, its labels match the selector, and its pods restart
    ``Always``.
 3. A template's pod spec follows the pod rules (``api.validation.core.validate_pod_spec``).
"""

from __future__ import annotations

from typing import Any

from kubeward.api.validation import field as f
from kubeward.api.validation.core import validate_pod_spec
from kubeward.api.validation.meta import validate_annotations, validate_labels
from kubeward.errors import Cause


def default_replication_controller(obj: dict[str, Any]) -> None:
    """Rule 1."""
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("replicas", 1)
    spec.setdefault("minReadySeconds", 0)
    template = spec.get("template")
    labels = (
        ((template or {}).get("metadata") or {}).get("labels")
        if isinstance(template, dict)
        else None
    )
    if isinstance(labels, dict) and labels:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = obj.setdefault("metadata", {})
        if not meta.get("labels"):
            meta["labels"] = dict(labels)


def validate_template(template: Any, at: str, restart_always: bool) -> list[Cause]:
    """A ``PodTemplateSpec``: its metadata's labels and annotations, and its pod spec."""
    if not isinstance(template, dict):
        return [f.required(at)]
    meta = template.get("metadata") or {}
    causes = validate_labels(meta.get("labels"), f"{at}.metadata.labels")
    causes.extend(validate_annotations(meta.get("annotations"), f"{at}.metadata.annotations"))
    spec = template.get("spec")
    causes.extend(validate_pod_spec(spec, f"{at}.spec"))
    if restart_always and isinstance(spec, dict):
        policy = spec.get("restartPolicy", "Always")
        if policy != "Always":
            causes.append(f.not_supported(f"{at}.spec.restartPolicy", policy, ("Always",)))
        if spec.get("activeDeadlineSeconds") is not None:
            causes.append(
                f.forbidden(
                    f"{at}.spec.activeDeadlineSeconds",
                    "activeDeadlineSeconds in ReplicationController is not Supported",
                )
            )
    return causes


def validate_replication_controller(obj: dict[str, Any]) -> list[Cause]:
    """Rules 2 and 3."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [f.required("spec")]
    causes: list[Cause] = []
    for key in ("replicas", "minReadySeconds"):
        value = spec.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            causes.append(f.invalid(f"spec.{key}", value, "must be greater than or equal to 0"))
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not selector:
        causes.append(f.required("spec.selector"))
        selector = {}
    else:
        causes.extend(validate_labels(selector, "spec.selector"))
    template = spec.get("template")
    if template is None:
        causes.append(f.required("spec.template"))
        return causes
    labels = (
        ((template.get("metadata") or {}).get("labels") or {}) if isinstance(template, dict) else {}
    )
    if selector and not all(labels.get(k) == v for k, v in selector.items()):
        causes.append(
            f.invalid(
                "spec.template.metadata.labels",
                labels,
                "`selector` does not match template `labels`",
            )
        )
    causes.extend(validate_template(template, "spec.template", restart_always=True))
    return causes


def validate_pod_template(obj: dict[str, Any]) -> list[Cause]:
    """Rule 3 for a PodTemplate object."""
    return validate_template(obj.get("template"), "template", restart_always=False)
