"""Validation and defaulting of core/v1 LimitRange and ResourceQuota, as
``pkg/apis/core/validation`` (``ValidateLimitRange``, ``ValidateResourceQuota``) and the v1
defaults (``SetDefaults_LimitRangeItem``) do them. The admission plugins that enforce them
(LimitRanger, ResourceQuota) and the quota controller read the objects as stored here.

Rules:
 1. A LimitRange item's ``type`` is a qualified name, listed once; every quantity is well
    formed and not negative.
 2. ``min ≤ defaultRequest ≤ default ≤ max`` for each resource, each refusal worded as upstream
    (``min value 2 is greater than max value 1``).
 3. A ``Pod`` item may not have ``default`` or ``defaultRequest``; a ``PersistentVolumeClaim``
    item needs a ``storage`` minimum or maximum.
 4. Container items are defaulted: ``default`` from ``max``, then ``defaultRequest`` from
    ``default``, then from ``min``.
 5. A ResourceQuota's ``hard`` (and ``status.hard``/``status.used``) hold well-formed,
    non-negative quantities, whole numbers for object counts; ``scopes`` are upstream's.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from kubeward.api.validation import field as f
from kubeward.api.validation.meta import check_qualified_name
from kubeward.api.validation.quantity import QUANTITY_MESSAGE, parse_quantity
from kubeward.errors import Cause

SCOPES = (
    "BestEffort",
    "CrossNamespacePodAffinity",
    "NotBestEffort",
    "NotTerminating",
    "PriorityClass",
    "Terminating",
)
# Resources counted in whole objects (``IsIntegerResourceName``).
_INTEGER_RESOURCES = {
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def default_limit_range(obj: dict[str, Any]) -> None:
    """Rule 4."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    for item in _dicts(spec.get("limits")):
        if item.get("type") != "Container":
            continue
        default = item.setdefault("default", {})
        request = item.setdefault("defaultRequest", {})
        if not isinstance(default, dict) or not isinstance(request, dict):
            continue
        for key, value in _map(item.get("max")).items():
            default.setdefault(key, value)
        for key, value in default.items():
            request.setdefault(key, value)
        for key, value in _map(item.get("min")).items():
            request.setdefault(key, value)


def _quantities(values: dict[str, Any], at: str) -> tuple[dict[str, Fraction], list[Cause]]:
    parsed: dict[str, Fraction] = {}
    causes: list[Cause] = []
    for name, value in values.items():
        quantity = parse_quantity(value)
        if quantity is None:
            causes.append(f.invalid(f"{at}[{name}]", value, QUANTITY_MESSAGE))
        elif quantity < 0:
            causes.append(f.invalid(f"{at}[{name}]", value, "must be greater than or equal to 0"))
        else:
            parsed[name] = quantity
    return parsed, causes


