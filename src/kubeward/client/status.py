"""Turning a server's error answer back into the ``kubeward.errors`` class it stands for.

The ``Status`` body's ``reason`` decides (``AlreadyExists`` and ``Conflict`` share 409); when the
body is not a ``Status`` the HTTP code does. Message and causes are the server's own, so a
caller can show them as kubectl would (``Error from server (Forbidden): ...``).
"""

from __future__ import annotations

from typing import Any

import orjson

from kubeward.errors import (
    AlreadyExists,
    BadRequest,
    Cause,
    Conflict,
    Forbidden,
    Gone,
    InternalError,
    Invalid,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    RequestEntityTooLarge,
    ServiceUnavailable,
    StatusDetails,
    StatusError,
    Timeout,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)

_CLASSES: tuple[type[StatusError], ...] = (
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    NotAcceptable,
    AlreadyExists,
    Conflict,
    Gone,
    RequestEntityTooLarge,
    UnsupportedMediaType,
    Invalid,
    TooManyRequests,
    InternalError,
    ServiceUnavailable,
    Timeout,
)
_BY_REASON = {cls.reason: cls for cls in _CLASSES}
_BY_CODE: dict[int, type[StatusError]] = {}
for _cls in _CLASSES:
    _BY_CODE.setdefault(_cls.code, _cls)


def error_from_response(code: int, raw: bytes, *, status_body: Any = None) -> StatusError:
    """The ``StatusError`` for an answer with HTTP ``code`` and body ``raw``."""
    body = status_body
    if body is None:
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = None
    if not isinstance(body, dict) or body.get("kind") != "Status":
        text = raw.decode("utf-8", "replace").strip()[:200] if raw else ""
        cls = _BY_CODE.get(code, InternalError)
        return cls(text or f"the server answered HTTP {code}")
    cls = _BY_REASON.get(str(body.get("reason") or "")) or _BY_CODE.get(code, InternalError)
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    assert isinstance(details, dict)
    causes = tuple(
        Cause(str(c.get("reason", "")), str(c.get("message", "")), str(c.get("field", "")))
        for c in details.get("causes") or []
        if isinstance(c, dict)
    )
    return cls(
        str(body.get("message") or f"the server answered HTTP {code}"),
        StatusDetails(
            name=str(details.get("name") or ""),
            group=str(details.get("group") or ""),
            kind=str(details.get("kind") or ""),
            uid=str(details.get("uid") or ""),
            causes=causes,
        ),
    )
