"""``metadata.managedFields`` on every write: what kube-apiserver's field manager records.

One :class:`FieldManager` per served kind (built-in: its OpenAPI schema; custom: its CRD
version's schema). The rules, from k8s.io/apimachinery's ``util/managedfields``:

 1. Every create, update and patch is an **Update** by its manager: the entry
    ``{manager, operation: Update, apiVersion, subresource}`` comes to own what the write
    added or changed (``updater`` rule 1) and its ``time`` moves; a write that changes
    nothing leaves every entry as it was. A write through ``/status`` or ``/scale`` records
    ``subresource``.
 2. **Apply** (``application/apply-patch+yaml``) is one entry per manager and subresource,
    ``apiVersion`` the applied version; conflicts are 409 (``updater.conflict_error``);
    ``force`` takes the fields over. An apply that changes nothing changes no entry.
 3. The base is the live object's entries, or the request's own when it sends a non-empty
    ``managedFields`` (a client may rewrite them; ``[{}]`` clears them). An apply body must not
    carry ``managedFields`` (400).
 4. Never owned: ``apiVersion``, ``kind``, ``metadata`` itself and the server's metadata
    (``name``, ``namespace``, ``uid``, ``resourceVersion``, ``generation``,
    ``creationTimestamp``, ``selfLink``, ``managedFields``) — upstream's stripped fields; and a
    subresource's reset fields: ``status`` through the main resource of a kind with a status
    subresource, everything but ``status`` (and labels and annotations) through ``/status``.
 5. Entries are written Apply first, then by time, manager, apiVersion and subresource, with
    ``fieldsType: FieldsV1``, as upstream sorts and encodes them.
 6. The manager of a non-apply write is ``?fieldManager=``, else the User-Agent up to its
    first ``/`` (``kubectl/v1.32.0 (linux/amd64) …`` → ``kubectl``), as upstream derives it.
 7. At most ten Update entries: past that, the oldest merge into one ``ancient-changes`` entry
    per apiVersion (upstream's ``capManagersManager``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import orjson

from kubeward.api import meta as m
from kubeward.api.fieldmanager import schema as shapes
from kubeward.api.fieldmanager.fieldpath import FieldSet, field
from kubeward.api.fieldmanager.typed import ABSENT, created_fields
from kubeward.api.fieldmanager.updater import (
    APPLY,
    UPDATE,
    ManagedFields,
    ManagerKey,
    Owned,
    apply,
    update,
)
from kubeward.errors import BadRequest, Cause, StatusError, invalid

FIELDS_V1 = "FieldsV1"
MAX_UPDATE_MANAGERS = 10
ANCIENT_CHANGES = "ancient-changes"
MAX_MANAGER_LENGTH = 128

_SERVER_META = frozenset(
    {
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    }
)
_METADATA = field("metadata")
_STATUS = field("status")
_STRIPPED = FieldSet.of(
    (field("apiVersion"),),
    (field("kind"),),
    (field("metadata"),),
    *((field("metadata"), field(name)) for name in _SERVER_META),
)


def _created_at(obj: m.JSONObject) -> str:
    """A create's entry time: the object's creationTimestamp (the same instant, formatted once)."""
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    return stamp if isinstance(stamp, str) and stamp else m.format_time(m.now())


def manager_from_user_agent(user_agent: str) -> str:
    """Rule 6 for a request without ``fieldManager``."""
    return user_agent.split("/", 1)[0]


def validate_field_manager(name: str, *, applying: bool) -> list[Cause]:
    """Upstream's PatchOptions/CreateOptions checks of ``fieldManager``."""
    from kubeward.api.validation import field as fields

    causes: list[Cause] = []
    if applying and not name:
        causes.append(fields.required("fieldManager", "is required for apply patch"))
    if len(name) > MAX_MANAGER_LENGTH:
        causes.append(fields.too_long("fieldManager", MAX_MANAGER_LENGTH))
    for i, char in enumerate(name):
        if not char.isprintable():
            causes.append(
                fields.invalid(
                    "fieldManager", name, f"invalid character U+{ord(char):04X} (at position {i})"
                )
            )
    return causes


def check_options(name: str, *, applying: bool, kind: str = "PatchOptions") -> None:
    """422 for a bad ``fieldManager``, as upstream refuses its options object."""
    causes = validate_field_manager(name, applying=applying)
    if causes:
        raise invalid(kind, "", causes, "meta.k8s.io")


