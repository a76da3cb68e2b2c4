"""The MutatingAdmissionPolicy admission plugin: CEL mutations, bound to writes by bindings.

Rules (``policy/mutating/dispatcher.go`` and ``policy/generic/policy_dispatcher.go`` of
k8s.io/apiserver 1.32):
 1. The policies and bindings are the served ``admissionregistration.k8s.io/v1alpha1`` kinds
    (none when the gate or the version is off: the plugin then does nothing). Matching
    (``policy.matching``), parameters (``policy.params``), the values expressions see
    (``policy.dispatch``), ``variables`` and ``matchConditions`` (``policy.evaluation``) are
    the ValidatingAdmissionPolicy's.
 2. Each (policy, binding, parameter) whose match conditions hold is an invocation; its
    ``mutations`` run in order (``policy.patchers``), each seeing the object as the previous
    one left it, and the object is changed in place. DELETE and CONNECT have no object to
    mutate: nothing runs.
 3. ``reinvocationPolicy: IfNeeded``: after every invocation ran once, an IfNeeded invocation
    that ran before a later invocation changed the object runs once more; so does one the
    object changed after by a later plugin (a MutatingAdmissionWebhook), in the admission
    chain's second pass (``admission.interfaces`` rule 6). Never more than twice.
 4. A misconfigured policy (``failed to configure policy: ...``) or binding (``failed to
    configure binding: ...``), a match condition or mutation that fails to evaluate or apply:
    each is an error of its policy. Under ``failurePolicy: Ignore`` it is dropped; under Fail
    the write is refused after every policy ran, with 403 and the first error's message
    ``policy 'P' with binding 'B' denied request: WHY`` (``policy "P" denied request: WHY``
    without a binding), reason Invalid for evaluation errors and Forbidden for configuration
    errors, every error as a cause.
 5. The mutated object is then defaulted and validated by the kind, as every write's object is
    (``api.registry.scope``), and seen by the validating plugins.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from kubeward.admission.interfaces import CONNECT, DELETE, AdmissionRequest, ObjectReader
from kubeward.admission.policy.checks import RequestChecks
from kubeward.admission.policy.dispatch import (
    bindings_by_policy,
    name_of,
    namespace_labels,
    request_namespace,
    request_values,
    sorted_objects,
)
from kubeward.admission.policy.evaluation import prepare
from kubeward.admission.policy.matching import GROUP, is_exempt, matches
from kubeward.admission.policy.params import collect_params, param_resource
from kubeward.admission.policy.patchers import (
    SchemaSource,
    apply_configuration_value,
    apply_json_patch_value,
)
from kubeward.api.patch.document import json_equal
from kubeward.api.validation.mutation_cel import MutationError, compile_mutation
from kubeward.authz.interfaces import Authorizer
from kubeward.cel.library import authz
from kubeward.errors import Cause, InputError, RemoteStatus, StatusDetails

POLICIES = f"mutatingadmissionpolicies.{GROUP}"
BINDINGS = f"mutatingadmissionpolicybindings.{GROUP}"
_FIELD = {"ApplyConfiguration": "applyConfiguration", "JSONPatch": "jsonPatch"}


@dataclass(frozen=True)
class PolicyError:
    """Rule 4: one error of one policy (and binding)."""

    policy: str
    binding: str
    message: str
    fail: bool
    reason: str = ""

    def text(self) -> str:
        if self.binding:
            return (
                f"policy '{self.policy}' with binding '{self.binding}' denied request: "
                f"{self.message}"
            )
        return f'policy "{self.policy}" denied request: {self.message}'


@dataclass
class _Invocation:
    policy: dict[str, Any]
    binding: dict[str, Any]
    param: dict[str, Any] | None

    @property
    def spec(self) -> dict[str, Any]:
        return dict(self.policy.get("spec") or {})

    @property
    def key(self) -> str:
        """The invocation's name in the request's reinvocation context."""
        meta = (self.param or {}).get("metadata") or {}
        param = f"{meta.get('namespace', '')}/{meta.get('name', '')}" if self.param else ""
        return f"MutatingAdmissionPolicy/{name_of(self.policy)}/{name_of(self.binding)}/{param}"

    def error(self, message: str, reason: str = "Invalid") -> PolicyError:
        fail = self.spec.get("failurePolicy", "Fail") != "Ignore"
        return PolicyError(name_of(self.policy), name_of(self.binding), message, fail, reason)


class MutatingAdmissionPolicyPlugin:
    name = "MutatingAdmissionPolicy"

    def __init__(self) -> None:
        self._authorizer: Authorizer | None = None

    def set_authorizer(self, authorizer: Authorizer) -> None:
        """Expressions see ``authorizer`` (``admission.interfaces.WantsAuthorizer``)."""
        self._authorizer = authorizer

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        """Rules 1-4."""
        if is_exempt(request) or request.operation in (DELETE, CONNECT):
            return
        policies = await sorted_objects(reader, POLICIES)
        if not policies:
            return
        bindings = await bindings_by_policy(reader, BINDINGS)
        errors: list[PolicyError] = []
        invocations: list[_Invocation] = []
        namespace: dict[str, Any] | None = None
        looked_up = False
        for policy in policies:
            policy_bindings = bindings.get(name_of(policy))
            if not policy_bindings:
                continue
            if not looked_up:
                namespace, looked_up = await request_namespace(request, reader), True
            labels = namespace_labels(namespace)
            spec = policy.get("spec") or {}
            fail = spec.get("failurePolicy", "Fail") != "Ignore"
            constraints = spec.get("matchConstraints")
            if not isinstance(constraints, dict) or not matches(constraints, request, labels):
                continue
            try:
                param_resource(policy, reader)
            except InputError as exc:
                errors.append(
                    PolicyError(name_of(policy), "", f"failed to configure policy: {exc}", fail)
                )
                continue
            for binding in policy_bindings:
                if not matches((binding.get("spec") or {}).get("matchResources"), request, labels):
                    continue
                try:
                    params = await collect_params(policy, binding, request.namespace, reader)
                except InputError as exc:
                    errors.append(
                        PolicyError(
                            name_of(policy),
                            name_of(binding),
                            f"failed to configure binding: {exc}",
                            fail,
                        )
                    )
                    continue
                invocations.extend(_Invocation(policy, binding, p) for p in params)
        if invocations:
            checks = RequestChecks(self._authorizer, request.user) if self._authorizer else None
            token = authz.CHECKER.set(checks)
            try:
                errors.extend(self._dispatch(invocations, request, reader, namespace))
            finally:
                authz.CHECKER.reset(token)
        failing = [e for e in errors if e.fail]
        if failing:
            raise _refusal(request, failing)

    def _dispatch(
        self,
        invocations: list[_Invocation],
        request: AdmissionRequest,
        reader: ObjectReader,
        namespace: dict[str, Any] | None,
    ) -> list[PolicyError]:
        """Rules 2 and 3."""
        errors: list[PolicyError] = []
        context = request.reinvocation
        if context.second_pass:
            for invocation in invocations:
                if context.due(invocation.key, request.object):
                    self._invoke(invocation, request, reader, namespace, errors)
                    context.ran(invocation.key, request.object, again=True)
            return errors
        ran_if_needed: list[int] = []  # IfNeeded invocations, in the order they ran
        rerun: set[int] = set()
        for index, invocation in enumerate(invocations):
            changed = self._invoke(invocation, request, reader, namespace, errors)
            if changed is None:
                continue
            if changed:
                rerun.update(ran_if_needed)
            if invocation.spec.get("reinvocationPolicy") == "IfNeeded":
                ran_if_needed.append(index)
                context.ran(invocation.key, request.object)
        for index in sorted(rerun):
            invocation = invocations[index]
            self._invoke(invocation, request, reader, namespace, errors)
            context.ran(invocation.key, request.object, again=True)
        return errors

    def _invoke(
        self,
        invocation: _Invocation,
        request: AdmissionRequest,
        reader: ObjectReader,
        namespace: dict[str, Any] | None,
        errors: list[PolicyError],
    ) -> bool | None:
        """One invocation: whether it changed the object; None when its conditions failed."""
        spec = invocation.spec
        values = {**request_values(request, namespace), "params": invocation.param}
        prepared = prepare(spec, values)
        if not prepared.applies:
            return None
        if prepared.errors:
            text = (
                prepared.errors[0]
                if len(prepared.errors) == 1
                else f"[{', '.join(prepared.errors)}]"
            )
            errors.append(invocation.error(text))
            return None
        schemas: SchemaSource | None = getattr(reader, "schema_for", None)
        before = copy.deepcopy(request.object)
        for mutation in spec.get("mutations") or []:
            patch_type = str(mutation.get("patchType", ""))
            source = str((mutation.get(_FIELD.get(patch_type, "")) or {}).get("expression", ""))
            compiled = compile_mutation(source, patch_type)
            if compiled.program is None:
                errors.append(invocation.error(compiled.error))
                continue
            value, error = prepared.run(compiled.program, source)
            if error:
                errors.append(invocation.error(error))
                continue
            try:
                if patch_type == "JSONPatch":
                    patched = apply_json_patch_value(request.object, value)
                else:
                    patched = apply_configuration_value(request.object, value, schemas)
            except MutationError as exc:
                errors.append(invocation.error(str(exc)))
                continue
            if patched is not request.object:
                request.object.clear()
                request.object.update(patched)
            # Later mutations (and the policy's next invocation) see the mutated object.
            values = {**request_values(request, namespace), "params": invocation.param}
            prepared = prepare(spec, values, conditions=False)
        return not json_equal(before, request.object)


def _refusal(request: AdmissionRequest, errors: list[PolicyError]) -> RemoteStatus:
    """Rule 4."""
    first = errors[0]
    reason = first.reason or "Forbidden"
    return RemoteStatus(
        first.text(),
        403,
        reason,
        StatusDetails(
            name=request.name,
            group=request.group,
            kind=request.resource,
            causes=tuple(Cause("", e.text()) for e in errors),
        ),
    )
