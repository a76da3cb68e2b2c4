"""``--authorization-config``: parsing and validating an ``AuthorizationConfiguration``.

Rules (kube-apiserver 1.32: ``apiserver.config.k8s.io`` ``ValidateAuthorizationConfiguration``
and ``pkg/kubeapiserver/authorizer.LoadAndValidateData``):
 1. The file is YAML or JSON, ``kind: AuthorizationConfiguration`` of
    ``apiserver.config.k8s.io/v1``, ``v1beta1`` or ``v1alpha1``; anything else cannot be loaded
    (``failed to load AuthorizationConfiguration from file: …``). Fields 1.32 does not know
    are ignored, as its decoder ignores them.
 2. ``authorizers`` is an ordered, non-empty list. Each has a ``type`` (Kubernetes' mode names:
    AlwaysAllow, AlwaysDeny, ABAC, Webhook, RBAC, Node) that only Webhook may repeat, and a
    unique ``name`` that is a DNS-1123 subdomain; a type other than Webhook must be named as
    kube-apiserver names it, its type in lower case (``expected name rbac for authorizer RBAC
    instead of …``). Only a Webhook has a ``webhook``, and a Webhook must have one.
 3. A webhook's fields, checked with upstream's messages and field paths (which are the
    authorizer's, ``authorizers[0].timeout``, as upstream reports them):
    ``timeout`` required, > 0 and ≤ 30s; ``authorizedTTL`` (default 5m) and ``unauthorizedTTL``
    (default 30s) > 0; ``subjectAccessReviewVersion`` v1 or v1beta1;
    ``matchConditionSubjectAccessReviewVersion`` v1, required with ``matchConditions``;
    ``failurePolicy`` NoOpinion or Deny; ``connectionInfo.type`` KubeConfigFile (with an
    absolute ``kubeConfigFile`` naming a regular file) or InClusterConfig (without one);
    at most 64 ``matchConditions``, each a non-empty, distinct CEL expression that compiles to
    ``bool`` (``webhook.conditions``). 1.32 has no ``cacheAuthorizedRequests`` /
    ``cacheUnauthorizedRequests`` (1.33 added them): they are ignored as unknown fields.
 4. Every problem is reported, joined as Kubernetes aggregates errors; the message starts with
    the file's name.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from kubeward.api.validation.meta import check_dns1123_subdomain
from kubeward.authz.aggregate import aggregate_messages
from kubeward.authz.webhook.conditions import compile_condition
from kubeward.errors import CELCompileError, InputError
from kubeward.pki.duration import format_duration, parse_duration

API_GROUP = "apiserver.config.k8s.io"
API_VERSIONS = tuple(f"{API_GROUP}/{v}" for v in ("v1", "v1beta1", "v1alpha1"))
KIND = "AuthorizationConfiguration"
TYPE_WEBHOOK = "Webhook"
KNOWN_TYPES = ("ABAC", "AlwaysAllow", "AlwaysDeny", "Node", "RBAC", TYPE_WEBHOOK)
CONNECTION_KUBECONFIG = "KubeConfigFile"
CONNECTION_IN_CLUSTER = "InClusterConfig"
MAX_TIMEOUT = 30.0
MAX_MATCH_CONDITIONS = 64
DEFAULT_AUTHORIZED_TTL = 300.0
DEFAULT_UNAUTHORIZED_TTL = 30.0


@dataclass(frozen=True)
class WebhookConfig:
    timeout: float
    authorized_ttl: float
    unauthorized_ttl: float
    subject_access_review_version: str
    match_condition_version: str
    failure_policy: str
    connection_type: str
    kubeconfig_file: str
    match_conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuthorizerConfig:
    type: str
    name: str
    webhook: WebhookConfig | None = None


def _quote(value: object) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _supported(values: Sequence[str]) -> str:
    return "supported values: " + ", ".join(_quote(v) for v in values)


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def required(self, path: str, detail: str = "") -> None:
        self.items.append(f"{path}: Required value" + (f": {detail}" if detail else ""))

    def invalid(self, path: str, value: object, detail: str) -> None:
        self.items.append(f"{path}: Invalid value: {_quote(value)}: {detail}")

    def unsupported(self, path: str, value: object, supported: Sequence[str]) -> None:
        self.items.append(
            f"{path}: Unsupported value: {_quote(value)}: {_supported(sorted(supported))}"
        )

    def duplicate(self, path: str, value: object) -> None:
        self.items.append(f"{path}: Duplicate value: {_quote(value)}")


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _duration(spec: Mapping[str, Any], key: str, default: float | None, apiversion: str) -> float:
    """A ``metav1.Duration`` field in seconds; ``default`` when absent (v1alpha1: also when 0)."""
    raw = spec.get(key)
    if raw is None:
        return default if default is not None else 0.0
    if not isinstance(raw, str):
        raise InputError(f"{key}: cannot unmarshal {type(raw).__name__} into a duration")
    try:
        seconds = parse_duration(raw).total_seconds()
    except InputError as exc:
        raise InputError(f'time: invalid duration "{raw}"') from exc
    if seconds == 0 and default is not None and apiversion.endswith("/v1alpha1"):
        return default
    return seconds


def _webhook(
    spec: Mapping[str, Any], path: str, apiversion: str, problems: _Problems
) -> WebhookConfig:
    timeout = _duration(spec, "timeout", None, apiversion)
    authorized = _duration(spec, "authorizedTTL", DEFAULT_AUTHORIZED_TTL, apiversion)
    unauthorized = _duration(spec, "unauthorizedTTL", DEFAULT_UNAUTHORIZED_TTL, apiversion)
    if timeout == 0:
        problems.required(f"{path}.timeout")
    elif timeout < 0 or timeout > MAX_TIMEOUT:
        problems.invalid(f"{path}.timeout", _go_duration(timeout), "must be > 0s and <= 30s")
    for key, ttl in (("authorizedTTL", authorized), ("unauthorizedTTL", unauthorized)):
        if ttl == 0:
            problems.required(f"{path}.{key}")
        elif ttl < 0:
            problems.invalid(f"{path}.{key}", _go_duration(ttl), "must be > 0s")
    version = _text(spec.get("subjectAccessReviewVersion"))
    if not version:
        problems.required(f"{path}.subjectAccessReviewVersion")
    elif version not in ("v1", "v1beta1"):
        problems.unsupported(f"{path}.subjectAccessReviewVersion", version, ("v1", "v1beta1"))
    raw_conditions = spec.get("matchConditions") or []
    conditions = raw_conditions if isinstance(raw_conditions, list) else []
    condition_version = _text(spec.get("matchConditionSubjectAccessReviewVersion"))
    if not condition_version:
        if conditions:
            problems.required(
                f"{path}.matchConditionSubjectAccessReviewVersion",
                "required if match conditions are specified",
            )
    elif condition_version != "v1":
        problems.unsupported(
            f"{path}.matchConditionSubjectAccessReviewVersion", condition_version, ("v1",)
        )
    policy = _text(spec.get("failurePolicy"))
    if not policy:
        problems.required(f"{path}.failurePolicy")
    elif policy not in ("NoOpinion", "Deny"):
        problems.unsupported(f"{path}.failurePolicy", policy, ("NoOpinion", "Deny"))
    connection = _mapping(spec.get("connectionInfo"))
    connection_type = _text(connection.get("type"))
    kubeconfig = connection.get("kubeConfigFile")
    kubeconfig_text = _text(kubeconfig)
    where = f"{path}.connectionInfo"
    if not connection_type:
        problems.required(f"{where}.type")
    elif connection_type == CONNECTION_IN_CLUSTER:
        if kubeconfig is not None:
            problems.invalid(
                f"{where}.kubeConfigFile",
                kubeconfig_text,
                "can only be set when type=KubeConfigFile",
            )
    elif connection_type == CONNECTION_KUBECONFIG:
        _check_kubeconfig(kubeconfig_text, f"{where}.kubeConfigFile", problems)
    else:
        problems.unsupported(
            f"{where}.type", connection_type, (CONNECTION_IN_CLUSTER, CONNECTION_KUBECONFIG)
        )
    expressions = _match_conditions(conditions, path, problems)
    return WebhookConfig(
        timeout=timeout,
        authorized_ttl=authorized,
        unauthorized_ttl=unauthorized,
        subject_access_review_version=version,
        match_condition_version=condition_version,
        failure_policy=policy,
        connection_type=connection_type,
        kubeconfig_file=kubeconfig_text,
        match_conditions=expressions,
    )


def _go_duration(seconds: float) -> str:
    return format_duration(datetime.timedelta(seconds=seconds))


def _check_kubeconfig(path_text: str, path: str, problems: _Problems) -> None:
    if not path_text:
        problems.required(path)
    elif not os.path.isabs(path_text):
        problems.invalid(path, path_text, "must be an absolute path")
    else:
        try:
            is_file = os.path.isfile(path_text)
            os.stat(path_text)
        except OSError as exc:
            problems.invalid(
                path, path_text, f"error loading file: stat {path_text}: {exc.strerror or exc}"
            )
            return
        if not is_file:
            problems.invalid(path, path_text, "must be a regular file")


def _match_conditions(conditions: list[Any], path: str, problems: _Problems) -> tuple[str, ...]:
    if len(conditions) > MAX_MATCH_CONDITIONS:
        problems.items.append(
            f"{path}.matchConditions: Too many: {len(conditions)}: must have at most"
            f" {MAX_MATCH_CONDITIONS} items"
        )
        return ()
    seen: set[str] = set()
    expressions: list[str] = []
    for i, item in enumerate(conditions):
        where = f"{path}.matchConditions[{i}].expression"
        expression = _text(_mapping(item).get("expression"))
        if not expression.strip():
            problems.required(where)
            continue
        if expression in seen:
            problems.duplicate(where, expression)
            continue
        seen.add(expression)
        try:
            compile_condition(expression)
        except CELCompileError as exc:
            problems.invalid(where, expression, str(exc))
            continue
        expressions.append(expression)
    return tuple(expressions)


def _authorizers(raw: list[Any], apiversion: str, problems: _Problems) -> list[AuthorizerConfig]:
    if not raw:
        problems.required("authorizers", "at least one authorization mode must be defined")
    seen_types: set[str] = set()
    seen_names: set[str] = set()
    out: list[AuthorizerConfig] = []
    for i, item in enumerate(raw):
        spec = _mapping(item)
        path = f"authorizers[{i}]"
        kind, name = _text(spec.get("type")), _text(spec.get("name"))
        if not kind:
            problems.required(f"{path}.type")
            continue
        if kind not in KNOWN_TYPES:
            problems.unsupported(f"{path}.type", kind, KNOWN_TYPES)
            continue
        if kind in seen_types and kind != TYPE_WEBHOOK:
            problems.duplicate(f"{path}.type", kind)
            continue
        seen_types.add(kind)
        if not name:
            problems.required(f"{path}.name")
        elif name in seen_names:
            problems.duplicate(f"{path}.name", name)
        elif errors := check_dns1123_subdomain(name):
            problems.invalid(
                f"{path}.name", name, f"authorizer name is invalid: {', '.join(errors)}"
            )
        seen_names.add(name)
        webhook: WebhookConfig | None = None
        raw_webhook = spec.get("webhook")
        if kind == TYPE_WEBHOOK:
            if raw_webhook is None:
                problems.required(f"{path}.webhook", "required when type=Webhook")
                continue
            webhook = _webhook(_mapping(raw_webhook), path, apiversion, problems)
        elif raw_webhook is not None:
            problems.invalid(
                f"{path}.webhook", "non-null", "may only be specified when type=Webhook"
            )
        out.append(AuthorizerConfig(kind, name, webhook))
    return out


def parse_authorization_configuration(text: str, source: str) -> tuple[AuthorizerConfig, ...]:
    """Rules 1-4: the authorizers, in order.

    Raises:
        InputError: naming the file and every problem.
    """
    try:
        doc = (
            yaml.safe_load(text) if text.strip() else {"apiVersion": API_VERSIONS[0], "kind": KIND}
        )
    except yaml.YAMLError as exc:
        raise InputError(
            f"{source}: failed to load AuthorizationConfiguration from file: {exc}"
        ) from exc
    doc = _mapping(doc)
    apiversion, kind = _text(doc.get("apiVersion")), _text(doc.get("kind"))
    if kind != KIND or apiversion not in API_VERSIONS:
        raise InputError(
            f"{source}: failed to load AuthorizationConfiguration from file: expected kind {KIND}"
            f" of {API_GROUP} (v1, v1beta1 or v1alpha1), got {kind or '(none)'} of"
            f" {apiversion or '(none)'}"
        )
    raw = doc.get("authorizers") or []
    problems = _Problems()
    try:
        authorizers = _authorizers(raw if isinstance(raw, list) else [], apiversion, problems)
    except InputError as exc:
        raise InputError(
            f"{source}: failed to load AuthorizationConfiguration from file: {exc}"
        ) from exc
    if problems.items:
        raise InputError(f"{source}: {aggregate_messages(problems.items)}")
    named = [
        f"expected name {a.type.lower()} for authorizer {a.type} instead of {a.name}"
        for a in authorizers
        if a.type != TYPE_WEBHOOK and a.name != a.type.lower()
    ]
    if named:
        raise InputError(f"{source}: {aggregate_messages(named)}")
    return tuple(authorizers)
