"""admissionregistration.k8s.io/v1: the webhooks admission calls out to, and the CEL policies.

ValidatingWebhookConfiguration and MutatingWebhookConfiguration are cluster-scoped lists of
webhooks (``api.validation.admissionregistration`` checks them); the admission plugins of the
same names (``admission.webhooks``) read them and call each matching webhook. Defaults, as
upstream's v1 defaults: ``failurePolicy: Fail``, ``matchPolicy: Equivalent``, empty namespace and
object selectors, ``timeoutSeconds: 10``, a rule's ``scope: "*"``, a service's ``port: 443`` and,
for mutating webhooks, ``reinvocationPolicy: Never``.

ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding (``api.validation.admissionpolicy``)
are read by the ValidatingAdmissionPolicy plugin (``admission.policy``). Defaults: the policy's
``failurePolicy: Fail``; in ``matchConstraints`` and a binding's ``matchResources``,
``matchPolicy: Equivalent``, empty selectors and a rule's ``scope: "*"``; a ``paramRef``'s
``parameterNotFoundAction: Deny``.

MutatingAdmissionPolicy and MutatingAdmissionPolicyBinding (v1alpha1,
``api.validation.mutatingpolicy``) are served only under the ``MutatingAdmissionPolicy`` gate
with ``--runtime-config=admissionregistration.k8s.io/v1alpha1=true`` (``OPTIONAL_TYPES``,
``api.features``); the MutatingAdmissionPolicy plugin (``admission.policy.mutating``) reads
them. Defaults as the validating kinds', without a status.
"""

from __future__ import annotations

from typing import Any

from kubeward.api.features import ADMISSION_V1ALPHA1
from kubeward.api.meta import JSONObject
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ALL_VERBS, ResourceType, Subresource
from kubeward.api.validation.admissionpolicy import validate_binding, validate_policy
from kubeward.api.validation.admissionregistration import validate_webhook_configuration
from kubeward.api.validation.mutatingpolicy import (
    validate_mutating_binding,
    validate_mutating_policy,
)
from kubeward.errors import Cause

GROUP = "admissionregistration.k8s.io"

VALIDATING_WEBHOOK_CONFIGURATIONS = ResourceType(
    GROUP,
    "v1",
    "ValidatingWebhookConfiguration",
    "validatingwebhookconfigurations",
    False,
    verbs=ALL_VERBS,
    categories=("api-extensions",),
)
MUTATING_WEBHOOK_CONFIGURATIONS = ResourceType(
    GROUP,
    "v1",
    "MutatingWebhookConfiguration",
    "mutatingwebhookconfigurations",
    False,
    verbs=ALL_VERBS,
    categories=("api-extensions",),
)
VALIDATING_ADMISSION_POLICIES = ResourceType(
    GROUP,
    "v1",
    "ValidatingAdmissionPolicy",
    "validatingadmissionpolicies",
    False,
    verbs=ALL_VERBS,
    categories=("api-extensions",),
    subresources=(Subresource("status", "ValidatingAdmissionPolicy", ("get", "patch", "update")),),
)
VALIDATING_ADMISSION_POLICY_BINDINGS = ResourceType(
    GROUP,
    "v1",
    "ValidatingAdmissionPolicyBinding",
    "validatingadmissionpolicybindings",
    False,
    verbs=ALL_VERBS,
    categories=("api-extensions",),
)
MUTATING_ADMISSION_POLICIES = ResourceType(
    GROUP,
    "v1alpha1",
    "MutatingAdmissionPolicy",
    "mutatingadmissionpolicies",
    False,
    verbs=ALL_VERBS,
    categories=("api-extensions",),
)
MUTATING_ADMISSION_POLICY_BINDINGS = ResourceType(
    GROUP,
    "v1alpha1",
    "MutatingAdmissionPolicyBinding",
    "mutatingadmissionpolicybindings",
    False,
    verbs=ALL_VERBS,
    categories=("api-extensions",),
)
OPTIONAL_TYPES = {
    ADMISSION_V1ALPHA1: (MUTATING_ADMISSION_POLICIES, MUTATING_ADMISSION_POLICY_BINDINGS)
}
TYPES = (
    VALIDATING_WEBHOOK_CONFIGURATIONS,
    MUTATING_WEBHOOK_CONFIGURATIONS,
    VALIDATING_ADMISSION_POLICIES,
    VALIDATING_ADMISSION_POLICY_BINDINGS,
)


