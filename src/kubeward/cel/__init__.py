"""The one CEL engine: CRD validation rules, admission policies, authorization and authentication conditions.

Declare variables with :mod:`kubeward.cel.types`, compile once with
:meth:`Environment.compile` (a :class:`Program`, or a :class:`~kubeward.errors.CELCompileError`
worded as cel-go's), then :meth:`Program.evaluate` per request with an optional runtime cost
limit. Kubernetes' extension libraries (strings, lists, regex, URLs, quantities, IPs and
CIDRs) are always declared. ``limits`` holds Kubernetes' cost limits.
"""

from __future__ import annotations

from kubeward.cel import types
from kubeward.cel.cost import MAX_REQUEST_BYTES, Path, SizeSource
from kubeward.cel.engine import (
    Activation,
    Environment,
    Program,
    duration_value,
    timestamp_value,
)
from kubeward.cel.limits import (
    PER_CALL_LIMIT,
    RUNTIME_CEL_COST_BUDGET,
    STATIC_ESTIMATED_COST_LIMIT,
    STATIC_ESTIMATED_CRD_COST_LIMIT,
)

__all__ = [
    "MAX_REQUEST_BYTES",
    "PER_CALL_LIMIT",
    "RUNTIME_CEL_COST_BUDGET",
    "STATIC_ESTIMATED_COST_LIMIT",
    "STATIC_ESTIMATED_CRD_COST_LIMIT",
    "Activation",
    "Environment",
    "Path",
    "Program",
    "SizeSource",
    "duration_value",
    "timestamp_value",
    "types",
]
