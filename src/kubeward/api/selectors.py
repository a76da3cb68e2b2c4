"""Label and field selectors, as ``k8s.io/apimachinery/pkg/labels`` and ``fields`` define them.

Two ways to write a label selector reach the server:

* the string form of ``?labelSelector=`` (``app=web,tier!=db,env in (a,b),!legacy``), and
* the structured ``LabelSelector`` of object specs (``matchLabels`` and ``matchExpressions``
  with ``In``, ``NotIn``, ``Exists``, ``DoesNotExist``).

Both compile to one :class:`LabelSelector`, a conjunction of :class:`Requirement`. Semantics:

 1. An empty selector matches everything.
 2. ``!=`` and ``notin`` also match objects that do not have the key at all.
 3. ``gt``/``lt`` (``key>3``) match only integer values.

Field selectors are a conjunction of ``field=value``, ``field==value`` and ``field!=value``;
``\\,``, ``\\=`` and ``\\\\`` escape the separators.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubeward.errors import BadRequest

IN = "in"
NOT_IN = "notin"
EXISTS = "exists"
DOES_NOT_EXIST = "!"
EQUALS = "="
NOT_EQUALS = "!="
GREATER_THAN = "gt"
LESS_THAN = "lt"

_OPERATOR_NAMES = {
    "In": IN,
    "NotIn": NOT_IN,
    "Exists": EXISTS,
    "DoesNotExist": DOES_NOT_EXIST,
}


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == EXISTS:
            return present
        if self.operator == DOES_NOT_EXIST:
            return not present
        if self.operator in (IN, EQUALS):
            return present and labels[self.key] in self.values
        if self.operator in (NOT_IN, NOT_EQUALS):
            return not present or labels[self.key] not in self.values
        if self.operator in (GREATER_THAN, LESS_THAN):
            if not present:
                return False
            try:
                have = int(labels[self.key])
            except ValueError:
                return False
            want = int(next(iter(self.values)))
            return have > want if self.operator == GREATER_THAN else have < want
        return False

    def __str__(self) -> str:
        if self.operator == EXISTS:
            return self.key
        if self.operator == DOES_NOT_EXIST:
            return f"!{self.key}"
        values = sorted(self.values)
        if self.operator == EQUALS:
            return f"{self.key}={values[0]}"
        if self.operator == NOT_EQUALS:
            return f"{self.key}!={values[0]}"
        if self.operator == GREATER_THAN:
            return f"{self.key}>{values[0]}"
        if self.operator == LESS_THAN:
            return f"{self.key}<{values[0]}"
        return f"{self.key} {self.operator} ({','.join(values)})"


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of requirements. ``LabelSelector(())`` matches everything."""

    requirements: tuple[Requirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        have = labels or {}
        return all(r.matches(have) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    @classmethod
    def from_dict(cls, selector: Mapping[str, Any] | None) -> LabelSelector:
        """Compile a structured ``metav1.LabelSelector`` (assumed validated).

        Raises:
            BadRequest: an unknown operator, or values where none are allowed.
        """
        if not selector:
            return cls(())
        reqs: list[Requirement] = []
        for key, value in sorted((selector.get("matchLabels") or {}).items()):
            reqs.append(Requirement(str(key), EQUALS, frozenset({str(value)})))
        for expr in selector.get("matchExpressions") or []:
            op_name = expr.get("operator", "")
            op = _OPERATOR_NAMES.get(op_name)
            if op is None:
                raise BadRequest(f'"{op_name}" is not a valid label selector operator')
            values = frozenset(str(v) for v in expr.get("values") or [])
            if op in (IN, NOT_IN) and not values:
                raise BadRequest(f"for '{op_name}' operator, values set can't be empty")
            if op in (EXISTS, DOES_NOT_EXIST) and values:
                raise BadRequest(f"values set must be empty for {op_name}")
            reqs.append(Requirement(str(expr.get("key", "")), op, values))
        return cls(tuple(reqs))


EVERYTHING = LabelSelector(())

_TOKEN = re.compile(r"\s*(!=|==|=|!|\(|\)|,|>|<|[^\s!=(),<>]+)")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos:].strip() == "":
                break
            raise BadRequest(f"unable to parse requirement: {text!r}")
        out.append(match.group(1))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def parse_label_selector(text: str) -> LabelSelector:
    """Parse the ``?labelSelector=`` string form.

    Raises:
        BadRequest: the selector does not parse (400, as Kubernetes answers).
    """
    tokens = _tokens(text)
    reqs: list[Requirement] = []
    i = 0

    def fail(why: str) -> BadRequest:
        return BadRequest(f"unable to parse requirement: {why}")

    while i < len(tokens):
        tok = tokens[i]
        if tok == "!":
            if i + 1 >= len(tokens):
                raise fail("found '', expected: identifier after '!'")
            reqs.append(Requirement(tokens[i + 1], DOES_NOT_EXIST))
            i += 2
        else:
            if tok in {",", "(", ")", "=", "==", "!=", ">", "<"}:
                raise fail(f"found '{tok}', expected: !, identifier, or 'end of string'")
            key = tok
            i += 1
            if i >= len(tokens) or tokens[i] == ",":
                reqs.append(Requirement(key, EXISTS))
            else:
                op = tokens[i]
                i += 1
                if op in ("=", "==", "!=", ">", "<"):
                    value = ""
                    if i < len(tokens) and tokens[i] not in {",", "(", ")"}:
                        value = tokens[i]
                        i += 1
                    if op in (">", "<"):
                        try:
                            int(value)
                        except ValueError:
                            raise fail(
                                f"for 'Gt', 'Lt' operators, the value must be an integer: {value!r}"
                            ) from None
                    mapped = {
                        "=": EQUALS,
                        "==": EQUALS,
                        "!=": NOT_EQUALS,
                        ">": GREATER_THAN,
                        "<": LESS_THAN,
                    }[op]
                    reqs.append(Requirement(key, mapped, frozenset({value})))
                elif op in (IN, NOT_IN):
                    if i >= len(tokens) or tokens[i] != "(":
                        raise fail("found '', expected: '('")
                    i += 1
                    values: set[str] = set()
                    while i < len(tokens) and tokens[i] != ")":
                        if tokens[i] != ",":
                            values.add(tokens[i])
                        i += 1
                    if i >= len(tokens):
                        raise fail("found '', expected: ')'")
                    i += 1
                    if op == IN and not values:
                        raise fail("for 'in', 'notin' operators, values set can't be empty")
                    reqs.append(Requirement(key, op, frozenset(values)))
                else:
                    raise fail(f"found '{op}', expected: in, notin, =, ==, !=, gt, lt")
        if i < len(tokens):
            if tokens[i] != ",":
                raise fail(f"found '{tokens[i]}', expected: ',' or 'end of string'")
            i += 1
    return LabelSelector(tuple(reqs))


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    operator: str  # EQUALS or NOT_EQUALS
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        have = fields.get(self.field)
        if self.operator == EQUALS:
            return have == self.value
        return have != self.value


@dataclass(frozen=True)
class FieldSelector:
    requirements: tuple[FieldRequirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(r.matches(fields) for r in self.requirements)

    def exact_value(self, field_name: str) -> str | None:
        """The value ``field_name`` must equal, if the selector pins it (``metadata.name=x``)."""
        for r in self.requirements:
            if r.field == field_name and r.operator == EQUALS:
                return r.value
        return None


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            current.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            if text[i + 1] not in "\\,=":
                raise BadRequest(
                    f"invalid field selector: invalid escape sequence: \\{text[i + 1]}"
                )
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def parse_field_selector(text: str) -> FieldSelector:
    """Parse ``?fieldSelector=``.

    Raises:
        BadRequest: a term without an operator.
    """
    reqs: list[FieldRequirement] = []
    if not text.strip():
        return FieldSelector(())
    for term in _split_unescaped(text, ","):
        if not term:
            continue
        for op_text, op in (("!=", NOT_EQUALS), ("==", EQUALS), ("=", EQUALS)):
            idx = _find_unescaped(term, op_text)
            if idx >= 0:
                reqs.append(
                    FieldRequirement(
                        _unescape(term[:idx]), op, _unescape(term[idx + len(op_text) :])
                    )
                )
                break
        else:
            raise BadRequest(f"invalid selector: '{text}'; can't understand '{term}'")
    return FieldSelector(tuple(reqs))


def _find_unescaped(term: str, op: str) -> int:
    i = 0
    while i < len(term):
        if term[i] == "\\":
            i += 2
            continue
        if term.startswith(op, i):
            return i
        i += 1
    return -1
