"""The ABAC policy file: kube-apiserver's ``--authorization-policy-file`` format.

One JSON object per line; blank lines and lines starting with ``#`` are skipped. Rules, as
``pkg/apis/abac`` and ``pkg/auth/authorizer/abac`` decide them:

 1. A line with both ``apiVersion`` and ``kind`` must be an
    ``abac.authorization.kubernetes.io/v1beta1`` (or ``v0``) ``Policy``; its fields are under
    ``spec``. A line missing either is an unversioned (v0) policy with its fields at the top
    level, and the file is logged as containing unversioned rules.
 2. v1beta1: a ``*`` user or group becomes the group ``system:authenticated`` (and no user).
 3. v0: no user and no group, or a ``*`` user or group, becomes the group
    ``system:authenticated``; an empty namespace or resource is ``*``; every v0 line matches
    every API group; a line with neither namespace nor resource also matches every
    non-resource path.
 4. A bad line makes the whole file bad, with upstream's message: ``error reading policy file
    F, line N: <the line>: <why>``.
 5. Unknown fields are ignored, as the upstream decoder ignores them.
 6. A line with a ``spec`` but without ``apiVersion`` (a common copy of the documentation's
    example) is read as upstream reads it — an unversioned policy whose ``spec`` is ignored,
    which lets every authenticated user do everything — and is logged as a warning naming the
    line, since that is almost never what its author meant.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import orjson

from kubeward.api.user import ALL_AUTHENTICATED
from kubeward.errors import InputError

log = logging.getLogger(__name__)

GROUP = "abac.authorization.kubernetes.io"
API_VERSIONS = (f"{GROUP}/v1beta1", f"{GROUP}/v0")
KIND = "Policy"

_STRING_FIELDS = {
    "user": "user",
    "group": "group",
    "apiGroup": "api_group",
    "resource": "resource",
    "namespace": "namespace",
    "nonResourcePath": "non_resource_path",
}


@dataclass(frozen=True)
class PolicyLine:
    """One policy, converted to the internal form, with where it came from."""

    number: int
    text: str
    user: str = ""
    group: str = ""
    readonly: bool = False
    api_group: str = ""
    resource: str = ""
    namespace: str = ""
    non_resource_path: str = ""


@dataclass(frozen=True)
class Policy:
    """A parsed policy file: its source and its lines in file order."""

    source: str
    lines: tuple[PolicyLine, ...]


class _BadLine(Exception):
    """Why one line is refused; becomes the InputError of rule 4."""


def _fields(obj: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, attribute in _STRING_FIELDS.items():
        value = obj.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise _BadLine(f"{where}{key}: expected a string, got {type(value).__name__}")
        out[attribute] = value
    readonly = obj.get("readonly")
    if readonly is not None:
        if not isinstance(readonly, bool):
            raise _BadLine(f"{where}readonly: expected a boolean, got {type(readonly).__name__}")
        out["readonly"] = readonly
    return out


def _v1beta1(number: int, text: str, spec: object) -> PolicyLine:
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise _BadLine(f"spec: expected an object, got {type(spec).__name__}")
    line = PolicyLine(number, text, **_fields(spec, "spec."))
    if line.user == "*" or line.group == "*":  # rule 2
        line = replace(line, user="", group=ALL_AUTHENTICATED)
    return line


def _v0(number: int, text: str, obj: dict[str, Any]) -> PolicyLine:
    given = _fields(obj, "")
    user, group = given.get("user", ""), given.get("group", "")
    namespace, resource = given.get("namespace", ""), given.get("resource", "")
    if user == "*" or group == "*":
        user, group = "", ALL_AUTHENTICATED
    elif not user and not group:
        group = ALL_AUTHENTICATED
    return PolicyLine(
        number,
        text,
        user=user,
        group=group,
        readonly=given.get("readonly", False),
        api_group="*",
        resource=resource or "*",
        namespace=namespace or "*",
        non_resource_path="*" if not namespace and not resource else "",
    )


def parse_line(number: int, text: str, source: str = "") -> tuple[PolicyLine, bool]:
    """One non-blank, non-comment line → (policy, whether it was versioned).

    Raises:
        _BadLine: the reason the line cannot be read.
    """
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise _BadLine(f"invalid JSON: {exc.msg}") from exc
    if not isinstance(obj, dict):
        raise _BadLine("expected a JSON object")
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not api_version or not kind:
        if "spec" in obj:  # rule 6
            log.warning(
                "%s, line %d: has a spec but no apiVersion and kind, so it is an unversioned"
                " policy whose spec is ignored: it allows every authenticated user everything;"
                ' add "apiVersion": "%s/v1beta1", "kind": "Policy"',
                source,
                number,
                GROUP,
            )
        return _v0(number, text, obj), False
    if api_version not in API_VERSIONS or kind != KIND:
        raise _BadLine(f'no kind "{kind}" is registered for version "{api_version}"')
    if api_version.endswith("/v0"):
        return _v0(number, text, obj), True
    return _v1beta1(number, text, obj.get("spec")), True


def parse_policy_file(text: str, source: str) -> Policy:
    """Every policy of a file (rules 1-5).

    Raises:
        InputError: ``error reading policy file SOURCE, line N: LINE: REASON``.
    """
    lines: list[PolicyLine] = []
    unversioned = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            line, versioned = parse_line(number, stripped, source)
        except _BadLine as exc:
            raise InputError(
                f"error reading policy file {source}, line {number}: {raw}: {exc}"
            ) from None
        unversioned += not versioned
        lines.append(line)
    if unversioned:
        log.warning(
            "Policy file %s contained unversioned rules. See the ABAC mode documentation"
            " for the file format.",
            source,
        )
    return Policy(source, tuple(lines))
