"""Validation of core/v1 kinds, following ``pkg/apis/core/validation``.

Only the rules a user of these kinds meets in practice are here; each is worded as Kubernetes
words it. Numbered rules:

 1. Pods need at least one container; container names are DNS-1123 labels, unique across
    containers and init containers; every container needs an image; ports are 1–65535 with a
    protocol of TCP, UDP or SCTP; restartPolicy is Always, OnFailure or Never.
 2. A pod's spec is immutable after creation except for container images,
    activeDeadlineSeconds, tolerations (additions) and terminationGracePeriodSeconds.
 2a. A pod is created without ephemeral containers. Through ``pods/ephemeralcontainers`` only ``spec.ephemeralContainers`` changes, and only by
    additions: an existing ephemeral container may not be removed or changed; a new one has a
    unique name (across every container of the pod), an image, a ``targetContainerName`` (if
    any) naming a container of the pod, and none of the fields an ephemeral container cannot
    have (ports, probes, lifecycle, resources, resizePolicy, restartPolicy).
 3. ConfigMap and Secret keys match ``[-._a-zA-Z0-9]+``; each object is at most 1 MiB; an
    ``immutable`` one cannot change its data or be made mutable again.
 4. Secrets of the built-in types carry the keys their type requires (``.dockerconfigjson``
    holding JSON for kubernetes.io/dockerconfigjson, ``tls.crt`` and ``tls.key`` for
    kubernetes.io/tls, the service-account annotation for kubernetes.io/service-account-token);
    a Secret's type is immutable.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from kubeward.api.validation import field
from kubeward.api.validation.meta import check_dns1123_label, check_dns1123_subdomain
from kubeward.errors import Cause

_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
MAX_SECRET_SIZE = 1024 * 1024
PROTOCOLS = ("SCTP", "TCP", "UDP")
RESTART_POLICIES = ("Always", "OnFailure", "Never")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
SECRET_TYPE_SA_TOKEN = "kubernetes.io/service-account-token"
SECRET_TYPE_DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
SECRET_TYPE_DOCKERCFG = "kubernetes.io/dockercfg"
SECRET_TYPE_TLS = "kubernetes.io/tls"
SECRET_TYPE_BASIC_AUTH = "kubernetes.io/basic-auth"
SECRET_TYPE_SSH_AUTH = "kubernetes.io/ssh-auth"


def _containers(
    spec: dict[str, Any], key: str, path: str, seen: set[str], at: str = ""
) -> list[Cause]:
    """Rule 1 for ``spec[key]``; ``at`` names the one container when given (ephemeral)."""
    causes: list[Cause] = []
    containers = spec.get(key) or []
    if not isinstance(containers, list):
        return [field.invalid(f"{path}.{key}", containers, "must be a list")]
    fixed = at
    for i, container in enumerate(containers):
        at = fixed or f"{path}.{key}[{i}]"
        if not isinstance(container, dict):
            causes.append(field.invalid(at, container, "must be a container object"))
            continue
        name = str(container.get("name") or "")
        if not name:
            causes.append(field.required(f"{at}.name"))
        else:
            causes.extend(
                field.invalid(f"{at}.name", name, msg) for msg in check_dns1123_label(name)
            )
            if name in seen:
                causes.append(field.duplicate(f"{at}.name", name))
            seen.add(name)
        if not container.get("image"):
            causes.append(field.required(f"{at}.image"))
        policy = container.get("imagePullPolicy")
        if policy is not None and policy not in PULL_POLICIES:
            causes.append(field.not_supported(f"{at}.imagePullPolicy", policy, PULL_POLICIES))
        for j, port in enumerate(container.get("ports") or []):
            causes.extend(_container_port(port, f"{at}.ports[{j}]"))
    return causes


def _container_port(port: Any, at: str) -> list[Cause]:
    if not isinstance(port, dict):
        return [field.invalid(at, port, "must be a port object")]
    causes: list[Cause] = []
    number = port.get("containerPort")
    if not isinstance(number, int) or isinstance(number, bool):
        causes.append(field.required(f"{at}.containerPort"))
    elif not 1 <= number <= 65535:
        causes.append(
            field.invalid(f"{at}.containerPort", number, "must be between 1 and 65535, inclusive")
        )
    host = port.get("hostPort")
    if host not in (None, 0) and (not isinstance(host, int) or not 1 <= host <= 65535):
        causes.append(
            field.invalid(f"{at}.hostPort", host, "must be between 1 and 65535, inclusive")
        )
    protocol = port.get("protocol", "TCP")
    if protocol not in PROTOCOLS:
        causes.append(field.not_supported(f"{at}.protocol", protocol, PROTOCOLS))
    return causes


def validate_pod_spec(spec: Any, path: str) -> list[Cause]:
    if not isinstance(spec, dict):
        return [field.required(path)]
    causes: list[Cause] = []
    if not spec.get("containers"):
        causes.append(field.required(f"{path}.containers"))
    seen: set[str] = set()
    causes.extend(_containers(spec, "containers", path, seen))
    causes.extend(_containers(spec, "initContainers", path, seen))
    policy = spec.get("restartPolicy")
    if policy is not None and policy not in RESTART_POLICIES:
        causes.append(field.not_supported(f"{path}.restartPolicy", policy, RESTART_POLICIES))
    sa = spec.get("serviceAccountName")
    if sa:
        causes.extend(
            field.invalid(f"{path}.serviceAccountName", sa, msg)
            for msg in check_dns1123_subdomain(str(sa))
        )
    volumes = spec.get("volumes") or []
    names: set[str] = set()
    for i, volume in enumerate(volumes if isinstance(volumes, list) else []):
        vname = str((volume or {}).get("name") or "")
        if not vname:
            causes.append(field.required(f"{path}.volumes[{i}].name"))
        elif vname in names:
            causes.append(field.duplicate(f"{path}.volumes[{i}].name", vname))
        names.add(vname)
    return causes


def validate_pod(obj: dict[str, Any]) -> list[Cause]:
    return validate_pod_spec(obj.get("spec"), "spec")


def validate_pod_create(obj: dict[str, Any]) -> list[Cause]:
    """Rule 2a: ephemeral containers come only through their subresource."""
    if (obj.get("spec") or {}).get("ephemeralContainers"):
        return [field.forbidden("spec.ephemeralContainers", "cannot be set on create")]
    return []


_POD_MUTABLE_SPEC = (
    "activeDeadlineSeconds",
    "tolerations",
    "terminationGracePeriodSeconds",
    "schedulingGates",
)


def validate_pod_update(new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    """Rule 2: only images and a few fields of a pod's spec may change."""

    def masked(spec: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in spec.items() if k not in _POD_MUTABLE_SPEC}
        for key in ("containers", "initContainers"):
            out[key] = [
                {k: v for k, v in c.items() if k != "image"}
                for c in spec.get(key) or []
                if isinstance(c, dict)
            ]
        if not out.get("nodeName") and new.get("spec", {}).get("nodeName"):
            out.pop("nodeName", None)
        return out

    new_spec = new.get("spec") or {}
    old_spec = old.get("spec") or {}
    left = masked(new_spec)
    right = masked(old_spec)
    if not old_spec.get("nodeName"):
        left.pop("nodeName", None)
        right.pop("nodeName", None)
    if left != right:
        return [
            field.forbidden(
                "spec",
                "pod updates may not change fields other than `spec.containers[*].image`,"
                "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                "(allow it to be set to 1 if it was previously negative)",
            )
        ]
    return []


