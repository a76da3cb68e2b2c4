"""The OpenAPI v3 documents served at ``/openapi/v3`` and ``/openapi/v3/<group-version>``.

kubectl reads them twice over. Before ``create``/``apply``/``replace`` it looks, in the document
of the object's group-version, for a PATCH operation whose ``x-kubernetes-group-version-kind``
is the object's kind and whose parameters include ``fieldValidation``; if it finds one it skips
client-side validation and sends ``?fieldValidation=Strict``, trusting the server to reject
unknown fields (see ``fields.py``). ``kubectl explain`` finds the kind the same way through the
resource's paths, then walks ``components.schemas``.

Rules:

1. The root lists every served group-version as ``{"serverRelativeURL":
   "/openapi/v3/<path>?hash=<H>"}``, where H is the upper-case hex SHA-512 of the document's
   JSON body, as kube-openapi computes it, so clients may cache a document for as long as its
   URL is unchanged.
2. Each resource gets its collection and item paths (and, when namespaced, the
   ``/namespaces/{namespace}/`` form plus the all-namespaces list), one operation per verb, each
   carrying the kind's ``x-kubernetes-group-version-kind``.
3. Every POST, PUT and PATCH operation - including those of subresources, because kubectl stops
   at the first PATCH operation of the kind it meets - takes ``dryRun``, ``fieldManager`` and
   ``fieldValidation``; PATCH also takes ``force``.
4. ``components.schemas`` holds exactly the schemas reachable from the group-version's kinds,
   their lists, their subresources' kinds and the meta kinds every group serves.
5. A kind the schema catalog lacks (a custom resource) brings its own schema
   (``OpenAPIResource.schema``, the CRD version's ``openAPIV3Schema``; an object that keeps
   unknown fields when it has none). It is published as upstream publishes CRD schemas: named
   by the reversed group (``com.example.v1.Widget``), with ``apiVersion``, ``kind`` and
   ``metadata`` added, and a ``<Kind>List``.
6. Documents are built once per (group, version, resources) and cached with their encoded body;
   callers must treat the returned mappings as read-only.
7. Schemas carry Kubernetes' descriptions when the user's ``kubernetes`` package provides them
   (``descriptions.py``); the structure is the same either way.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson

from kubeward.api.openapi import catalog, descriptions

OPENAPI_VERSION = "3.0.0"
JSON = "application/json"
PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)

# Meta schemas every group-version document carries (rule 4).
_META_SCHEMAS = (
    catalog.OBJECT_META,
    catalog.LIST_META,
    catalog.STATUS,
    catalog.DELETE_OPTIONS,
    catalog.WATCH_EVENT,
    catalog.PATCH,
)


@dataclass(frozen=True)
class OpenAPIResource:
    """One served resource, as the server's scheme knows it.

    ``verbs`` uses Kubernetes' verb names: get, list, watch, create, update, patch, delete,
    deletecollection. ``subresources`` names the subresources served under the item path,
    e.g. ``("status",)`` or ``("binding", "status")``.
    """

    kind: str
    resource: str
    namespaced: bool
    verbs: tuple[str, ...]
    subresources: tuple[str, ...] = ()
    schema: str = ""  # JSON of the kind's own schema, for kinds the catalog lacks (rule 5)


@dataclass(frozen=True)
class ServedDocument:
    """A built group-version document with the exact bytes to send and their hash."""

    path: str  # "api/v1" or "apis/<group>/<version>"
    document: Mapping[str, Any] = field(compare=False, repr=False)
    body: bytes = field(repr=False)
    hash: str = ""

    @property
    def server_relative_url(self) -> str:
        return server_relative_url(self.path, self.hash)


@dataclass(frozen=True)
class _Subresource:
    verbs: tuple[str, ...]
    kind: tuple[str, str, str] | None  # (group, version, kind); None means the parent's kind


# Subresources that carry an object body. Connect-style ones (exec, attach, log, proxy,
# portforward) have no schema and are left out of the documents.
_SUBRESOURCES = {
    "status": _Subresource(("get", "update", "patch"), None),
    "approval": _Subresource(("get", "update", "patch"), None),
    "ephemeralcontainers": _Subresource(("get", "update", "patch"), None),
    "resize": _Subresource(("get", "update", "patch"), None),
    "scale": _Subresource(("get", "update", "patch"), ("autoscaling", "v1", "Scale")),
    "binding": _Subresource(("create",), ("", "v1", "Binding")),
    "eviction": _Subresource(("create",), ("policy", "v1", "Eviction")),
    "token": _Subresource(("create",), ("authentication.k8s.io", "v1", "TokenRequest")),
}


def _query(name: str, json_type: str = "string", description: str = "") -> dict[str, Any]:
    schema = {"type": json_type, "uniqueItems": True}
    param: dict[str, Any] = {"in": "query", "name": name, "schema": schema}
    if description:
        param["description"] = description
    return param


def _path(name: str) -> dict[str, Any]:
    return {
        "in": "path",
        "name": name,
        "required": True,
        "schema": {"type": "string", "uniqueItems": True},
    }


_DRY_RUN = _query("dryRun", description="'All' processes the request without persisting it.")
_FIELD_MANAGER = _query("fieldManager", description="The name of the actor making the change.")
_FIELD_VALIDATION = _query(
    "fieldValidation",
    description="Ignore, Warn or Strict: what the server does about unknown fields in the body.",
)
_FORCE = _query("force", "boolean", "Take ownership of conflicting fields (apply only).")
_WRITE_PARAMS = (_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION)
_PATCH_PARAMS = (*_WRITE_PARAMS, _FORCE)
_DELETE_PARAMS = (
    _DRY_RUN,
    _query("gracePeriodSeconds", "integer"),
    _query("propagationPolicy"),
)
_LIST_PARAMS = (
    _query("allowWatchBookmarks", "boolean"),
    _query("continue"),
    _query("fieldSelector"),
    _query("labelSelector"),
    _query("limit", "integer"),
    _query("resourceVersion"),
    _query("resourceVersionMatch"),
    _query("sendInitialEvents", "boolean"),
    _query("timeoutSeconds", "integer"),
    _query("watch", "boolean"),
)
_GET_PARAMS = (_query("resourceVersion"),)
_NAME = _path("name")
_NAMESPACE = _path("namespace")


def group_version_path(group: str, version: str) -> str:
    """``api/v1`` for the core group, ``apis/<group>/<version>`` otherwise."""
    return f"api/{version}" if group == "" else f"apis/{group}/{version}"


def parse_group_version_path(path: str) -> tuple[str, str] | None:
    """The inverse of :func:`group_version_path`; None for anything else."""
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "api" and parts[1]:
        return "", parts[1]
    if len(parts) == 3 and parts[0] == "apis" and parts[1] and parts[2]:
        return parts[1], parts[2]
    return None


def server_relative_url(path: str, digest: str) -> str:
    url = f"/openapi/v3/{path}"
    return f"{url}?{urlencode({'hash': digest})}" if digest else url


def document_hash(body: bytes) -> str:
    """The ``hash`` of a document's URL: upper-case hex SHA-512 of its JSON body (rule 1)."""
    return hashlib.sha512(body).hexdigest().upper()