def validate_limit_range(obj: dict[str, Any]) -> list[Cause]:
    """Rules 1–3."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [f.required("spec")]
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, item in enumerate(_dicts(spec.get("limits"))):
        at = f"spec.limits[{i}]"
        kind = str(item.get("type") or "")
        causes.extend(f.invalid(f"{at}.type", kind, m) for m in check_qualified_name(kind))
        if kind in seen:
            causes.append(f.duplicate(f"{at}.type", kind))
        seen.add(kind)
        raw = {part: _map(item.get(part)) for part in ("max", "min", "default", "defaultRequest")}
        parsed: dict[str, dict[str, Fraction]] = {}
        for part, values in raw.items():
            parsed[part], found = _quantities(values, f"{at}.{part}")
            causes.extend(found)
        if kind == "Pod":
            for part in ("default", "defaultRequest"):
                if raw[part]:
                    causes.append(
                        f.forbidden(f"{at}.{part}", "may not be specified when `type` is 'Pod'")
                    )
        if (
            kind == "PersistentVolumeClaim"
            and "storage" not in raw["min"]
            and "storage" not in raw["max"]
        ):
            causes.append(
                f.required(
                    f"{at}.limits",
                    "either minimum or maximum storage value is required, but neither was provided",
                )
            )
        ratio, found = _quantities(
            _map(item.get("maxLimitRequestRatio")), f"{at}.maxLimitRequestRatio"
        )
        causes.extend(found)
        for name, value in ratio.items():
            if value < 1:
                causes.append(
                    f.invalid(
                        f"{at}.maxLimitRequestRatio[{name}]",
                        _map(item.get("maxLimitRequestRatio"))[name],
                        f"ratio {raw_text(item, 'maxLimitRequestRatio', name)} is less than 1",
                    )
                )
        causes.extend(_ordering(item, parsed, at))
    return causes


def raw_text(item: dict[str, Any], part: str, name: str) -> str:
    return str(_map(item.get(part)).get(name))


def _ordering(item: dict[str, Any], q: dict[str, dict[str, Fraction]], at: str) -> list[Cause]:
    """Rule 2, in upstream's order of checks."""
    causes: list[Cause] = []
    names = sorted({name for part in q.values() for name in part})
    for name in names:
        low, high = q["min"].get(name), q["max"].get(name)
        default, request = q["default"].get(name), q["defaultRequest"].get(name)

        def text(part: str, name: str = name) -> str:
            return raw_text(item, part, name)

        if low is not None and high is not None and low > high:
            causes.append(
                f.invalid(
                    f"{at}.min[{name}]",
                    text("min"),
                    f"min value {text('min')} is greater than max value {text('max')}",
                )
            )
        if request is not None and low is not None and low > request:
            causes.append(
                f.invalid(
                    f"{at}.defaultRequest[{name}]",
                    text("defaultRequest"),
                    f"min value {text('min')} is greater than default request value {text('defaultRequest')}",
                )
            )
        if request is not None and high is not None and request > high:
            causes.append(
                f.invalid(
                    f"{at}.defaultRequest[{name}]",
                    text("defaultRequest"),
                    f"default request value {text('defaultRequest')} is greater than max value {text('max')}",
                )
            )
        if request is not None and default is not None and request > default:
            causes.append(
                f.invalid(
                    f"{at}.defaultRequest[{name}]",
                    text("defaultRequest"),
                    f"default request value {text('defaultRequest')} is greater than default limit value {text('default')}",
                )
            )
        if default is not None and low is not None and low > default:
            causes.append(
                f.invalid(
                    f"{at}.default[{name}]",
                    text("min"),
                    f"min value {text('min')} is greater than default value {text('default')}",
                )
            )
        if default is not None and high is not None and default > high:
            causes.append(
                f.invalid(
                    f"{at}.default[{name}]",
                    text("max"),
                    f"default value {text('default')} is greater than max value {text('max')}",
                )
            )
    return causes


def _resource_list(values: Any, at: str) -> list[Cause]:
    causes: list[Cause] = []
    for name, value in _map(values).items():
        causes.extend(f.invalid(f"{at}[{name}]", name, m) for m in check_qualified_name(str(name)))
        quantity = parse_quantity(value)
        if quantity is None:
            causes.append(f.invalid(f"{at}[{name}]", value, QUANTITY_MESSAGE))
        elif quantity < 0:
            causes.append(f.invalid(f"{at}[{name}]", value, "must be greater than or equal to 0"))
        elif (
            name in _INTEGER_RESOURCES or str(name).startswith("count/")
        ) and quantity.denominator != 1:
            causes.append(f.invalid(f"{at}[{name}]", value, "must be an integer"))
    return causes


def validate_resource_quota(obj: dict[str, Any]) -> list[Cause]:
    """Rule 5."""
    spec = obj.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    causes = _resource_list(spec.get("hard"), "spec.hard")
    scopes = spec.get("scopes") or []
    for i, scope in enumerate(scopes if isinstance(scopes, list) else []):
        if scope not in SCOPES:
            causes.append(f.not_supported(f"spec.scopes[{i}]", scope, SCOPES))
    selector = _map(spec.get("scopeSelector"))
    for i, expression in enumerate(_dicts(selector.get("matchExpressions"))):
        name = expression.get("scopeName")
        if name not in SCOPES:
            causes.append(
                f.not_supported(f"spec.scopeSelector.matchExpressions[{i}].scopeName", name, SCOPES)
            )
    status = _map(obj.get("status"))
    causes.extend(_resource_list(status.get("hard"), "status.hard"))
    causes.extend(_resource_list(status.get("used"), "status.used"))
    return causes
