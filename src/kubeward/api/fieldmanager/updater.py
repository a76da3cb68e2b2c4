"""Who owns what after a write: structured-merge-diff's ``merge.Updater``, over plain JSON.

Managers are keyed by an identifier (:class:`ManagerKey`); each owns a :class:`FieldSet`.
The rules, as upstream's updater states them:

 1. **Update** (create, update, any patch): the writer comes to own every field it added or
    changed; it keeps what it owned and did not remove. Every other manager loses the fields
    the write changed or removed — an update never conflicts.
 2. **Apply**: the live object and the configuration merge (``typed.merge``); the applier
    owns exactly the configuration's fields. Another manager owning a field the apply changes
    is a 409 Conflict (:func:`conflict_error`) unless ``force``, which moves the field to the
    applier.
 3. **Pruning**: a field the applier owned last time and does not apply now is removed from
    the object — unless another manager owns it, it was someone else's all along, or the new
    configuration sets it again.
 4. ``ignored`` paths (the reset fields of a subresource, the server-owned metadata) are never
    owned and never conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from kubeward.api.fieldmanager.fieldpath import FieldSet, Path, path_text
from kubeward.api.fieldmanager.schema import Type
from kubeward.api.fieldmanager.typed import (
    ABSENT,
    compare,
    ensure_named_fields_are_members,
    merge,
    remove_items,
    to_field_set,
)
from kubeward.api.meta import JSONObject
from kubeward.errors import Cause, Conflict, StatusDetails

APPLY = "Apply"
UPDATE = "Update"


@dataclass(frozen=True, order=True)
class ManagerKey:
    """A managedFields entry's identity: upstream's manager identifier (time left out)."""

    manager: str
    operation: str  # "Apply" or "Update"
    api_version: str = ""  # kept for Update entries only, as upstream
    subresource: str = ""


@dataclass(frozen=True)
class Owned:
    fields: FieldSet
    api_version: str
    applied: bool


ManagedFields = dict[ManagerKey, Owned]


def manager_text(key: ManagerKey) -> str:
    """A manager as upstream's conflict messages name it: ``"kubectl" using apps/v1``."""
    text = orjson.dumps(key.manager).decode()
    if key.subresource:
        text += f" with subresource {orjson.dumps(key.subresource).decode()}"
    if key.operation == UPDATE:
        text += f" using {key.api_version}"
    return text


def conflict_error(conflicts: Sequence[tuple[ManagerKey, Path]]) -> Conflict:
    """Rule 2's 409: every conflicting manager and path, worded and detailed as upstream."""
    # Upstream walks a map (no order); managers sorted, as its message lists them, keep
    # the causes and the message in one order.
    conflicts = sorted(conflicts, key=lambda c: c[0])
    causes = tuple(
        Cause("FieldManagerConflict", f"conflict with {manager_text(key)}", path_text(path))
        for key, path in conflicts
    )
    if len(conflicts) == 1:
        key, path = conflicts[0]
        message = (
            f"Apply failed with 1 conflict: conflict with {manager_text(key)}: {path_text(path)}"
        )
    else:
        lines: list[str] = []
        for key in sorted({key for key, _ in conflicts}):
            lines.append(f"conflicts with {manager_text(key)}:")
            lines.extend(f"- {path_text(path)}" for k, path in conflicts if k == key)
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return Conflict(message, StatusDetails(causes=causes))


def _changes(
    live: object,
    new: object,
    t: Type,
    managers: ManagedFields,
    workflow: ManagerKey | None,
    force: bool,
    ignored: FieldSet,
) -> tuple[ManagedFields, FieldSet, FieldSet]:
    """Rules 1, 2 and 4: strip other managers of what the write changed; conflicts unless forced.

    Returns the managers, the changed (added or modified) and the removed paths.
    """
    cmp = compare(live, new, t).exclude(ignored)
    changed = cmp.changed()
    conflicts: list[tuple[ManagerKey, Path]] = []
    out: ManagedFields = {}
    for manager, owned in managers.items():
        if manager == workflow:
            out[manager] = owned
            continue
        taken = owned.fields.intersection(changed)
        if not taken.empty():
            conflicts.extend((manager, path) for path in taken.paths())
        rest = owned.fields.difference(taken).difference(cmp.removed)
        if rest is owned.fields:
            out[manager] = owned  # untouched: the same value, so callers can tell by identity
        elif not rest.empty():
            out[manager] = Owned(rest, owned.api_version, owned.applied)
    if conflicts and not force:
        raise conflict_error(conflicts)
    return out, changed, cmp.removed


def update(
    live: object,
    new: object,
    t: Type,
    managers: ManagedFields,
    manager: ManagerKey,
    api_version: str,
    ignored: FieldSet,
) -> tuple[ManagedFields, bool]:
    """Rule 1. Returns the managers and whether the writer took any field (a changed object).

    ``managers`` already holds the writer's earlier entry under ``manager``, if any; it is
    treated as another manager for the comparison and merged back, as upstream's
    ``managedFieldsUpdater`` does with its ``current-operation``.
    """
    out, changed, _ = _changes(live, new, t, managers, None, True, ignored)
    took = not changed.recursive_difference(ignored).empty()
    if took:
        previous = out.get(manager)
        fields = changed.recursive_difference(ignored)
        if previous is not None:
            fields = fields.union(previous.fields)
        out[manager] = Owned(fields, api_version, False)
    return out, took


def apply(
    live: object,
    config: JSONObject,
    t: Type,
    managers: ManagedFields,
    manager: ManagerKey,
    api_version: str,
    force: bool,
    ignored: FieldSet,
) -> tuple[object, ManagedFields]:
    """Rules 2-4: the merged, pruned object (``live`` itself when nothing changed)."""
    merged = merge(live, config, t)
    last = managers.get(manager)
    applied = to_field_set(config, t).recursive_difference(ignored)
    managers = dict(managers)
    managers[manager] = Owned(applied, api_version, True)
    if last is not None and not last.fields.empty():
        merged = _prune(merged, t, managers, last.fields)
    out, _, _ = _changes(live, merged, t, managers, manager, force, ignored)
    if out.get(manager) is not None and out[manager].fields.empty():
        del out[manager]
    return merged, out


def _prune(merged: object, t: Type, managers: ManagedFields, last: FieldSet) -> object:
    """Rule 3, in upstream's three steps: remove what was applied last time, add back what
    someone owns, add back what was never the applier's."""
    last_named = ensure_named_fields_are_members(last, t)
    pruned = remove_items(merged, t, last_named)
    merged_set = _named_set(merged, t)
    owned = FieldSet()
    for entry in managers.values():
        owned = owned.union(entry.fields)
    keep = _named_set(pruned, t).union(ensure_named_fields_are_members(owned, t))
    pruned = remove_items(merged, t, merged_set.difference(keep))
    dangling = merged_set.difference(_named_set(pruned, t)).intersection(last_named)
    return remove_items(merged, t, dangling)


def _named_set(obj: object, t: Type) -> FieldSet:
    if obj is ABSENT:
        return FieldSet()
    return ensure_named_fields_are_members(to_field_set(obj, t), t)
