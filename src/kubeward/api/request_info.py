"""Turning a URL and method into the request attributes authorization and routing use.

This follows Kubernetes' ``RequestInfoFactory``:

 1. ``/api/v1/...`` is the core group, ``/apis/GROUP/VERSION/...`` a named group; anything else
    is a non-resource request whose verb is the lower-cased HTTP method (``get``, ``post``, ...).
 2. ``namespaces/NS/RESOURCE/...`` scopes a request to a namespace; ``namespaces/NS`` alone is the
    namespace object itself (and ``namespaces/NS/status`` or ``/finalize`` its subresources).
 3. Verbs: GET is ``get`` on a name, ``list`` on a collection, ``watch`` when ``watch=true`` (or the
    deprecated ``/watch/`` prefix); POST is ``create``; PUT ``update``; PATCH ``patch``; DELETE is
    ``delete`` on a name and ``deletecollection`` on a collection. A GET of a name is always
    ``get``: only the ``/watch/`` prefix watches one object by its path (``?watch=`` on a
    named path is ignored, as kube-apiserver routes it), and on a collection any ``watch``
    value but ``false`` or ``0`` watches.
 4. A list or watch whose field selector pins ``metadata.name`` (``=`` or ``==``) carries that
    name, so authorization decides on it (that is how ``resourceNames`` can allow watching one
    object); the handler then serves that name and nothing else (``named_list_options``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kubeward.api.selectors import parse_field_selector
from kubeward.errors import BadRequest

_METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_TRUE = {"1", "true", "t", "yes", "y", "on"}


@dataclass(frozen=True)
class RequestInfo:
    verb: str
    path: str
    is_resource_request: bool = False
    api_prefix: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    parts: tuple[str, ...] = ()
    # The raw ``fieldSelector`` of a list, watch or deletecollection (authorization with
    # selectors: the Node authorizer allows a node's ``spec.nodeName=<node>`` pod list).
    field_selector: str = ""


def is_true(value: str | None) -> bool:
    return value is not None and value.lower() in _TRUE


def _watch_requested(query: Mapping[str, str]) -> bool:
    value = query.get("watch")
    return value is not None and value.lower() not in ("false", "0")


def selected_name(field_selector: str) -> str:
    """The name a field selector pins with ``metadata.name=`` (the first such term), or ``""``.

    A selector that does not parse, or a name that could not be a path segment, pins nothing:
    the request is then authorized as the whole collection and the handler refuses a bad
    selector itself.
    """
    try:
        name = parse_field_selector(field_selector).exact_value("metadata.name")
    except BadRequest:
        return ""
    if not name or name in (".", "..") or "/" in name or "%" in name:
        return ""
    return name


def parse_request_info(method: str, path: str, query: Mapping[str, str]) -> RequestInfo:
    """Classify a request the way kube-apiserver does."""
    segments = [s for s in path.strip("/").split("/") if s]
    non_resource = RequestInfo(verb=method.lower(), path=path)
    if not segments or segments[0] not in ("api", "apis"):
        return non_resource
    prefix = segments[0]
    rest = segments[1:]
    if prefix == "api":
        if not rest:
            return non_resource
        group, version, rest = "", rest[0], rest[1:]
    else:
        if len(rest) < 2:
            return non_resource
        group, version, rest = rest[0], rest[1], rest[2:]
    if not rest:
        return non_resource

    watch_prefix = False
    if rest[0] == "watch":
        watch_prefix = True
        rest = rest[1:]
    namespace = ""
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) == 2 or (len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES):
            # /namespaces/NS[/status|/finalize] is the Namespace object itself.
            return _finish(
                method, path, prefix, group, version, namespace, rest, query, watch_prefix, True
            )
        rest = rest[2:]
    return _finish(
        method, path, prefix, group, version, namespace, rest, query, watch_prefix, False
    )


def _finish(
    method: str,
    path: str,
    prefix: str,
    group: str,
    version: str,
    namespace: str,
    parts: list[str],
    query: Mapping[str, str],
    watch_prefix: bool,
    namespace_object: bool,
) -> RequestInfo:
    resource = parts[0] if parts else ""
    name = parts[1] if len(parts) > 1 else ""
    subresource = parts[2] if len(parts) > 2 else ""
    if namespace_object:
        # /api/v1/namespaces/NS is the Namespace object, which is not itself namespaced.
        namespace = name
    if method == "GET" or method == "HEAD":
        if watch_prefix:
            verb = "watch"
        elif name:
            verb = "get"
        else:
            verb = "watch" if _watch_requested(query) else "list"
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    else:
        verb = _METHOD_VERBS.get(method, method.lower())
    field_selector = ""
    if verb in ("list", "watch", "deletecollection"):
        field_selector = query.get("fieldSelector", "")
    if verb in ("list", "watch") and not name:
        name = selected_name(field_selector)
    return RequestInfo(
        verb=verb,
        path=path,
        is_resource_request=True,
        api_prefix=prefix,
        api_group=group,
        api_version=version,
        namespace=namespace,
        resource=resource,
        subresource=subresource,
        name=name,
        parts=tuple(parts),
        field_selector=field_selector,
    )
