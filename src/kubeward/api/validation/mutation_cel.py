"""The CEL of MutatingAdmissionPolicy mutations: ``Object{...}`` and ``JSONPatch{...}`` literals.

Upstream (``k8s.io/apiserver/pkg/cel/mutation`` of 1.32) lets a mutation build typed values:
``Object{spec: Object.spec{replicas: 3}}`` for ``ApplyConfiguration`` and
``JSONPatch{op: "add", path: "/x", value: 1}`` for ``JSONPatch``. ``JSONPatch`` is a fixed type
(``op``, ``path``, ``from`` strings and a ``value``): the policy environment declares it as a
protobuf message (``policy_cel``), so cel-cpp type-checks it as cel-go does. The ``Object``
types are dynamic (any field name under ``Object.…``; no schema is consulted), which no
protobuf descriptor can declare, so, rules:

 1. Before compiling, each literal whose type name is ``Object`` (optionally qualified:
    ``Object.spec.template``) is rewritten to a map literal with the same entries, its field
    names quoted, plus the entry ``"@type": "<type name>"`` (:data:`TYPE_KEY`), so that the
    value keeps its type name. Strings and comments are left alone; ``?field`` (optional
    entries) stay optional. Error positions are those of the rewritten text.
 2. After evaluating, :func:`object_value` checks that every nested ``Object`` literal's type
    name is its field path from the root (``Object.spec{selector: Object.spec.wrong{}}`` is
    ``type mismatch: ...``, upstream's ``CheckTypeNamesMatchFieldPathNames``) and drops the
    type entries; :func:`patch_operations` turns a ``JSONPatch`` expression's value into RFC
    6902 operations.
 3. A ``JSONPatch`` expression must evaluate to ``list(JSONPatch)``, an ``ApplyConfiguration``
    one to an ``Object`` (a map, when compiled): another type is refused when the policy is
    written (``must evaluate to list(JSONPatch) but got T``), as upstream's compiler refuses it.
    A ``dyn`` result is checked when evaluated.
 4. A ``JSONPatch`` value is JSON (protobuf's ``Value``): its numbers come back as doubles and
    are made integers again when whole, as Go's JSON encoding of them reads back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeward.api.validation.policy_cel import COMPILER, Compiled

TYPE_KEY = "@type"
OBJECT = "Object"
JSONPATCH = "JSONPatch"
_ROOTS = (OBJECT,)
_OPEN = "([{"
_CLOSE = ")]}"


class MutationError(Exception):
    """A mutation's value is not what its patch type needs (rules 2 and 4)."""


def _string_end(source: str, start: int) -> int:
    """The index after the string literal starting at ``start`` (at its quote)."""
    quote = source[start]
    raw = (start > 0 and source[start - 1] in "rR") or (
        start > 1 and source[start - 1] in "bB" and source[start - 2] in "rR"
    )
    triple = source.startswith(quote * 3, start)
    closing = quote * 3 if triple else quote
    i = start + len(closing)
    while i < len(source):
        if not raw and source[i] == "\\":
            i += 2
            continue
        if source.startswith(closing, i):
            return i + len(closing)
        if not triple and source[i] == "\n":
            return i
        i += 1
    return len(source)


def _tokens(source: str) -> list[tuple[str, int, int]]:
    """(kind, start, end): ``s`` string, ``i`` identifier, ``w`` space or comment, ``p`` other."""
    out: list[tuple[str, int, int]] = []
    i = 0
    while i < len(source):
        c = source[i]
        if c in "'\"":
            end = _string_end(source, i)
            out.append(("s", i, end))
        elif source.startswith("//", i):
            end = source.find("\n", i)
            end = len(source) if end < 0 else end
            out.append(("w", i, end))
        elif c.isspace():
            end = i + 1
            while end < len(source) and source[end].isspace():
                end += 1
            out.append(("w", i, end))
        elif c.isalpha() or c == "_":
            end = i + 1
            while end < len(source) and (source[end].isalnum() or source[end] == "_"):
                end += 1
            out.append(("i", i, end))
        elif c.isdigit():
            end = i + 1
            while end < len(source) and (source[end].isalnum() or source[end] in "._"):
                end += 1
            out.append(("p", i, end))
        else:
            out.append(("p", i, i + 1))
            end = i + 1
        i = end
    return out


