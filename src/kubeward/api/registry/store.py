"""The generic store: Kubernetes object semantics on top of the revisioned storage backend.

One :class:`Store` per served kind. It owns the rules every kind shares:

 1. Create fills ``uid``, ``creationTimestamp``, ``generation: 1`` and a name from
    ``generateName``; a name that exists is 409 AlreadyExists.
 2. ``resourceVersion`` is the backend revision of the object's last write. An update that
    carries one is a compare-and-swap (409 Conflict when stale); one without is unconditional.
 3. ``generation`` moves only when the kind's spec changes; uid, creationTimestamp and
    deletionTimestamp cannot be changed by a client.
 4. Delete of an object with finalizers sets ``deletionTimestamp`` and keeps it until the last
    finalizer is removed; removing the last one completes the deletion.
 5. ``dryRun`` runs every check and returns the result without writing.
 6. A failed request writes nothing.
 7. Writes made for a request run admission, the strategy and the kind's write checks in the
    order ``api.registry.scope`` states, on create, update and delete alike.
 8. A kind with ``hooks`` (Services: addresses and node ports) has them begun after validation
    and finished after the write, told whether it succeeded, so a failed write keeps nothing;
    ``after_delete`` runs once the object has left storage (a dry run never calls it).
 9. A kind with a converter (custom resources) is stored at the converter's storage version
    and read at its own: every write converts the object before it is encoded, every read
    (get, list, watch) converts what storage holds, a list in one call for all its items
    (``api.customresources.conversion``). Kinds without one store what they serve.
 10. A write for a request with a field manager records its ``managedFields`` Update entry
    (``api.fieldmanager``), after defaults, before validation; a write that changes nothing
    changes no entry.
"""

from __future__ import annotations

import contextlib
import copy
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field

import orjson

from kubeward.api import meta as m
from kubeward.api.fieldmanager import FieldManager, for_kind
from kubeward.api.registry.propagation import Propagation
from kubeward.api.registry.revisions import (
    CONTINUE_TOO_OLD,
    decode,
    decode_continue,
    encode,
    encode_continue,
    parse_rv,
)
from kubeward.api.registry.scope import (
    FinishWrite,
    RequestScope,
    WriteAdmission,
    WriteCheck,
    WriteHooks,
)
from kubeward.api.registry.strategy import Strategy
from kubeward.api.scheme import ResourceType
from kubeward.api.selectors import EVERYTHING, FieldSelector, LabelSelector
from kubeward.errors import (
    AlreadyExists,
    BadRequest,
    Cause,
    CompactedError,
    Conflict,
    Gone,
    Invalid,
    KeyExistsError,
    KeyNotFoundError,
    NotFound,
    RevisionMismatch,
    StatusDetails,
    StorageError,
    invalid,
    storage_status,
)
from kubeward.storage.interfaces import Backend, Event, EventType, KeyValue

EVERYTHING_FIELDS = FieldSelector(())

Mutation = Callable[[m.JSONObject], m.JSONObject]


@dataclass(frozen=True)
class ListOptions:
    label_selector: LabelSelector = EVERYTHING
    field_selector: FieldSelector = EVERYTHING_FIELDS
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED
    object: m.JSONObject
    revision: int
    previous: m.JSONObject | None = None  # the object before a MODIFIED, for selector transitions
    _encoded: list[bytes] = field(default_factory=list, compare=False, repr=False)
    # The field sets of ``object`` (key False) and ``previous`` (True), made once however many
    # watchers with a field selector test them (every node agent watches spec.nodeName=NAME).
    _field_sets: dict[bool, dict[str, str]] = field(default_factory=dict, compare=False, repr=False)

    @functools.cached_property
    def namespace(self) -> str:
        """The object's namespace, read once however many watchers filter on it."""
        return m.namespace_of(self.object)

    def json_line(self) -> bytes:
        """``{"type": ..., "object": ...}\n``, encoded once however many watchers receive it."""
        if not self._encoded:
            self._encoded.append(orjson.dumps({"type": self.type, "object": self.object}) + b"\n")
        return self._encoded[0]


