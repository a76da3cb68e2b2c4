"""The ``PodSecurity`` admission plugin: the Pod Security Standards, chosen per namespace.

Rules (as ``k8s.io/pod-security-admission``):
 1. A namespace picks a level for each mode with the labels
    ``pod-security.kubernetes.io/{enforce,audit,warn}`` (``privileged``, ``baseline`` or
    ``restricted``) and the version with ``...-version`` (``latest`` or ``v1.N``). A label
    that is absent takes the configured default (``privileged``, ``latest``). A value that
    does not parse is evaluated as upstream does: an ``enforce`` level as ``restricted`` (fail
    closed), an ``audit`` or ``warn`` level as ``privileged`` (fail open), a version as
    ``latest``.
 2. ``enforce`` refuses a pod that violates its level, listing every violation:
    ``pods "p" is forbidden: violates PodSecurity "restricted:latest": <reason> (<detail>), ...``.
 3. ``warn`` adds ``would violate PodSecurity "<level>:<version>": ...`` as a ``Warning``
    (kubectl prints it); ``audit`` records the same text as the audit annotation
    ``pod-security.kubernetes.io/audit-violations``.
 4. Pods are checked on create, and on update when their spec changes (not on status or
    metadata-only writes). Workload kinds with a pod template (Deployment, Job, CronJob, ...)
    are never refused, as upstream: their template is checked against the ``enforce`` and
    ``warn`` levels for warnings (their pods meet ``enforce`` when created) and ``audit``.
 5. Exemptions: requests by an exempt user, in an exempt namespace, or for a pod with an exempt
    runtime class are not checked at all.
 6. Changing a namespace's ``enforce`` label to a valid value is never refused, but a change
    that tightens it warns about the pods already there that the new level would refuse:
    ``existing pods in namespace "ns" violate the new PodSecurity enforce level
    "restricted:latest"``, then one ``<pod>: <reasons>`` per pod.
 7. Those labels are validated when a namespace is created, and when it is updated unless the
    same problems were already there: an invalid value is refused with 422 Invalid, as
    upstream words it: ``Namespace "ns" is invalid: metadata.labels[pod-security.kubernetes.io/
    enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted`` (for a
    version: ``must be "latest" or "v1.x"``). This is checked before exemptions, as upstream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from kubeward.admission.interfaces import CREATE, UPDATE, AdmissionRequest, ObjectReader, forbidden
from kubeward.admission.plugins.podsecurity_checks import check_pod
from kubeward.api.validation import field as fields
from kubeward.errors import Cause, invalid

PLUGIN_NAME = "PodSecurity"
LABEL_PREFIX = "pod-security.kubernetes.io/"
MODES = ("enforce", "audit", "warn")
LEVELS = ("privileged", "baseline", "restricted")
LATEST_MINOR = 32
AUDIT_VIOLATIONS_ANNOTATION = "pod-security.kubernetes.io/audit-violations"
ENFORCE_POLICY_ANNOTATION = "pod-security.kubernetes.io/enforce-policy"
_VERSION = re.compile(r"^v1\.(0|[1-9][0-9]*)$")
_TEMPLATE_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps", "deployments"): ("spec", "template"),
    ("apps", "replicasets"): ("spec", "template"),
    ("apps", "statefulsets"): ("spec", "template"),
    ("apps", "daemonsets"): ("spec", "template"),
    ("batch", "jobs"): ("spec", "template"),
    ("batch", "cronjobs"): ("spec", "jobTemplate", "spec", "template"),
    ("", "replicationcontrollers"): ("spec", "template"),
    ("", "podtemplates"): ("template",),
}


@dataclass(frozen=True)
class Policy:
    level: str
    version: str  # "latest" or "v1.N"

    @property
    def minor(self) -> int:
        return (
            LATEST_MINOR if self.version == "latest" else min(int(self.version[3:]), LATEST_MINOR)
        )

    def __str__(self) -> str:
        return f"{self.level}:{self.version}"


DEFAULT_POLICY = Policy("privileged", "latest")
FAIL_CLOSED = Policy("restricted", "latest")


@dataclass(frozen=True)
class PodSecurityConfiguration:
    """The plugin's configuration (upstream's ``PodSecurityConfiguration``)."""

    defaults: dict[str, Policy] = field(
        default_factory=lambda: dict.fromkeys(MODES, DEFAULT_POLICY)
    )
    exempt_usernames: frozenset[str] = frozenset()
    exempt_namespaces: frozenset[str] = frozenset()
    exempt_runtime_classes: frozenset[str] = frozenset()


def namespace_policies(labels: dict[str, str], defaults: dict[str, Policy]) -> dict[str, Policy]:
    """Rule 1: each mode's policy from a namespace's labels."""
    return parse_namespace_labels(labels, defaults)[0]


def parse_namespace_labels(
    labels: dict[str, str], defaults: dict[str, Policy]
) -> tuple[dict[str, Policy], list[Cause]]:
    """Rules 1 and 7: each mode's policy, and what is wrong with the labels (in label order)."""
    policies: dict[str, Policy] = {}
    causes: list[Cause] = []
    for mode in MODES:
        default = defaults.get(mode, DEFAULT_POLICY)
        level_label = LABEL_PREFIX + mode
        version_label = f"{level_label}-version"
        level = labels.get(level_label, default.level)
        version = labels.get(version_label, default.version)
        if level_label in labels and level not in LEVELS:
            causes.append(
                fields.invalid(
                    f"metadata.labels[{level_label}]", level, f"must be one of {', '.join(LEVELS)}"
                )
            )
            level = "restricted" if mode == "enforce" else "privileged"
        if version_label in labels and not (version == "latest" or _VERSION.match(version)):
            causes.append(
                fields.invalid(
                    f"metadata.labels[{version_label}]", version, 'must be "latest" or "v1.x"'
                )
            )
            version = "latest"
        policies[mode] = Policy(level, version)
    return policies, causes


