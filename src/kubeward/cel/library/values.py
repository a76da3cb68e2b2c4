"""Kubernetes' opaque CEL values (Quantity, URL, IP, CIDR) as one-entry marker maps.

The library the engine wraps takes no opaque Python values, so ``quantity('1Gi')`` is
``{"kubeward.Quantity": "<canonical>"}``: equal quantities are equal maps, and a rule cannot
forge one by accident (the key is not a valid field name). ``unwrap`` refuses a value of the
wrong kind with cel-go's ``no such overload``.
"""

from __future__ import annotations

from typing import Any

from kubeward.errors import CELEvaluationError

QUANTITY = "kubeward.Quantity"
URL = "kubeward.URL"
IP = "kubeward.IP"
CIDR = "kubeward.CIDR"


def wrap(kind: str, text: str) -> dict[str, str]:
    return {kind: text}


def unwrap(kind: str, value: Any) -> str:
    if isinstance(value, dict) and len(value) == 1 and kind in value:
        return str(value[kind])
    raise CELEvaluationError("no such overload")
