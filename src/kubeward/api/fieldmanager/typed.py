"""Objects walked with their shape: field sets, comparison, merge and removal.

The four walks structured-merge-diff's ``typed`` package makes, over plain JSON values and a
:class:`~kubeward.api.fieldmanager.schema.Type`:

 1. :func:`to_field_set` — the fields an applied configuration sets: every scalar, every
    atomic map or list (whole), every list item, every entry of a map that is not a declared
    struct field, every empty or null map. A struct field holding a non-empty struct is not a
    member itself (only its leaves are).
 2. :func:`compare` — what changed from one object to another: added, modified and removed
    paths. A path that appears (or disappears) is added (removed) itself, whatever it holds;
    so a new map is owned with its entries (``".": {}`` in ``fieldsV1``).
 3. :func:`merge` — an applied configuration over the live object: the configuration wins on
    every leaf it sets; maps merge by key, granular lists by item key (or value), keeping the
    configuration's order and the live items it does not mention where they were.
 4. :func:`remove_items` — the object without the given paths (an owned list item or map
    entry goes whole; a path below one removes only that part).

Two lists or maps that are both empty (or null) compare as leaves, as upstream's walkers do,
so that ``[]``, ``{}`` and ``null`` stay distinct.
"""

from __future__ import annotations

from typing import Any, Final

from kubeward.api.fieldmanager.fieldpath import FieldSet, Path, PathElement, field, key
from kubeward.api.fieldmanager.fieldpath import value as value_element
from kubeward.api.fieldmanager.schema import LIST, MAP, SCALAR, UNTYPED, Type
from kubeward.errors import BadRequest


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()


def _is_map(t: Type, v: Any) -> bool:
    return isinstance(v, dict) and (t.kind in (MAP, UNTYPED))


def _is_list(t: Type, v: Any) -> bool:
    return isinstance(v, list) and t.kind == LIST


def _granular_list(t: Type) -> bool:
    return t.kind == LIST and t.list_type in ("set", "map")


def item_element(t: Type, item: Any, position: int) -> PathElement:
    """The path element of a granular list's item (rule 1 of ``fieldpath``)."""
    if t.list_type == "set":
        return value_element(item)
    if not isinstance(item, dict):
        raise BadRequest(f"element {position}: associative list with keys has a non-object item")
    fields = {k: item[k] for k in t.keys if k in item}
    if len(fields) < len(t.keys):
        for name, default in t.key_defaults.items():
            fields.setdefault(name, default)
    if not fields:
        raise BadRequest(
            f'element {position}: associative list with keys has an element that omits key field "{t.keys[0]}"'
        )
    return key(fields)


def _index_items(t: Type, items: list[Any]) -> dict[PathElement, Any]:
    out: dict[PathElement, Any] = {}
    for i, item in enumerate(items):
        out[item_element(t, item, i)] = item
    return out


# --- rule 1 ---------------------------------------------------------------------------------
def to_field_set(obj: Any, t: Type) -> FieldSet:
    out = FieldSet()
    _collect(obj, t, (), out)
    return out


def _collect(v: Any, t: Type, path: Path, out: FieldSet) -> None:
    if _is_map(t, v):
        if t.atomic:
            out.insert(path)
            return
        for name, child in v.items():
            ct = t.field_type(name)
            here = (*path, field(name))
            _collect(child, ct, here, out)
            if child is None or (isinstance(child, dict) and not child) or not t.has_field(name):
                out.insert(here)
        return
    if _is_list(t, v) and _granular_list(t):
        element = t.element_type()
        for i, item in enumerate(v):
            here = (*path, item_element(t, item, i))
            _collect(item, element, here, out)
            out.insert(here)
        return
    out.insert(path)