# Hash of the document last returned per group-version path, for bare paths in the root.
_LATEST_HASH: dict[str, str] = {}


def root_document(paths: Iterable[str | ServedDocument]) -> dict[str, Any]:
    """The ``/openapi/v3`` discovery document listing the given group-versions.

    Each entry is a group-version path (``api/v1``, ``apis/rbac.authorization.k8s.io/v1``) or
    a :class:`ServedDocument`. A document brings its own hash; a bare path gets the hash of
    the document last returned for it by :func:`served_document` (or
    :func:`group_version_document`), and no hash if none was built yet.
    """
    urls: dict[str, str] = {}
    for entry in paths:
        if isinstance(entry, ServedDocument):
            urls[entry.path] = entry.server_relative_url
        else:
            urls[entry] = server_relative_url(entry, _LATEST_HASH.get(entry, ""))
    return {"paths": {path: {"serverRelativeURL": urls[path]} for path in sorted(urls)}}


def group_version_document(
    group: str, version: str, resources: Sequence[OpenAPIResource]
) -> Mapping[str, Any]:
    """The OpenAPI v3 document of one group-version (cached; read-only)."""
    return served_document(group, version, resources).document


def served_document(
    group: str, version: str, resources: Sequence[OpenAPIResource]
) -> ServedDocument:
    """The group-version document with its encoded body and hash (cached)."""
    served = _build(group, version, tuple(resources))
    _LATEST_HASH[served.path] = served.hash
    return served


@functools.lru_cache(maxsize=128)
def _build(group: str, version: str, resources: tuple[OpenAPIResource, ...]) -> ServedDocument:
    builder = _DocumentBuilder(group, version)
    for resource in resources:
        builder.add(resource)
    document = builder.document()
    body = orjson.dumps(document)
    return ServedDocument(group_version_path(group, version), document, body, document_hash(body))


def _words(group: str) -> list[str]:
    return ["core"] if group == "" else re.split(r"[.\-]", group.removesuffix(".k8s.io"))


