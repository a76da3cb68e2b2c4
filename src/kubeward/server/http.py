"""HTTP helpers shared by the handlers: JSON and Status responses, content negotiation.

Every response carries ``Cache-Control: no-cache, private`` as kube-apiserver's do (kubectl
otherwise caches ``/version`` and picks its binary without asking again).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kubeward.api.codec import dumps
from kubeward.errors import StatusError

CACHE_HEADERS = {"Cache-Control": "no-cache, private"}
TABLE_CONTENT_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io"


def json_response(
    obj: Any,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> web.Response:
    response = web.Response(body=dumps(obj), status=status, headers=CACHE_HEADERS)
    response.headers["Content-Type"] = content_type
    if headers:
        response.headers.update(headers)
    return response


def json_bytes_response(body: bytes, status: int = 200) -> web.Response:
    """A JSON response whose body is already encoded (a list spliced from stored bytes)."""
    response = web.Response(body=body, status=status, headers=CACHE_HEADERS)
    response.headers["Content-Type"] = "application/json"
    return response


def status_response(error: StatusError) -> web.Response:
    response = json_response(error.to_status(), status=error.code)
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="kubernetes-master"'
    return response


def success_status(details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
    }
    if details:
        body["details"] = details
    return body


def wants_table(accept: str) -> bool:
    """True when the client asks for ``as=Table`` in a media range (kubectl get)."""
    for media_range in accept.split(","):
        params = {}
        for piece in media_range.split(";")[1:]:
            key, _, value = piece.strip().partition("=")
            params[key] = value
        if params.get("as") == "Table" and params.get("g", "meta.k8s.io") == "meta.k8s.io":
            return True
    return False


def warning_header(text: str) -> str:
    """A ``Warning: 299 - "..."`` value (RFC 7234), which kubectl prints as ``Warning: ...``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'
