"""The ValidatingAdmissionPolicy admission plugin: CEL policies, bound to writes by bindings.

Rules (``validating/dispatcher.go`` of k8s.io/apiserver 1.32):
 1. Policies and bindings come from the reader's informers (``cached``), in name order; a
    binding applies its ``spec.policyName``. Nothing is evaluated for a write no policy matches
    (``policy.matching``).
 2. For each binding of a matching policy whose ``matchResources`` match, the policy is
    evaluated once per parameter (``policy.params``) with ``object`` (null on DELETE),
    ``oldObject`` (null on CREATE), ``request`` (the AdmissionReview request), ``params`` and
    ``namespaceObject`` (null for cluster-scoped writes).
 3. A matching policy whose ``paramKind`` the server does not serve is, under ``failurePolicy:
    Fail``, a denial ``failed to configure policy: ...`` (without a binding); a binding whose
    parameters cannot be collected, ``failed to configure binding: ...``. Under Ignore, skipped.
 4. Each failed validation (and, under Fail, each evaluation error of a validation or a match
    condition) goes to every one of the binding's ``validationActions``: ``Deny``
    collects a denial; ``Warn`` adds the warning ``Validation failed for
    ValidatingAdmissionPolicy 'P' with binding 'B': MESSAGE``; ``Audit`` adds the audit
    annotation ``validation.policy.admission.k8s.io/validation_failure`` (a JSON list; the
    first failure of the request is kept, as upstream's ``AddAnnotation`` keeps a set key).
 5. Audit annotations are published as ``POLICY/KEY``; distinct values from several bindings
    are joined with ``", "``.
 6. Expressions see ``authorizer`` (``policy.checks``) when the registry gave the plugin the
    server's authorizer (``set_authorizer``).
 7. After every policy, the first denial refuses the write: ``<resource> "<name>" is forbidden:
    ValidatingAdmissionPolicy 'P' with binding 'B' denied request: MESSAGE``, with the denial's
    reason (Invalid by default) and its code (Unauthorized 401, Forbidden 403,
    RequestEntityTooLarge 413, otherwise 422), the message repeated as a cause.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kubeward.admission.interfaces import (
    AdmissionRequest,
    ObjectReader,
    forbidden,
)
from kubeward.admission.policy.checks import RequestChecks
from kubeward.admission.policy.dispatch import (
    bindings_by_policy,
    name_of,
    namespace_labels,
    request_namespace,
    request_values,
    sorted_objects,
)
from kubeward.admission.policy.evaluation import evaluate
from kubeward.admission.policy.matching import GROUP, is_exempt, matches
from kubeward.admission.policy.params import collect_params, param_resource
from kubeward.authz.interfaces import Authorizer
from kubeward.cel.library import authz
from kubeward.errors import Cause, InputError, RemoteStatus, StatusDetails

POLICIES = f"validatingadmissionpolicies.{GROUP}"
BINDINGS = f"validatingadmissionpolicybindings.{GROUP}"
FAILURE_ANNOTATION = "validation.policy.admission.k8s.io/validation_failure"
_CODES = {"Unauthorized": 401, "Forbidden": 403, "RequestEntityTooLarge": 413, "Invalid": 422}


@dataclass(frozen=True)
class _Denied:
    policy: str
    binding: str
    message: str
    reason: str


class ValidatingAdmissionPolicyPlugin:
    name = "ValidatingAdmissionPolicy"

    def __init__(self) -> None:
        self._authorizer: Authorizer | None = None

    def set_authorizer(self, authorizer: Authorizer) -> None:
        """Rule 6 (``admission.interfaces.WantsAuthorizer``)."""
        self._authorizer = authorizer

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        """Rules 1-6."""
        if is_exempt(request):
            return
        policies = await sorted_objects(reader, POLICIES)
        if not policies:
            return
        bindings = await bindings_by_policy(reader, BINDINGS)
        namespace: dict[str, Any] | None = None
        values: dict[str, Any] | None = None
        checks: RequestChecks | None = None
        denied: list[_Denied] = []
        for policy in policies:
            policy_bindings = bindings.get(name_of(policy))
            if not policy_bindings:
                continue
            if values is None:
                namespace = await request_namespace(request, reader)
                values = request_values(request, namespace)
                if self._authorizer is not None:
                    checks = RequestChecks(self._authorizer, request.user)
            labels = namespace_labels(namespace)
            spec = policy.get("spec") or {}
            constraints = spec.get("matchConstraints")
            if not isinstance(constraints, dict) or not matches(constraints, request, labels):
                continue  # a policy without constraints matches nothing
            try:
                param_resource(policy, reader)
            except InputError as exc:
                if spec.get("failurePolicy", "Fail") != "Ignore":
                    denied.append(
                        _Denied(name_of(policy), "", f"failed to configure policy: {exc}", "")
                    )
                continue
            annotations: dict[str, list[str]] = {}
            for binding in policy_bindings:
                if matches((binding.get("spec") or {}).get("matchResources"), request, labels):
                    token = authz.CHECKER.set(checks)
                    try:
                        denied.extend(
                            await self._apply(policy, binding, request, reader, values, annotations)
                        )
                    finally:
                        authz.CHECKER.reset(token)
            for key, found in annotations.items():  # rule 5
                request.audit_annotations.setdefault(f"{name_of(policy)}/{key}", ", ".join(found))
        if denied:
            raise self._refusal(request, denied[0])

    async def _apply(
        self,
        policy: dict[str, Any],
        binding: dict[str, Any],
        request: AdmissionRequest,
        reader: ObjectReader,
        values: dict[str, Any],
        annotations: dict[str, list[str]],
    ) -> list[_Denied]:
        """Rules 2-5 for one binding."""
        spec = policy.get("spec") or {}
        policy_name, binding_name = name_of(policy), name_of(binding)
        try:
            params = await collect_params(policy, binding, request.namespace, reader)
        except InputError as exc:
            if spec.get("failurePolicy", "Fail") == "Ignore":
                return []
            return [_Denied(policy_name, binding_name, f"failed to configure binding: {exc}", "")]
        actions = list((binding.get("spec") or {}).get("validationActions") or [])
        denied: list[_Denied] = []
        for param in params:
            outcome = evaluate(spec, {**values, "params": param})
            if not outcome.applies:
                continue
            for denial in outcome.denials:
                if denial.forced:  # an audit annotation's error: denied whatever the actions
                    denied.append(_Denied(policy_name, binding_name, denial.message, ""))
                    continue
                if "Deny" in actions:
                    denied.append(_Denied(policy_name, binding_name, denial.message, denial.reason))
                if "Warn" in actions:
                    request.warnings.append(
                        f"Validation failed for ValidatingAdmissionPolicy '{policy_name}' with"
                        f" binding '{binding_name}': {denial.message}"
                    )
                if "Audit" in actions:
                    request.audit_annotations.setdefault(  # the first failure is kept (rule 4)
                        FAILURE_ANNOTATION,
                        json.dumps(
                            [
                                {
                                    "message": denial.message,
                                    "policy": policy_name,
                                    "binding": binding_name,
                                    "expressionIndex": denial.index,
                                    "validationActions": actions,
                                }
                            ],
                            separators=(",", ":"),
                        ),
                    )
            for key, value in outcome.annotations:
                found = annotations.setdefault(key, [])
                if value not in found:
                    found.append(value)
        return denied

    @staticmethod
    def _refusal(request: AdmissionRequest, denied: _Denied) -> RemoteStatus:
        """Rule 6."""
        with_binding = f" with binding '{denied.binding}'" if denied.binding else ""
        message = (
            f"ValidatingAdmissionPolicy '{denied.policy}'{with_binding}"
            f" denied request: {denied.message}"
        )
        base = forbidden(request, message)
        reason = denied.reason or "Invalid"
        details = base.details or StatusDetails()
        return RemoteStatus(
            base.message,
            _CODES.get(reason, 422),
            reason,
            StatusDetails(
                name=details.name,
                group=details.group,
                kind=details.kind,
                causes=(Cause("", message),),
            ),
        )