def default_webhook(hook: dict[str, Any], *, mutating: bool) -> None:
    hook.setdefault("failurePolicy", "Fail")
    hook.setdefault("matchPolicy", "Equivalent")
    hook.setdefault("namespaceSelector", {})
    hook.setdefault("objectSelector", {})
    hook.setdefault("timeoutSeconds", 10)
    if mutating:
        hook.setdefault("reinvocationPolicy", "Never")
    for rule in hook.get("rules") or []:
        if isinstance(rule, dict):
            rule.setdefault("scope", "*")
    service = (hook.get("clientConfig") or {}).get("service")
    if isinstance(service, dict):
        service.setdefault("port", 443)


class WebhookConfigurationStrategy(Strategy):
    mutating = False

    def default(self, obj: JSONObject) -> None:
        for hook in obj.get("webhooks") or []:
            if isinstance(hook, dict):
                default_webhook(hook, mutating=self.mutating)

    def validate(self, obj: JSONObject) -> list[Cause]:
        return validate_webhook_configuration(obj, mutating=self.mutating)


class MutatingWebhookConfigurationStrategy(WebhookConfigurationStrategy):
    mutating = True


def default_match_resources(match: Any) -> None:
    """Upstream's ``SetDefaults_MatchResources`` and the rules' scope."""
    if not isinstance(match, dict):
        return
    match.setdefault("matchPolicy", "Equivalent")
    match.setdefault("namespaceSelector", {})
    match.setdefault("objectSelector", {})
    for key in ("resourceRules", "excludeResourceRules"):
        for rule in match.get(key) or []:
            if isinstance(rule, dict):
                rule.setdefault("scope", "*")


class ValidatingAdmissionPolicyStrategy(Strategy):
    """Status (``observedGeneration``, ``typeChecking``) is written by the policy status
    controller through ``/status``; the main resource keeps it."""

    has_status = True

    def default(self, obj: JSONObject) -> None:
        spec = obj.get("spec")
        if isinstance(spec, dict):
            spec.setdefault("failurePolicy", "Fail")
            default_match_resources(spec.get("matchConstraints"))

    def validate(self, obj: JSONObject) -> list[Cause]:
        return validate_policy(obj)


class ValidatingAdmissionPolicyBindingStrategy(Strategy):
    def default(self, obj: JSONObject) -> None:
        spec = obj.get("spec")
        if isinstance(spec, dict):
            default_match_resources(spec.get("matchResources"))
            ref = spec.get("paramRef")
            if isinstance(ref, dict):
                ref.setdefault("parameterNotFoundAction", "Deny")

    def validate(self, obj: JSONObject) -> list[Cause]:
        return validate_binding(obj)


class MutatingAdmissionPolicyStrategy(Strategy):
    def default(self, obj: JSONObject) -> None:
        spec = obj.get("spec")
        if isinstance(spec, dict):
            spec.setdefault("failurePolicy", "Fail")
            default_match_resources(spec.get("matchConstraints"))

    def validate(self, obj: JSONObject) -> list[Cause]:
        return validate_mutating_policy(obj)


class MutatingAdmissionPolicyBindingStrategy(ValidatingAdmissionPolicyBindingStrategy):
    def validate(self, obj: JSONObject) -> list[Cause]:
        return validate_mutating_binding(obj)


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    MUTATING_ADMISSION_POLICIES: MutatingAdmissionPolicyStrategy,
    MUTATING_ADMISSION_POLICY_BINDINGS: MutatingAdmissionPolicyBindingStrategy,
    VALIDATING_WEBHOOK_CONFIGURATIONS: WebhookConfigurationStrategy,
    MUTATING_WEBHOOK_CONFIGURATIONS: MutatingWebhookConfigurationStrategy,
    VALIDATING_ADMISSION_POLICIES: ValidatingAdmissionPolicyStrategy,
    VALIDATING_ADMISSION_POLICY_BINDINGS: ValidatingAdmissionPolicyBindingStrategy,
}
