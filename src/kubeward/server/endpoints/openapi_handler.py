"""Serves ``/openapi/v3``, its per-group-version documents, and ``/openapi/v2``.

Rules:

1. The documents are built from the server's scheme on the first OpenAPI request (in a worker
   thread, so other requests keep being served), then cached until the scheme changes (a
   CustomResourceDefinition established or removed): building them may import the user's
   ``kubernetes`` package for descriptions (``api.openapi.descriptions``), which the start-up
   path should not pay for.
2. ``/openapi/v2`` is negotiated as kube-openapi negotiates it: the first media range of the
   ``Accept`` header (by quality) that names JSON or gnostic's protobuf
   (``application/com.github.proto-openapi.spec.v2@v1.0+protobuf``, also spelled with
   ``.v1.0``) wins; none is 406. kubectl asks for protobuf and cannot read JSON there.
   The protobuf answer is labelled ``application/com.github.proto-openapi.spec.v2.v1.0+protobuf``
   whichever spelling was asked for, as kube-apiserver labels it: Go's ``mime`` parser, which
   kubectl runs on every Content-Type, refuses the ``@`` form.
3. ``/openapi/v2`` carries an ``ETag`` (quoted upper-case hex SHA-512 of the JSON document,
   the same for both encodings of it) and answers ``If-None-Match`` with 304; a v3 document
   fetched with its ``?hash=`` is immutable.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from aiohttp import web

from kubeward.api.codec import dumps
from kubeward.api.openapi import (
    OpenAPIResource,
    ServedDocument,
    encode_swagger,
    root_document,
    served_document,
    swagger_document,
)
from kubeward.api.scheme import Scheme
from kubeward.errors import NotAcceptable
from kubeward.server.http import CACHE_HEADERS, json_response

_JSON = "application/json"
PROTOBUF_V2_CONTENT_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_PROTOBUF_V2 = (
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
    PROTOBUF_V2_CONTENT_TYPE,
)


@dataclass(frozen=True)
class _Built:
    documents: dict[str, ServedDocument]
    root: dict[str, object]
    swagger_json: bytes
    swagger_protobuf: bytes
    swagger_etag: str


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha512(body).hexdigest().upper() + '"'


class OpenAPIHandler:
    def __init__(self, scheme: Scheme, version: str = "unversioned") -> None:
        self._scheme = scheme
        self._version = version
        self._built: _Built | None = None
        self._built_generation = -1
        self._lock = asyncio.Lock()

    def build(self) -> _Built:
        """Build every document now (rule 1); safe to call from a worker thread."""
        documents: dict[str, ServedDocument] = {}
        scheme = self._scheme
        for group in scheme.groups():
            for version in scheme.versions(group):
                resources = [
                    OpenAPIResource(
                        kind=rt.kind,
                        resource=rt.resource,
                        namespaced=rt.namespaced,
                        verbs=rt.verbs,
                        subresources=tuple(sub.name for sub in rt.subresources),
                        schema=dumps(rt.openapi_schema).decode() if rt.openapi_schema else "",
                    )
                    for rt in scheme.in_group_version(group, version)
                ]
                served = served_document(group, version, resources)
                documents[served.path] = served
        swagger = swagger_document((d.document for d in documents.values()), self._version)
        swagger_json = dumps(swagger)
        swagger_protobuf = encode_swagger(swagger)
        return _Built(
            documents,
            root_document(documents.values()),
            swagger_json,
            swagger_protobuf,
            _etag(swagger_json),
        )

    async def _documents(self) -> _Built:
        if self._built is None or self._built_generation != self._scheme.generation:
            async with self._lock:
                generation = self._scheme.generation
                if self._built is None or self._built_generation != generation:
                    self._built = await asyncio.to_thread(self.build)
                    self._built_generation = generation
        return self._built

    async def __call__(self, request: web.Request, parts: list[str]) -> web.StreamResponse | None:
        if parts == ["openapi", "v2"]:
            return self._swagger(request, await self._documents())
        if parts[:2] != ["openapi", "v3"]:
            return None
        built = await self._documents()
        if len(parts) == 2:
            return json_response(built.root)
        served = built.documents.get("/".join(parts[2:]))
        if served is None:
            return None
        response = web.Response(body=served.body, headers=CACHE_HEADERS)
        response.headers["Content-Type"] = _JSON
        if request.query.get("hash"):
            response.headers["Cache-Control"] = "public, immutable"
        return response

    @staticmethod
    def _swagger(request: web.Request, built: _Built) -> web.StreamResponse:
        content_type = negotiate_v2(request.headers.get("Accept", ""))
        if content_type is None:
            raise NotAcceptable(
                "only the following media types are accepted: "
                + ", ".join((_JSON, _PROTOBUF_V2[0]))
            )
        body = built.swagger_json if content_type == _JSON else built.swagger_protobuf
        etag = built.swagger_etag
        headers = {**CACHE_HEADERS, "ETag": etag, "Vary": "Accept"}
        if etag in (t.strip() for t in request.headers.get("If-None-Match", "").split(",")):
            return web.Response(status=304, headers=headers)
        response = web.Response(body=body, headers=headers)
        response.headers["Content-Type"] = content_type
        return response


def negotiate_v2(accept: str) -> str | None:
    """The media type to answer ``/openapi/v2`` with, or None for 406 (rule 2)."""
    ranges: list[tuple[float, int, str]] = []
    for index, media_range in enumerate((accept or "*/*").split(",")):
        pieces = [p.strip() for p in media_range.split(";")]
        quality = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if pieces[0] and quality > 0:
            ranges.append((-quality, index, pieces[0].lower()))
    for _, _, media_type in sorted(ranges):
        if media_type in (_JSON, "application/*", "*/*"):
            return _JSON
        if media_type in _PROTOBUF_V2:
            return PROTOBUF_V2_CONTENT_TYPE
    return None
