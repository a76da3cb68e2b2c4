"""Validation of the four RBAC kinds, as ``pkg/apis/rbac/validation/validation.go``.

Object metadata (name, namespace, labels, annotations) is checked by the generic store; RBAC
strategies give it :data:`RBAC_NAME_CHECK`, because RBAC names are path-segment names. The
rules here, with Kubernetes' messages:

 1. Names — of the objects and of ``roleRef.name`` — may be anything but ``.``, ``..`` or a
    name containing ``/`` or ``%``.
 2. Every rule needs at least one verb.
 3. A rule with ``nonResourceURLs`` may not also name apiGroups, resources or resourceNames,
    and is not allowed in a (namespaced) Role.
 4. Any other rule needs at least one apiGroup and at least one resource.
 5. A ClusterRole's ``aggregationRule``, when present, needs at least one selector, each a
    valid label selector.
 6. ``roleRef.apiGroup`` must be ``rbac.authorization.k8s.io``; ``roleRef.kind`` must be Role or
    ClusterRole in a RoleBinding and ClusterRole in a ClusterRoleBinding; ``roleRef.name`` is
    required. ``roleRef`` cannot change on update.
 7. Subjects need a name and a kind of User, Group or ServiceAccount. User and Group subjects
    need ``apiGroup: rbac.authorization.k8s.io``; ServiceAccount subjects need an empty
    apiGroup, a DNS-1123 subdomain name and — in a ClusterRoleBinding — a namespace.

Validation runs after defaulting: Kubernetes fills an empty ``roleRef.apiGroup`` and the
apiGroup of User and Group subjects with ``rbac.authorization.k8s.io`` first (see
:func:`default_binding`), which is why ``kubectl create rolebinding`` passes without them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubeward.api.selectors import LabelSelector
from kubeward.api.validation import field
from kubeward.api.validation.meta import (
    check_dns1123_subdomain,
    check_path_segment_name,
    validate_label_selector,
)
from kubeward.errors import BadRequest, Cause

RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC_NAME_CHECK = check_path_segment_name
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


def _go_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _invalid_slice(path: str, values: Sequence[Any], detail: str) -> Cause:
    """``field.Invalid`` of a ``[]string``, which Kubernetes prints as Go source (``%#v``)."""
    shown = "[]string{" + ", ".join(_go_quote(str(v)) for v in values) + "}"
    return Cause("FieldValueInvalid", f"Invalid value: {shown}: {detail}", path)


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


# --- defaulting (pkg/apis/rbac/v1/defaults.go) ------------------------------------------------


def default_binding(obj: dict[str, Any]) -> None:
    """Kubernetes' defaults for a RoleBinding or ClusterRoleBinding, in place.

    An empty ``roleRef.apiGroup`` becomes ``rbac.authorization.k8s.io``; so does the empty
    ``apiGroup`` of a User or Group subject.
    """
    ref = obj.get("roleRef")
    if isinstance(ref, dict) and not ref.get("apiGroup"):
        ref["apiGroup"] = RBAC_GROUP
    for subject in _list(obj.get("subjects")):
        is_user_or_group = isinstance(subject, dict) and subject.get("kind") in ("User", "Group")
        if is_user_or_group and not subject.get("apiGroup"):
            subject["apiGroup"] = RBAC_GROUP


# --- rules --------------------------------------------------------------------------------------


def validate_policy_rule(rule: object, namespaced: bool, path: str) -> list[Cause]:
    if not isinstance(rule, Mapping):
        return [field.invalid(path, rule, "must be a policy rule object")]
    causes: list[Cause] = []
    if not _list(rule.get("verbs")):
        causes.append(field.required(f"{path}.verbs", "verbs must contain at least one value"))
    urls = _list(rule.get("nonResourceURLs"))
    if urls:
        if namespaced:
            causes.append(
                _invalid_slice(
                    f"{path}.nonResourceURLs",
                    urls,
                    "namespaced rules cannot apply to non-resource URLs",
                )
            )
        if (
            _list(rule.get("apiGroups"))
            or _list(rule.get("resources"))
            or _list(rule.get("resourceNames"))
        ):
            causes.append(
                _invalid_slice(
                    f"{path}.nonResourceURLs",
                    urls,
                    "rules cannot apply to both regular resources and non-resource URLs",
                )
            )
        return causes
    if not _list(rule.get("apiGroups")):
        causes.append(
            field.required(f"{path}.apiGroups", "resource rules must supply at least one api group")
        )
    if not _list(rule.get("resources")):
        causes.append(
            field.required(f"{path}.resources", "resource rules must supply at least one resource")
        )
    return causes


def _validate_rules(obj: Mapping[str, Any], namespaced: bool) -> list[Cause]:
    causes: list[Cause] = []
    for i, rule in enumerate(_list(obj.get("rules"))):
        causes.extend(validate_policy_rule(rule, namespaced, f"rules[{i}]"))
    return causes


def validate_role(obj: Mapping[str, Any]) -> list[Cause]:
    return _validate_rules(obj, namespaced=True)


def validate_role_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    return validate_role(new)


def validate_cluster_role(obj: Mapping[str, Any]) -> list[Cause]:
    causes = _validate_rules(obj, namespaced=False)
    aggregation = obj.get("aggregationRule")
    if aggregation is None:
        return causes
    path = "aggregationRule.clusterRoleSelectors"
    selectors = (
        _list(aggregation.get("clusterRoleSelectors")) if isinstance(aggregation, Mapping) else []
    )
    if not selectors:
        causes.append(
            field.required(
                path, "at least one clusterRoleSelector required if aggregationRule is non-nil"
            )
        )
    for i, selector in enumerate(selectors):
        at = f"{path}[{i}]"
        selector_causes = validate_label_selector(selector, at)
        causes.extend(selector_causes)
        if selector_causes or not isinstance(selector, Mapping):
            continue
        try:
            LabelSelector.from_dict(selector)
        except BadRequest:
            causes.append(field.invalid(at, selector, "invalid label selector."))
    return causes


def validate_cluster_role_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    return validate_cluster_role(new)


# --- bindings -----------------------------------------------------------------------------------


def _validate_role_ref(obj: Mapping[str, Any], kinds: tuple[str, ...]) -> list[Cause]:
    ref = obj.get("roleRef")
    ref = ref if isinstance(ref, Mapping) else {}
    causes: list[Cause] = []
    api_group = _text(ref.get("apiGroup"))
    if api_group != RBAC_GROUP:
        causes.append(field.not_supported("roleRef.apiGroup", api_group, [RBAC_GROUP]))
    kind = _text(ref.get("kind"))
    if kind not in kinds:
        causes.append(field.not_supported("roleRef.kind", kind, kinds))
    name = _text(ref.get("name"))
    if not name:
        causes.append(field.required("roleRef.name"))
    else:
        causes.extend(field.invalid("roleRef.name", name, msg) for msg in RBAC_NAME_CHECK(name))
    return causes


def validate_subject(subject: object, namespaced: bool, path: str) -> list[Cause]:
    if not isinstance(subject, Mapping):
        return [field.invalid(path, subject, "must be a subject object")]
    causes: list[Cause] = []
    name = _text(subject.get("name"))
    api_group = _text(subject.get("apiGroup"))
    kind = _text(subject.get("kind"))
    if not name:
        causes.append(field.required(f"{path}.name"))
    if kind == "ServiceAccount":
        if name:
            causes.extend(
                field.invalid(f"{path}.name", name, msg) for msg in check_dns1123_subdomain(name)
            )
        if api_group:
            causes.append(field.not_supported(f"{path}.apiGroup", api_group, [""]))
        if not namespaced and not _text(subject.get("namespace")):
            causes.append(field.required(f"{path}.namespace"))
    elif kind in ("User", "Group"):
        if api_group != RBAC_GROUP:
            causes.append(field.not_supported(f"{path}.apiGroup", api_group, [RBAC_GROUP]))
    else:
        causes.append(field.not_supported(f"{path}.kind", kind, SUBJECT_KINDS))
    return causes


def _validate_binding(
    obj: Mapping[str, Any], kinds: tuple[str, ...], namespaced: bool
) -> list[Cause]:
    causes = _validate_role_ref(obj, kinds)
    for i, subject in enumerate(_list(obj.get("subjects"))):
        causes.extend(validate_subject(subject, namespaced, f"subjects[{i}]"))
    return causes


def _role_ref_shown(obj: Mapping[str, Any]) -> str:
    ref = obj.get("roleRef")
    ref = ref if isinstance(ref, Mapping) else {}
    return (
        f"rbac.RoleRef{{APIGroup:{_go_quote(_text(ref.get('apiGroup')))},"
        f" Kind:{_go_quote(_text(ref.get('kind')))}, Name:{_go_quote(_text(ref.get('name')))}}}"
    )


def _role_ref_unchanged(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    def key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
        ref = obj.get("roleRef")
        ref = ref if isinstance(ref, Mapping) else {}
        return (_text(ref.get("apiGroup")), _text(ref.get("kind")), _text(ref.get("name")))

    if key(new) == key(old):
        return []
    return [
        Cause(
            "FieldValueInvalid",
            f"Invalid value: {_role_ref_shown(new)}: cannot change roleRef",
            "roleRef",
        )
    ]


def validate_role_binding(obj: Mapping[str, Any]) -> list[Cause]:
    return _validate_binding(obj, ("Role", "ClusterRole"), namespaced=True)


def validate_role_binding_update(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[Cause]:
    return validate_role_binding(new) + _role_ref_unchanged(new, old)


def validate_cluster_role_binding(obj: Mapping[str, Any]) -> list[Cause]:
    return _validate_binding(obj, ("ClusterRole",), namespaced=False)


def validate_cluster_role_binding_update(
    new: Mapping[str, Any], old: Mapping[str, Any]
) -> list[Cause]:
    return validate_cluster_role_binding(new) + _role_ref_unchanged(new, old)
