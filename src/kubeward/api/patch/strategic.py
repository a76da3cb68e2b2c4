"""Strategic merge patch (``application/strategic-merge-patch+json``): what ``kubectl apply``
(the second time), ``kubectl edit`` and ``kubectl patch`` send for built-in kinds.

It is a JSON merge patch in which some lists merge element by element, as Kubernetes'
``apimachinery/pkg/util/strategicpatch`` applies it on the server (``StrategicMergeMapPatch``).
The rules, in the order they are applied to each object in the patch:

 1. ``"$patch": "replace"`` replaces the object with the patch (minus the directive);
    ``"$patch": "delete"`` empties it; any other value is refused.
 2. ``"$retainKeys": [...]`` drops every key of the object not listed, after checking every
    non-null key of the patch is listed.
 3. ``"$setElementOrder/<list>": [...]`` merges ``<list>`` and then orders the result: items
    named in the directive in its order, the others where they were.
 4. ``null`` deletes a key; a key the object lacks takes the patch value; a value of another
    JSON type is replaced.
 5. Objects merge recursively, unless the field's strategy is ``replace``.
 6. Lists replace, unless the field's strategy is ``merge`` (:mod:`.strategies`): lists of
    objects then merge by the field's merge key (an item ``{"$patch": "delete", <key>: v}``
    removes the items with that key, ``{"$patch": "replace"}`` makes the list the patch's);
    lists of scalars merge as sets, and ``"$deleteFromPrimitiveList/<list>": [...]`` removes
    items. New items go before the existing ones that the patch does not mention, in the patch's
    order, exactly as Kubernetes orders them.
 7. The input object is never mutated.

Errors are answered as Kubernetes classifies them: the named format errors of ``mergepatch``
are 400, ``lists of lists are not supported`` is 422. Errors Kubernetes leaves unclassified
(a missing merge key, an unknown directive, an order list that contradicts the patch) reach its
clients as 500; kubeward answers them 400, with the same message, because the patch is at fault.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from kubeward.api.patch.document import go_format, json_equal, parse_json
from kubeward.api.patch.strategies import PatchMeta, field_meta
from kubeward.errors import BadRequest, Invalid, StatusDetails

DIRECTIVE: Final = "$patch"
RETAIN_KEYS: Final = "$retainKeys"
SET_ELEMENT_ORDER: Final = "$setElementOrder"
DELETE_FROM_PRIMITIVE_LIST: Final = "$deleteFromPrimitiveList"

_BAD_PRIMITIVE_LIST: Final = "invalid patch format of primitive list"
_BAD_RETAIN_KEYS: Final = "invalid patch format of retainKeys"
_BAD_SET_ELEMENT_ORDER: Final = "invalid patch format of setElementOrder list"
_GENERIC_422: Final = "the server rejected our request due to an error in our request"


def apply_strategic_merge_patch(
    document: dict[str, Any], patch_bytes: bytes, type_name: str
) -> dict[str, Any]:
    """Apply a strategic merge patch to a copy of ``document``, whose struct type is
    ``type_name`` in :data:`.strategies.TYPES`.

    Raises:
        BadRequest: the patch is not a JSON object, or is malformed.
        Invalid: the patch merges lists of lists (422, as Kubernetes answers).
    """
    patch = parse_json(patch_bytes)
    if not isinstance(patch, dict):
        raise BadRequest("error decoding patch: a strategic merge patch must be a JSON object")
    return merge_map(copy.deepcopy(document), patch, type_name)


def merge_map(original: dict[str, Any], patch: dict[str, Any], type_name: str) -> dict[str, Any]:
    """Merge ``patch`` into ``original`` (both owned by the caller, and changed)."""
    if DIRECTIVE in patch:
        return _map_directive(patch)
    _apply_retain_keys(original, patch)
    _apply_set_element_order(original, patch, type_name)
    for raw_key, patch_value in list(patch.items()):
        key, is_delete_list = raw_key, False
        if raw_key.startswith(DELETE_FROM_PRIMITIVE_LIST):
            key, is_delete_list = _directive_target(raw_key, _BAD_PRIMITIVE_LIST), True
        if patch_value is None:
            original.pop(key, None)
            continue
        if key not in original:
            if not is_delete_list:
                original[key] = patch_value
            continue
        current = original[key]
        meta = field_meta(type_name, key)
        if isinstance(current, dict) and isinstance(patch_value, dict):
            original[key] = (
                patch_value
                if meta.strategy == "replace"
                else merge_map(current, patch_value, meta.type)
            )
        elif isinstance(current, list) and isinstance(patch_value, list):
            original[key] = _merge_list_field(current, patch_value, meta, is_delete_list)
        elif is_delete_list:
            raise BadRequest(_BAD_PRIMITIVE_LIST)
        else:
            original[key] = patch_value
    return original


def _map_directive(patch: dict[str, Any]) -> dict[str, Any]:
    directive = patch[DIRECTIVE]
    if directive == "replace":
        return {key: value for key, value in patch.items() if key != DIRECTIVE}
    if directive == "delete":
        return {}
    raise BadRequest(f"unknown patch type: {go_format(directive)} in map: {go_format(patch)}")


def _directive_target(key: str, error: str) -> str:
    _, separator, target = key.partition("/")
    if not separator:
        raise BadRequest(error)
    return target


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    if RETAIN_KEYS not in patch:
        return
    retained = patch.pop(RETAIN_KEYS)
    if not isinstance(retained, list):
        raise BadRequest(_BAD_RETAIN_KEYS)
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)):
            continue
        if key not in retained:
            raise BadRequest(_BAD_RETAIN_KEYS)
    for key in [key for key in original if key not in retained]:
        del original[key]


def _apply_set_element_order(
    original: dict[str, Any], patch: dict[str, Any], type_name: str
) -> None:
    for directive_key in [key for key in patch if key.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(directive_key)
        if not isinstance(order, list):
            raise BadRequest(_BAD_SET_ELEMENT_ORDER)
        key = _directive_target(directive_key, _BAD_SET_ELEMENT_ORDER)
        original_list = _list_or_none(original, key)
        patch_list = _list_or_none(patch, key)
        if original_list is None and patch_list is None:
            continue
        meta = field_meta(type_name, key)
        _validate_against_order(patch_list or [], order, meta.merge_key)
        if patch_list is None:
            merged = original_list or []
        else:
            merged = _merge_list_field(original_list or [], patch_list, meta, False)
            patch.pop(key)
        items = (original_list or []) + (patch_list or [])
        if not items or (not meta.merge_key and any(isinstance(i, dict) for i in items)):
            original[key] = merged  # nothing to order by
            continue
        is_map = bool(meta.merge_key)
        in_order, server_only = _partition(merged, order, meta.merge_key)
        original[key] = _normalize_element_order(
            in_order, server_only, order, original_list or [], meta.merge_key, is_map
        )


def _list_or_none(container: dict[str, Any], key: str) -> list[Any] | None:
    if key not in container:
        return None
    value = container[key]
    if not isinstance(value, list):
        raise BadRequest(f"expected a []interface {{}}, but received a {_go_type(value)} for {key}")
    return value


def _merge_list_field(
    current: list[Any], patch: list[Any], meta: PatchMeta, is_delete_list: bool
) -> list[Any]:
    if meta.strategy == "merge":
        return _merge_slice(current, patch, meta, is_delete_list)
    if is_delete_list:
        return [item for item in current if not _contains(patch, item)]
    return patch


def _merge_slice(
    original: list[Any], patch: list[Any], meta: PatchMeta, is_delete_list: bool
) -> list[Any]:
    if not original and not patch:
        return original
    is_map = _elements_are_maps(original, patch)
    merge_key = meta.merge_key
    if not is_map:
        if is_delete_list:
            return [item for item in original if not _contains(patch, item)]
        merged = _deduplicate_scalars(original + patch)
    else:
        if not merge_key:
            raise BadRequest("cannot merge lists without merge key for type map")
        original, patch = _apply_list_directives(original, patch, merge_key)
        merged = _merge_maps_by_key(original, patch, merge_key, meta.type)
    in_patch, server_only = _partition(merged, patch, merge_key)
    return _normalize_element_order(in_patch, server_only, patch, original, merge_key, is_map)


def _elements_are_maps(*lists: list[Any]) -> bool:
    """Kubernetes' ``sliceElementType``: all items share one JSON type, and none is a list."""
    first: str | None = None
    for items in lists:
        for item in items:
            kind = _go_type(item)
            if first is None:
                if isinstance(item, list):
                    raise Invalid(_GENERIC_422, StatusDetails()) from ValueError(
                        "lists of lists are not supported"
                    )
                first = kind
            elif kind != first:
                raise BadRequest(f"list element types are not identical: {go_format(list(lists))}")
    return first == "map[string]interface {}"


