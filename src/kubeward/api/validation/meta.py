"""Name, label and annotation rules of Kubernetes' apimachinery validation.

Each ``check_*`` returns the problems as strings (empty when the value is valid), worded as
Kubernetes words them; each ``validate_*`` returns field causes at a path. The rules:

 1. DNS-1123 subdomain (most object names): at most 253 characters of ``[a-z0-9.-]``,
    starting and ending alphanumeric, dot-separated labels.
 2. DNS-1123 label (namespaces, container names, ...): at most 63 characters of ``[a-z0-9-]``.
 3. Path-segment names (RBAC objects): anything but ``.``, ``..`` or a name with ``/`` or ``%``.
 4. Qualified names (label and annotation keys): an optional DNS-1123 subdomain prefix and ``/``,
    then a name of at most 63 characters of ``[A-Za-z0-9_.-]`` starting and ending alphanumeric.
 5. Label values: empty, or at most 63 characters like a qualified name's name part.
 6. Annotations: valid qualified keys; all keys and values together at most 256 KiB.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from kubeward.api.validation import field
from kubeward.errors import Cause

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_MAX = 63
TOTAL_ANNOTATION_SIZE = 256 * 1024

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + r"(\." + _DNS1123_LABEL_FMT + ")*"
_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = "(" + _QUALIFIED_NAME_FMT + ")?"

_DNS1123_LABEL = re.compile(f"^{_DNS1123_LABEL_FMT}$")
_DNS1123_SUBDOMAIN = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")
_QUALIFIED_NAME = re.compile(f"^{_QUALIFIED_NAME_FMT}$")
_LABEL_VALUE = re.compile(f"^{_LABEL_VALUE_FMT}$")

_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    f"regex used for validation is '{_DNS1123_LABEL_FMT}')"
)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    f"regex used for validation is '{_DNS1123_SUBDOMAIN_FMT}')"
)
_QUALIFIED_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    f"used for validation is '{_QUALIFIED_NAME_FMT}')"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    f"'my_value',  or '12345', regex used for validation is '{_LABEL_VALUE_FMT}')"
)


def _max_len(limit: int) -> str:
    return f"must be no more than {limit} characters"


def check_dns1123_label(value: str) -> list[str]:
    errs = []
    if len(value) > DNS1123_LABEL_MAX:
        errs.append(_max_len(DNS1123_LABEL_MAX))
    if not _DNS1123_LABEL.match(value):
        errs.append(_DNS1123_LABEL_MSG)
    return errs


_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)


def check_dns1035_label(value: str) -> list[str]:
    errs = []
    if len(value) > DNS1123_LABEL_MAX:
        errs.append(_max_len(DNS1123_LABEL_MAX))
    if not _DNS1035_LABEL.match(value):
        errs.append(_DNS1035_LABEL_MSG)
    return errs


def check_dns1123_subdomain(value: str) -> list[str]:
    errs = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(_max_len(DNS1123_SUBDOMAIN_MAX))
    if not _DNS1123_SUBDOMAIN.match(value):
        errs.append(_DNS1123_SUBDOMAIN_MSG)
    return errs


def check_path_segment_name(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    errs = []
    for bad in ("/", "%"):
        if bad in value:
            errs.append(f"may not contain '{bad}'")
    return errs


def check_qualified_name(value: str) -> list[str]:
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + msg for msg in check_dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must "
            "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
            "'123-abc', regex used for validation is '" + _QUALIFIED_NAME_FMT + "') with an "
            "optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > QUALIFIED_NAME_MAX:
        errs.append("name part " + _max_len(QUALIFIED_NAME_MAX))
    if name and not _QUALIFIED_NAME.match(name):
        errs.append(_QUALIFIED_NAME_MSG)
    return errs


def check_label_value(value: str) -> list[str]:
    errs = []
    if len(value) > LABEL_VALUE_MAX:
        errs.append(_max_len(LABEL_VALUE_MAX))
    if not _LABEL_VALUE.match(value):
        errs.append(_LABEL_VALUE_MSG)
    return errs


NameCheck = Callable[[str], list[str]]


def validate_name(value: str, path: str, check: NameCheck) -> list[Cause]:
    return [field.invalid(path, value, msg) for msg in check(value)]


def validate_labels(labels: object, path: str) -> list[Cause]:
    if labels is None:
        return []
    if not isinstance(labels, Mapping):
        return [field.invalid(path, labels, "must be a map of string keys to string values")]
    causes: list[Cause] = []
    for key, value in labels.items():
        causes.extend(field.invalid(path, key, msg) for msg in check_qualified_name(str(key)))
        if not isinstance(value, str):
            causes.append(field.invalid(f"{path}", value, "label values must be strings"))
            continue
        causes.extend(field.invalid(path, value, msg) for msg in check_label_value(value))
    return causes


def validate_annotations(annotations: object, path: str) -> list[Cause]:
    if annotations is None:
        return []
    if not isinstance(annotations, Mapping):
        return [field.invalid(path, annotations, "must be a map of string keys to string values")]
    causes: list[Cause] = []
    total = 0
    for key, value in annotations.items():
        causes.extend(
            field.invalid(path, key, msg) for msg in check_qualified_name(str(key).lower())
        )
        if not isinstance(value, str):
            causes.append(field.invalid(path, value, "annotation values must be strings"))
            continue
        total += len(key) + len(value)
    if total > TOTAL_ANNOTATION_SIZE:
        causes.append(field.too_long(path, TOTAL_ANNOTATION_SIZE))
    return causes


_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def validate_label_selector(selector: object, path: str) -> list[Cause]:
    """Kubernetes' ``ValidateLabelSelector``: keys, values and operators of a LabelSelector."""
    if selector is None:
        return []
    if not isinstance(selector, Mapping):
        return [field.invalid(path, selector, "must be a label selector object")]
    causes = validate_labels(selector.get("matchLabels"), f"{path}.matchLabels")
    expressions = selector.get("matchExpressions") or []
    if not isinstance(expressions, list):
        return [*causes, field.invalid(f"{path}.matchExpressions", expressions, "must be a list")]
    for i, expr in enumerate(expressions):
        at = f"{path}.matchExpressions[{i}]"
        if not isinstance(expr, Mapping):
            causes.append(field.invalid(at, expr, "must be a label selector requirement"))
            continue
        op = expr.get("operator", "")
        values = expr.get("values") or []
        if op in ("In", "NotIn"):
            if not values:
                causes.append(
                    field.required(
                        f"{at}.values", "must be specified when `operator` is 'In' or 'NotIn'"
                    )
                )
        elif op in ("Exists", "DoesNotExist"):
            if values:
                causes.append(
                    field.forbidden(
                        f"{at}.values",
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    )
                )
        else:
            causes.append(field.not_supported(f"{at}.operator", op, _SELECTOR_OPERATORS))
        key = str(expr.get("key", ""))
        causes.extend(field.invalid(f"{at}.key", key, msg) for msg in check_qualified_name(key))
        for j, value in enumerate(values):
            causes.extend(
                field.invalid(f"{at}.values[{j}]", value, msg)
                for msg in check_label_value(str(value))
            )
    return causes
