"""The Webhook authorization mode (SubjectAccessReview to a remote service)."""

from kubeward.authz.webhook.authorizer import MODE_WEBHOOK, WebhookAuthorizer, WebhookSettings
from kubeward.webhook_calls import Backoff, ReviewTransport

__all__ = ["MODE_WEBHOOK", "Backoff", "ReviewTransport", "WebhookAuthorizer", "WebhookSettings"]
