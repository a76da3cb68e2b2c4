"""Validation and defaults of apiextensions.k8s.io/v1 CustomResourceDefinitions.

Worded as the apiextensions-apiserver words its field errors. Rules:

 1. ``metadata.name`` is ``<spec.names.plural>.<spec.group>``; the group is a DNS subdomain with
    at least one dot; the scope is ``Namespaced`` or ``Cluster``.
 2. Names: plural, singular, kind and listKind are required (singular and listKind are defaulted
    from the kind first); plural, singular, short names and categories are DNS-1035 labels; kind
    and listKind are DNS-1035 labels once lower-cased, and differ.
 3. Versions: at least one; unique DNS-1035 names; exactly one ``storage: true``; every version
    has a schema (``schemas are required`` in v1).
 4. Schemas are structural: the root is ``type: object``, every specified field has a type
    (except ``x-kubernetes-int-or-string`` and ``x-kubernetes-preserve-unknown-fields`` nodes),
    ``properties`` and a schema-valued ``additionalProperties`` exclude each other, and
    ``$ref``, ``uniqueItems: true`` and JSON-schema features Kubernetes does not support are
    forbidden.
 5. Subresources: ``scale`` needs ``specReplicasPath`` under ``.spec`` and a
    ``statusReplicasPath`` under ``.status``; printer columns need a name, a supported type and
    a simple JSON path.
 6. Conversion: ``strategy`` is ``None`` or ``Webhook``. ``Webhook`` needs ``webhook.clientConfig``
    (``api.validation.webhook_client``) and ``conversionReviewVersions``: unique DNS-1035
    labels, at least one of ``v1``/``v1beta1``. ``None`` allows neither. Paths are named as
    upstream names them, from its internal type (``spec.conversion.webhookClientConfig``).
 7. A ``deprecationWarning`` is at most 256 printable characters.
 8. On update, ``spec.group`` and ``spec.names.plural`` never change; ``spec.scope`` and
    ``spec.names.kind`` do not change once the definition is established; every version in
    ``status.storedVersions`` must stay in ``spec.versions``.
 7. A valid schema's CEL rules (``x-kubernetes-validations``) compile, are booleans and stay
    within Kubernetes' estimated cost limits (``api/customresources/rules.py``, rule 6).
"""

from __future__ import annotations

import re
from typing import Any

from kubeward.api.customresources.rules import compile_rules
from kubeward.api.meta import JSONObject
from kubeward.api.validation import field
from kubeward.api.validation.meta import check_dns1035_label, check_dns1123_subdomain
from kubeward.api.validation.webhook_client import validate_client_config
from kubeward.errors import Cause

SCOPES = ("Cluster", "Namespaced")
PRINTER_COLUMN_TYPES = ("boolean", "date", "integer", "number", "string")
SCHEMA_TYPES = ("array", "boolean", "integer", "number", "object", "string")
_UNSUPPORTED_KEYWORDS = {
    "$ref": "$ref is not supported",
    "id": "id is not supported",
    "additionalItems": "additionalItems is not supported",
    "patternProperties": "patternProperties is not supported",
    "definitions": "definitions is not supported",
    "dependencies": "dependencies is not supported",
}
# A JSON path as printer columns and subresources take them: .a.b, .a[0].b, .a['x.y']
_SIMPLE_JSON_PATH = re.compile(r"^(\.[A-Za-z0-9_$-]+|\[\d+\]|\['[^']+'\])+$")