def rewrite(source: str) -> str:
    """Rule 1: ``source`` with its ``Object``/``JSONPatch`` literals as map literals."""
    tokens = _tokens(source)
    significant = [n for n, t in enumerate(tokens) if t[0] != "w"]
    position = {n: k for k, n in enumerate(significant)}

    def text(n: int) -> str:
        return source[tokens[n][1] : tokens[n][2]]

    def previous(n: int) -> str:
        k = position[n]
        return text(significant[k - 1]) if k > 0 else ""

    def literal_at(n: int) -> tuple[str, int] | None:
        """The type name and the token index of ``{`` when a typed literal starts at ``n``."""
        if tokens[n][0] != "i" or text(n) not in _ROOTS or previous(n) == ".":
            return None
        name = [text(n)]
        k = position[n] + 1
        while k + 1 < len(significant) and text(significant[k]) == ".":
            following = significant[k + 1]
            if tokens[following][0] != "i":
                return None
            name.append(text(following))
            k += 2
        if k < len(significant) and text(significant[k]) == "{":
            return ".".join(name), significant[k]
        return None

    out: list[str] = []
    stack: list[list[bool]] = []  # per open bracket: [is a typed literal, expecting a field]
    n = 0
    while n < len(tokens):
        kind, start, end = tokens[n]
        found = literal_at(n) if kind == "i" else None
        if found is not None:
            name, brace = found
            k = position[brace] + 1
            empty = k < len(significant) and text(significant[k]) == "}"
            out.append(f'{{"{TYPE_KEY}": "{name}"' + ("" if empty else ", "))
            stack.append([True, True])
            n = brace + 1
            continue
        chunk = source[start:end]
        top = stack[-1] if stack else None
        if top is not None and top[0] and top[1] and kind != "w" and chunk != "?":
            top[1] = False
            if kind == "i":
                chunk = f'"{chunk}"'
        if chunk in _OPEN and kind == "p":
            stack.append([False, False])
        elif chunk in _CLOSE and kind == "p" and stack:
            stack.pop()
        elif chunk == "," and top is not None and top[0]:
            top[1] = True
        out.append(chunk)
        n += 1
    return "".join(out)


_LIST = ("list",)
_MAP = ("map",)


def compile_mutation(source: str, patch_type: str) -> Compiled:
    """Rules 1 and 3: the mutation's expression, compiled in the policy environment."""
    compiled = COMPILER.compile(rewrite(source), ("dyn",))
    program = compiled.program
    if program is None:
        return compiled
    got = program.result_type
    if patch_type == "JSONPatch":
        ok = got in ("dyn", "list<dyn>", "list<jsonpatch>")
        wanted = "list(JSONPatch)"
    else:
        ok, wanted = got == "dyn" or got.startswith("map"), OBJECT
    if ok:
        return compiled
    shown = got.replace("<", "(").replace(">", ")")  # cel-go's spelling of the type
    return Compiled(None, f"must evaluate to {wanted} but got {shown}")


def _whole(value: Any) -> Any:
    """Rule 4: whole doubles as integers."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, list):
        return [_whole(item) for item in value]
    if isinstance(value, dict):
        return {key: _whole(item) for key, item in value.items()}
    return value


def _strip(value: Any, expected: str | None) -> Any:
    """Rule 2 under a field whose typed literals must be named ``expected`` (None: any)."""
    if isinstance(value, list):
        return [_strip(item, expected) for item in value]
    if not isinstance(value, Mapping):
        return value
    name = value.get(TYPE_KEY)
    if not isinstance(name, str):
        return {k: _strip(v, None) for k, v in value.items()}
    if expected is not None and name != expected:
        raise MutationError(
            f'type mismatch: unexpected type name "{name}", expected "{expected}", which '
            "matches field name path from root Object type"
        )
    return {k: _strip(v, f"{name}.{k}") for k, v in value.items() if k != TYPE_KEY}


def object_value(value: Any) -> dict[str, Any]:
    """Rule 2: an ``ApplyConfiguration`` expression's value as a plain object.

    Raises:
        MutationError: not an ``Object``, or a nested literal of the wrong type name.
    """
    if not isinstance(value, Mapping) or value.get(TYPE_KEY) != OBJECT:
        shown = value.get(TYPE_KEY, "map") if isinstance(value, Mapping) else type(value).__name__
        raise MutationError(f"unsupported return type from ApplyConfiguration expression: {shown}")
    plain = _strip(value, OBJECT)
    assert isinstance(plain, dict)
    return plain


def patch_operations(value: Any) -> list[dict[str, Any]]:
    """Rules 2 and 4: a ``JSONPatch`` expression's value as RFC 6902 operations.

    Raises:
        MutationError: not a list of ``JSONPatch`` values.
    """
    if not isinstance(value, list):
        raise MutationError("type mismatch: JSONPatchType.expression should evaluate to array")
    operations: list[dict[str, Any]] = []
    for item in value:
        if not isinstance(item, Mapping) or item.get(TYPE_KEY) != JSONPATCH:
            raise MutationError(
                "type mismatch: JSONPatchType.expression should evaluate to array of JSONPatch"
            )
        operation: dict[str, Any] = {
            "op": str(item.get("op", "")),
            "path": str(item.get("path", "")),
        }
        if item.get("from"):
            operation["from"] = str(item["from"])
        if "value" in item:
            operation["value"] = _whole(_strip(item["value"], None))
        operations.append(operation)
    return operations
