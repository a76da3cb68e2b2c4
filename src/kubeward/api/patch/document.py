"""Helpers the three patch formats share: reading the patch body, comparing JSON values the way
JSON (not Python) does, and printing values the way Go's ``%v`` does in Kubernetes' messages.

Rules:
 1. A patch body is strict JSON (no NaN or Infinity), held to the bounds of any body (nesting
    depth, int64 integers: ``api.codec``); anything else is a 400 naming the problem.
 2. JSON equality keeps booleans apart from numbers (Python's ``True == 1`` does not hold here).
"""

from __future__ import annotations

from typing import Any

import orjson

from kubeward.api.codec import check_json_value
from kubeward.errors import BadRequest


def parse_json(body: bytes) -> Any:
    """Parse a patch body.

    Raises:
        BadRequest: the body is not JSON.
    """
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"error decoding patch: {exc}") from exc
    check_json_value(value)
    return value


def json_equal(left: Any, right: Any) -> bool:
    """Structural JSON equality: ``1 == 1.0`` but ``true != 1``; objects ignore key order."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, dict):
        return (
            isinstance(right, dict)
            and left.keys() == right.keys()
            and all(json_equal(value, right[key]) for key, value in left.items())
        )
    if isinstance(left, list):
        return (
            isinstance(right, list)
            and len(left) == len(right)
            and all(json_equal(a, b) for a, b in zip(left, right, strict=True))
        )
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return type(left) is type(right) and bool(left == right)


def go_format(value: Any) -> str:
    """Render a JSON value as Go's ``fmt`` ``%v`` does (maps sorted by key)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        inner = " ".join(f"{key}:{go_format(value[key])}" for key in sorted(value))
        return f"map[{inner}]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(item) for item in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