# --- rule 2 ---------------------------------------------------------------------------------
class Comparison:
    __slots__ = ("added", "modified", "removed")

    def __init__(self) -> None:
        self.added = FieldSet()
        self.modified = FieldSet()
        self.removed = FieldSet()

    def changed(self) -> FieldSet:
        return self.modified.union(self.added)

    def exclude(self, ignored: FieldSet) -> Comparison:
        out = Comparison()
        out.added = self.added.recursive_difference(ignored)
        out.modified = self.modified.recursive_difference(ignored)
        out.removed = self.removed.recursive_difference(ignored)
        return out


def compare(lhs: Any, rhs: Any, t: Type) -> Comparison:
    out = Comparison()
    _compare(lhs, rhs, t, (), out)
    return out


def _empty(v: Any) -> bool:
    return v is ABSENT or v is None or (isinstance(v, (dict, list)) and not v)


def _compare(lhs: Any, rhs: Any, t: Type, path: Path, out: Comparison) -> None:
    both_maps = (lhs is ABSENT or _is_map(t, lhs)) and (rhs is ABSENT or _is_map(t, rhs))
    both_lists = (lhs is ABSENT or _is_list(t, lhs)) and (rhs is ABSENT or _is_list(t, rhs))
    granular = (both_maps and t.kind in (MAP, UNTYPED) and not t.atomic) or (
        both_lists and _granular_list(t)
    )
    if not granular or (_empty(lhs) and _empty(rhs)):
        if lhs is ABSENT:
            out.added.insert(path)
        elif rhs is ABSENT:
            out.removed.insert(path)
        elif lhs != rhs:
            out.modified.insert(path)
        return
    if both_maps:
        left: dict[str, Any] = lhs if isinstance(lhs, dict) else {}
        right: dict[str, Any] = rhs if isinstance(rhs, dict) else {}
        for name in left.keys() | right.keys():
            _compare(
                left.get(name, ABSENT),
                right.get(name, ABSENT),
                t.field_type(name),
                (*path, field(name)),
                out,
            )
    else:
        element = t.element_type()
        litems = _index_items(t, lhs) if isinstance(lhs, list) else {}
        ritems = _index_items(t, rhs) if isinstance(rhs, list) else {}
        for pe in litems.keys() | ritems.keys():
            _compare(litems.get(pe, ABSENT), ritems.get(pe, ABSENT), element, (*path, pe), out)
    if lhs is ABSENT:
        out.added.insert(path)
    elif rhs is ABSENT:
        out.removed.insert(path)


def created_fields(obj: dict[str, Any], t: Type, *, zero_structs: bool) -> FieldSet:
    """``compare(zero, obj).changed()`` for a new object, in one pass (the create path's cost).

    ``zero`` is ``{}``, or with ``zero_structs`` the Go zero value of a built-in kind: every
    struct field ``obj`` sets is there, empty, so it is not added itself.
    """
    out = FieldSet()
    _created_struct(obj, t, out, zero_structs)
    return out


def _created_struct(obj: dict[str, Any], t: Type, node: FieldSet, zero_structs: bool) -> None:
    for name, child in obj.items():
        ct = t.field_type(name)
        pe = field(name)
        if zero_structs and isinstance(child, dict) and ct.is_struct() and t.has_field(name):
            if child and ct.atomic:
                node.members.add(pe)  # an atomic struct that was empty: modified whole
            elif child:
                sub = node.child(pe)
                _created_struct(child, ct, sub, zero_structs)
                if sub.empty():
                    del node.children[pe]
            continue
        _created(child, ct, node, pe)


def _created(v: Any, t: Type, parent: FieldSet, pe: PathElement) -> None:
    parent.members.add(pe)
    if not v:
        return
    if isinstance(v, dict) and t.kind in (MAP, UNTYPED) and not t.atomic:
        sub = parent.child(pe)
        if t.kind == MAP and t.element_type().kind == SCALAR and not t.is_struct():
            sub.members.update(field(name) for name in v)  # labels, data: the common map
            return
        for name, child in v.items():
            _created(child, t.field_type(name), sub, field(name))
    elif isinstance(v, list) and _granular_list(t):
        sub = parent.child(pe)
        element = t.element_type()
        for i, item in enumerate(v):
            _created(item, element, sub, item_element(t, item, i))


