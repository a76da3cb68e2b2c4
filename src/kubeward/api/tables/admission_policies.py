"""Tables of the admission policy kinds, as Kubernetes' ``printers.go``.

Rules:

1. ValidatingAdmissionPolicy: VALIDATIONS is how many validations it has; PARAMKIND is
   ``<apiVersion>/<kind>``, ``<unset>`` without a ``paramKind``.
2. ValidatingAdmissionPolicyBinding: POLICYNAME; PARAMREF is ``<namespace>/<name>``, ``*/<name>``
   without a namespace, the selector's string for a selector, ``<unset>`` without a ``paramRef``.
3. MutatingAdmissionPolicy: MUTATIONS is how many mutations it has, PARAMKIND as rule 1; its
   binding is printed as rule 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kubeward.api.tables._access import count, text, value_at
from kubeward.api.tables.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    KindKey,
    PrintedRow,
    TablePrinter,
    column,
)
from kubeward.api.tables.formatting import selector_string, translate_timestamp_since

UNSET = "<unset>"
GROUP = "admissionregistration.k8s.io"

POLICY_COLUMNS = (
    NAME_COLUMN,
    column(
        "Validations",
        "Validations indicates the number of validation rules defined in this configuration",
        type="integer",
    ),
    column(
        "ParamKind", "ParamKind specifies the kind of resources used to parameterize this policy"
    ),
    AGE_COLUMN,
)
MUTATING_POLICY_COLUMNS = (
    NAME_COLUMN,
    column(
        "Mutations",
        "Mutation indicates the number of mutations rules defined in this configuration",
        type="integer",
    ),
    POLICY_COLUMNS[2],
    AGE_COLUMN,
)
BINDING_COLUMNS = (
    NAME_COLUMN,
    column(
        "PolicyName",
        "PolicyName indicates the policy definition which the policy binding binded to",
    ),
    column("ParamRef", "ParamRef indicates the param resource which sets the configration param"),
    AGE_COLUMN,
)


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return translate_timestamp_since(value_at(obj, "metadata", "creationTimestamp"), now)


def print_policy(obj: Mapping[str, Any], now: datetime, counted: str = "validations") -> PrintedRow:
    """Rule 1 (rule 3 with ``counted="mutations"``)."""
    kind = value_at(obj, "spec", "paramKind")
    param_kind = UNSET
    if isinstance(kind, Mapping):
        param_kind = f"{text(kind, 'apiVersion')}/{text(kind, 'kind')}"
    return PrintedRow(
        (
            text(obj, "metadata", "name"),
            count(obj, "spec", counted),
            param_kind,
            _age(obj, now),
        )
    )


def print_binding(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    """Rule 2."""
    ref = value_at(obj, "spec", "paramRef")
    param = UNSET
    if isinstance(ref, Mapping):
        if text(ref, "name"):
            param = f"{text(ref, 'namespace') or '*'}/{text(ref, 'name')}"
        elif ref.get("selector") is not None:
            param = selector_string(ref.get("selector")) or ""
    return PrintedRow(
        (text(obj, "metadata", "name"), text(obj, "spec", "policyName"), param, _age(obj, now))
    )


def print_mutating_policy(obj: Mapping[str, Any], now: datetime) -> PrintedRow:
    """Rule 3."""
    return print_policy(obj, now, "mutations")


PRINTERS: dict[KindKey, TablePrinter] = {
    (GROUP, "ValidatingAdmissionPolicy"): TablePrinter(POLICY_COLUMNS, print_policy),
    (GROUP, "ValidatingAdmissionPolicyBinding"): TablePrinter(BINDING_COLUMNS, print_binding),
    (GROUP, "MutatingAdmissionPolicy"): TablePrinter(
        MUTATING_POLICY_COLUMNS, print_mutating_policy
    ),
    (GROUP, "MutatingAdmissionPolicyBinding"): TablePrinter(BINDING_COLUMNS, print_binding),
}
"""The printers of this module, keyed by (API group, kind)."""
