"""Field paths and sets of them: what a field manager owns, and its ``fieldsV1`` encoding.

structured-merge-diff (sigs.k8s.io/structured-merge-diff, ``fieldpath``) names every field of
an object by a path of elements. The rules kubeward keeps:

 1. A path element is one of four: a struct or map field (``f:name``), a list item by its
    key fields (``k:{"name":"nginx"}``, keys sorted by name), a set item by its value
    (``v:"finalizer"``) or an atomic-list item by its index (``i:0``).
 2. A :class:`FieldSet` is a trie: its *members* are the paths that end here, its *children*
    the sets below each element. A path can be both a member and a prefix (a map that is owned
    itself and has owned entries); ``fieldsV1`` then writes ``".": {}`` inside the child.
 3. Elements sort fields first, then keys, values and indices, as upstream compares them, so
    the ``fieldsV1`` a client reads has upstream's order.
 4. A path prints as in upstream's conflict messages: ``.spec.replicas``,
    ``.spec.containers[name="nginx"].image``, ``.metadata.finalizers[="x"]``, ``.args[0]``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from kubeward.errors import BadRequest

# A path element: (kind, value) with kind "f" (field name), "k" (a tuple of (key, JSON)
# pairs sorted by key), "v" (the item's canonical JSON) or "i" (an index).
PathElement = tuple[str, Any]
Path = tuple[PathElement, ...]

_ORDER = {"f": 0, "k": 1, "v": 2, "i": 3}


def field(name: str) -> PathElement:
    return ("f", name)


def key(fields: Mapping[str, Any]) -> PathElement:
    return ("k", tuple(sorted((k, canonical(v)) for k, v in fields.items())))


def value(item: Any) -> PathElement:
    return ("v", canonical(item))


def index(i: int) -> PathElement:
    return ("i", i)


def canonical(item: Any) -> str:
    """The JSON text a value is compared and serialized by (keys sorted, no spaces)."""
    return orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode()


def _sort_key(pe: PathElement) -> tuple[int, Any]:
    kind, val = pe
    if kind == "k":
        return _ORDER[kind], (len(val), val)
    return _ORDER[kind], val


def element_text(pe: PathElement) -> str:
    """Rule 4's text of one element."""
    kind, val = pe
    if kind == "f":
        return "." + str(val)
    if kind == "k":
        return "[" + ",".join(f"{name}={text}" for name, text in val) + "]"
    if kind == "v":
        return f"[={val}]"
    return f"[{val}]"


def path_text(path: Path) -> str:
    return "".join(element_text(pe) for pe in path)


def _encode_element(pe: PathElement) -> str:
    kind, val = pe
    if kind == "f":
        return "f:" + str(val)
    if kind == "k":
        return "k:{" + ",".join(f"{orjson.dumps(name).decode()}:{text}" for name, text in val) + "}"
    if kind == "v":
        return "v:" + str(val)
    return f"i:{val}"


def _decode_element(text: str) -> PathElement:
    kind, sep, rest = text.partition(":")
    if not sep:
        raise BadRequest(f"unexpected path element {text!r}")
    try:
        if kind == "f":
            return ("f", rest)
        if kind == "k":
            fields = orjson.loads(rest)
            if isinstance(fields, dict):
                return key(fields)
        elif kind == "v":
            return value(orjson.loads(rest))
        elif kind == "i":
            return ("i", int(rest))
    except (orjson.JSONDecodeError, ValueError):
        pass
    raise BadRequest(f"unexpected path element {text!r}")