def _apply_list_directives(
    original: list[Any], patch: list[Any], merge_key: str
) -> tuple[list[Any], list[Any]]:
    plain: list[Any] = []
    replace = False
    for item in patch:
        if DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == "delete":
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            original = [
                kept for kept in original if not _has_key_value(kept, merge_key, item[merge_key])
            ]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise BadRequest("merging lists cannot yet be specified in the patch")
        else:
            raise BadRequest(
                f"unknown patch type: {go_format(directive)} in map: {go_format(item)}"
            )
    if replace:
        return plain, []
    return original, plain


def _merge_maps_by_key(
    original: list[Any], patch: list[Any], merge_key: str, element_type: str
) -> list[Any]:
    merged = list(original)
    for item in patch:
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        position = _find_by_key(merged, merge_key, item[merge_key])
        if position is None:
            merged.append(item)
        else:
            merged[position] = merge_map(merged[position], item, element_type)
    return merged


def _find_by_key(items: list[Any], merge_key: str, value: Any) -> int | None:
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f"value for key {position} is not a map.")
        if _has_key_value(item, merge_key, value):
            return position
    return None


def _has_key_value(item: Any, merge_key: str, value: Any) -> bool:
    return isinstance(item, dict) and merge_key in item and json_equal(item[merge_key], value)


