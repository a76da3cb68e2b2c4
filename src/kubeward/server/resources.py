"""REST handlers for stored kinds: get, list, watch, create, update, patch, delete.

The request has already been authenticated and authorized when it reaches these handlers.
Rules beyond the generic store's:

 1. The body's ``apiVersion``/``kind`` default from the URL; when given they must agree with it,
    and so must ``metadata.namespace`` and (for update) ``metadata.name`` — 400 otherwise.
 2. Every body (create, update, each patch's result, apply) is checked against the kind's
    schema before anything else reads it (``api.openapi.conform``; a custom resource's own schema
    for unknown fields): a value of the wrong JSON type is 400 (422 on ``patch`` for a patch).
    Unknown fields follow ``fieldValidation``: ``Strict`` is 400, ``Warn`` (the default for
    clients that send nothing) a ``Warning`` header and the field dropped, ``Ignore`` dropped
    silently — nothing unknown is ever stored.
 3. Every write — create, update, patch, apply, delete, each item of a deletecollection and
    subresource writes — hands the store the request's scope and the admission chain bound to
    the request (``handlers.admission``, built by ``admission.registry``); the store runs
    mutating admission → defaults → validation → validating admission → storage
    (``api.registry.scope``). Plugins see an ``AdmissionRequest``, never the HTTP request; a
    delete's plugins see the stored object as both the object and the old one.
 4. A pod bound to an existing node is deleted gracefully (``deletionTimestamp`` set first);
    other pods and objects go at once unless they carry finalizers.
 5. A request at a deprecated version (a CRD version's ``deprecated``) is answered with its
    ``Warning`` header, whatever the verb, as the apiextensions server does.
 6. ``propagationPolicy`` (body or query) and ``orphanDependents`` set the garbage
    collector's finalizers before the object is marked (``api.registry.propagation``).
 7. Every write names a field manager for ``managedFields``: ``?fieldManager=``, else the
    User-Agent before its first ``/`` (upstream's ``managerOrUserAgent``). Server-side apply
    (``application/apply-patch+yaml``) requires ``fieldManager`` (422 naming PatchOptions, as
    upstream) and merges through the kind's field manager (``api.fieldmanager``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from kubeward.admission.chain import AdmissionChain, BoundAdmission
from kubeward.admission.interfaces import CREATE, DELETE, UPDATE, AdmissionRequest, ObjectReader
from kubeward.api import meta as m
from kubeward.api.codec import MAX_BODY_BYTES, check_json_value, decode_body_async
from kubeward.api.customresources.schema import prune
from kubeward.api.fieldmanager import check_options, manager_from_user_agent
from kubeward.api.list_options import check_list_options, initial_events
from kubeward.api.openapi import (
    conform,
    decoding_error,
    has_schema,
    patch_decoding_error,
    strict_decoding_error,
    strict_patch_error,
    unknown_field_warnings,
)
from kubeward.api.registry.propagation import Propagation
from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.store import ListOptions, Store, WatchEvent
from kubeward.api.request_info import RequestInfo, is_true
from kubeward.api.scheme import ResourceType
from kubeward.api.selectors import (
    EQUALS,
    FieldRequirement,
    FieldSelector,
    parse_field_selector,
    parse_label_selector,
)
from kubeward.api.user import UserInfo
from kubeward.api.validation import field as field_errors
from kubeward.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    StatusError,
    invalid,
)
from kubeward.server.http import (
    TABLE_CONTENT_TYPE,
    json_bytes_response,
    json_response,
    status_body,
    success_status,
    wants_table,
    warning_header,
)
from kubeward.server.watch import Broadcasters
from kubeward.server.watch_writer import ChunkedWatchWriter, chunk
from kubeward.server.wiring.admission_wiring import NoObjects, delete_options, operation_options

log = logging.getLogger(__name__)

# The options object whose fieldManager a verb's 422 names, as upstream's.
_OPTIONS = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions"}

# A deletionTimestamp must stay a date: longer grace periods are cut to this (about 31 years).
_MAX_GRACE_SECONDS = 10**9
BOOKMARK_IDLE = 30.0  # seconds without an event before a watcher that allows them gets a bookmark
BOOKMARK_BEFORE_TIMEOUT = 2.0  # seconds before its timeout a watcher gets one more


@dataclass
class RequestContext:
    request: web.Request
    info: RequestInfo
    user: UserInfo
    rt: ResourceType
    store: Store
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Rule 5: a deprecated version warns on every request made at it.
        if self.rt.deprecation_warning:
            self.warnings.append(self.rt.deprecation_warning)

    @property
    def dry_run(self) -> bool:
        values = self.request.query.getall("dryRun", [])
        for value in values:
            if value != "All":
                raise BadRequest(f'dryRun: Unsupported value: "{value}": supported values: "All"')
        return bool(values)


def named_field_selector(info: RequestInfo, text: str) -> FieldSelector:
    """The field selector of a list or watch, narrowed to the request's name when it has one.

    Authorization decided on ``info.name`` (the path's name, or the one a ``metadata.name=``
    selector pins), so the objects served must be that name's and no other's: a selector that
    pins no name gets the name added, and one that pins another name is a 400, as upstream.
    """
    selector = parse_field_selector(text)
    if not info.name:
        return selector
    if selector.empty:
        return FieldSelector((FieldRequirement("metadata.name", EQUALS, info.name),))
    if selector.exact_value("metadata.name") != info.name:
        raise BadRequest("fieldSelector metadata.name doesn't match requested name")
    return selector


class ResourceHandlers:
    """The verbs on stored kinds, with the hooks later layers (admission) plug into."""

    def __init__(
        self,
        broadcasters: Broadcasters,
        *,
        table_builder: Callable[..., m.JSONObject] | None = None,
        node_store: Store | None = None,
        min_request_timeout: int = 1800,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.broadcasters = broadcasters
        self.table_builder = table_builder
        self.node_store = node_store
        self.min_request_timeout = min_request_timeout
        self.max_body_bytes = max_body_bytes
        # Set by the server's builder: the chain the admission flags ask for, and what its
        # plugins read other objects through.
        self.admission = AdmissionChain()
        self.object_reader: ObjectReader = NoObjects()

    # --- helpers ----------------------------------------------------------------------------
    async def _decode(self, body: bytes, content_type: str | None) -> m.JSONObject:
        return await decode_body_async(body, content_type, max_bytes=self.max_body_bytes)

    async def _read_object(self, ctx: RequestContext, body: bytes) -> m.JSONObject:
        obj = await self._decode(body, ctx.request.headers.get("Content-Type"))
        return self._checked_object(ctx, obj)

    def _checked_object(self, ctx: RequestContext, obj: m.JSONObject) -> m.JSONObject:
        rt = ctx.rt
        api_version = obj.get("apiVersion")
        kind = obj.get("kind")
        if (api_version and api_version != rt.api_version) or (kind and kind != rt.kind):
            raise BadRequest(
                f"the API version in the data ({api_version}) does not match the expected API version ({rt.api_version})"
                if api_version and api_version != rt.api_version
                else f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
            )
        obj["apiVersion"] = rt.api_version
        obj["kind"] = rt.kind
        meta = obj.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            raise BadRequest("metadata must be an object")
        self._check_fields(ctx, obj)
        body_ns = m.namespace_of(obj)
        if rt.namespaced and body_ns and body_ns != ctx.info.namespace:
            raise BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        return obj

    def _check_fields(
        self, ctx: RequestContext, obj: m.JSONObject, *, patching: bool = False
    ) -> None:
        mode = ctx.request.query.get("fieldValidation", "Warn") or "Warn"
        if mode not in ("Strict", "Warn", "Ignore"):
            raise BadRequest(
                f'fieldValidation: Unsupported value: "{mode}": supported values: "Ignore", "Strict", "Warn"'
            )
        rt = ctx.rt
        if patching:
            check_json_value(obj)  # a JSON patch can nest one body inside another
        if rt.openapi_schema is not None:
            # A custom resource: its strategy prunes what its schema does not know.
            unknown = prune(copy.deepcopy(obj), dict(rt.openapi_schema))
            if unknown and mode == "Strict":
                if patching:
                    raise strict_patch_error(unknown, obj)
                raise strict_decoding_error(unknown, kind=rt.kind, version=rt.api_version)
            if unknown and mode == "Warn":
                ctx.warnings.extend(unknown_field_warnings(unknown))
            return
        if not has_schema(rt.group, rt.version, rt.kind):
            return
        try:
            found = conform(obj, rt.group, rt.version, rt.kind)
        except BadRequest as exc:
            if patching:
                raise patch_decoding_error(exc, obj) from None
            raise decoding_error(exc, kind=rt.kind, version=rt.api_version) from None
        if not found.unknown:
            return
        if mode == "Strict":
            if patching:
                raise strict_patch_error(found.unknown, obj)
            raise strict_decoding_error(found.unknown, kind=rt.kind, version=rt.api_version)
        if mode == "Warn":
            ctx.warnings.extend(unknown_field_warnings(found.unknown))
        found.drop_unknown()

    def request_scope(
        self, ctx: RequestContext, *, field_manager: str | None = None
    ) -> RequestScope:
        """The store's view of the request; its field manager is rule 5's (upstream's
        ``managerOrUserAgent``) unless given."""
        if field_manager is None:
            q = ctx.request.query
            field_manager = q.get("fieldManager", "")
            if ctx.info.verb in ("create", "update", "patch"):
                check_options(field_manager, applying=False, kind=_OPTIONS[ctx.info.verb])
            if not field_manager:
                field_manager = manager_from_user_agent(ctx.request.headers.get("User-Agent", ""))
        return RequestScope(
            user=ctx.user,
            verb=ctx.info.verb,
            subresource=ctx.info.subresource,
            dry_run=ctx.dry_run,
            field_manager=field_manager,
        )

    def admission_for(
        self,
        ctx: RequestContext,
        operation: str,
        *,
        namespace: str | None = None,
        name: str | None = None,
        options: m.JSONObject | None = None,
    ) -> BoundAdmission:
        """The chain bound to this request; the store calls it around the strategy."""
        rt = ctx.rt
        request = AdmissionRequest(
            operation=operation,
            group=rt.group,
            version=rt.version,
            resource=rt.resource,
            kind=rt.kind,
            subresource=ctx.info.subresource,
            namespace=(ctx.info.namespace if namespace is None else namespace)
            if rt.namespaced
            else "",
            name=ctx.info.name if name is None else name,
            user=ctx.user,
            object={},
            dry_run=ctx.dry_run,
            warnings=ctx.warnings,
            verb=ctx.info.verb,
            options=operation_options(
                operation, ctx.request.query, ctx.request.query.getall("dryRun", []), options
            ),
        )
        return self.admission.bind(request, self.object_reader)

    def _respond(self, ctx: RequestContext, obj: m.JSONObject, status: int = 200) -> web.Response:
        if self.table_builder is not None and wants_table(ctx.request.headers.get("Accept", "")):
            table = self.table_builder(
                ctx.rt,
                [obj],
                include_object=ctx.request.query.get("includeObject", "Metadata"),
                resource_version=str(m.metadata(obj).get("resourceVersion", "")),
            )
            return self._with_warnings(ctx, json_response(table, status, TABLE_CONTENT_TYPE))
        return self._with_warnings(ctx, json_response(obj, status))

    def _with_warnings(self, ctx: RequestContext, response: web.Response) -> web.Response:
        for warning in ctx.warnings:
            response.headers.add("Warning", warning_header(warning))
        return response

    # --- verbs ------------------------------------------------------------------------------
    async def get(self, ctx: RequestContext) -> web.StreamResponse:
        obj = await ctx.store.get(
            ctx.info.namespace, ctx.info.name, ctx.request.query.get("resourceVersion", "")
        )
        return self._respond(ctx, obj)

    def _list_options(self, ctx: RequestContext) -> ListOptions:
        q = ctx.request.query
        limit_text = q.get("limit", "0") or "0"
        try:
            limit = max(0, int(limit_text))
        except ValueError:
            raise BadRequest(f'limit: Invalid value: "{limit_text}": must be an integer') from None
        match = q.get("resourceVersionMatch", "")
        if match not in ("", "Exact", "NotOlderThan"):
            raise BadRequest(
                f'resourceVersionMatch: Unsupported value: "{match}": supported values: "Exact", "NotOlderThan"'
            )
        if match and not q.get("resourceVersion"):
            raise BadRequest("resourceVersionMatch is forbidden unless resourceVersion is provided")
        if q.get("continue") and q.get("resourceVersion") not in (None, "", "0"):
            raise BadRequest("specifying resource version is not allowed when using continue")
        return ListOptions(
            label_selector=parse_label_selector(q.get("labelSelector", "")),
            field_selector=named_field_selector(ctx.info, q.get("fieldSelector", "")),
            limit=limit,
            continue_token=q.get("continue", ""),
            resource_version=q.get("resourceVersion", ""),
            resource_version_match=match,
        )

    async def list(self, ctx: RequestContext) -> web.StreamResponse:
        opts = self._list_options(ctx)
        if self.table_builder is None or not wants_table(ctx.request.headers.get("Accept", "")):
            # Plain JSON needs no object: the store splices the stored bytes (Store.list_json).
            return self._with_warnings(
                ctx, json_bytes_response(await ctx.store.list_json(ctx.info.namespace, opts))
            )
        result = await ctx.store.list(ctx.info.namespace, opts)
        items = []
        for item in result["items"]:
            item["apiVersion"] = ctx.rt.api_version
            item["kind"] = ctx.rt.kind
            items.append(item)
        table = self.table_builder(
            ctx.rt,
            items,
            include_object=ctx.request.query.get("includeObject", "Metadata"),
            resource_version=result["metadata"]["resourceVersion"],
            continue_token=result["metadata"].get("continue", ""),
            remaining=result["metadata"].get("remainingItemCount"),
        )
        return self._with_warnings(ctx, json_response(table, 200, TABLE_CONTENT_TYPE))

    async def create(self, ctx: RequestContext, body: bytes) -> web.StreamResponse:
        if ctx.info.name:
            raise MethodNotAllowed(
                f"the server does not allow this method on the requested resource (post {ctx.rt.resource} {ctx.info.name})"
            )
        obj = await self._read_object(ctx, body)
        created = await ctx.store.create(
            ctx.info.namespace,
            obj,
            dry_run=ctx.dry_run,
            scope=self.request_scope(ctx),
            admission=self.admission_for(ctx, CREATE),
        )
        return self._respond(ctx, created, 201)

    async def update(self, ctx: RequestContext, body: bytes) -> web.StreamResponse:
        obj = await self._read_object(ctx, body)
        name = m.name_of(obj)
        if name and name != ctx.info.name:
            raise BadRequest(
                f"the name of the object ({name}) does not match the name on the URL ({ctx.info.name})"
            )

        updated = await ctx.store.update(
            ctx.info.namespace,
            ctx.info.name,
            obj,
            subresource=ctx.info.subresource,
            dry_run=ctx.dry_run,
            scope=self.request_scope(ctx),
            admission=self.admission_for(ctx, UPDATE),
        )
        return self._respond(ctx, updated)

    async def patch(self, ctx: RequestContext, body: bytes) -> web.StreamResponse:
        from kubeward.api.patch import apply_patch

        content_type = (ctx.request.headers.get("Content-Type") or "").split(";")[0].strip()
        rt = ctx.rt
        if content_type == "application/apply-patch+yaml":
            return await self._server_side_apply(ctx, body)
        if "force" in ctx.request.query:
            raise invalid(
                "PatchOptions",
                "",
                [field_errors.forbidden("force", "may not be specified for non-apply patch")],
                "meta.k8s.io",
            )

        def mutate(current: m.JSONObject) -> m.JSONObject:
            patched = apply_patch(current, body, content_type, merge_root=rt.merge_root)
            self._check_fields(ctx, patched, patching=True)
            return patched

        updated = await ctx.store.guaranteed_update(
            ctx.info.namespace,
            ctx.info.name,
            mutate,
            subresource=ctx.info.subresource,
            dry_run=ctx.dry_run,
            scope=self.request_scope(ctx),
            admission=self.admission_for(ctx, UPDATE),
        )
        return self._respond(ctx, updated)

    async def _server_side_apply(self, ctx: RequestContext, body: bytes) -> web.StreamResponse:
        """``kubectl apply --server-side``: structured merge with field ownership (rule 5).

        The applied configuration merges over the live object (or creates it) through the
        kind's field manager, which raises the 409 of a conflict unless ``force=true``; the
        result then takes the ordinary write path (admission, strategy, validation).
        """
        q = ctx.request.query
        manager = q.get("fieldManager", "")
        check_options(manager, applying=True)
        force = is_true(q.get("force"))
        applied = await self._decode(body, "application/yaml")
        meta = applied.get("metadata")
        if meta is not None and not isinstance(meta, dict):
            raise BadRequest("metadata must be an object")
        if m.name_of(applied) not in ("", ctx.info.name):
            raise BadRequest("the name of the object does not match the name on the URL")
        m.metadata(applied)["name"] = ctx.info.name
        applied = self._checked_object(ctx, applied)
        fields = ctx.store.field_manager
        subresource = ctx.info.subresource
        scope = dataclasses.replace(self.request_scope(ctx, field_manager=""), applying=True)
        try:
            await ctx.store.get(ctx.info.namespace, ctx.info.name)
        except NotFound:
            if subresource:
                raise
            obj = fields.applied(None, applied, manager, force=force)
            created = await ctx.store.create(
                ctx.info.namespace,
                obj,
                dry_run=ctx.dry_run,
                scope=scope,
                admission=self.admission_for(ctx, CREATE),
            )
            return self._respond(ctx, created, 201)
        wanted_rv = m.metadata(applied).get("resourceVersion")

        def mutate(current: m.JSONObject) -> m.JSONObject:
            merged = fields.applied(
                current, copy.deepcopy(applied), manager, subresource, force=force
            )
            if not wanted_rv:
                m.metadata(merged).pop("resourceVersion", None)
            self._check_fields(ctx, merged, patching=True)
            return merged

        updated = await ctx.store.guaranteed_update(
            ctx.info.namespace,
            ctx.info.name,
            mutate,
            subresource=subresource,
            dry_run=ctx.dry_run,
            scope=scope,
            admission=self.admission_for(ctx, UPDATE),
        )
        return self._respond(ctx, updated)

    async def delete(self, ctx: RequestContext, body: bytes) -> web.StreamResponse:
        options = await self._delete_options(ctx, body)
        q = ctx.request.query
        grace_text = q.get("gracePeriodSeconds")
        grace = options.get("gracePeriodSeconds")
        if grace_text is not None:
            try:
                grace = int(grace_text)
            except ValueError:
                raise BadRequest(f'gracePeriodSeconds: Invalid value: "{grace_text}"') from None
        preconditions = options.get("preconditions") or {}
        merged = delete_options(options, grace, q)
        propagation = Propagation.from_options(merged)
        admission = self.admission_for(ctx, DELETE, options=merged)
        graceful, seconds = await self.graceful_for(ctx, grace)
        obj, deleted_now = await ctx.store.delete(
            ctx.info.namespace,
            ctx.info.name,
            precondition_uid=str(preconditions.get("uid") or ""),
            precondition_rv=str(preconditions.get("resourceVersion") or ""),
            dry_run=ctx.dry_run,
            graceful=graceful,
            grace_period_seconds=seconds,
            admission=admission,
            propagation=propagation,
        )
        if not deleted_now:
            return self._respond(ctx, obj, 200 if ctx.dry_run else 202)
        if ctx.rt.returns_deleted_object:
            return self._respond(ctx, obj)
        details = {
            "name": ctx.info.name,
            "group": ctx.rt.group,
            "kind": ctx.rt.resource,
            "uid": m.metadata(obj).get("uid", ""),
        }
        return self._with_warnings(
            ctx, status_body(success_status({k: v for k, v in details.items() if v}))
        )

    async def _delete_options(self, ctx: RequestContext, body: bytes) -> m.JSONObject:
        """The DeleteOptions body, type-checked like any object; unknown fields are dropped."""
        if not body.strip():
            return {}
        options = await self._decode(body, ctx.request.headers.get("Content-Type"))
        try:
            conform(options, ctx.rt.group, ctx.rt.version, "DeleteOptions").drop_unknown()
        except BadRequest as exc:
            raise decoding_error(exc, kind="DeleteOptions", version="v1") from None
        return options

    async def graceful_for(self, ctx: RequestContext, grace: Any) -> tuple[bool, int]:
        """Whether a DELETE of this object waits (a pod on an existing node), and how long."""
        if not ctx.rt.graceful_delete:
            return False, 0
        pod = await ctx.store.get(ctx.info.namespace, ctx.info.name)
        node = (pod.get("spec") or {}).get("nodeName")
        seconds = int(
            grace
            if grace is not None
            else (pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        )
        if not node or seconds <= 0 or self.node_store is None:
            return False, 0
        seconds = min(seconds, _MAX_GRACE_SECONDS)
        try:
            await self.node_store.get("", str(node))
        except NotFound:
            return False, 0
        return True, seconds

    async def delete_collection(self, ctx: RequestContext, body: bytes) -> web.StreamResponse:
        """Delete what the list selects, one item at a time, each through admission.

        As upstream's DeleteCollection, the first refusal ends the request with that error;
        the refused item stays, and so does every item after it.
        """
        opts = self._list_options(ctx)
        options = await self._delete_options(ctx, body)
        propagation = Propagation.from_options(delete_options(options, None, ctx.request.query))
        result = await ctx.store.list(ctx.info.namespace, opts)
        deleted = []
        for item in result["items"]:
            ns = m.namespace_of(item)
            name = m.name_of(item)
            admission = self.admission_for(
                ctx, DELETE, namespace=ns, name=name, options=delete_options(options, None, {})
            )
            with contextlib.suppress(NotFound):
                obj, _ = await ctx.store.delete(
                    ns, name, dry_run=ctx.dry_run, admission=admission, propagation=propagation
                )
                obj["apiVersion"] = ctx.rt.api_version
                obj["kind"] = ctx.rt.kind
                deleted.append(obj)
        return self._with_warnings(
            ctx,
            json_response(
                {
                    "kind": ctx.rt.list_kind,
                    "apiVersion": ctx.rt.api_version,
                    "metadata": {"resourceVersion": result["metadata"]["resourceVersion"]},
                    "items": deleted,
                }
            ),
        )

    # --- watch ------------------------------------------------------------------------------
    async def watch(self, ctx: RequestContext) -> web.StreamResponse:
        q = ctx.request.query
        check_list_options(q, watch=True)
        opts = ListOptions(
            label_selector=parse_label_selector(q.get("labelSelector", "")),
            field_selector=named_field_selector(ctx.info, q.get("fieldSelector", "")),
        )
        ctx.store.strategy.check_field_selector_labels(
            [r.field for r in opts.field_selector.requirements]
        )
        timeout_text = q.get("timeoutSeconds")
        if timeout_text:
            try:
                timeout = float(timeout_text)
            except ValueError:
                raise BadRequest(f'timeoutSeconds: Invalid value: "{timeout_text}"') from None
        else:
            # As kube-apiserver: a random duration between min-request-timeout and twice that.
            timeout = self.min_request_timeout * (1 + (time.monotonic_ns() % 1000) / 1000)
        bookmarks = is_true(q.get("allowWatchBookmarks"))
        send_initial = initial_events(q)
        rv_text = q.get("resourceVersion", "")
        as_table = self.table_builder is not None and wants_table(
            ctx.request.headers.get("Accept", "")
        )
        namespace = ctx.info.namespace
        initial: list[m.JSONObject] = []
        if send_initial or rv_text in ("", "0"):
            # sendInitialEvents=false with no resourceVersion starts at the current revision.
            listed = await ctx.store.list(
                namespace,
                ListOptions(
                    label_selector=opts.label_selector,
                    field_selector=opts.field_selector,
                    limit=0 if send_initial else 1,
                ),
            )
            start = int(listed["metadata"]["resourceVersion"])
            initial = listed["items"] if send_initial else []
        else:
            try:
                start = int(rv_text)
            except ValueError:
                raise BadRequest(f'invalid resource version "{rv_text}"') from None

        response = web.StreamResponse(status=200, headers={"Cache-Control": "no-cache, private"})
        for warning in ctx.warnings:
            response.headers.add("Warning", warning_header(warning))
        response.content_type = "application/json"
        if as_table:
            response.headers["Content-Type"] = TABLE_CONTENT_TYPE
        response.enable_chunked_encoding()
        await response.prepare(ctx.request)
        first_table = [True]

        def encode_event(event_type: str, obj: m.JSONObject) -> bytes:
            if (
                as_table
                and event_type in ("ADDED", "MODIFIED", "DELETED")
                and self.table_builder is not None
            ):
                payload = self.table_builder(
                    ctx.rt,
                    [obj],
                    include_object=q.get("includeObject", "Metadata"),
                    resource_version=str(m.metadata(obj).get("resourceVersion", "")),
                    with_headers=first_table[0],
                )
                first_table[0] = False
            else:
                payload = obj
            return orjson.dumps({"type": event_type, "object": payload}) + b"\n"

        def bookmark(revision: int, initial_end: bool = False) -> m.JSONObject:
            md: m.JSONObject = {"resourceVersion": str(revision)}
            if initial_end:
                md["annotations"] = {"k8s.io/initial-events-end": "true"}
            return {"kind": ctx.rt.kind, "apiVersion": ctx.rt.api_version, "metadata": md}

        # Plain JSON watchers without selectors share each event's encoding as it is (the
        # common case, and the one a thousand watchers hit), filtered by namespace at most.
        plain = not as_table and opts.label_selector.empty and opts.field_selector.empty
        by_namespace = bool(namespace) and ctx.rt.namespaced
        last_revision = [start]

        def encode_batch(batch: list[WatchEvent], shared: dict[object, bytes]) -> bytes:
            last_revision[0] = batch[-1].revision
            if plain:  # framed once per flush for every plain watcher of this namespace
                frame = shared.get(namespace if by_namespace else None)
                if frame is None:
                    if by_namespace:
                        lines = [
                            event.json_line() for event in batch if event.namespace == namespace
                        ]
                    else:
                        lines = [event.json_line() for event in batch]
                    frame = shared[namespace if by_namespace else None] = chunk(lines)
                return frame
            lines = []
            for event in batch:
                translated = self._filter_event(ctx, event, opts, namespace)
                if translated is None:
                    continue
                if not as_table and translated == (event.type, event.object):
                    lines.append(event.json_line())  # shared by every plain watcher
                else:
                    lines.append(encode_event(*translated))
            return chunk(lines)

        transport = ctx.request.transport
        if transport is None:
            return response  # the client went away before the watch started
        # A connection's pending events go out as one chunk, straight to the transport, from
        # the broadcaster's flush (server/watch.py, server/watch_writer.py).
        writer = ChunkedWatchWriter(transport, encode_batch)

        def close_if_stuck() -> None:
            # server/watch.py rule 3: the watcher fell too far behind. One whose connection
            # is not taking writes would never see the 410, so its connection is closed.
            if not writer.ready():
                writer.abort()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            lines: list[bytes] = []
            for obj in initial:
                obj["apiVersion"] = ctx.rt.api_version
                obj["kind"] = ctx.rt.kind
                lines.append(encode_event("ADDED", obj))
            if send_initial and bookmarks:
                lines.append(encode_event("BOOKMARK", bookmark(start, initial_end=True)))
            await response.write(b"".join(lines))  # the headers, and the initial events
            async with self.broadcasters.for_store(ctx.store).stream(start) as stream:
                stream.on_overflow = close_if_stuck
                stream.attach(writer)
                # Bookmarks: after BOOKMARK_IDLE seconds without an event, and once, whatever came,
                # BOOKMARK_BEFORE_TIMEOUT seconds before the watch times out (kube-apiserver's
                # cacheWatcher.nextBookmarkTime); each at the newest revision the watcher has
                # seen all of (server/watch.py rule 6: etcd's progress, not only its own kind).
                before_timeout = bookmarks and timeout > BOOKMARK_BEFORE_TIMEOUT
                while True:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    wait = min(remaining, BOOKMARK_IDLE)
                    last_call = before_timeout and remaining - BOOKMARK_BEFORE_TIMEOUT <= wait
                    if last_call:
                        wait = max(0.0, remaining - BOOKMARK_BEFORE_TIMEOUT)
                        before_timeout = False
                    deliveries = writer.deliveries
                    if await stream.wait_end(wait):
                        break
                    if bookmarks and (last_call or writer.deliveries == deliveries):
                        at = stream.bookmark_revision(last_revision[0])
                        writer.write(chunk([encode_event("BOOKMARK", bookmark(at))]))
        except StatusError as exc:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await response.write(
                    orjson.dumps({"type": "ERROR", "object": exc.to_status()}) + b"\n"
                )
        except ConnectionError:
            return response  # the client went away, or rule 3 closed the connection
        with contextlib.suppress(ConnectionError, RuntimeError):
            await response.write_eof()
        return response

    def _filter_event(
        self, ctx: RequestContext, event: WatchEvent, opts: ListOptions, namespace: str
    ) -> tuple[str, m.JSONObject] | None:
        obj = event.object
        if namespace and ctx.rt.namespaced and m.namespace_of(obj) != namespace:
            return None
        if opts.label_selector.empty and opts.field_selector.empty:
            return event.type, obj
        now_matches = ctx.store.event_matches(event, opts)
        if event.type == "MODIFIED":
            was_matching = ctx.store.event_matches(event, opts, previous=True)
            if now_matches and not was_matching:
                return "ADDED", obj
            if was_matching and not now_matches:
                return "DELETED", obj
        return (event.type, obj) if now_matches else None
