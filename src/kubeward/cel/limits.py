"""Kubernetes' CEL cost limits (k8s.io/apiserver/pkg/apis/cel/config.go), in one place.

1. ``PER_CALL_LIMIT``: the runtime cost one expression may spend in one evaluation.
2. ``RUNTIME_CEL_COST_BUDGET``: what all the rules of one custom-object write may spend.
3. ``STATIC_ESTIMATED_COST_LIMIT``: a rule whose estimated worst case is over this is refused
   when its CRD is written.
4. ``STATIC_ESTIMATED_CRD_COST_LIMIT``: the same, for the sum over a CRD's rules, each times
   the number of times its schema node can occur in one object.
"""

from __future__ import annotations

PER_CALL_LIMIT = 1_000_000
RUNTIME_CEL_COST_BUDGET = 10_000_000
STATIC_ESTIMATED_COST_LIMIT = 10_000_000
STATIC_ESTIMATED_CRD_COST_LIMIT = 100_000_000
