"""Validation of networking.k8s.io/v1 Ingress and IngressClass, as
``pkg/apis/networking/validation/validation.go`` words it.

Rules:

 1. An Ingress names a ``defaultBackend`` or at least one rule; ``ingressClassName`` is a
    DNS-1123 subdomain.
 2. A host (of a rule or a TLS entry) is a DNS-1123 subdomain, optionally ``*.``-prefixed in
    rules (a wildcard only as the whole first label), and never an IP address.
 3. A rule's ``http.paths`` is not empty; each path has a ``pathType`` of Exact, Prefix or
    ImplementationSpecific. Exact and Prefix paths are absolute, contain none of ``//``,
    ``/./``, ``/../``, ``%2f``, ``%2F`` and do not end in ``/..`` or ``/.``; an
    ImplementationSpecific path, when given, is absolute.
 4. A backend is a service or a resource, not both; a service has a DNS-1035 name and a port
    given by name (IANA service name) or number (1–65535), not both; a resource has a kind
    and a name (and an apiGroup, when given, that is a DNS-1123 subdomain).
 5. IngressClass: ``spec.controller`` is required, at most 250 characters and a
    domain-prefixed path (``example.com/ingress-nginx``), immutable; ``parameters`` has a kind
    and a name, and a ``scope`` of Cluster (no namespace) or Namespace (with one).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from kubeward.api.validation import field
from kubeward.api.validation.meta import (
    check_dns1035_label,
    check_dns1123_subdomain,
    check_path_segment_name,
)
from kubeward.api.validation.networking import check_port_name, check_port_number
from kubeward.errors import Cause

PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
INVALID_PATH_SUFFIXES = ("/..", "/.")
CONTROLLER_MAX = 250
PARAMETER_SCOPES = ("Cluster", "Namespace")
_WILDCARD_MSG = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
    "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
    "alphanumeric character (e.g. '*.example.com', regex used for validation is "
    r"'\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _check_host(host: str, path: str, *, wildcard_allowed: bool) -> list[Cause]:
    if _is_ip(host):
        return [field.invalid(path, host, "must be a DNS name, not an IP address")]
    if host.startswith("*"):
        if not wildcard_allowed:
            return [field.invalid(path, host, m) for m in check_dns1123_subdomain(host)]
        rest = host[2:] if host.startswith("*.") else ""
        if not rest or check_dns1123_subdomain(rest):
            return [field.invalid(path, host, _WILDCARD_MSG)]
        return []
    return [field.invalid(path, host, m) for m in check_dns1123_subdomain(host)]


def validate_backend(backend: Mapping[str, Any], path: str) -> list[Cause]:
    """Rule 4."""
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        return [field.invalid(path, "", "cannot set both resource and service backends")]
    if isinstance(resource, Mapping):
        causes: list[Cause] = []
        group = resource.get("apiGroup")
        if group:
            causes.extend(
                field.invalid(f"{path}.resource.apiGroup", group, m)
                for m in check_dns1123_subdomain(str(group))
            )
        for key in ("kind", "name"):
            value = resource.get(key)
            if not value:
                causes.append(field.required(f"{path}.resource.{key}"))
            else:
                causes.extend(
                    field.invalid(f"{path}.resource.{key}", value, m)
                    for m in check_path_segment_name(str(value))
                )
        return causes
    if not isinstance(service, Mapping):
        return [field.invalid(path, "", "resource or service backend is required")]
    causes = []
    name = service.get("name")
    if not name:
        causes.append(field.required(f"{path}.service.name"))
    else:
        causes.extend(
            field.invalid(f"{path}.service.name", name, m) for m in check_dns1035_label(str(name))
        )
    port = service.get("port") or {}
    port_name = port.get("name") if isinstance(port, Mapping) else None
    number = port.get("number") if isinstance(port, Mapping) else None
    if port_name and number:
        causes.append(field.invalid(path, "", "cannot set both port name & port number"))
    elif port_name:
        causes.extend(
            field.invalid(f"{path}.service.port.name", port_name, m)
            for m in check_port_name(str(port_name))
        )
    elif number:
        if not isinstance(number, int) or isinstance(number, bool):
            causes.append(
                field.invalid(f"{path}.service.port.number", number, "must be an integer")
            )
        else:
            causes.extend(
                field.invalid(f"{path}.service.port.number", number, m)
                for m in check_port_number(number)
            )
    else:
        causes.append(field.required(path, "port name or number is required"))
    return causes


def _validate_path(entry: Mapping[str, Any], at: str) -> list[Cause]:
    causes: list[Cause] = []
    path_type = entry.get("pathType")
    value = entry.get("path")
    text = value if isinstance(value, str) else ""
    if not path_type:
        causes.append(field.required(f"{at}.pathType", "pathType must be specified"))
    elif path_type not in PATH_TYPES:
        causes.append(field.not_supported(f"{at}.pathType", path_type, PATH_TYPES))
    elif path_type in ("Exact", "Prefix"):
        if not text.startswith("/"):
            causes.append(field.invalid(f"{at}.path", value, "must be an absolute path"))
        for sequence in INVALID_PATH_SEQUENCES:
            if sequence in text:
                causes.append(field.invalid(f"{at}.path", value, f"must not contain '{sequence}'"))
        for suffix in INVALID_PATH_SUFFIXES:
            if text.endswith(suffix):
                causes.append(field.invalid(f"{at}.path", value, f"cannot end with '{suffix}'"))
    elif text and not text.startswith("/"):
        causes.append(field.invalid(f"{at}.path", value, "must be an absolute path"))
    backend = entry.get("backend")  # a struct, not a pointer: absent reads as empty
    causes.extend(
        validate_backend(backend if isinstance(backend, Mapping) else {}, f"{at}.backend")
    )
    return causes


def _validate_rule(rule: Mapping[str, Any], at: str) -> list[Cause]:
    causes: list[Cause] = []
    host = rule.get("host")
    if host:
        causes.extend(_check_host(str(host), f"{at}.host", wildcard_allowed=True))
    http = rule.get("http")
    if http is None:
        return causes
    paths = http.get("paths") if isinstance(http, Mapping) else None
    if not paths:
        causes.append(field.required(f"{at}.http.paths"))
        return causes
    for j, entry in enumerate(paths if isinstance(paths, list) else []):
        entry_at = f"{at}.http.paths[{j}]"
        if not isinstance(entry, Mapping):
            causes.append(field.invalid(entry_at, entry, "must be an object"))
            continue
        causes.extend(_validate_path(entry, entry_at))
    return causes


def validate_ingress(obj: Mapping[str, Any]) -> list[Cause]:
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        spec = {}
    causes: list[Cause] = []
    rules = spec.get("rules") or []
    default_backend = spec.get("defaultBackend")
    if not rules and default_backend is None:
        causes.append(
            field.invalid("spec", rules, "either `defaultBackend` or `rules` must be specified")
        )
    if isinstance(default_backend, Mapping):
        causes.extend(validate_backend(default_backend, "spec.defaultBackend"))
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, Mapping):
            causes.extend(_validate_rule(rule, f"spec.rules[{i}]"))
    for i, tls in enumerate(spec.get("tls") or []):
        for j, host in enumerate(
            (tls or {}).get("hosts") or [] if isinstance(tls, Mapping) else []
        ):
            causes.extend(
                _check_host(str(host), f"spec.tls[{i}].hosts[{j}]", wildcard_allowed=True)
            )
    class_name = spec.get("ingressClassName")
    if class_name is not None:
        causes.extend(
            field.invalid("spec.ingressClassName", class_name, m)
            for m in check_dns1123_subdomain(str(class_name))
        )
    return causes


def _domain_prefixed_path(value: str, path: str) -> list[Cause]:
    """``IsDomainPrefixedPath``: ``<DNS-1123 subdomain>/<non-empty path>``."""
    if not value:
        return [field.required(path)]
    domain, slash, rest = value.partition("/")
    if not slash or not rest:
        return [
            field.invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')
        ]
    return [field.invalid(path, domain, m) for m in check_dns1123_subdomain(domain)]


def validate_ingress_class(obj: Mapping[str, Any]) -> list[Cause]:
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        spec = {}
    causes: list[Cause] = []
    controller = str(spec.get("controller") or "")
    if len(controller) > CONTROLLER_MAX:
        causes.append(field.too_long("spec.controller", CONTROLLER_MAX))
    causes.extend(_domain_prefixed_path(controller, "spec.controller"))
    parameters = spec.get("parameters")
    if isinstance(parameters, Mapping):
        at = "spec.parameters"
        for key in ("kind", "name"):
            if not parameters.get(key):
                causes.append(field.required(f"{at}.{key}"))
        scope = parameters.get("scope")
        namespace = parameters.get("namespace")
        if scope is None:
            pass
        elif scope not in PARAMETER_SCOPES:
            causes.append(field.not_supported(f"{at}.scope", scope, PARAMETER_SCOPES))
        elif scope == "Namespace" and not namespace:
            causes.append(
                field.required(f"{at}.namespace", "`parameters.scope` is set to 'Namespace'")
            )
        elif scope == "Cluster" and namespace:
            causes.append(
                field.forbidden(f"{at}.namespace", "`parameters.scope` is set to 'Cluster'")
            )
    return causes


def validate_ingress_class_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    new_controller = (new.get("spec") or {}).get("controller")
    if new_controller != (old.get("spec") or {}).get("controller"):
        return [field.invalid("spec.controller", new_controller, "field is immutable")]
    return []
