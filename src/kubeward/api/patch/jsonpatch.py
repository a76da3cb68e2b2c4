"""JSON Patch (RFC 6902): ``kubectl patch --type=json`` (``application/json-patch+json``).

Rules, as Kubernetes applies them (``apiserver/pkg/endpoints/handlers/patch.go`` with
``evanphx/json-patch`` v4):
 1. The body must be a JSON array of operation objects whose ``op``, ``path`` and ``from`` are
    strings; otherwise 400 ``error decoding patch: ...``.
 2. More than 10,000 operations is 413 RequestEntityTooLarge.
 3. Operations apply in order to a copy of the object; the input is never mutated.
 4. A failing operation (a ``test`` that does not hold, a path that does not exist, an index
    out of range, an unknown ``op``, a missing field) fails the whole patch with Kubernetes'
    422: reason Invalid, message ``the server rejected our request due to an error in our
    request`` and empty details. The specific reason is the exception's ``__cause__``
    (:class:`JSONPatchError`), for logs.
 5. Paths are JSON pointers (RFC 6901, ``~1`` is ``/`` and ``~0`` is ``~``). Array indices may
    be negative, counting from the end, and ``-`` appends, as in evanphx/json-patch.
 6. ``test`` compares JSON values; ``null`` matches a missing member.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Final

from kubeward.api.patch.document import json_equal, parse_json
from kubeward.errors import (
    BadRequest,
    Invalid,
    JSONPatchError,
    RequestEntityTooLarge,
    StatusDetails,
)

MAX_OPERATIONS: Final = 10_000
_GENERIC_422: Final = "the server rejected our request due to an error in our request"
_INDEX: Final = re.compile(r"-?[0-9]+")
_MISSING: Final = object()


def apply_json_patch(document: dict[str, Any], patch_bytes: bytes) -> Any:
    """Apply an RFC 6902 patch to a copy of ``document`` and return the result.

    The result is whatever the operations leave; the caller checks it is still an object.

    Raises:
        BadRequest: the patch is not an array of operations.
        RequestEntityTooLarge: more than 10,000 operations.
        Invalid: an operation failed (422, as Kubernetes answers).
    """
    operations = _read_operations(parse_json(patch_bytes))
    result: Any = copy.deepcopy(document)
    for number, operation in enumerate(operations):
        try:
            result = _apply(result, operation)
        except JSONPatchError as exc:
            reason = JSONPatchError(f"operation {number} ({operation.get('op')}): {exc}")
            raise Invalid(_GENERIC_422, StatusDetails()) from reason
    return result


def _read_operations(patch: Any) -> list[dict[str, Any]]:
    if not isinstance(patch, list):
        raise BadRequest("error decoding patch: a JSON patch must be an array of operations")
    if len(patch) > MAX_OPERATIONS:
        raise RequestEntityTooLarge(
            "Request entity too large: The allowed maximum operations in a JSON patch is "
            f"{MAX_OPERATIONS}, got {len(patch)}"
        )
    for number, operation in enumerate(patch):
        if not isinstance(operation, dict):
            raise BadRequest(f"error decoding patch: operation {number} is not an object")
        for name in ("op", "path", "from"):
            if name in operation and not isinstance(operation[name], str):
                raise BadRequest(
                    f'error decoding patch: operation {number}: "{name}" must be a string'
                )
    return patch


def _apply(document: Any, operation: dict[str, Any]) -> Any:
    kind = operation.get("op")
    if kind == "add":
        return _add(document, _path(operation, "path"), _value(operation))
    if kind == "remove":
        _remove(document, _path(operation, "path"))
        return document
    if kind == "replace":
        return _replace(document, _path(operation, "path"), _value(operation))
    if kind == "move":
        source, target = _path(operation, "from"), _path(operation, "path")
        if target[: len(source)] == source and len(target) > len(source):
            raise JSONPatchError("cannot move a value into one of its own children")
        value = _get(document, source)
        _remove(document, source)
        return _add(document, target, value)
    if kind == "copy":
        value = copy.deepcopy(_get(document, _path(operation, "from")))
        return _add(document, _path(operation, "path"), value)
    if kind == "test":
        _test(document, _path(operation, "path"), operation.get("value"))
        return document
    raise JSONPatchError(f"Unexpected kind: {kind if kind is not None else 'unknown'}")


def _path(operation: dict[str, Any], name: str) -> list[str]:
    pointer = operation.get(name)
    if pointer is None:
        raise JSONPatchError(f"operation missing {name} field")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise JSONPatchError(f'path "{pointer}" is not a JSON pointer (it must start with "/")')
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def _value(operation: dict[str, Any]) -> Any:
    if "value" not in operation:
        raise JSONPatchError("operation missing value field")
    return copy.deepcopy(operation["value"])


def _show(tokens: list[str]) -> str:
    return "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in tokens)


def _index(array: list[Any], token: str, *, inserting: bool, tokens: list[str]) -> int:
    if not _INDEX.fullmatch(token):
        raise JSONPatchError(f"value was not a proper array index: '{token}' in {_show(tokens)}")
    index = int(token)
    size = len(array) + 1 if inserting else len(array)
    if index < 0:
        index += size
    if not 0 <= index < size:
        raise JSONPatchError(f"Unable to access invalid index: {token} in {_show(tokens)}")
    return index


def _get(document: Any, tokens: list[str]) -> Any:
    node = document
    for depth, token in enumerate(tokens):
        node = _child(node, token, tokens[: depth + 1])
        if node is _MISSING:
            raise JSONPatchError(f"doc is missing path: {_show(tokens)}")
    return node


def _child(node: Any, token: str, tokens: list[str]) -> Any:
    if isinstance(node, dict):
        return node.get(token, _MISSING)
    if isinstance(node, list):
        return node[_index(node, token, inserting=False, tokens=tokens)]
    return _MISSING


def _parent(document: Any, tokens: list[str]) -> Any:
    parent = _get(document, tokens[:-1])
    if not isinstance(parent, dict | list):
        raise JSONPatchError(f"doc is missing path: {_show(tokens)}")
    return parent


def _add(document: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent, last = _parent(document, tokens), tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif last == "-":
        parent.append(value)
    else:
        parent.insert(_index(parent, last, inserting=True, tokens=tokens), value)
    return document


def _remove(document: Any, tokens: list[str]) -> None:
    if not tokens:
        raise JSONPatchError("cannot remove the whole document")
    parent, last = _parent(document, tokens), tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise JSONPatchError(f"Unable to remove nonexistent key: {last}")
        del parent[last]
    else:
        del parent[_index(parent, last, inserting=False, tokens=tokens)]


def _replace(document: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent, last = _parent(document, tokens), tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise JSONPatchError(f"replace operation does not apply: doc is missing key: {last}")
        parent[last] = value
    else:
        parent[_index(parent, last, inserting=False, tokens=tokens)] = value
    return document


def _test(document: Any, tokens: list[str], expected: Any) -> None:
    if tokens:
        parent = _parent(document, tokens)
        actual = _child(parent, tokens[-1], tokens)
    else:
        actual = document
    if actual is _MISSING or actual is None:
        if expected is None:
            return
    elif json_equal(actual, expected):
        return
    raise JSONPatchError(f"testing value {_show(tokens)} failed")
