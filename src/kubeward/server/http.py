"""HTTP helpers shared by the handlers: JSON and Status responses, content negotiation.

Every response carries ``Cache-Control: no-cache, private`` as kube-apiserver's do (kubectl
otherwise caches ``/version`` and picks its binary without asking again).

A ``Status`` body is written byte for byte as kube-apiserver writes it, since clients compare
them: the key order of ``StatusError.to_status()``, Go's ``encoding/json`` escaping (``<``, ``>``
and ``&`` as ``\u003c``, ``\u003e``, ``\u0026``; U+2028 and U+2029 escaped) and the newline its
``json.Encoder`` ends every value with.
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


# Go's encoding/json escapes these inside strings (HTML safety); nowhere else can they occur.
_GO_ESCAPES = (
    (b"&", b"\\u0026"),
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def go_json(obj: Any) -> bytes:
    """``obj`` encoded as Go's ``json.Encoder`` writes it: escaped as above, newline-terminated."""
    body = dumps(obj)
    for raw, escaped in _GO_ESCAPES:
        if raw in body:
            body = body.replace(raw, escaped)
    return body + b"\n"


def status_body(status: dict[str, Any], code: int = 200) -> web.Response:
    """A ``Status`` response with kube-apiserver's exact bytes."""
    response = web.Response(body=go_json(status), status=code, headers=CACHE_HEADERS)
    response.headers["Content-Type"] = "application/json"
    return response


def json_bytes_response(body: bytes, status: int = 200) -> web.Response:
    """A JSON response whose body is already encoded (a list spliced from stored bytes)."""
    response = web.Response(body=body, status=status, headers=CACHE_HEADERS)
    response.headers["Content-Type"] = "application/json"
    return response


def status_response(error: StatusError) -> web.Response:
    response = status_body(error.to_status(), error.code)
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="kubernetes-master"'
    if error.details is not None and error.details.retry_after_seconds:
        response.headers["Retry-After"] = str(error.details.retry_after_seconds)
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