class _DocumentBuilder:
    def __init__(self, group: str, version: str) -> None:
        self.group = group
        self.version = version
        self.prefix = "/" + group_version_path(group, version)
        words = _words(group)
        self.tag = words[0] + "".join(w.capitalize() for w in words[1:]) + "_" + version
        self.op_prefix = "".join(w.capitalize() for w in words) + version.capitalize()
        self.paths: dict[str, dict[str, Any]] = {}
        self.roots: set[str] = set(_META_SCHEMAS)
        self.inline: dict[str, dict[str, Any]] = {}  # rule 5: name -> schema
        self._inline_names: dict[str, str] = {}  # kind -> name

    def document(self) -> dict[str, Any]:
        schemas = catalog.all_schemas()
        return {
            "openapi": OPENAPI_VERSION,
            "info": {"title": "Kubernetes", "version": "unversioned"},
            "paths": self.paths,
            "components": {
                "schemas": {
                    **{
                        n: descriptions.describe(n, schemas[n]) for n in catalog.closure(self.roots)
                    },
                    **self.inline,
                }
            },
        }

    def _schema(self, group: str, version: str, kind: str) -> str:
        inline = (
            self._inline_names.get(kind) if (group, version) == (self.group, self.version) else None
        )
        if inline is not None:
            return inline
        name = catalog.schema_name(group, version, kind)
        if name is None:
            gv = f"{group}/{version}" if group else version
            raise ValueError(f"openapi: no schema for {gv} {kind}; add it to the generator")
        self.roots.add(name)
        return name

    def add(self, resource: OpenAPIResource) -> None:
        """Add the paths of one resource and the schemas of its kinds (rules 2 and 4)."""
        gvk = {"group": self.group, "kind": resource.kind, "version": self.version}
        if catalog.schema_name(self.group, self.version, resource.kind) is None:
            self._add_inline(resource)
        kind_schema = self._schema(self.group, self.version, resource.kind)
        list_schema = self._inline_names.get(f"{resource.kind}List") or catalog.schema_name(
            self.group, self.version, f"{resource.kind}List"
        )
        if list_schema is not None and list_schema not in self.inline:
            self.roots.add(list_schema)
        listed = list_schema or kind_schema
        verbs = set(resource.verbs)
        ns = "/namespaces/{namespace}" if resource.namespaced else ""
        collection = f"{self.prefix}{ns}/{resource.resource}"
        item = f"{collection}/{{name}}"
        name = ("Namespaced" if resource.namespaced else "") + resource.kind
        ops = _Operations(self, gvk, name)

        self._add_path(
            collection,
            self._collection_operations(ops, verbs, kind_schema, listed),
            resource.namespaced,
            False,
        )
        if resource.namespaced and "list" in verbs:
            everywhere = _Operations(self, gvk, f"{resource.kind}ForAllNamespaces")
            self._add_path(
                f"{self.prefix}/{resource.resource}",
                self._collection_operations(everywhere, {"list"}, kind_schema, listed),
                False,
                False,
            )
        self._add_path(
            item, self._item_operations(ops, verbs, kind_schema), resource.namespaced, True
        )
        for sub in resource.subresources:
            spec = _SUBRESOURCES.get(sub)
            if spec is not None:
                self._add_subresource(item, sub, spec, resource.namespaced, gvk, name)

    def _add_inline(self, resource: OpenAPIResource) -> None:
        """Rule 5: the kind's own schema and its list, named as upstream names CRD schemas."""
        prefix = ".".join(reversed(self.group.split("."))) + "." + self.version
        own: dict[str, Any] = orjson.loads(resource.schema) if resource.schema else {}
        if not own:
            own = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        self.roots.update(catalog.references(own))  # catalog schemas it points to
        properties = {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"allOf": [_ref(catalog.OBJECT_META)]},
            **{k: v for k, v in (own.get("properties") or {}).items() if k != "metadata"},
        }
        gvk = {"group": self.group, "kind": resource.kind, "version": self.version}
        name = f"{prefix}.{resource.kind}"
        self.inline[name] = {
            **own,
            "type": "object",
            "properties": properties,
            "x-kubernetes-group-version-kind": [gvk],
        }
        list_name = f"{name}List"
        self.inline[list_name] = {
            "type": "object",
            "required": ["items"],
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"allOf": [_ref(catalog.LIST_META)]},
                "items": {"type": "array", "items": {"allOf": [_ref(name)]}},
            },
            "x-kubernetes-group-version-kind": [{**gvk, "kind": f"{resource.kind}List"}],
        }
        self._inline_names[resource.kind] = name
        self._inline_names[f"{resource.kind}List"] = list_name

    def _add_subresource(
        self,
        item: str,
        sub: str,
        spec: _Subresource,
        namespaced: bool,
        parent_gvk: dict[str, str],
        parent_name: str,
    ) -> None:
        gvk = parent_gvk
        schema = self._schema(parent_gvk["group"], parent_gvk["version"], parent_gvk["kind"])
        if spec.kind is not None:
            group, version, kind = spec.kind
            gvk = {"group": group, "kind": kind, "version": version}
            schema = self._schema(group, version, kind)
        ops = _Operations(self, gvk, parent_name + sub.capitalize())
        verbs = set(spec.verbs)
        operations = self._item_operations(ops, verbs, schema)
        operations.update(self._collection_operations(ops, verbs & {"create"}, schema, schema))
        self._add_path(f"{item}/{sub}", operations, namespaced, True)

    @staticmethod
    def _collection_operations(
        ops: _Operations, verbs: set[str], schema: str, list_schema: str
    ) -> dict[str, Any]:
        collection_ops: dict[str, Any] = {}
        if "list" in verbs:
            collection_ops["get"] = ops.make("list", "list", _LIST_PARAMS, None, list_schema, "200")
        if "create" in verbs:
            collection_ops["post"] = ops.make(
                "create", "post", _WRITE_PARAMS, schema, schema, "200", "201", "202"
            )
        if "deletecollection" in verbs:
            collection_ops["delete"] = ops.make(
                "deleteCollection",
                "deletecollection",
                _DELETE_PARAMS + _LIST_PARAMS,
                catalog.DELETE_OPTIONS,
                catalog.STATUS,
                "200",
            )
        return collection_ops

    @staticmethod
    def _item_operations(ops: _Operations, verbs: set[str], schema: str) -> dict[str, Any]:
        item_ops: dict[str, Any] = {}
        if "get" in verbs:
            item_ops["get"] = ops.make("read", "get", _GET_PARAMS, None, schema, "200")
        if "update" in verbs:
            item_ops["put"] = ops.make(
                "replace", "put", _WRITE_PARAMS, schema, schema, "200", "201"
            )
        if "patch" in verbs:
            item_ops["patch"] = ops.make(
                "patch", "patch", _PATCH_PARAMS, catalog.PATCH, schema, "200", "201"
            )
        if "delete" in verbs:
            item_ops["delete"] = ops.make(
                "delete", "delete", _DELETE_PARAMS, catalog.DELETE_OPTIONS, schema, "200", "202"
            )
        return item_ops

    def _add_path(
        self, path: str, operations: dict[str, Any], namespaced: bool, named: bool
    ) -> None:
        if not operations:
            return
        params = [p for p, wanted in ((_NAME, named), (_NAMESPACE, namespaced)) if wanted]
        entry: dict[str, Any] = dict(operations)
        if params:
            entry["parameters"] = params
        self.paths[path] = entry


