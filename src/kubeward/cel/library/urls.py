"""Kubernetes' URL library: ``url()``, ``isURL()`` and the URL's parts.

A URL is what Go's ``url.ParseRequestURI`` accepts: an absolute URI (with a scheme) or an
absolute path; ``url()`` of anything else is the evaluation error ``URL parse error during
conversion from string: ...``. ``getQuery()`` is ``map(string, list(string))``.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from kubeward.cel.library import values
from kubeward.cel.library.declarations import Function, Overload
from kubeward.cel.types import BOOL, OPAQUE, STRING, list_of, map_of
from kubeward.errors import CELEvaluationError


def _parse(text: str) -> urllib.parse.SplitResult | None:
    if not text or any(c in text for c in " \t\n") or "#" in text:
        return None
    try:
        parts = urllib.parse.urlsplit(text)
        _ = parts.port
    except ValueError:
        return None
    if parts.scheme:
        return parts
    return parts if text.startswith("/") else None


def url(text: str) -> dict[str, str]:
    if _parse(text) is None:
        raise CELEvaluationError(
            f'URL parse error during conversion from string: parse "{text}": invalid URI for request'
        )
    return values.wrap(values.URL, text)


def is_url(text: str) -> bool:
    return _parse(text) is not None


def _parts(value: Any) -> urllib.parse.SplitResult:
    parsed = _parse(values.unwrap(values.URL, value))
    assert parsed is not None  # url() only wraps what parses
    return parsed


def get_scheme(value: Any) -> str:
    return _parts(value).scheme


def get_host(value: Any) -> str:
    return _parts(value).netloc.rpartition("@")[2]


def get_hostname(value: Any) -> str:
    host = get_host(value)
    if host.startswith("["):
        return host[1 : host.find("]")]
    return host.rpartition(":")[0] if ":" in host else host


def get_port(value: Any) -> str:
    host = get_host(value)
    tail = host[host.find("]") + 1 :] if host.startswith("[") else host
    return tail.rpartition(":")[2] if ":" in tail else ""


def get_escaped_path(value: Any) -> str:
    return _parts(value).path


def get_query(value: Any) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(_parts(value).query, keep_blank_values=True)


def _getter(name: str, impl: Any, result: Any = STRING) -> Function:
    return Function(name, (Overload(f"url_{name}", (OPAQUE,), result, impl, member=True),))


FUNCTIONS: tuple[Function, ...] = (
    Function("url", (Overload("string_to_url", (STRING,), OPAQUE, url),)),
    Function("isURL", (Overload("is_url_string", (STRING,), BOOL, is_url),)),
    _getter("getScheme", get_scheme),
    _getter("getHost", get_host),
    _getter("getHostname", get_hostname),
    _getter("getPort", get_port),
    _getter("getEscapedPath", get_escaped_path),
    _getter("getQuery", get_query, map_of(STRING, list_of(STRING))),
)