# A selector's next backend page doubles in size up to this (kube-apiserver's etcd3 maxLimit).
_MAX_PAGE = 10_000
_CLOSE_BRACE = ord("}")
# One list page's stored items, each with its decoded object when a selector needed it.
_PageItems = list[tuple[KeyValue, m.JSONObject | None]]


class Store:
    """Create, read, update, delete, list and watch one kind."""

    def __init__(self, resource_type: ResourceType, strategy: Strategy, backend: Backend) -> None:
        self.rt = resource_type
        self.strategy = strategy
        self.backend = backend
        # The kind's request-scoped checks (rule 7), added by the server at start.
        self.write_checks: list[WriteCheck] = []
        # The kind's side effects on other keys (rule 8), added by the server at start.
        self.hooks: WriteHooks | None = None
        # encode()'s head for this kind, and the start of the list list_json() writes.
        type_meta = orjson.dumps(
            {"apiVersion": resource_type.api_version, "kind": resource_type.kind}
        )
        self._stored_head = type_meta[:-1] + b',"metadata":{'
        self._field_manager: FieldManager | None = None
        self._list_json_head = (
            orjson.dumps(
                {"kind": resource_type.list_kind, "apiVersion": resource_type.api_version}
            )[:-1]
            + b',"metadata":'
        )

    @property
    def field_manager(self) -> FieldManager:
        """Rule 8's manager for this kind, built on first use."""
        if self._field_manager is None:
            rt = self.rt
            self._field_manager = for_kind(
                rt.api_version,
                rt.schema_name,
                rt.openapi_schema,
                status=rt.subresource("status") is not None,
            )
        return self._field_manager

    # --- the stored form -----------------------------------------------------------------------
    def _decode(self, kv: KeyValue) -> m.JSONObject:
        """A stored value as this kind shows it (its strategy's view of another kind's form)."""
        return self.strategy.from_storage(decode(kv))

    def _encode(self, obj: m.JSONObject) -> bytes:
        return encode(self.strategy.to_storage(obj))

    # --- reads ------------------------------------------------------------------------------
    def _not_found(self, name: str) -> NotFound:
        return NotFound(
            f'{self.rt.qualified_resource} "{name}" not found',
            StatusDetails(name=name, group=self.rt.group, kind=self.rt.resource),
        )

    def _as_item(self, obj: m.JSONObject) -> m.JSONObject:
        """A list item: typed for custom resources (as the apiextensions server writes them),
        untyped for built-in kinds (as kube-apiserver's typed lists are)."""
        if self.rt.typed_list_items:
            return self._with_type(obj)
        obj.pop("apiVersion", None)
        obj.pop("kind", None)
        return obj

    def _with_type(self, obj: m.JSONObject) -> m.JSONObject:
        obj["apiVersion"] = self.rt.api_version
        obj["kind"] = self.rt.kind
        return obj

    # --- rule 8 -----------------------------------------------------------------------------
    async def _served(self, obj: m.JSONObject) -> m.JSONObject:
        """A stored object at this kind's version."""
        converter = self.rt.converter
        if converter is not None and obj.get("apiVersion") != self.rt.api_version:
            obj = await converter.convert_one(obj, self.rt.api_version)
        return self._with_type(obj)

    async def _served_all(self, objs: list[m.JSONObject]) -> list[m.JSONObject]:
        """Stored objects at this kind's version, converted in one call."""
        converter = self.rt.converter
        if converter is None or not objs:
            return objs
        return await converter.convert(objs, self.rt.api_version, listing=True)

    async def _served_page(
        self, items: Sequence[KeyValue], pinned: str | None
    ) -> dict[str, m.JSONObject] | None:
        """A list page's objects (those a pinned name leaves) at this kind's version, by key;
        None for kinds without a converter (the caller decodes as it goes)."""
        if self.rt.converter is None:
            return None
        wanted = [kv for kv in items if pinned is None or kv.key.endswith("/" + pinned)]
        objs = await self._served_all([self._decode(kv) for kv in wanted])
        return {kv.key: obj for kv, obj in zip(wanted, objs, strict=True)}

    async def _storable(self, obj: m.JSONObject) -> m.JSONObject:
        """An object at this kind's version, at the storage version."""
        converter = self.rt.converter
        if converter is None or converter.storage_api_version == self.rt.api_version:
            return obj
        return await converter.convert_one(obj, converter.storage_api_version)

    async def _round_trip(self, obj: m.JSONObject, stored: m.JSONObject) -> m.JSONObject:
        """What a write answers: the stored object read back at this version."""
        if stored is obj:
            return obj
        return await self._served(copy.deepcopy(stored))

    async def get(self, namespace: str, name: str, resource_version: str = "") -> m.JSONObject:
        revision = 0
        if resource_version not in ("", "0"):
            revision = parse_rv(resource_version)
        try:
            kv = await self.backend.get(self.rt.storage_key(namespace, name), revision)
        except CompactedError as exc:
            raise Gone(f"too old resource version: {revision} ({exc.compacted + 1})") from exc
        except StorageError as exc:
            raise storage_status(exc) from exc
        if kv is None:
            raise self._not_found(name)
        if self.rt.converter is not None:
            return await self._served(self._decode(kv))
        return self._with_type(self._decode(kv))

    def _prefix(self, namespace: str) -> str:
        if self.rt.namespaced and namespace:
            return f"{self.rt.storage_prefix()}{namespace}/"
        return self.rt.storage_prefix()

    def matches(self, obj: m.JSONObject, opts: ListOptions) -> bool:
        if not opts.label_selector.empty and not opts.label_selector.matches(m.labels_of(obj)):
            return False
        return opts.field_selector.empty or opts.field_selector.matches(
            self.strategy.field_set(obj)
        )

    def event_matches(
        self, event: WatchEvent, opts: ListOptions, *, previous: bool = False
    ) -> bool:
        """:meth:`matches` for a watch event's object (or, with ``previous``, the object before
        it), its field set made once for every watcher the event is offered to."""
        obj = event.previous if previous else event.object
        if obj is None:
            return False
        if not opts.label_selector.empty and not opts.label_selector.matches(m.labels_of(obj)):
            return False
        if opts.field_selector.empty:
            return True
        fields = event._field_sets.get(previous)
        if fields is None:
            fields = event._field_sets[previous] = self.strategy.field_set(obj)
        return opts.field_selector.matches(fields)

    async def list(self, namespace: str, opts: ListOptions) -> m.JSONObject:
        """A ``<Kind>List`` honouring selectors, ``limit``/``continue`` and resourceVersion."""
        found, list_meta = await self._list_page(namespace, opts)
        decoded = [self._decode(kv) if obj is None else obj for kv, obj in found]
        items = [self._as_item(obj) for obj in await self._served_all(decoded)]
        return {
            "kind": self.rt.list_kind,
            "apiVersion": self.rt.api_version,
            "metadata": list_meta,
            "items": items,
        }

    async def list_json(self, namespace: str, opts: ListOptions) -> bytes:
        """:meth:`list`, encoded: the same JSON document, built from the stored bytes.

        An item stored in :func:`encode`'s form is spliced: ``{"metadata":{"resourceVersion":…,``
        (after the stored ``{"apiVersion":…,"kind":…,"metadata":{`` head itself for kinds whose
        items are typed) and its stored bytes after that head. That is the object :meth:`list`
        returns (the revision added; only the order of keys differs) without decoding and re-encoding it. Other items take the decoding path.
        """
        found, list_meta = await self._list_page(namespace, opts)
        head = self._stored_head
        skip = len(head)
        items: list[bytes] = []
        decoded: list[tuple[int, m.JSONObject]] = []  # items to decode (and maybe convert)
        for kv, obj in found:
            value = kv.value
            if value.startswith(head) and value[skip] != _CLOSE_BRACE:
                revision = b'"resourceVersion":"' + str(kv.mod_revision).encode() + b'",'
                start = head if self.rt.typed_list_items else b'{"metadata":{'
                items.append(start + revision + value[skip:])
                continue
            decoded.append((len(items), self._decode(kv) if obj is None else obj))
            items.append(b"")
        served = await self._served_all([obj for _, obj in decoded])
        for (index, _), obj in zip(decoded, served, strict=True):
            items[index] = orjson.dumps(self._as_item(obj))
        return b"".join(
            (self._list_json_head, orjson.dumps(list_meta), b',"items":[', b",".join(items), b"]}")
        )

    async def _list_page(
        self, namespace: str, opts: ListOptions
    ) -> tuple[_PageItems, m.JSONObject]:
        """The stored items of one list page, each with its decoded object if a selector needed
        it, and the list's metadata.

        With a selector a backend page may be mostly filtered away; as kube-apiserver's etcd3
        store does, the next page asked for is then twice as large (up to ``_MAX_PAGE``), and
        the continue token names the last key examined.
        """
        self.strategy.check_field_selector_labels(
            [r.field for r in opts.field_selector.requirements]
        )
        revision = 0
        start_after = ""
        if opts.continue_token:
            revision, start_after = decode_continue(opts.continue_token)
        elif opts.resource_version_match == "Exact":
            revision = parse_rv(opts.resource_version)
        elif opts.resource_version not in ("", "0"):
            parse_rv(opts.resource_version)
        prefix = self._prefix(namespace)
        pinned = opts.field_selector.exact_value("metadata.name")
        filtering = not (opts.label_selector.empty and opts.field_selector.empty)
        found: _PageItems = []
        more = False
        remaining = 0
        read_revision = revision
        page_limit = opts.limit
        try:
            while True:
                page = await self.backend.list(
                    prefix, revision=read_revision, limit=page_limit, start_after=start_after
                )
                read_revision = page.revision
                more = page.more
                remaining = page.remaining
                if not filtering:  # the page is exactly what was asked for: take it whole
                    found.extend((kv, None) for kv in page.items)
                    if page.items:
                        start_after = page.items[-1].key
                    break
                # Rule 8: selectors see the objects at this kind's version, converted together.
                served = await self._served_page(page.items, pinned)
                for kv in page.items:
                    if opts.limit and len(found) >= opts.limit:
                        more = True  # the page went on past a full bucket
                        break
                    start_after = kv.key
                    if pinned is not None and not kv.key.endswith("/" + pinned):
                        continue
                    obj = self._decode(kv) if served is None else served[kv.key]
                    if self.matches(obj, opts):
                        found.append((kv, obj))
                if not opts.limit or not more or len(found) >= opts.limit:
                    break
                page_limit = min(page_limit * 2, max(_MAX_PAGE, opts.limit))
        except CompactedError as exc:
            if opts.continue_token:
                raise Gone(CONTINUE_TOO_OLD) from exc
            raise Gone(f"too old resource version: {revision} ({exc.compacted + 1})") from exc
        except StorageError as exc:
            raise storage_status(exc) from exc
        list_meta: m.JSONObject = {"resourceVersion": str(read_revision)}
        if opts.limit and more:
            list_meta["continue"] = encode_continue(read_revision, start_after)
            if not filtering:
                list_meta["remainingItemCount"] = remaining
        return found, list_meta

    # --- writes -----------------------------------------------------------------------------
    def _invalid(self, name: str, causes: Sequence[Cause]) -> Invalid:
        return invalid(self.rt.kind, name, causes, self.rt.group)

    def _validate_create(self, obj: m.JSONObject) -> None:
        causes = self.strategy.validate_metadata(obj, creating=True)
        causes.extend(self.strategy.validate(obj))
        causes.extend(self.strategy.validate_create(obj))
        if causes:
            raise self._invalid(m.name_of(obj), causes)

    async def create(
        self,
        namespace: str,
        obj: m.JSONObject,
        *,
        dry_run: bool = False,
        scope: RequestScope | None = None,
        admission: WriteAdmission | None = None,
    ) -> m.JSONObject:
        obj = clone(obj)
        if admission is not None:
            await admission.mutate(obj, None)
        meta = m.metadata(obj)
        if self.rt.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{_random_suffix()}"
        for server_owned in (
            "uid",
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ):
            meta.pop(server_owned, None)
        meta["uid"] = m.new_uid()
        meta["creationTimestamp"] = m.format_time(m.now())
        meta["generation"] = 1
        self.strategy.prepare_for_create(obj, scope)
        self.strategy.default(obj)
        if scope is not None and scope.field_manager:
            self.field_manager.updated(None, obj, scope.field_manager, scope.subresource)
        self._validate_create(obj)
        self._with_type(obj)
        finish = await self._begin(self.hooks.begin_create(obj, dry_run) if self.hooks else None)
        try:
            await self._check_and_admit(namespace, obj, None, scope, admission)
            name = str(meta["name"])
            key = self.rt.storage_key(namespace, name)
            if dry_run:
                if await self.backend.get(key) is not None:
                    raise self._already_exists(name)
            else:
                stored = await self._storable(obj)
                try:
                    kv = await self.backend.create(key, self._encode(stored))
                except KeyExistsError as exc:
                    raise self._already_exists(name) from exc
                except StorageError as exc:
                    raise storage_status(exc) from exc
                obj = await self._round_trip(obj, stored)
                m.metadata(obj)["resourceVersion"] = str(kv.mod_revision)
        except BaseException:
            await finish(False)
            raise
        await finish(True)
        return obj

    @staticmethod
    async def _begin(began: Awaitable[FinishWrite] | None) -> FinishWrite:
        """Rule 8: the hook's finish function, or one that does nothing for a kind without."""
        if began is None:
            return _finish_nothing
        return await began

    async def _check_and_admit(
        self,
        namespace: str,
        obj: m.JSONObject,
        old: m.JSONObject | None,
        scope: RequestScope | None,
        admission: WriteAdmission | None,
    ) -> None:
        """Rule 7's last steps before storage: the kind's write checks, validating admission."""
        if scope is not None:
            for check in self.write_checks:
                await check(scope, namespace if self.rt.namespaced else "", obj, old)
        if admission is not None:
            await admission.validate(obj, old)

    def _already_exists(self, name: str) -> AlreadyExists:
        return AlreadyExists(
            f'{self.rt.qualified_resource} "{name}" already exists',
            StatusDetails(name=name, group=self.rt.group, kind=self.rt.resource),
        )

    @contextlib.contextmanager
    def _write_errors(self, name: str) -> Iterator[None]:
        """Storage errors of a compare-and-swap write, as the Status a client should see."""
        try:
            yield
        except RevisionMismatch as exc:
            raise self._conflict(name) from exc
        except KeyNotFoundError as exc:
            raise self._not_found(name) from exc
        except StorageError as exc:
            raise storage_status(exc) from exc

    def _conflict(self, name: str) -> Conflict:
        return Conflict(
            f'Operation cannot be fulfilled on {self.rt.qualified_resource} "{name}": the object '
            "has been modified; please apply your changes to the latest version and try again",
            StatusDetails(name=name, group=self.rt.group, kind=self.rt.resource),
        )

    def _prepare_update(
        self,
        new: m.JSONObject,
        old: m.JSONObject,
        subresource: str,
        scope: RequestScope | None = None,
    ) -> m.JSONObject:
        if subresource:
            applied = m.metadata(new).get("managedFields")
            new = self.strategy.prepare_for_subresource_update(new, old, subresource)
            if scope is not None and scope.applying:
                if applied:
                    m.metadata(new)["managedFields"] = applied
                else:
                    m.metadata(new).pop("managedFields", None)
        else:
            new = clone(new)
            self.strategy.prepare_for_update(new, old)
        meta = m.metadata(new)
        old_meta = m.metadata(old)
        for fixed in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "namespace",
            "generateName",
        ):
            if fixed in old_meta:
                meta[fixed] = old_meta[fixed]
            else:
                meta.pop(fixed, None)
        meta["name"] = old_meta.get("name")
        generation = int(old_meta.get("generation") or 1)
        if subresource != "status" and self.strategy.generation_changed(new, old):
            generation += 1
        meta["generation"] = generation
        self.strategy.default(new)
        if scope is not None and scope.field_manager:
            self.field_manager.updated(old, new, scope.field_manager, scope.subresource)
        causes = self.strategy.validate_metadata(new, creating=False)
        causes.extend(self.strategy.validate(new))
        if subresource:
            causes.extend(self.strategy.validate_subresource_update(new, old, subresource))
        else:
            causes.extend(self.strategy.validate_update(new, old))
        if causes:
            raise self._invalid(m.name_of(old), causes)
        return self._with_type(new)

    async def update(
        self,
        namespace: str,
        name: str,
        new: m.JSONObject,
        *,
        subresource: str = "",
        dry_run: bool = False,
        scope: RequestScope | None = None,
        admission: WriteAdmission | None = None,
    ) -> m.JSONObject:
        """Replace the object (PUT). A ``resourceVersion`` in ``new`` makes it conditional."""
        wanted_rv = str(m.metadata(new).get("resourceVersion") or "")
        current = await self.get(namespace, name)
        current_rv = str(current["metadata"].get("resourceVersion"))
        if wanted_rv and wanted_rv != current_rv:
            raise self._conflict(name)
        return await self._write_update(
            namespace,
            name,
            new,
            current,
            subresource=subresource,
            dry_run=dry_run,
            scope=scope,
            admission=admission,
        )

    async def guaranteed_update(
        self,
        namespace: str,
        name: str,
        mutate: Mutation,
        *,
        subresource: str = "",
        dry_run: bool = False,
        scope: RequestScope | None = None,
        admission: WriteAdmission | None = None,
    ) -> m.JSONObject:
        """Read, apply ``mutate``, write; retry on a lost race (used by PATCH and controllers).

        Each attempt runs admission and the strategy again on the object it read (rule 7). A
        ``resourceVersion`` the mutation sets other than the one read is the caller's
        precondition (409); a lost race is always retried, and a precondition that no longer
        holds on the fresh object is then the 409 — a patch that names no resourceVersion never
        conflicts, as upstream's GuaranteedUpdate. As there, the retries are not counted: every
        lost race means another writer won, and the request's timeout bounds the whole (with a
        count of 8, the last of 12 concurrent patches could lose 8 races and get a 409).
        """
        while True:
            current = await self.get(namespace, name)
            new = mutate(clone(current))
            wanted_rv = str(m.metadata(new).get("resourceVersion") or "")
            if wanted_rv and wanted_rv != current["metadata"].get("resourceVersion"):
                raise self._conflict(name)
            try:
                return await self._write_update(
                    namespace,
                    name,
                    new,
                    current,
                    subresource=subresource,
                    dry_run=dry_run,
                    scope=scope,
                    admission=admission,
                )
            except Conflict as exc:
                if isinstance(exc.__cause__, RevisionMismatch):
                    continue  # lost the race: read again
                raise  # a plugin's or a precondition's 409 is the answer

    async def _write_update(
        self,
        namespace: str,
        name: str,
        new: m.JSONObject,
        current: m.JSONObject,
        *,
        subresource: str,
        dry_run: bool,
        scope: RequestScope | None,
        admission: WriteAdmission | None,
    ) -> m.JSONObject:
        new_meta = m.metadata(new)
        if new_meta.get("name") not in (None, "", name):
            raise BadRequest(
                f"the name of the object ({new_meta.get('name')}) does not match the name on the URL ({name})"
            )
        if admission is not None:
            new = clone(new)
            await admission.mutate(new, current)
        prepared = self._prepare_update(new, current, subresource, scope)
        finish = await self._begin(
            self.hooks.begin_update(prepared, current, dry_run) if self.hooks else None
        )
        try:
            finishing = await self._store_update(
                namespace, name, prepared, current, scope, admission, dry_run
            )
        except BaseException:
            await finish(False)
            raise
        await finish(True)
        if finishing and self.hooks is not None:
            await self.hooks.after_delete(prepared)
        return prepared

    async def _store_update(
        self,
        namespace: str,
        name: str,
        prepared: m.JSONObject,
        current: m.JSONObject,
        scope: RequestScope | None,
        admission: WriteAdmission | None,
        dry_run: bool,
    ) -> bool:
        """The checks after the strategy and the write itself; True when the write completed a
        deletion (the last finalizer removed)."""
        await self._check_and_admit(namespace, prepared, current, scope, admission)
        current_rv = int(current["metadata"]["resourceVersion"])
        prepared_meta = m.metadata(prepared)
        prepared_meta.pop("resourceVersion", None)
        if _unchanged(prepared, current):
            prepared_meta["resourceVersion"] = str(current_rv)
            return False
        key = self.rt.storage_key(namespace, name)
        finishing = (
            bool(prepared_meta.get("deletionTimestamp"))
            and not prepared_meta.get("finalizers")
            and not self.strategy.blocks_deletion(prepared)
        )
        if dry_run:
            prepared_meta["resourceVersion"] = str(current_rv)
            return False
        stored = prepared if finishing else await self._storable(prepared)
        with self._write_errors(name):
            if finishing:
                kv = await self.backend.delete(key, current_rv)
            else:
                kv = await self.backend.update(key, self._encode(stored), current_rv)
        read_back = await self._round_trip(prepared, stored)
        if read_back is not prepared:  # converted back to the version asked for, in place
            prepared.clear()
            prepared.update(read_back)
        m.metadata(prepared)["resourceVersion"] = str(kv.mod_revision)
        return finishing

    async def delete(
        self,
        namespace: str,
        name: str,
        *,
        precondition_uid: str = "",
        precondition_rv: str = "",
        dry_run: bool = False,
        graceful: bool = False,
        grace_period_seconds: int = 0,
        admission: WriteAdmission | None = None,
        propagation: Propagation | None = None,
    ) -> tuple[m.JSONObject, bool]:
        """Delete; returns ``(object, deleted_now)``.

        With finalizers, or with ``graceful`` (a pod bound to a node), the object is only marked
        with ``deletionTimestamp`` and ``deleted_now`` is False. ``admission`` sees the object
        as stored, as both the object and the old one; a refusal deletes nothing.
        ``propagation`` adds or removes the garbage collector's finalizers first
        (``api.registry.propagation``).
        """
        current = await self.get(namespace, name)
        self.strategy.check_delete(current)
        if admission is not None:
            await admission.mutate(clone(current), current)
            await admission.validate(current, current)
        meta = m.metadata(current)
        if precondition_uid and meta.get("uid") != precondition_uid:
            raise Conflict(
                f'Operation cannot be fulfilled on {self.rt.qualified_resource} "{name}": '
                f"Precondition failed: UID in precondition: {precondition_uid}, UID in object meta: {meta.get('uid')}",
                StatusDetails(name=name, group=self.rt.group, kind=self.rt.resource),
            )
        if precondition_rv and meta.get("resourceVersion") != precondition_rv:
            raise Conflict(
                f'Operation cannot be fulfilled on {self.rt.qualified_resource} "{name}": '
                f"Precondition failed: ResourceVersion in precondition: {precondition_rv}, "
                f"ResourceVersion in object meta: {meta.get('resourceVersion')}",
                StatusDetails(name=name, group=self.rt.group, kind=self.rt.resource),
            )
        current_rv = int(meta["resourceVersion"])
        key = self.rt.storage_key(namespace, name)
        current_finalizers = [str(f) for f in meta.get("finalizers") or []]
        finalizers = (propagation or Propagation()).finalizers(current_finalizers)
        if finalizers or graceful or self.strategy.blocks_deletion(current):
            if meta.get("deletionTimestamp") and finalizers == current_finalizers:
                return current, False
            marked = clone(current)
            mmeta = m.metadata(marked)
            if finalizers:
                mmeta["finalizers"] = finalizers
            else:
                mmeta.pop("finalizers", None)
            if not mmeta.get("deletionTimestamp"):
                mmeta["deletionTimestamp"] = m.format_time(m.now())
                mmeta["deletionGracePeriodSeconds"] = grace_period_seconds if graceful else 0
            self.strategy.mark_deleting(marked)
            mmeta.pop("resourceVersion", None)
            if dry_run:
                return marked, False
            stored = await self._storable(marked)
            with self._write_errors(name):
                kv = await self.backend.update(key, self._encode(stored), current_rv)
            marked = await self._round_trip(marked, stored)
            m.metadata(marked)["resourceVersion"] = str(kv.mod_revision)
            return marked, False
        if dry_run:
            return current, True
        with self._write_errors(name):
            kv = await self.backend.delete(key, current_rv)
        meta["resourceVersion"] = str(kv.mod_revision)
        if self.hooks is not None:
            await self.hooks.after_delete(current)
        return current, True

    # --- watch ------------------------------------------------------------------------------
    async def watch_from(
        self,
        namespace: str,
        revision: int,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> AsyncIterator[WatchEvent]:
        """Events of this kind (in ``namespace`` if given) after ``revision``, straight from
        storage; ``on_progress`` hears the storage's progress (storage/interfaces.py rule 7)."""
        prefix = self._prefix(namespace)
        try:
            async for event in self.backend.watch(prefix, revision, on_progress=on_progress):
                if self.rt.converter is None:
                    yield self.to_watch_event(event)
                else:
                    yield await self._converted_watch_event(event)
        except CompactedError as exc:
            raise Gone(f"too old resource version: {revision} ({exc.compacted + 1})") from exc

    def to_watch_event(self, event: Event) -> WatchEvent:
        obj: m.JSONObject = self.strategy.from_storage(orjson.loads(event.value))
        m.metadata(obj)["resourceVersion"] = str(event.revision)
        self._with_type(obj)
        previous = None
        if event.type is EventType.UPDATE and event.prev_value is not None:
            previous = self.strategy.from_storage(orjson.loads(event.prev_value))
        return WatchEvent(_EVENT_TYPES[event.type], obj, event.revision, previous)

    async def _converted_watch_event(self, event: Event) -> WatchEvent:
        """Rule 8 for a watch: the object (and the one before it) at this kind's version."""
        objs: list[m.JSONObject] = [self.strategy.from_storage(orjson.loads(event.value))]
        if event.type is EventType.UPDATE and event.prev_value is not None:
            objs.append(self.strategy.from_storage(orjson.loads(event.prev_value)))
        objs = [self._with_kind(o) for o in await self._served_all(objs)]
        m.metadata(objs[0])["resourceVersion"] = str(event.revision)
        previous = objs[1] if len(objs) > 1 else None
        return WatchEvent(_EVENT_TYPES[event.type], objs[0], event.revision, previous)

    def _with_kind(self, obj: m.JSONObject) -> m.JSONObject:
        obj["kind"] = self.rt.kind
        return obj


_EVENT_TYPES = {
    EventType.CREATE: "ADDED",
    EventType.UPDATE: "MODIFIED",
    EventType.DELETE: "DELETED",
}


async def _finish_nothing(succeeded: bool) -> None:
    del succeeded


def clone(obj: m.JSONObject) -> m.JSONObject:
    """A deep copy of a JSON object: through orjson, several times faster than ``deepcopy``
    on the nested dictionaries objects are (``managedFields`` doubles their depth); a value
    orjson cannot encode (an integer beyond 64 bits) falls back to ``deepcopy``."""
    try:
        copied: m.JSONObject = orjson.loads(orjson.dumps(obj))
    except TypeError:
        return copy.deepcopy(obj)
    return copied


def _unchanged(new: m.JSONObject, old: m.JSONObject) -> bool:
    old_meta = old.get("metadata")
    new_meta = new.get("metadata")
    if not isinstance(old_meta, dict) or not isinstance(new_meta, dict):
        return new == old
    if new.keys() != old.keys():
        return False
    if any(new[k] != old[k] for k in new if k != "metadata"):
        return False
    rest = {k: v for k, v in old_meta.items() if k != "resourceVersion"}
    return new_meta == rest


def _random_suffix() -> str:
    import secrets

    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(secrets.choice(alphabet) for _ in range(5))
