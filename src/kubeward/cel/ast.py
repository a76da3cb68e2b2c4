"""The checked syntax tree of a compiled expression, read from its serialized form.

The library serializes a checked expression as a ``google.protobuf.Any`` holding a
``cel.expr.CheckedExpr``; this module decodes the few fields the cost estimator needs (the
expression tree and the overload each call resolved to) with a minimal protobuf wire reader,
so no generated protobuf classes are needed. Field numbers are those of
``cel/expr/checked.proto`` and ``cel/expr/syntax.proto``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from kubeward.errors import CELError


@dataclass
class Node:
    """One expression node: ``kind`` is const, ident, select, call, list, map or comprehension."""

    id: int = 0
    kind: str = ""
    name: str = ""  # ident name, select field, call function
    test_only: bool = False  # select: a has() test
    target: Node | None = None  # select operand, call receiver
    args: list[Node] = field(default_factory=list)  # call arguments, list elements, map values
    constant: object = None
    iter_var: str = ""
    accu_var: str = ""
    iter_range: Node | None = None
    accu_init: Node | None = None
    loop_condition: Node | None = None
    loop_step: Node | None = None
    result: Node | None = None


@dataclass
class CheckedExpression:
    root: Node
    overloads: dict[int, tuple[str, ...]]  # node id → resolved overload ids
    positions: dict[int, int] = field(default_factory=dict)  # node id → offset in the source


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise CELError("truncated checked expression")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value): int for varint/fixed, bytes for length-delimited."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: object
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value = data[pos : pos + 8]
            pos += 8
        elif wire == 2:
            size, pos = _varint(data, pos)
            value = data[pos : pos + size]
            pos += size
        elif wire == 5:
            value = data[pos : pos + 4]
            pos += 4
        else:
            raise CELError(f"unexpected wire type {wire}")
        yield number, wire, value


def _text(value: object) -> str:
    assert isinstance(value, bytes)
    return value.decode()


def _constant(data: bytes) -> object:
    for number, _, value in _fields(data):
        if number == 1:
            return None
        if number == 2:
            return bool(value)
        if number in (3, 4):
            assert isinstance(value, int)
            return value - (1 << 64) if number == 3 and value >= 1 << 63 else value
        if number == 5:
            assert isinstance(value, bytes)
            return struct.unpack("<d", value)[0]
        if number in (6, 7):
            assert isinstance(value, bytes)
            return value.decode(errors="replace") if number == 6 else value
    return None


def _node(data: bytes) -> Node:
    node = Node()
    for number, _, value in _fields(data):
        if number == 2:
            assert isinstance(value, int)
            node.id = value
            continue
        assert isinstance(value, bytes)
        if number == 3:
            node.kind, node.constant = "const", _constant(value)
        elif number == 4:
            node.kind = "ident"
            node.name = next((_text(v) for n, _, v in _fields(value) if n == 1), "")
        elif number == 5:
            node.kind = "select"
            for n, _, v in _fields(value):
                if n == 1:
                    node.target = _node(v)  # type: ignore[arg-type]
                elif n == 2:
                    node.name = _text(v)
                elif n == 3:
                    node.test_only = bool(v)
        elif number == 6:
            node.kind = "call"
            for n, _, v in _fields(value):
                if n == 1:
                    node.target = _node(v)  # type: ignore[arg-type]
                elif n == 2:
                    node.name = _text(v)
                elif n == 3:
                    node.args.append(_node(v))  # type: ignore[arg-type]
        elif number == 7:
            node.kind = "list"
            node.args = [_node(v) for n, _, v in _fields(value) if n == 1]  # type: ignore[arg-type]
        elif number == 8:
            node.kind = "map"
            for n, _, v in _fields(value):
                if n == 2:
                    for en, _, ev in _fields(v):  # type: ignore[arg-type]
                        if en in (3, 4):
                            node.args.append(_node(ev))  # type: ignore[arg-type]
        elif number == 9:
            node.kind = "comprehension"
            for n, _, v in _fields(value):
                if n == 1:
                    node.iter_var = _text(v)
                elif n == 3:
                    node.accu_var = _text(v)
                elif n in (2, 4, 5, 6, 7):
                    child = _node(v)  # type: ignore[arg-type]
                    slot = {
                        2: "iter_range",
                        4: "accu_init",
                        5: "loop_condition",
                        6: "loop_step",
                        7: "result",
                    }[n]
                    setattr(node, slot, child)
    return node


def decode(serialized: bytes) -> CheckedExpression:
    """The tree and resolved overloads of a serialized checked expression."""
    payload = serialized
    for number, _, value in _fields(serialized):
        if number == 2 and isinstance(value, bytes):
            payload = value
    root: Node | None = None
    overloads: dict[int, tuple[str, ...]] = {}
    positions: dict[int, int] = {}
    for number, _, value in _fields(payload):
        assert isinstance(value, bytes)
        if number == 4:
            root = _node(value)
        elif number == 5:
            for n, _, v in _fields(value):
                if n == 4 and isinstance(v, bytes):
                    entry = {en: ev for en, _, ev in _fields(v)}
                    key, offset = entry.get(1, 0), entry.get(2, 0)
                    if isinstance(key, int) and isinstance(offset, int):
                        positions[key] = offset
        elif number == 2:
            key, ids = 0, []
            for n, _, v in _fields(value):
                if n == 1 and isinstance(v, int):
                    key = v
                elif n == 2 and isinstance(v, bytes):
                    ids = [_text(rv) for rn, _, rv in _fields(v) if rn == 3]
            overloads[key] = tuple(ids)
    if root is None:
        raise CELError("checked expression without an expression")
    return CheckedExpression(root, overloads, positions)


def free_identifiers(node: Node | None, bound: frozenset[str] = frozenset()) -> set[str]:
    """The identifiers an expression reads that no comprehension binds (its variables)."""
    if node is None:
        return set()
    if node.kind == "ident":
        return set() if node.name in bound else {node.name}
    if node.kind == "comprehension":
        found = free_identifiers(node.iter_range, bound)
        inner = bound | {node.iter_var, node.accu_var}
        found |= free_identifiers(node.accu_init, bound | {node.iter_var})
        for part in (node.loop_condition, node.loop_step, node.result):
            found |= free_identifiers(part, inner)
        return found
    found = free_identifiers(node.target, bound)
    for arg in node.args:
        found |= free_identifiers(arg, bound)
    return found


@dataclass(frozen=True)
class Selection:
    """A field selection reached from a variable: ``self.spec.replicas`` is
    ``("self", ("spec", "replicas"))``; ``*`` stands for an element of a list or map."""

    variable: str
    path: tuple[str, ...]
    offset: int


def selections(checked: CheckedExpression) -> list[Selection]:
    """Every field selection whose operand is a variable or a place under one."""
    found: list[Selection] = []

    def walk(
        node: Node | None, scope: dict[str, tuple[str, tuple[str, ...]]]
    ) -> tuple[str, tuple[str, ...]] | None:
        if node is None:
            return None
        if node.kind == "ident":
            return scope.get(node.name, (node.name, ()))
        if node.kind == "select":
            base = walk(node.target, scope)
            if base is None:
                return None
            place = (base[0], (*base[1], node.name))
            found.append(Selection(place[0], place[1], checked.positions.get(node.id, 0)))
            return place
        if node.kind == "comprehension":
            over = walk(node.iter_range, scope)
            inner = dict(scope)
            if over is not None:
                inner[node.iter_var] = (over[0], (*over[1], "*"))
            inner.pop(node.accu_var, None)
            for part in (node.accu_init, node.loop_condition, node.loop_step, node.result):
                walk(part, inner)
            return None
        if node.target is not None:
            walk(node.target, scope)
        for arg in node.args:
            walk(arg, scope)
        return None

    walk(checked.root, {})
    return found
