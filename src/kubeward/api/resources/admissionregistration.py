"""admissionregistration.k8s.io/v1: the webhooks admission calls out to.

ValidatingWebhookConfiguration and MutatingWebhookConfiguration are cluster-scoped lists of
webhooks (``api.validation.admissionregistration`` checks them); the admission plugins of the
same names (``admission.webhooks``) read them and call each matching webhook. Defaults, as
upstream's v1 defaults: ``failurePolicy: Fail``, ``matchPolicy: Equivalent``, empty namespace and
object selectors, ``timeoutSeconds: 10``, a rule's ``scope: "*"``, a service's ``port: 443`` and,
for mutating webhooks, ``reinvocationPolicy: Never``.
"""

from __future__ import annotations

from typing import Any

from kubeward.api.meta import JSONObject
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ALL_VERBS, ResourceType
from kubeward.api.validation.admissionregistration import validate_webhook_configuration
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
TYPES = (VALIDATING_WEBHOOK_CONFIGURATIONS, MUTATING_WEBHOOK_CONFIGURATIONS)


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


STRATEGIES: dict[ResourceType, type[Strategy]] = {
    VALIDATING_WEBHOOK_CONFIGURATIONS: WebhookConfigurationStrategy,
    MUTATING_WEBHOOK_CONFIGURATIONS: MutatingWebhookConfigurationStrategy,
}