def default_crd(obj: JSONObject) -> None:
    """``singular`` from the kind, ``listKind`` as ``<kind>List``, conversion ``None``, a
    conversion webhook service's port 443."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    names = spec.get("names")
    if isinstance(names, dict) and isinstance(names.get("kind"), str) and names["kind"]:
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", names["kind"] + "List")
    conversion = spec.setdefault("conversion", {"strategy": "None"})
    if isinstance(conversion, dict):
        conversion.setdefault("strategy", "None")
        webhook = conversion.get("webhook")
        config = webhook.get("clientConfig") if isinstance(webhook, dict) else None
        service = config.get("service") if isinstance(config, dict) else None
        if isinstance(service, dict):
            service.setdefault("port", 443)
    spec.setdefault("preserveUnknownFields", False)


def validate_crd(obj: JSONObject) -> list[Cause]:
    """Rules 1 to 5 on a whole definition."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [field.required("spec")]
    causes: list[Cause] = []
    group = spec.get("group")
    raw_names = spec.get("names")
    names: dict[str, Any] = raw_names if isinstance(raw_names, dict) else {}
    if not group:
        causes.append(field.required("spec.group"))
    elif not isinstance(group, str) or (errs := check_dns1123_subdomain(group)):
        causes.append(field.invalid("spec.group", group, ",".join(errs) if group else ""))
    elif "." not in group:
        causes.append(
            field.invalid("spec.group", group, "should be a domain with at least one dot")
        )
    plural = names.get("plural")
    name = (obj.get("metadata") or {}).get("name")
    if plural and group and name != f"{plural}.{group}":
        causes.append(
            field.invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group')
        )
    scope = spec.get("scope")
    if not scope:
        causes.append(field.required("spec.scope"))
    elif scope not in SCOPES:
        causes.append(field.not_supported("spec.scope", scope, SCOPES))
    causes.extend(_validate_names(names, "spec.names", required=True))
    causes.extend(_validate_versions(spec.get("versions"), "spec.versions"))
    if spec.get("preserveUnknownFields") is True:
        causes.append(
            field.invalid(
                "spec.preserveUnknownFields",
                True,
                "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in "
                "spec.versions[*].schema instead",
            )
        )
    causes.extend(_validate_conversion(spec.get("conversion"), "spec.conversion"))
    return causes


CONVERSION_STRATEGIES = ("None", "Webhook")
CONVERSION_REVIEW_VERSIONS = ("v1", "v1beta1")


def _validate_conversion(conversion: object, path: str) -> list[Cause]:
    """Rule 6."""
    if not isinstance(conversion, dict):
        return []
    strategy = conversion.get("strategy")
    webhook = conversion.get("webhook")
    hook: dict[str, Any] = webhook if isinstance(webhook, dict) else {}
    if strategy not in CONVERSION_STRATEGIES:
        if not strategy:
            return [field.required(f"{path}.strategy")]
        return [field.not_supported(f"{path}.strategy", strategy, CONVERSION_STRATEGIES)]
    config_path = f"{path}.webhookClientConfig"
    versions_path = f"{path}.conversionReviewVersions"
    if strategy == "None":
        causes = []
        if hook.get("clientConfig") is not None:
            causes.append(
                field.forbidden(
                    config_path, "should not be set when strategy is not set to Webhook"
                )
            )
        if hook.get("conversionReviewVersions"):
            causes.append(
                field.forbidden(
                    versions_path, "should not be set when strategy is not set to Webhook"
                )
            )
        return causes
    causes = []
    if hook.get("clientConfig") is None:
        causes.append(field.required(config_path, "required when strategy is set to Webhook"))
    else:
        causes.extend(validate_client_config(hook["clientConfig"], config_path))
    causes.extend(_validate_review_versions(hook.get("conversionReviewVersions"), versions_path))
    return causes


def _validate_review_versions(versions: object, path: str) -> list[Cause]:
    if not isinstance(versions, list) or not versions:
        return [field.required(path)]
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, version in enumerate(versions):
        text = str(version)
        if text in seen:
            causes.append(field.invalid(f"{path}[{i}]", version, "duplicate version"))
            continue
        seen.add(text)
        for err in check_dns1035_label(text):
            causes.append(field.invalid(f"{path}[{i}]", version, err))
    if not seen & set(CONVERSION_REVIEW_VERSIONS):
        causes.append(
            field.invalid(
                path,
                versions,
                "must include at least one of " + ", ".join(CONVERSION_REVIEW_VERSIONS),
            )
        )
    return causes


def validate_crd_update(new: JSONObject, old: JSONObject) -> list[Cause]:
    """Rule 8."""
    causes: list[Cause] = []
    new_spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
    new_names, old_names = new_spec.get("names") or {}, old_spec.get("names") or {}
    immutable = "field is immutable"
    if new_spec.get("group") != old_spec.get("group"):
        causes.append(field.invalid("spec.group", new_spec.get("group"), immutable))
    if new_names.get("plural") != old_names.get("plural"):
        causes.append(field.invalid("spec.names.plural", new_names.get("plural"), immutable))
    if is_established(old):
        if new_spec.get("scope") != old_spec.get("scope"):
            causes.append(field.invalid("spec.scope", new_spec.get("scope"), immutable))
        if new_names.get("kind") != old_names.get("kind"):
            causes.append(field.invalid("spec.names.kind", new_names.get("kind"), immutable))
    causes.extend(_validate_stored_versions(new))
    return causes


