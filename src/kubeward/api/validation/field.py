"""Field errors, worded as Kubernetes' ``field.ErrorList`` words them.

A validator returns a list of :class:`~kubeward.errors.Cause`; the registry turns a non-empty
list into one 422 ``Invalid`` whose message reads exactly like the real API server's, e.g.
``metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain must ...``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from kubeward.errors import Cause


def _show(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, default=str)


def required(path: str, detail: str = "") -> Cause:
    message = "Required value" + (f": {detail}" if detail else "")
    return Cause("FieldValueRequired", message, path)


def invalid(path: str, value: object, detail: str) -> Cause:
    return Cause("FieldValueInvalid", f"Invalid value: {_show(value)}: {detail}", path)


def not_supported(path: str, value: object, supported: Iterable[str]) -> Cause:
    options = ", ".join(json.dumps(s) for s in supported)
    return Cause(
        "FieldValueNotSupported",
        f"Unsupported value: {_show(value)}: supported values: {options}",
        path,
    )


def forbidden(path: str, detail: str) -> Cause:
    return Cause("FieldValueForbidden", f"Forbidden: {detail}", path)


def not_found(path: str, value: object) -> Cause:
    return Cause("FieldValueNotFound", f"Not found: {_show(value)}", path)


def duplicate(path: str, value: object) -> Cause:
    return Cause("FieldValueDuplicate", f"Duplicate value: {_show(value)}", path)


def too_long(path: str, limit: int) -> Cause:
    return Cause("FieldValueTooLong", f"Too long: may not be more than {limit} bytes", path)


def type_invalid(path: str, value: object, detail: str) -> Cause:
    return Cause("FieldValueTypeInvalid", f"Invalid value: {_show(value)}: {detail}", path)


def too_many(path: str, actual: int, limit: int) -> Cause:
    return Cause("FieldValueTooMany", f"Too many: {actual}: must have at most {limit} items", path)
