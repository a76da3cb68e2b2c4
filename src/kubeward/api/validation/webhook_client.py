"""Validation of a webhook's ``clientConfig``: a ``url`` or a ``service``, as upstream checks them.

Shared by everything that calls a webhook the API declares (CRD conversion today; admission
webhooks later). Worded as k8s.io/apiserver's ``webhook.ValidateWebhookURL`` and
``ValidateWebhookService``:

 1. Exactly one of ``url`` and ``service``.
 2. A ``url`` is ``https``, has a host, and carries no user information, fragment or query.
 3. A ``service`` has a name and a namespace, a valid port (1-65535, 443 by default) and a
    ``path`` that, when given and not ``/``, starts with ``/`` and has no empty segment.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from kubeward.api.validation import field
from kubeward.errors import Cause

_FORM = "; desired format: https://host[/path]"


def validate_client_config(config: Any, path: str) -> list[Cause]:
    """Rules 1 to 3 on one ``clientConfig`` at ``path``."""
    if not isinstance(config, dict):
        return [field.required(path, "exactly one of url or service is required")]
    url, service = config.get("url"), config.get("service")
    if (url is None) == (service is None):
        return [field.required(path, "exactly one of url or service is required")]
    if url is not None:
        return validate_url(url, f"{path}.url")
    return validate_service(service, f"{path}.service")


def validate_url(url: Any, path: str) -> list[Cause]:
    """Rule 2."""
    try:
        parts = urlsplit(str(url))
    except ValueError as exc:
        return [field.required(path, f"url must be a valid URL: {exc}{_FORM}")]
    causes: list[Cause] = []
    if parts.scheme != "https":
        causes.append(
            field.invalid(path, parts.scheme, "'https' is the only allowed URL scheme" + _FORM)
        )
    if not parts.netloc.rpartition("@")[2]:
        causes.append(field.invalid(path, "", "host must be specified" + _FORM))
    if "@" in parts.netloc:
        user = parts.netloc.rpartition("@")[0]
        causes.append(field.invalid(path, user, "user information is not permitted in the URL"))
    if parts.fragment:
        causes.append(field.invalid(path, parts.fragment, "fragments are not permitted in the URL"))
    if parts.query:
        causes.append(
            field.invalid(path, parts.query, "query parameters are not permitted in the URL")
        )
    return causes


def validate_service(service: Any, path: str) -> list[Cause]:
    """Rule 3."""
    if not isinstance(service, dict):
        return [field.required(f"{path}.name", "service name is required")]
    causes: list[Cause] = []
    if not service.get("name"):
        causes.append(field.required(f"{path}.name", "service name is required"))
    if not service.get("namespace"):
        causes.append(field.required(f"{path}.namespace", "service namespace is required"))
    port = service.get("port", 443)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        causes.append(
            field.invalid(
                f"{path}.port",
                port,
                "port is not valid: must be between 1 and 65535, inclusive",
            )
        )
    url_path = service.get("path")
    if not isinstance(url_path, str) or url_path in ("", "/"):
        return causes
    where = f"{path}.path"
    if url_path == "//":
        causes.append(field.invalid(where, url_path, "segment[0] may not be empty"))
        return causes
    if not url_path.startswith("/"):
        causes.append(field.invalid(where, url_path, "must start with a '/'"))
    segments = url_path.lstrip("/").split("/")
    if url_path.endswith("/"):
        segments = segments[:-1]
    for i, segment in enumerate(segments):
        if not segment:
            causes.append(field.invalid(where, url_path, f"segment[{i}] may not be empty"))
    return causes