# Rule 2a: fields an ephemeral container may not set (upstream's allow list, negated).
EPHEMERAL_FORBIDDEN_FIELDS = (
    "ports",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "resources",
    "resizePolicy",
    "restartPolicy",
)


def validate_ephemeral_containers_update(new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    """Rule 2a."""
    path = "spec.ephemeralContainers"
    new_list = (new.get("spec") or {}).get("ephemeralContainers") or []
    old_list = (old.get("spec") or {}).get("ephemeralContainers") or []
    if not isinstance(new_list, list):
        return [field.invalid(path, new_list, "must be a list")]
    causes: list[Cause] = []
    by_name = {c.get("name"): c for c in new_list if isinstance(c, dict)}
    for i, existing in enumerate(c for c in old_list if isinstance(c, dict)):
        name = existing.get("name")
        if name not in by_name:
            causes.append(
                field.forbidden(path, f'existing ephemeral containers "{name}" may not be removed')
            )
        elif by_name[name] != existing:
            causes.append(
                field.forbidden(
                    f"{path}[{i}]", f'existing ephemeral containers "{name}" may not be changed'
                )
            )
    old_spec = old.get("spec") or {}
    regular = {
        str(c.get("name"))
        for key in ("containers", "initContainers")
        for c in old_spec.get(key) or []
        if isinstance(c, dict)
    }
    seen = set(regular)
    old_names = {c.get("name") for c in old_list if isinstance(c, dict)}
    for i, container in enumerate(new_list):
        at = f"{path}[{i}]"
        if not isinstance(container, dict):
            causes.append(field.invalid(at, container, "must be a container object"))
            continue
        name = str(container.get("name") or "")
        if name in old_names:
            seen.add(name)
            continue
        causes.extend(_containers({"c": [container]}, "c", "", seen=seen, at=at))
        target = container.get("targetContainerName")
        if target and target not in regular:
            causes.append(field.not_found(f"{at}.targetContainerName", target))
        for key in EPHEMERAL_FORBIDDEN_FIELDS:
            if container.get(key):
                causes.append(
                    field.forbidden(f"{at}.{key}", "cannot be set for an Ephemeral Container")
                )
    return causes


def _data_keys(data: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if data is None:
        return causes
    if not isinstance(data, dict):
        return [field.invalid(path, data, "must be a map")]
    for key in data:
        if not _CONFIG_KEY.match(str(key)):
            causes.append(field.invalid(path, key, _CONFIG_KEY_MSG))
    return causes


def validate_config_map(obj: dict[str, Any]) -> list[Cause]:
    causes = _data_keys(obj.get("data"), "data") + _data_keys(obj.get("binaryData"), "binaryData")
    both = set(obj.get("data") or {}) & set(obj.get("binaryData") or {})
    causes.extend(
        field.invalid("data", key, "duplicate of key present in binaryData") for key in sorted(both)
    )
    size = sum(len(str(k)) + len(str(v)) for k, v in (obj.get("data") or {}).items())
    size += sum(
        len(str(k)) + len(str(v)) * 3 // 4 for k, v in (obj.get("binaryData") or {}).items()
    )
    if size > MAX_SECRET_SIZE:
        causes.append(field.too_long("", MAX_SECRET_SIZE))
    return causes


def _immutable_data(new: dict[str, Any], old: dict[str, Any], keys: tuple[str, ...]) -> list[Cause]:
    if not old.get("immutable"):
        return []
    causes: list[Cause] = []
    if not new.get("immutable"):
        causes.append(field.forbidden("immutable", "field is immutable when `immutable` is set"))
    for key in keys:
        if (new.get(key) or {}) != (old.get(key) or {}):
            causes.append(field.forbidden(key, "field is immutable when `immutable` is set"))
    return causes


def validate_config_map_update(new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    return _immutable_data(new, old, ("data", "binaryData"))


def _decoded(data: dict[str, Any], key: str) -> bytes | None:
    value = data.get(key)
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def validate_secret(obj: dict[str, Any]) -> list[Cause]:
    data = obj.get("data") or {}
    causes = _data_keys(data, "data")
    if not isinstance(data, dict):
        return causes
    for key, value in data.items():
        if _decoded(data, key) is None and value not in ("", None):
            causes.append(field.invalid(f"data[{key}]", "<value omitted>", "illegal base64 data"))
    total = sum(len(str(k)) + len(str(v)) * 3 // 4 for k, v in data.items())
    if total > MAX_SECRET_SIZE:
        causes.append(field.too_long("data", MAX_SECRET_SIZE))
    kind = obj.get("type") or "Opaque"
    if kind == SECRET_TYPE_SA_TOKEN:
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if not annotations.get("kubernetes.io/service-account.name"):
            causes.append(
                field.required("metadata.annotations[kubernetes.io/service-account.name]")
            )
    elif kind == SECRET_TYPE_DOCKERCONFIGJSON:
        raw = _decoded(data, ".dockerconfigjson")
        if ".dockerconfigjson" not in data:
            causes.append(field.required("data[.dockerconfigjson]"))
        elif raw is not None:
            try:
                json.loads(raw)
            except ValueError as exc:
                causes.append(
                    field.invalid("data[.dockerconfigjson]", "<secret contents redacted>", str(exc))
                )
    elif kind == SECRET_TYPE_DOCKERCFG and ".dockercfg" not in data:
        causes.append(field.required("data[.dockercfg]"))
    elif kind == SECRET_TYPE_TLS:
        for key in ("tls.crt", "tls.key"):
            if key not in data:
                causes.append(field.required(f"data[{key}]"))
    elif kind == SECRET_TYPE_BASIC_AUTH and "username" not in data and "password" not in data:
        causes.append(field.required("data[username]"))
    elif kind == SECRET_TYPE_SSH_AUTH and "ssh-privatekey" not in data:
        causes.append(field.required("data[ssh-privatekey]"))
    return causes


def validate_secret_update(new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    causes = _immutable_data(new, old, ("data",))
    if (new.get("type") or "Opaque") != (old.get("type") or "Opaque"):
        causes.append(field.invalid("type", new.get("type"), "field is immutable"))
    return causes


def validate_namespace_update(new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    return []


def validate_service_account(obj: dict[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    for i, ref in enumerate(obj.get("imagePullSecrets") or []):
        if not isinstance(ref, dict) or not ref.get("name"):
            causes.append(field.required(f"imagePullSecrets[{i}].name"))
    return causes
