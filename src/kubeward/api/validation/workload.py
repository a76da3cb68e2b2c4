"""Checks shared by every kind that carries a pod template and a selector (apps, batch).

Worded as ``pkg/apis/core/validation`` and ``pkg/apis/apps/validation`` word them:

 1. A numeric field that may not be negative: ``must be greater than or equal to 0``
    (``ValidateNonnegativeField``); a value of the wrong JSON type is ``must be an integer``.
 2. A pod template's labels are valid labels and its spec a valid pod spec; the selector, when
    it compiles, must select the template's labels (``selector`` does not match template
    ``labels``); an empty selector is refused where the kind says so.
 3. IntOrString percentages (``maxUnavailable``, ``minAvailable``): a string must be digits
    followed by ``%`` and at most 100%; a number must not be negative.
 4. An immutable field that changed: ``field is immutable`` with the new value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kubeward.api.selectors import LabelSelector
from kubeward.api.validation import field
from kubeward.api.validation.core import validate_pod_spec
from kubeward.api.validation.meta import (
    validate_annotations,
    validate_label_selector,
    validate_labels,
)
from kubeward.errors import BadRequest, Cause

NONNEGATIVE = "must be greater than or equal to 0"
_PERCENT = re.compile(r"^[0-9]+%$")
_PERCENT_MSG = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def as_int(value: object) -> int | None:
    """``value`` when it is a JSON integer (not a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def nonnegative(obj: Mapping[str, Any], key: str, path: str) -> list[Cause]:
    """Rule 1 for ``obj[key]`` when it is set (``path`` empty for a top-level field)."""
    value = obj.get(key)
    at = f"{path}.{key}" if path else key
    if value is None:
        return []
    if not is_int(value):
        return [field.invalid(at, value, "must be an integer")]
    if value < 0:
        return [field.invalid(at, value, NONNEGATIVE)]
    return []


def int_or_percent(value: object, path: str) -> list[Cause]:
    """Rule 3: ``ValidatePositiveIntOrPercent`` and ``IsNotMoreThan100Percent``."""
    if value is None:
        return []
    if isinstance(value, str):
        if not _PERCENT.match(value):
            return [field.invalid(path, value, _PERCENT_MSG)]
        if int(value[:-1]) > 100:
            return [field.invalid(path, value, "must not be greater than 100%")]
        return []
    number = as_int(value)
    if number is None:
        return [field.invalid(path, value, "must be an integer or percentage (e.g '5%')")]
    if number < 0:
        return [field.invalid(path, value, NONNEGATIVE)]
    return []


def percent_or_int_value(value: object) -> int:
    """The number in an IntOrString (``25%`` is 25); 0 when it has none."""
    number = as_int(value)
    if number is not None:
        return number
    if isinstance(value, str) and _PERCENT.match(value):
        return int(value[:-1])
    return 0


def template_labels(spec: Mapping[str, Any]) -> dict[str, Any]:
    template = spec.get("template")
    if not isinstance(template, Mapping):
        return {}
    metadata = template.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return dict(labels) if isinstance(labels, Mapping) else {}


def validate_pod_template(template: object, path: str) -> list[Cause]:
    """Rule 2's template half: ``ValidatePodTemplateSpec``."""
    if not isinstance(template, Mapping):
        return [field.required(path)]
    metadata = template.get("metadata") or {}
    causes: list[Cause] = []
    if isinstance(metadata, Mapping):
        causes.extend(validate_labels(metadata.get("labels"), f"{path}.metadata.labels"))
        causes.extend(
            validate_annotations(metadata.get("annotations"), f"{path}.metadata.annotations")
        )
    causes.extend(validate_pod_spec(template.get("spec"), f"{path}.spec"))
    return causes


def validate_selector(
    spec: Mapping[str, Any], path: str, *, empty_refused_for: str = ""
) -> list[Cause]:
    """Rule 2's selector half: required, well formed, matching the template's labels.

    ``empty_refused_for`` names the kind (``statefulset``) whose empty selector is refused.
    """
    selector = spec.get("selector")
    if selector is None:
        return [field.required(f"{path}.selector")]
    causes = validate_label_selector(selector, f"{path}.selector")
    if causes or not isinstance(selector, Mapping):
        return causes
    try:
        compiled = LabelSelector.from_dict(selector)
    except BadRequest:
        return causes
    if empty_refused_for and compiled.empty:
        causes.append(
            field.invalid(
                f"{path}.selector", selector, f"empty selector is invalid for {empty_refused_for}"
            )
        )
    elif not compiled.matches(template_labels(spec)):
        causes.append(
            field.invalid(
                f"{path}.template.metadata.labels",
                template_labels(spec),
                "`selector` does not match template `labels`",
            )
        )
    return causes


def immutable(new: Mapping[str, Any], old: Mapping[str, Any], key: str, path: str) -> list[Cause]:
    """Rule 4 for ``key`` of two specs."""
    if new.get(key) != old.get(key):
        return [field.invalid(f"{path}.{key}", new.get(key), "field is immutable")]
    return []


def spec_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}
