"""Bodies of the kinds answered from the request (reviews, TokenRequest), read like stored ones.

These handlers read ``spec`` fields straight after decoding, so a body of the wrong shape —
``"spec": "x"``, ``"audiences": "x"``, ``"resourceAttributes": 5`` — must be refused before
they look. Rules:

 1. The body is decoded with the same bounds as any other (``api.codec``: size, depth, aliases,
    tags, int64), off the event loop when large.
 2. It is then checked against the kind's schema (``api.openapi.conform``): a value of the wrong
    JSON type is a 400 ``<Kind> in version "v1" cannot be handled as a <Kind>: json: cannot
    unmarshal ...``, as kube-apiserver's decoder answers.
 3. Unknown fields are a 400 under ``fieldValidation=Strict`` and dropped otherwise (no review
    echoes a field it does not know).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from kubeward.api.codec import decode_body_async
from kubeward.api.openapi import conform, decoding_error, strict_decoding_error
from kubeward.errors import BadRequest


async def read_body_as(
    request: web.Request,
    body: bytes,
    *,
    group: str,
    kind: str,
    version: str = "v1",
    upgrade: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """The decoded, type-checked body of a ``kind`` request (rules 1-3).

    ``upgrade`` turns an older version's body into ``version``'s, in place, before the check.

    Raises:
        BadRequest: the body does not decode, has a value of the wrong type, or (Strict) an
            unknown field.
        RequestEntityTooLarge: a YAML body expands past the size limit.
        UnsupportedMediaType: the Content-Type is not JSON, YAML or protobuf.
    """
    obj = await decode_body_async(body, request.headers.get("Content-Type"))
    if upgrade is not None:
        upgrade(obj)
    api_version = f"{group}/{version}" if group else version
    try:
        found = conform(obj, group, version, kind)
    except BadRequest as exc:
        raise decoding_error(exc, kind=kind, version=api_version) from None
    if found.unknown and request.query.get("fieldValidation") == "Strict":
        raise strict_decoding_error(found.unknown, kind=kind, version=api_version)
    found.drop_unknown()
    return obj
