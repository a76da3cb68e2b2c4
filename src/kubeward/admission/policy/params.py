"""The parameters a binding gives its policy: ``paramKind`` and ``paramRef``.

Rules (``generic.CollectParams`` of k8s.io/apiserver 1.32):
 1. A policy without ``paramKind``, or bound without ``paramRef``, is evaluated once, with
    ``params`` null.
 2. A ``paramKind`` the server does not serve misconfigures the policy (``failed to find
    resource referenced by paramKind: 'GROUP/VERSION, Kind=KIND'``; :func:`param_resource`).
 3. The parameters are looked up in ``paramRef.namespace``; when it is empty and the kind is
    namespaced, in the request's namespace (a cluster-scoped request then cannot be matched);
    a cluster-scoped kind takes no namespace.
 4. ``paramRef.name`` names one object; ``paramRef.selector`` selects every object whose labels
    fit, in name order. The policy is evaluated once per parameter.
 5. No parameter found: with ``parameterNotFoundAction: Deny`` the binding is misconfigured
    (``no params found for policy binding with `Deny` parameterNotFoundAction``); with ``Allow``
    the binding does not apply.
 6. Parameters are read from the reader's informers (``cached``) when it has them; a named
    parameter the informer has not seen yet is read from storage, as upstream falls back to a
    direct read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kubeward.admission.interfaces import ObjectReader
from kubeward.admission.webhooks.matching import selector_matches
from kubeward.errors import InputError

# (apiVersion, kind) -> (qualified resource, namespaced) or None: the server's kinds.
KindResolver = Callable[[str, str], tuple[str, bool] | None]


def param_resource(policy: dict[str, Any], reader: ObjectReader) -> tuple[str, bool] | None:
    """Rule 2: the resource of the policy's ``paramKind`` and whether it is namespaced; None
    without a ``paramKind``.

    Raises:
        InputError: the server does not serve the kind.
    """
    param_kind = (policy.get("spec") or {}).get("paramKind")
    if not isinstance(param_kind, dict):
        return None
    resolve: KindResolver | None = getattr(reader, "resource_for", None)
    api_version, kind = str(param_kind.get("apiVersion", "")), str(param_kind.get("kind", ""))
    found = resolve(api_version, kind) if resolve else None
    if found is None:
        group, _, version = api_version.rpartition("/")
        gv = f"{group}/{version}" if group else version
        raise InputError(f"failed to find resource referenced by paramKind: '{gv}, Kind={kind}'")
    return found


async def collect_params(
    policy: dict[str, Any],
    binding: dict[str, Any],
    request_namespace: str,
    reader: ObjectReader,
) -> list[dict[str, Any] | None]:
    """Rules 1-6: the parameter objects to evaluate the policy with.

    Raises:
        InputError: the binding is misconfigured (the plugin applies ``failurePolicy``).
    """
    found = param_resource(policy, reader)
    ref = (binding.get("spec") or {}).get("paramRef")
    if found is None or not isinstance(ref, dict):
        return [None]
    resource, namespaced = found
    namespace = str(ref.get("namespace") or "")
    if namespaced and not namespace:
        if not request_namespace:
            raise InputError(
                "cannot use namespaced paramRef in policy binding that matches cluster-scoped "
                "resources"
            )
        namespace = request_namespace
    elif not namespaced and namespace:
        raise InputError("paramRef.namespace must not be provided for a cluster-scoped `paramKind`")
    params: list[dict[str, Any] | None] = []
    name = ref.get("name")
    if name:
        obj = await _get(reader, resource, namespace, str(name))
        if obj is not None:
            params.append(obj)
    else:
        for obj in await _list(reader, resource, namespace):
            labels = (obj.get("metadata") or {}).get("labels") or {}
            if selector_matches(ref.get("selector") or {}, labels):
                params.append(obj)
        params.sort(key=lambda o: str(((o or {}).get("metadata") or {}).get("name", "")))
    if not params and ref.get("parameterNotFoundAction", "Deny") == "Deny":
        raise InputError("no params found for policy binding with `Deny` parameterNotFoundAction")
    return params


async def _list(reader: ObjectReader, resource: str, namespace: str) -> list[dict[str, Any]]:
    cached: Callable[[str], Awaitable[list[dict[str, Any]]]] | None = getattr(
        reader, "cached", None
    )
    if cached is None:
        return await reader.list(resource, namespace)
    items = await cached(resource)
    return [o for o in items if str((o.get("metadata") or {}).get("namespace") or "") == namespace]


async def _get(
    reader: ObjectReader, resource: str, namespace: str, name: str
) -> dict[str, Any] | None:
    for obj in await _list(reader, resource, namespace):
        if (obj.get("metadata") or {}).get("name") == name:
            return obj
    return await reader.get(resource, namespace, name)  # rule 6