# --- rule 3 ---------------------------------------------------------------------------------
def merge(lhs: Any, rhs: Any, t: Type) -> Any:
    """``rhs`` (an applied configuration) over ``lhs`` (the live object); ABSENT for neither."""
    if rhs is ABSENT:
        return lhs
    if lhs is ABSENT or (_empty(lhs) and _empty(rhs)):
        return rhs
    if _is_map(t, lhs) and _is_map(t, rhs) and not t.atomic:
        out = dict(lhs)
        for name, child in rhs.items():
            out[name] = merge(lhs.get(name, ABSENT), child, t.field_type(name))
        return out
    if _is_list(t, lhs) and _is_list(t, rhs) and _granular_list(t):
        return _merge_list(lhs, rhs, t)
    return rhs


def _merge_list(lhs: list[Any], rhs: list[Any], t: Type) -> list[Any]:
    element = t.element_type()
    right = _index_items(t, rhs)
    left_pes = [item_element(t, item, i) for i, item in enumerate(lhs)]
    left = dict(zip(left_pes, lhs, strict=True))
    right_order = list(right)
    out: list[Any] = []
    emitted: set[PathElement] = set()
    cursor = 0
    for pe, item in zip(left_pes, lhs, strict=True):
        if pe not in right:
            if pe not in emitted:
                out.append(item)
                emitted.add(pe)
            continue
        # A shared item: the configuration's items up to it come first, in its order.
        while cursor < len(right_order):
            rpe = right_order[cursor]
            cursor += 1
            if rpe not in emitted:
                out.append(merge(left.get(rpe, ABSENT), right[rpe], element))
                emitted.add(rpe)
            if rpe == pe:
                break
    for rpe in right_order[cursor:]:
        if rpe not in emitted:
            out.append(merge(left.get(rpe, ABSENT), right[rpe], element))
            emitted.add(rpe)
    return out


# --- rule 4 ---------------------------------------------------------------------------------
def remove_items(obj: Any, t: Type, paths: FieldSet) -> Any:
    """``obj`` without ``paths``; ABSENT when the whole value goes."""
    if paths.empty():
        return obj
    if _is_map(t, obj) and obj and not t.atomic:
        out: dict[str, Any] = {}
        for name, child in obj.items():
            pe = field(name)
            if pe in paths.members:
                continue
            sub = paths.with_prefix(pe)
            if sub.empty():
                out[name] = child
                continue
            rest = remove_items(child, t.field_type(name), sub)
            if not (isinstance(rest, (dict, list)) and not rest and child):
                out[name] = rest  # a map or list emptied by the removal goes with it
        return out
    if _is_list(t, obj) and obj and _granular_list(t):
        element = t.element_type()
        items = []
        for i, item in enumerate(obj):
            pe = item_element(t, item, i)
            if pe in paths.members:
                continue
            sub = paths.with_prefix(pe)
            items.append(remove_items(item, element, sub) if not sub.empty() else item)
        return items
    return obj


def ensure_named_fields_are_members(paths: FieldSet, t: Type) -> FieldSet:
    """``paths`` with every declared struct field that has owned children a member too.

    Pruning removes a struct field whose children were all owned by the applier only if the
    field itself counts as owned; upstream's ``EnsureNamedFieldsAreMembers`` makes it so.
    """
    out = FieldSet()
    out.members = set(paths.members)
    for pe, sub in paths.children.items():
        if pe[0] == "f" and t.kind == MAP and t.has_field(pe[1]):
            out.members.add(pe)
        if pe[0] == "f":
            ct = t.field_type(pe[1])
        elif t.kind == LIST:
            ct = t.element_type()
        else:
            ct = t
        out.children[pe] = ensure_named_fields_are_members(sub, ct)
    return out
