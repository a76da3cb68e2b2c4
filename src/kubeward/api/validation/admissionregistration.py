"""Validation of admissionregistration.k8s.io/v1 webhook configurations, as upstream words it.

Rules (``pkg/apis/admissionregistration/validation``), for each ``webhooks[i]``:
 1. ``name`` is a fully qualified name (a DNS subdomain of at least three segments), unique in
    the configuration.
 2. ``clientConfig`` has exactly one of ``url`` (https, no user info, query or fragment) and
    ``service`` (namespace and name required, port 1-65535, path starting with ``/``);
    ``caBundle`` is base64 PEM.
 3. Every rule names operations (CREATE, UPDATE, DELETE, CONNECT or ``*``), apiGroups,
    apiVersions and resources, and a scope of Cluster, Namespaced or ``*``.
 4. ``failurePolicy`` is Fail or Ignore, ``matchPolicy`` Exact or Equivalent, ``sideEffects`` (required)
    None or NoneOnDryRun, ``admissionReviewVersions`` (required) includes v1 or v1beta1,
    ``timeoutSeconds`` is 1 to 30, and for mutating webhooks ``reinvocationPolicy`` is Never or
    IfNeeded; selectors are label selectors.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import urlsplit

from kubeward.api.validation import field
from kubeward.api.validation.meta import validate_label_selector
from kubeward.errors import Cause

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
OPERATIONS = ("*", "CREATE", "UPDATE", "DELETE", "CONNECT")
SCOPES = ("Cluster", "Namespaced", "*")


def _client_config(config: Any, path: str) -> list[Cause]:
    if not isinstance(config, dict):
        return [field.required(path)]
    causes: list[Cause] = []
    url, service = config.get("url"), config.get("service")
    if (url is None) == (service is None):
        causes.append(field.required(path, "exactly one of url or service is required"))
    if isinstance(url, str):
        parts = urlsplit(url)
        if parts.scheme != "https":
            causes.append(
                field.invalid(f"{path}.url", url, "'https' is the only allowed URL scheme")
            )
        if not parts.hostname:
            causes.append(field.invalid(f"{path}.url", url, "host must be specified"))
        if parts.username or parts.password:
            causes.append(
                field.invalid(f"{path}.url", url, "user information is not permitted in the URL")
            )
        if parts.fragment or parts.query:
            causes.append(
                field.invalid(
                    f"{path}.url", url, "fragments and query parameters are not permitted"
                )
            )
    if isinstance(service, dict):
        for key in ("namespace", "name"):
            if not service.get(key):
                causes.append(field.required(f"{path}.service.{key}", f"service {key} is required"))
        port = service.get("port", 443)
        if not isinstance(port, int) or not 1 <= port <= 65535:
            causes.append(
                field.invalid(
                    f"{path}.service.port",
                    port,
                    "port is not valid: must be between 1 and 65535, inclusive",
                )
            )
        svc_path = service.get("path")
        if svc_path is not None and (not isinstance(svc_path, str) or not svc_path.startswith("/")):
            causes.append(field.invalid(f"{path}.service.path", svc_path, "must start with a '/'"))
    bundle = config.get("caBundle")
    if bundle is not None:
        try:
            base64.b64decode(str(bundle), validate=True)
        except (binascii.Error, ValueError):
            causes.append(field.invalid(f"{path}.caBundle", "<bytes>", "must be base64-encoded"))
    return causes


def _rules(rules: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, rule in enumerate(rules or []):
        where = f"{path}[{i}]"
        if not isinstance(rule, dict):
            causes.append(field.invalid(where, rule, "must be an object"))
            continue
        operations = rule.get("operations") or []
        if not operations:
            causes.append(field.required(f"{where}.operations"))
        for j, operation in enumerate(operations):
            if operation not in OPERATIONS:
                causes.append(
                    field.not_supported(f"{where}.operations[{j}]", operation, OPERATIONS)
                )
        for key in ("apiGroups", "apiVersions", "resources"):
            if not rule.get(key):
                causes.append(field.required(f"{where}.{key}"))
        scope = rule.get("scope", "*")
        if scope not in SCOPES:
            causes.append(field.not_supported(f"{where}.scope", scope, SCOPES))
    return causes


def _choice(
    value: Any, path: str, allowed: tuple[str, ...], *, required: bool = False
) -> list[Cause]:
    if value is None:
        if required:
            return [field.required(path, f"must specify one of {', '.join(allowed)}")]
        return []
    return [] if value in allowed else [field.not_supported(path, value, allowed)]


def validate_webhook_configuration(obj: dict[str, Any], *, mutating: bool) -> list[Cause]:
    """Rules 1-4 for every webhook of a configuration."""
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, hook in enumerate(obj.get("webhooks") or []):
        path = f"webhooks[{i}]"
        if not isinstance(hook, dict):
            causes.append(field.invalid(path, hook, "must be an object"))
            continue
        name = hook.get("name")
        if not name:
            causes.append(field.required(f"{path}.name"))
        elif not isinstance(name, str) or not _SUBDOMAIN.match(name) or name.count(".") < 2:
            causes.append(
                field.invalid(
                    f"{path}.name",
                    name,
                    "should be a domain with at least three segments separated by dots",
                )
            )
        elif name in seen:
            causes.append(field.duplicate(f"{path}.name", name))
        if isinstance(name, str):
            seen.add(name)
        causes.extend(_client_config(hook.get("clientConfig"), f"{path}.clientConfig"))
        causes.extend(_rules(hook.get("rules"), f"{path}.rules"))
        causes.extend(
            _choice(hook.get("failurePolicy"), f"{path}.failurePolicy", ("Ignore", "Fail"))
        )
        causes.extend(
            _choice(hook.get("matchPolicy"), f"{path}.matchPolicy", ("Exact", "Equivalent"))
        )
        causes.extend(
            _choice(
                hook.get("sideEffects"),
                f"{path}.sideEffects",
                ("None", "NoneOnDryRun"),
                required=True,
            )
        )
        if mutating:
            causes.extend(
                _choice(
                    hook.get("reinvocationPolicy"),
                    f"{path}.reinvocationPolicy",
                    ("Never", "IfNeeded"),
                )
            )
        versions = hook.get("admissionReviewVersions")
        if not versions:
            causes.append(
                field.required(f"{path}.admissionReviewVersions", "must specify one of v1, v1beta1")
            )
        elif not any(v in ("v1", "v1beta1") for v in versions):
            causes.append(
                field.invalid(
                    f"{path}.admissionReviewVersions",
                    versions,
                    "must include at least one of v1, v1beta1",
                )
            )
        timeout = hook.get("timeoutSeconds")
        if timeout is not None and (not isinstance(timeout, int) or not 1 <= timeout <= 30):
            causes.append(
                field.invalid(
                    f"{path}.timeoutSeconds",
                    timeout,
                    "the timeout value must be between 1 and 30 seconds",
                )
            )
        for selector in ("namespaceSelector", "objectSelector"):
            if hook.get(selector) is not None:
                causes.extend(validate_label_selector(hook[selector], f"{path}.{selector}"))
    return causes