class FieldSet:
    """Rule 2's trie. Operations return new sets; a set is not changed once built and shared."""

    __slots__ = ("children", "members")

    def __init__(self) -> None:
        self.members: set[PathElement] = set()
        self.children: dict[PathElement, FieldSet] = {}

    @classmethod
    def of(cls, *paths: Path) -> FieldSet:
        out = cls()
        for path in paths:
            out.insert(path)
        return out

    # --- building (only while a set is being made) -----------------------------------------
    def insert(self, path: Path) -> None:
        if not path:
            return
        node = self
        for pe in path[:-1]:
            node = node.child(pe)
        node.members.add(path[-1])

    def child(self, pe: PathElement) -> FieldSet:
        found = self.children.get(pe)
        if found is None:
            found = self.children[pe] = FieldSet()
        return found

    # --- reading -----------------------------------------------------------------------------
    def empty(self) -> bool:
        return not self.members and all(c.empty() for c in self.children.values())

    def has(self, path: Path) -> bool:
        node: FieldSet | None = self
        for pe in path[:-1]:
            node = node.children.get(pe) if node is not None else None
            if node is None:
                return False
        return node is not None and bool(path) and path[-1] in node.members

    def with_prefix(self, pe: PathElement) -> FieldSet:
        return self.children.get(pe) or _EMPTY

    def paths(self, prefix: Path = ()) -> Iterator[Path]:
        """Every member path, in rule 3's order."""
        for pe in sorted(self.members | set(self.children), key=_sort_key):
            here = (*prefix, pe)
            if pe in self.members:
                yield here
            sub = self.children.get(pe)
            if sub is not None:
                yield from sub.paths(here)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return set(self.paths()) == set(other.paths())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "FieldSet(" + ", ".join(path_text(p) for p in self.paths()) + ")"

    # --- set algebra -------------------------------------------------------------------------
    def union(self, other: FieldSet) -> FieldSet:
        if other.empty():
            return self
        if self.empty():
            return other
        out = FieldSet()
        out.members = self.members | other.members
        for pe in set(self.children) | set(other.children):
            mine, theirs = self.children.get(pe), other.children.get(pe)
            merged = mine.union(theirs) if mine and theirs else (mine or theirs)
            if merged is not None and not merged.empty():
                out.children[pe] = merged
        return out

    def intersection(self, other: FieldSet) -> FieldSet:
        out = FieldSet()
        out.members = self.members & other.members
        for pe, mine in self.children.items():
            theirs = other.children.get(pe)
            if theirs is not None:
                both = mine.intersection(theirs)
                if not both.empty():
                    out.children[pe] = both
        return out

    def difference(self, other: FieldSet) -> FieldSet:
        """The paths of this set that are not in ``other`` (prefixes do not matter)."""
        if other.empty():
            return self
        out = FieldSet()
        out.members = self.members - other.members
        same = len(out.members) == len(self.members)
        for pe, mine in self.children.items():
            theirs = other.children.get(pe)
            rest = mine.difference(theirs) if theirs is not None else mine
            same = same and rest is mine
            if not rest.empty():
                out.children[pe] = rest
        return self if same else out  # nothing taken away: the same set, by identity

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """The paths of this set that neither are in ``other`` nor lie below one of its paths."""
        if other.empty():
            return self
        out = FieldSet()
        out.members = self.members - other.members
        for pe, mine in self.children.items():
            if pe in other.members:
                continue
            theirs = other.children.get(pe)
            rest = mine.recursive_difference(theirs) if theirs is not None else mine
            if not rest.empty():
                out.children[pe] = rest
        return out

    # --- fieldsV1 ----------------------------------------------------------------------------
    def to_fields_v1(self) -> dict[str, Any]:
        """The ``fieldsV1`` object (rule 2, rule 3)."""
        return self._emit(include_self=False)

    def _emit(self, include_self: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if include_self and (self.members or self.children):
            out["."] = {}
        elements = self.members | self.children.keys()
        if all(pe[0] == "f" for pe in elements):
            ordered = sorted(elements)  # ("f", name) tuples: by name, rule 3's order for fields
        else:
            ordered = sorted(elements, key=_sort_key)
        children = self.children
        for pe in ordered:
            sub = children.get(pe)
            text = "f:" + pe[1] if pe[0] == "f" else _encode_element(pe)
            if sub is None or sub.empty():
                out[text] = {}
            else:
                out[text] = sub._emit(include_self=pe in self.members)
        return out

    @classmethod
    def from_fields_v1(cls, fields: Any) -> FieldSet:
        """Decode ``fieldsV1``; 400 BadRequest when it is not one."""
        out = cls()
        if not isinstance(fields, dict):
            raise BadRequest("fieldsV1 must be an object")
        for text, sub in fields.items():
            if text == ".":
                continue
            pe = _decode_element(text)
            if not isinstance(sub, dict):
                raise BadRequest("fieldsV1 must be an object")
            if not sub or "." in sub:
                out.members.add(pe)
            if any(k != "." for k in sub):
                out.children[pe] = cls.from_fields_v1(sub)
        return out


_EMPTY = FieldSet()