def _partition(
    merged: list[Any], partition_by: list[Any], merge_key: str
) -> tuple[list[Any], list[Any]]:
    """Split ``merged`` into the items named in ``partition_by`` and the server-only rest."""
    named: list[Any] = []
    server_only: list[Any] = []
    for item in merged:
        if merge_key:
            if not isinstance(item, dict):
                raise BadRequest(f"expected a map, but received a {_go_type(item)}")
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            found = _find_by_key(partition_by, merge_key, item[merge_key]) is not None
        else:
            found = _contains(partition_by, item)
        (named if found else server_only).append(item)
    return named, server_only


def _validate_against_order(patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    """Kubernetes' ``validatePatchWithSetOrderList``: the items of the patch list (deletions
    aside) must be among the ``$setElementOrder`` items, in the same relative order."""
    if not order or not patch_list:
        return
    items = patch_list
    if merge_key:
        items = [item for item in _all_maps(patch_list) if item.get(DIRECTIVE) != "delete"]
    position = wanted = 0
    while position < len(items) and wanted < len(order):
        if _has_directive(items[position]):
            position += 1
            continue
        if _key_equal(items[position], order[wanted], merge_key):
            position += 1
        wanted += 1
    if position < len(items) and wanted >= len(order):
        raise BadRequest(
            f"The order in patch list:\n{go_format(patch_list)}\n doesn't match "
            f"{SET_ELEMENT_ORDER} list:\n{go_format(order)}\n"
        )


def _normalize_element_order(
    in_patch: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    merge_key: str,
    is_map: bool,
) -> list[Any]:
    """Patch items in patch order, server-only items in server order, then interleaved."""
    in_patch = _sort_by(in_patch, patch_order, merge_key, is_map)
    server_only = _sort_by(server_only, server_order, merge_key, is_map)
    return _merge_sorted(server_only, in_patch, server_order, merge_key, is_map)


def _sort_by(items: list[Any], order: list[Any], merge_key: str, is_map: bool) -> list[Any]:
    deleted: list[Any] = []
    if is_map:
        for item in _all_maps(items) + _all_maps(order):
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
        deleted = [item for item in items if item.get(DIRECTIVE) == "delete"]
        items = [item for item in items if item.get(DIRECTIVE) != "delete"]
    positions = [_index(order, item, merge_key, is_map) for item in items]
    ranked = sorted(range(len(items)), key=lambda i: (positions[i] < 0, positions[i]))
    return [items[i] for i in ranked] + deleted


def _merge_sorted(
    left: list[Any], right: list[Any], server_order: list[Any], merge_key: str, is_map: bool
) -> list[Any]:
    """Kubernetes' ``mergeSortedSlice``: insert server-only items (``left``) among the patch
    items (``right``), keeping each list's order; a left item goes first only when both are in
    the live list and it came first there."""
    merged: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            merged.append(right[j])
            j += 1
        elif j >= len(right):
            merged.append(left[i])
            i += 1
        else:
            left_at = _index(server_order, left[i], merge_key, is_map)
            right_at = _index(server_order, right[j], merge_key, is_map)
            if left_at >= 0 and right_at >= 0 and left_at < right_at:
                merged.append(left[i])
                i += 1
            else:
                merged.append(right[j])
                j += 1
    return merged


def _index(items: list[Any], wanted: Any, merge_key: str, is_map: bool) -> int:
    def value(item: Any) -> Any:
        if is_map:
            return item.get(merge_key) if isinstance(item, dict) else None
        return item

    target = value(wanted)
    for position, item in enumerate(items):
        if json_equal(value(item), target):
            return position
    return -1


def _deduplicate_scalars(items: list[Any]) -> list[Any]:
    """Kubernetes' ``deduplicateScalars``, order effects included: a duplicate is overwritten
    by the last item, and the list shortened."""
    items = list(items)
    last = len(items) - 1
    i = 0
    while i < last:
        j = i + 1
        while j <= last:
            if json_equal(items[i], items[j]):
                items[j] = items[last]
                del items[last]
                last -= 1
                j -= 1
            j += 1
        i += 1
    return items


def _contains(items: list[Any], wanted: Any) -> bool:
    return any(json_equal(item, wanted) for item in items)


def _has_directive(item: Any) -> bool:
    return isinstance(item, dict) and DIRECTIVE in item


def _key_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return json_equal(left, right)
    for item in (left, right):
        if not isinstance(item, dict):
            raise BadRequest(f"expected a map, but received a {_go_type(item)}")
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
    return json_equal(left[merge_key], right[merge_key])


def _all_maps(items: list[Any]) -> list[dict[str, Any]]:
    for item in items:
        if not isinstance(item, dict):
            raise BadRequest(f"expected a map, but received a {_go_type(item)}")
    return items


def _no_merge_key(item: dict[str, Any], merge_key: str) -> BadRequest:
    return BadRequest(f"map: {go_format(item)} does not contain declared merge key: {merge_key}")


def _go_type(value: Any) -> str:
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    return "<nil>"
