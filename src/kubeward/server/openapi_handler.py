"""Serves ``/openapi/v3`` and its per-group-version documents from the server's scheme.

``/openapi/v2`` answers 404: kubectl tolerates that once v3 lists every served group-version
(shared/reference/kubectl-wire.md §2).
"""

from __future__ import annotations

from aiohttp import web

from kubeward.api.openapi import OpenAPIResource, root_document, served_document
from kubeward.api.scheme import Scheme
from kubeward.server.http import json_response

_JSON = "application/json"


class OpenAPIHandler:
    def __init__(self, scheme: Scheme) -> None:
        self._documents = {}
        for group in scheme.groups():
            for version in scheme.versions(group):
                resources = [
                    OpenAPIResource(
                        kind=rt.kind,
                        resource=rt.resource,
                        namespaced=rt.namespaced,
                        verbs=rt.verbs,
                        subresources=tuple(sub.name for sub in rt.subresources),
                    )
                    for rt in scheme.in_group_version(group, version)
                ]
                served = served_document(group, version, resources)
                self._documents[served.path] = served
        self._root = root_document(self._documents.values())

    async def __call__(self, request: web.Request, parts: list[str]) -> web.StreamResponse | None:
        if parts[:2] != ["openapi", "v3"]:
            return None
        if len(parts) == 2:
            return json_response(self._root)
        served = self._documents.get("/".join(parts[2:]))
        if served is None:
            return None
        response = web.Response(body=served.body, headers={"Cache-Control": "no-cache, private"})
        response.headers["Content-Type"] = _JSON
        if request.query.get("hash"):
            response.headers["Cache-Control"] = "public, immutable"
        return response