def _template(obj: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    current: Any = obj
    for key in path:
        if not isinstance(current, dict):
            return None
        current = current.get(key)
    return current if isinstance(current, dict) else None


def _same_spec(new: dict[str, Any], old: dict[str, Any]) -> bool:
    return (new.get("spec") or {}) == (old.get("spec") or {})


class PodSecurityPlugin:
    """Validates pods and pod templates against their namespace's policies."""

    name = PLUGIN_NAME

    def __init__(self, configuration: PodSecurityConfiguration | None = None) -> None:
        self.configuration = configuration or PodSecurityConfiguration()

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        if request.operation not in (CREATE, UPDATE):
            return
        # Upstream evaluates ephemeral containers added through their subresource (a privileged
        # debug container is a privileged container); every other subresource is ignored.
        if request.subresource and not (
            request.group == ""
            and request.resource == "pods"
            and request.subresource == "ephemeralcontainers"
        ):
            return
        if request.group == "" and request.resource == "namespaces":
            self._validate_namespace_labels(request)
            await self._warn_existing_pods(request, reader)
            return
        is_pod = request.group == "" and request.resource == "pods"
        template_path = _TEMPLATE_PATHS.get((request.group, request.resource))
        if not is_pod and template_path is None:
            return
        config = self.configuration
        if (
            request.user.name in config.exempt_usernames
            or request.namespace in config.exempt_namespaces
        ):
            return
        if is_pod:
            pod: dict[str, Any] | None = request.object
            old = request.old_object
            if request.operation == UPDATE and old is not None and _same_spec(request.object, old):
                return
        else:
            assert template_path is not None
            pod = _template(request.object, template_path)
        if pod is None:
            return
        spec = pod.get("spec") or {}
        meta = pod.get("metadata") or {}
        if spec.get("runtimeClassName") in config.exempt_runtime_classes:
            return
        namespace = await reader.get("namespaces", "", request.namespace)
        labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
        policies = namespace_policies(labels, config.defaults)

        def evaluate(policy: Policy) -> str:
            violations = check_pod(policy.level, policy.minor, meta, spec)
            return ", ".join(str(v) for v in violations)

        enforce = policies["enforce"]
        if is_pod:
            request.audit_annotations[ENFORCE_POLICY_ANNOTATION] = str(enforce)
            refused = evaluate(enforce)
            if refused:
                raise forbidden(request, f'violates PodSecurity "{enforce}": {refused}')
        audit = evaluate(policies["audit"])
        if audit:
            request.audit_annotations[AUDIT_VIOLATIONS_ANNOTATION] = (
                f'would violate PodSecurity "{policies["audit"]}": {audit}'
            )
        # A workload's template is warned about for its namespace's enforce level too (rule 4).
        warned = [policies["warn"]] if is_pod else [enforce, policies["warn"]]
        for policy in dict.fromkeys(warned):
            found = evaluate(policy)
            if found:
                request.warnings.append(f'would violate PodSecurity "{policy}": {found}')

    def _validate_namespace_labels(self, request: AdmissionRequest) -> None:
        """Rule 7."""
        defaults = self.configuration.defaults
        labels = (request.object.get("metadata") or {}).get("labels") or {}
        causes = parse_namespace_labels(labels, defaults)[1]
        if not causes:
            return
        if request.operation == UPDATE and request.old_object is not None:
            old_labels = (request.old_object.get("metadata") or {}).get("labels") or {}
            if causes == parse_namespace_labels(old_labels, defaults)[1]:
                return  # the same problems as before: an unrelated update goes through
        name = str((request.object.get("metadata") or {}).get("name") or request.name)
        raise invalid("Namespace", name, causes)

    async def _warn_existing_pods(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        """Rule 6."""
        name = str((request.object.get("metadata") or {}).get("name") or request.name)
        config = self.configuration
        if (
            request.operation != UPDATE
            or request.old_object is None
            or name in config.exempt_namespaces
        ):
            return
        labels = (request.object.get("metadata") or {}).get("labels") or {}
        old_labels = (request.old_object.get("metadata") or {}).get("labels") or {}
        new = namespace_policies(labels, config.defaults)["enforce"]
        old = namespace_policies(old_labels, config.defaults)["enforce"]
        relaxed = new.version == old.version and LEVELS.index(new.level) <= LEVELS.index(old.level)
        if new == old or new.level == "privileged" or relaxed:
            return
        offenders: list[str] = []
        for pod in await reader.list("pods", name):
            spec = pod.get("spec") or {}
            if spec.get("runtimeClassName") in config.exempt_runtime_classes:
                continue
            violations = check_pod(new.level, new.minor, pod.get("metadata") or {}, spec)
            if violations:
                pod_name = (pod.get("metadata") or {}).get("name", "")
                offenders.append(f"{pod_name}: {', '.join(v.reason for v in violations)}")
        if offenders:
            request.warnings.append(
                f'existing pods in namespace "{name}" violate the new PodSecurity enforce level "{new}"'
            )
            request.warnings.extend(offenders)