class FieldManager:
    """Rules 1-5 for one kind and version."""

    def __init__(
        self,
        api_version: str,
        shape: shapes.Type,
        *,
        has_status_subresource: bool,
        typed_zero: bool = False,
    ) -> None:
        self.api_version = api_version
        self.shape = shape
        self.typed_zero = typed_zero
        self._reset_main = FieldSet.of((field("status"),)) if has_status_subresource else FieldSet()

    @classmethod
    def for_builtin(
        cls, api_version: str, schema_name: str | None, *, status: bool = False
    ) -> FieldManager:
        shape = shapes.for_builtin(schema_name) if schema_name else shapes.DEDUCED
        return cls(api_version, shape, has_status_subresource=status, typed_zero=True)

    @classmethod
    def for_schema(
        cls, api_version: str, schema: Mapping[str, Any], *, status: bool
    ) -> FieldManager:
        return cls(api_version, shapes.root(schema), has_status_subresource=status)

    # --- rule 4 ------------------------------------------------------------------------------
    def _reset(self, obj: m.JSONObject, subresource: str) -> FieldSet:
        if subresource == "status":
            out = FieldSet()
            for name in obj:
                if name not in ("status", "metadata", "apiVersion", "kind"):
                    out.insert((field(name),))
            meta = obj.get("metadata")
            if isinstance(meta, dict):
                for name in meta:
                    if name not in ("labels", "annotations"):
                        out.insert((field("metadata"), field(name)))
            return out
        if subresource:
            return FieldSet()
        return self._reset_main

    # --- writes --------------------------------------------------------------------------------
    def updated(
        self,
        live: m.JSONObject | None,
        new: m.JSONObject,
        manager: str,
        subresource: str = "",
        *,
        time: str | None = None,
    ) -> None:
        """Rule 1, in place on ``new``: its ``managedFields`` after this write."""
        base = _managed_of(new) if _has_entries(new) else _managed_of(live)
        if base is None:  # the request's own entries do not decode: keep the live ones
            base = _managed_of(live) or ({}, {})
        managers, times = base
        key = ManagerKey(manager, UPDATE, self.api_version, subresource)
        if live is None and not managers and not subresource:
            self._created(new, key, times, time)  # the common create: one walk
            return
        right = _without_meta(new)
        if live is not None:
            left = _without_meta(live)
        else:
            left = _zero(right, self.shape) if self.typed_zero else {}
        ignored = self._reset(right, subresource)
        try:
            out, took = update(left, right, self.shape, managers, key, self.api_version, ignored)
        except StatusError:
            out, took = managers, False  # a shape the walk refuses: record nothing new
        unmoved = len(out) == len(managers) and all(out.get(k) is v for k, v in managers.items())
        if not took and unmoved and not _has_entries(new):
            entries = (live or {}).get("metadata", {}).get("managedFields")
            if entries:
                m.metadata(new)["managedFields"] = entries  # nothing moved: the live entries
            return
        if took:
            out[key] = Owned(out[key].fields.difference(_STRIPPED), self.api_version, False)
            if out[key].fields.empty():
                del out[key]
            times = {**times, key: time or m.format_time(m.now())}
            out, times = cap_updaters(out, times)
        _store(new, out, times)

    def _created(
        self, new: m.JSONObject, key: ManagerKey, times: dict[ManagerKey, str], time: str | None
    ) -> None:
        trimmed = {k: v for k, v in new.items() if k not in ("apiVersion", "kind")}
        meta = new.get("metadata")
        if isinstance(meta, dict):
            trimmed["metadata"] = {k: v for k, v in meta.items() if k not in _SERVER_META}
        try:
            fields = created_fields(trimmed, self.shape, zero_structs=self.typed_zero)
        except StatusError:
            fields = FieldSet()
        # What rule 4 never lets anyone own, at the top: ``metadata`` itself and reset status.
        fields.members.discard(_METADATA)
        if not self._reset_main.empty():
            fields.members.discard(_STATUS)
            fields.children.pop(_STATUS, None)
        if fields.empty():
            _store(new, {}, {})
            return
        _store(
            new,
            {key: Owned(fields, self.api_version, False)},
            {key: time or _created_at(new)},
        )

    def applied(
        self,
        live: m.JSONObject | None,
        config: m.JSONObject,
        manager: str,
        subresource: str = "",
        *,
        force: bool = False,
        time: str | None = None,
    ) -> m.JSONObject:
        """Rule 2: the object ``config`` applied over ``live`` (None: it is being created)."""
        if m.metadata(config).get("managedFields") is not None:
            raise BadRequest("metadata.managedFields must be nil")
        managers, times = _managed_of(live) or ({}, {})
        key = ManagerKey(manager, APPLY, "", subresource)
        base: Any = _without_meta(live) if live is not None else {}
        ignored = self._reset(config, subresource)
        merged, out = apply(
            base, config, self.shape, managers, key, self.api_version, force, ignored
        )
        if merged is ABSENT or not isinstance(merged, dict):
            merged = {}
        mine = out.get(key)
        if mine is not None:
            stripped = mine.fields.difference(_STRIPPED)
            if stripped.empty():
                del out[key]
            else:
                out[key] = Owned(stripped, self.api_version, True)
        changed = live is None or merged != base
        if key in out and (changed or key not in times):
            times = {**times, key: time or m.format_time(m.now())}
        result: m.JSONObject = dict(merged)
        result["metadata"] = dict(result.get("metadata") or {})
        _store(result, out, times)
        return result


def _zero(obj: m.JSONObject, shape: shapes.Type) -> m.JSONObject:
    """The empty object a built-in create is compared with: as a Go zero value, every struct
    field that the new object sets is there, empty (so ``spec`` itself is not "added")."""
    out: m.JSONObject = {}
    for name, sub in obj.items():
        child = shape.field_type(name)
        if isinstance(sub, dict) and child.is_struct() and shape.has_field(name):
            out[name] = _zero(sub, child)
    return out