def _validate_stored_versions(crd: JSONObject) -> list[Cause]:
    """Rule 8's ``status.storedVersions``: not empty, holding the storage version, and naming
    only versions of the spec (so a version is dropped from the spec only once no object is
    stored at it, and a migration removes it from the status first)."""
    path = "status.storedVersions"
    stored = (crd.get("status") or {}).get("storedVersions") or []
    if not stored:
        return [field.invalid(path, stored, "must have at least one stored version")]
    causes: list[Cause] = []
    versions = [v for v in (crd.get("spec") or {}).get("versions") or [] if isinstance(v, dict)]
    for version in versions:
        if version.get("storage") is True and version.get("name") not in stored:
            causes.append(
                field.invalid(
                    path,
                    version.get("name"),
                    f"must have the storage version {version.get('name')}",
                )
            )
    served = {v.get("name") for v in versions}
    for i, name in enumerate(stored):
        if name not in served:
            causes.append(field.invalid(f"{path}[{i}]", name, "must appear in spec.versions"))
    return causes


def is_established(crd: JSONObject) -> bool:
    for condition in (crd.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Established" and condition.get("status") == "True":
            return True
    return False


def _validate_names(names: dict[str, Any], path: str, *, required: bool) -> list[Cause]:
    causes: list[Cause] = []
    if required:
        for key in ("plural", "singular", "kind", "listKind"):
            if not names.get(key):
                causes.append(field.required(f"{path}.{key}"))
    for key in ("plural", "singular"):
        value = names.get(key)
        if value and (not isinstance(value, str) or (errs := check_dns1035_label(value))):
            causes.append(field.invalid(f"{path}.{key}", value, ",".join(errs)))
    for key in ("kind", "listKind"):
        value = names.get(key)
        if value and (not isinstance(value, str) or (errs := check_dns1035_label(value.lower()))):
            causes.append(
                field.invalid(
                    f"{path}.{key}",
                    value,
                    "may have mixed case, but should otherwise match: " + ",".join(errs),
                )
            )
    if names.get("kind") and names.get("kind") == names.get("listKind"):
        causes.append(
            field.invalid(
                f"{path}.listKind", names["listKind"], "kind and listKind may not be the same"
            )
        )
    for key in ("shortNames", "categories"):
        for i, value in enumerate(names.get(key) or []):
            if not isinstance(value, str) or (errs := check_dns1035_label(value)):
                causes.append(field.invalid(f"{path}.{key}[{i}]", value, ",".join(errs)))
    return causes


def _validate_versions(versions: object, path: str) -> list[Cause]:
    if not isinstance(versions, list) or not versions:
        return [
            field.invalid(
                path, versions or [], "must have exactly one version marked as storage version"
            )
        ]
    causes: list[Cause] = []
    seen: set[str] = set()
    storage = 0
    for i, version in enumerate(versions):
        where = f"{path}[{i}]"
        if not isinstance(version, dict):
            causes.append(field.invalid(where, version, "must be an object"))
            continue
        name = version.get("name")
        if not isinstance(name, str) or (errs := check_dns1035_label(name)):
            causes.append(field.invalid(f"{where}.name", name, ",".join(errs)))
        elif name in seen:
            causes.append(
                field.invalid(
                    path,
                    [v.get("name") for v in versions if isinstance(v, dict)],
                    "must contain unique version names",
                )
            )
        seen.add(str(name))
        for flag in ("served", "storage"):
            if not isinstance(version.get(flag), bool):
                causes.append(field.required(f"{where}.{flag}"))
        if version.get("storage") is True:
            storage += 1
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if schema is None:
            causes.append(field.required(f"{where}.schema.openAPIV3Schema", "schemas are required"))
        else:
            structural = validate_structural_schema(schema, f"{where}.schema.openAPIV3Schema")
            causes.extend(structural)
            if not structural:
                causes.extend(compile_rules(schema, f"{where}.schema.openAPIV3Schema")[1])
        causes.extend(_validate_subresources(version.get("subresources"), f"{where}.subresources"))
        warning = version.get("deprecationWarning")
        if isinstance(warning, str) and len(warning) > 256:
            causes.append(field.too_long(f"{where}.deprecationWarning", 256))
        elif isinstance(warning, str) and not warning.isprintable():
            causes.append(
                field.invalid(
                    f"{where}.deprecationWarning",
                    warning,
                    "must only contain printable UTF-8 characters",
                )
            )
        causes.extend(
            _validate_printer_columns(
                version.get("additionalPrinterColumns"), f"{where}.additionalPrinterColumns"
            )
        )
    if storage != 1:
        causes.append(
            field.invalid(
                path,
                [v.get("name") for v in versions if isinstance(v, dict)],
                "must have exactly one version marked as storage version",
            )
        )
    return causes


def validate_structural_schema(schema: object, path: str, *, root: bool = True) -> list[Cause]:
    """Rule 4, on one schema node and everything under it."""
    if not isinstance(schema, dict):
        return [field.invalid(path, schema, "must be an object")]
    causes: list[Cause] = []
    kind = schema.get("type")
    loose = schema.get("x-kubernetes-int-or-string") is True or (
        schema.get("x-kubernetes-preserve-unknown-fields") is True
    )
    if root:
        if not kind:
            causes.append(field.required(f"{path}.type", "must not be empty at the root"))
        elif kind != "object":
            causes.append(field.invalid(f"{path}.type", kind, "must be object at the root"))
    elif not kind and not loose:
        causes.append(
            field.required(f"{path}.type", "must not be empty for specified object fields")
        )
    if kind and kind not in SCHEMA_TYPES:
        causes.append(field.not_supported(f"{path}.type", kind, SCHEMA_TYPES))
    for keyword, why in _UNSUPPORTED_KEYWORDS.items():
        if keyword in schema:
            causes.append(field.forbidden(f"{path}.{keyword}", why))
    if schema.get("uniqueItems") is True:
        causes.append(
            field.forbidden(
                f"{path}.uniqueItems",
                "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
            )
        )
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    if properties and isinstance(extra, dict | bool) and extra is not True:
        causes.append(
            field.forbidden(
                f"{path}.additionalProperties",
                "additionalProperties and properties are mutual exclusive",
            )
        )
    if isinstance(properties, dict):
        for key, sub in properties.items():
            causes.extend(validate_structural_schema(sub, f"{path}.properties[{key}]", root=False))
    elif properties is not None:
        causes.append(field.invalid(f"{path}.properties", properties, "must be an object"))
    if isinstance(extra, dict):
        causes.extend(validate_structural_schema(extra, f"{path}.additionalProperties", root=False))
    items = schema.get("items")
    if isinstance(items, list):
        causes.append(
            field.forbidden(f"{path}.items", "items must be a schema object and not an array")
        )
    elif isinstance(items, dict):
        causes.extend(validate_structural_schema(items, f"{path}.items", root=False))
    elif kind == "array":
        causes.append(field.required(f"{path}.items", "must be specified"))
    pattern = schema.get("pattern")
    if pattern is not None:
        try:
            re.compile(str(pattern))
        except re.error as exc:
            causes.append(
                field.invalid(
                    f"{path}.pattern", pattern, f"must be a valid regular expression: {exc}"
                )
            )
    return causes


def _validate_subresources(subresources: object, path: str) -> list[Cause]:
    if not isinstance(subresources, dict):
        return []
    scale = subresources.get("scale")
    if not isinstance(scale, dict):
        return []
    causes: list[Cause] = []
    for key, under in (("specReplicasPath", ".spec"), ("statusReplicasPath", ".status")):
        value = scale.get(key)
        if not value:
            causes.append(field.required(f"{path}.scale.{key}"))
        elif (
            not isinstance(value, str)
            or not value.startswith(under + ".")
            or not _SIMPLE_JSON_PATH.match(value)
        ):
            causes.append(
                field.invalid(f"{path}.scale.{key}", value, f"should be a json path under {under}")
            )
    selector = scale.get("labelSelectorPath")
    if selector and (not isinstance(selector, str) or not _SIMPLE_JSON_PATH.match(selector)):
        causes.append(
            field.invalid(
                f"{path}.scale.labelSelectorPath",
                selector,
                "should be a json path under either .spec or .status",
            )
        )
    return causes


def _validate_printer_columns(columns: object, path: str) -> list[Cause]:
    if not isinstance(columns, list):
        return []
    causes: list[Cause] = []
    for i, column in enumerate(columns):
        where = f"{path}[{i}]"
        if not isinstance(column, dict):
            causes.append(field.invalid(where, column, "must be an object"))
            continue
        if not column.get("name"):
            causes.append(field.required(f"{where}.name"))
        kind = column.get("type")
        if not kind:
            causes.append(field.required(f"{where}.type"))
        elif kind not in PRINTER_COLUMN_TYPES:
            causes.append(field.not_supported(f"{where}.type", kind, PRINTER_COLUMN_TYPES))
        json_path = column.get("jsonPath")
        if not json_path:
            causes.append(field.required(f"{where}.jsonPath"))
        elif not isinstance(json_path, str) or not _SIMPLE_JSON_PATH.match(json_path):
            causes.append(
                field.invalid(f"{where}.jsonPath", json_path, "must be a simple json path")
            )
    return causes