class _Operations:
    """Builds the operations of one path family, all for one group-version-kind."""

    def __init__(self, builder: _DocumentBuilder, gvk: dict[str, str], name: str) -> None:
        self.builder = builder
        self.gvk = gvk
        self.name = name

    def make(
        self,
        verb_word: str,
        action: str,
        params: Sequence[dict[str, Any]],
        request_schema: str | None,
        response_schema: str,
        *codes: str,
    ) -> dict[str, Any]:
        operation: dict[str, Any] = {
            "operationId": self._operation_id(verb_word),
            "parameters": list(params),
        }
        if request_schema is not None:
            types = PATCH_TYPES if action == "patch" else (JSON,)
            operation["requestBody"] = {
                "content": {t: {"schema": _ref(request_schema)} for t in types},
                "required": action != "delete" and action != "deletecollection",
            }
        content = {JSON: {"schema": _ref(response_schema)}}
        if action == "list":
            content[f"{JSON};stream=watch"] = {"schema": _ref(catalog.WATCH_EVENT)}
        responses: dict[str, Any] = {
            code: {"content": content, "description": _CODES[code]} for code in codes
        }
        responses["401"] = {"description": "Unauthorized"}
        operation["responses"] = responses
        operation["tags"] = [self.builder.tag]
        operation["x-kubernetes-action"] = action
        operation["x-kubernetes-group-version-kind"] = dict(self.gvk)
        return operation

    def _operation_id(self, verb_word: str) -> str:
        if verb_word == "deleteCollection":
            return f"delete{self.builder.op_prefix}Collection{self.name}"
        return f"{verb_word}{self.builder.op_prefix}{self.name}"


_CODES = {"200": "OK", "201": "Created", "202": "Accepted"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": catalog.REF_PREFIX + name}
