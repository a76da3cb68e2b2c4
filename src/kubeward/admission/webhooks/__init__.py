"""Admission webhooks: the MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins."""

from kubeward.admission.webhooks.plugin import (
    MutatingWebhooks,
    TransportFactory,
    ValidatingWebhooks,
)

__all__ = ["MutatingWebhooks", "TransportFactory", "ValidatingWebhooks"]