def cap_updaters(
    managers: ManagedFields, times: dict[ManagerKey, str], limit: int = MAX_UPDATE_MANAGERS
) -> tuple[ManagedFields, dict[ManagerKey, str]]:
    """Rule 7: the oldest Update entries beyond ``limit`` merge into ``ancient-changes``."""
    updaters = [k for k, owned in managers.items() if not owned.applied]
    if len(updaters) <= limit:
        return managers, times
    updaters.sort(key=lambda k: (times.get(k, ""), k.manager, k.api_version, k.subresource))
    managers, times = dict(managers), dict(times)
    first_of_version: dict[str, ManagerKey] = {}
    length = len(updaters)
    for key in updaters:
        if length <= limit:
            break
        owned = managers[key]
        version = owned.api_version
        first = first_of_version.get(version)
        if first is None:
            first_of_version[version] = key
            continue
        bucket = ManagerKey(ANCIENT_CHANGES, UPDATE, version)
        if bucket not in managers:
            managers[bucket] = managers.pop(first)
            times.pop(first, None)
        merged = owned.fields.union(managers[bucket].fields)
        managers[bucket] = Owned(merged, version, False)
        del managers[key]
        if key in times:
            times[bucket] = times.pop(key)
        length -= 1
    return managers, times


# --- encoding (rules 3 and 5) --------------------------------------------------------------------
def _has_entries(obj: m.JSONObject) -> bool:
    entries = (obj.get("metadata") or {}).get("managedFields")
    return isinstance(entries, list) and bool(entries)


def _without_meta(obj: m.JSONObject) -> m.JSONObject:
    out = dict(obj)
    meta = out.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        meta = dict(meta)
        del meta["managedFields"]
        out["metadata"] = meta
    return out


def _managed_of(obj: m.JSONObject | None) -> tuple[ManagedFields, dict[ManagerKey, str]] | None:
    """The entries of ``obj`` by manager; None when they do not decode."""
    if obj is None:
        return {}, {}
    entries = (obj.get("metadata") or {}).get("managedFields")
    managers: ManagedFields = {}
    times: dict[ManagerKey, str] = {}
    if not isinstance(entries, list):
        return managers, times
    try:
        for entry in entries:
            if not isinstance(entry, dict):
                return None
            operation = str(entry.get("operation") or "")
            if not operation and not entry.get("manager"):
                continue  # ``{}``: the way a client clears managedFields
            api_version = str(entry.get("apiVersion") or "")
            key = ManagerKey(
                str(entry.get("manager") or ""),
                operation,
                api_version if operation == UPDATE else "",
                str(entry.get("subresource") or ""),
            )
            fields = _decoded(orjson.dumps(entry.get("fieldsV1") or {}))
            previous = managers.get(key)
            if previous is not None:
                fields = fields.union(previous.fields)
            managers[key] = Owned(fields, api_version, operation == APPLY)
            if entry.get("time"):
                times[key] = str(entry["time"])
    except StatusError:
        return None
    return managers, times


@functools.lru_cache(maxsize=4096)
def _decoded(fields_v1: bytes) -> FieldSet:
    """A ``fieldsV1`` decoded once: an object's entries are read on each of its writes, and
    decoded sets are never changed (``fieldpath`` rule 2's sets are values)."""
    return FieldSet.from_fields_v1(orjson.loads(fields_v1))


def _store(obj: m.JSONObject, managers: ManagedFields, times: Mapping[ManagerKey, str]) -> None:
    meta = m.metadata(obj)
    entries = encode(managers, times)
    if entries:
        meta["managedFields"] = entries
    else:
        meta.pop("managedFields", None)


def encode(managers: ManagedFields, times: Mapping[ManagerKey, str]) -> list[m.JSONObject]:
    """Rule 5's list of entries."""
    order = sorted(
        managers,
        key=lambda k: (
            k.operation,
            times.get(k, ""),
            k.manager,
            managers[k].api_version,
            k.subresource,
        ),
    )
    entries: list[m.JSONObject] = []
    for key in order:
        owned = managers[key]
        entry: m.JSONObject = {
            "manager": key.manager,
            "operation": key.operation,
            "apiVersion": owned.api_version,
        }
        if key in times:
            entry["time"] = times[key]
        entry["fieldsType"] = FIELDS_V1
        entry["fieldsV1"] = owned.fields.to_fields_v1()
        if key.subresource:
            entry["subresource"] = key.subresource
        entries.append(entry)
    return entries


@functools.cache
def _builtin(api_version: str, schema_name: str | None, status: bool) -> FieldManager:
    return FieldManager.for_builtin(api_version, schema_name, status=status)


def for_kind(
    api_version: str,
    schema_name: str | None,
    schema: Mapping[str, Any] | None,
    *,
    status: bool,
) -> FieldManager:
    """The field manager of a served kind (cached for built-ins; custom kinds keep their own)."""
    if schema is not None:
        return FieldManager.for_schema(api_version, schema, status=status)
    return _builtin(api_version, schema_name, status)
