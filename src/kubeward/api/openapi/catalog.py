"""The catalog of OpenAPI v3 component schemas that kubeward serves and validates against.

The schemas live in ``schemas.json`` next to this module, generated at development time by
``tools/gen_openapi_schemas.py`` from the official ``kubernetes`` client's model classes. They
are named as Kubernetes names them (``io.k8s.api.core.v1.Pod``) and reference each other with
``#/components/schemas/<name>``, so a group-version document is just the closure of its kinds.

Rules:

1. ``schemas.json`` is generated, never edited by hand; the catalog treats it as read-only and
   hands out the same objects to every caller (nobody may mutate them).
2. A kind is found by the ``x-kubernetes-group-version-kind`` its schema carries.
3. ``Status``, ``DeleteOptions`` and ``WatchEvent`` are registered in every group-version, as
   Kubernetes does, so they are found under any group and version.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from types import MappingProxyType
from typing import Any

import orjson

from kubeward.errors import InternalError

Schema = dict[str, Any]

REF_PREFIX = "#/components/schemas/"
META = "io.k8s.apimachinery.pkg.apis.meta.v1"
OBJECT_META = f"{META}.ObjectMeta"
LIST_META = f"{META}.ListMeta"
STATUS = f"{META}.Status"
DELETE_OPTIONS = f"{META}.DeleteOptions"
WATCH_EVENT = f"{META}.WatchEvent"
PATCH = f"{META}.Patch"

# Kinds every group-version serves (rule 3).
_META_KINDS = {"Status": STATUS, "DeleteOptions": DELETE_OPTIONS, "WatchEvent": WATCH_EVENT}


@functools.cache
def all_schemas() -> Mapping[str, Schema]:
    """Every component schema, by name."""
    try:
        raw = resources.files(__package__).joinpath("schemas.json").read_bytes()
        schemas: dict[str, Schema] = orjson.loads(raw)["schemas"]
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise InternalError(f"openapi: cannot load the packaged schemas.json: {exc}") from exc
    _add_patch_metadata(schemas)
    return MappingProxyType(schemas)


_PATCH_META_PACKAGES = (
    "io.k8s.api.core.v1.",
    "io.k8s.api.apps.v1.",
    "io.k8s.api.policy.v1.",
    f"{META}.",
)


def _add_patch_metadata(schemas: dict[str, Schema]) -> None:
    """Mark merge lists with ``x-kubernetes-patch-strategy``/``-merge-key``.

    kubectl computes ``apply`` patches from these extensions: without them it treats
    ``containers`` as an atomic list and never sends ``$patch: delete`` for a removed container.
    The facts come from the one table the server's own strategic merge uses (``api.patch``).
    """
    from kubeward.api.patch.strategies import TYPES

    for name, schema in schemas.items():
        if not name.startswith(_PATCH_META_PACKAGES):
            continue
        fields = TYPES.get(name.rsplit(".", 1)[1])
        properties = schema.get("properties")
        if not fields or not isinstance(properties, dict):
            continue
        for field_name, meta in fields.items():
            prop = properties.get(field_name)
            if not isinstance(prop, dict) or not meta.strategy:
                continue
            prop["x-kubernetes-patch-strategy"] = meta.strategy
            if meta.merge_key:
                prop["x-kubernetes-patch-merge-key"] = meta.merge_key


@functools.cache
def _kind_index() -> Mapping[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, schema in all_schemas().items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            index[(gvk["group"], gvk["version"], gvk["kind"])] = name
    return MappingProxyType(index)


def schema_name(group: str, version: str, kind: str) -> str | None:
    """The component name of a kind's schema, or None when the catalog does not have it."""
    name = _kind_index().get((group, version, kind))
    if name is None:
        name = _META_KINDS.get(kind)
    return name


def ref_target(schema: Mapping[str, Any]) -> str | None:
    """The schema name a ``$ref`` (bare or as the single ``allOf`` entry) points to."""
    ref = schema.get("$ref")
    if ref is None:
        all_of = schema.get("allOf")
        if all_of and len(all_of) == 1:
            ref = all_of[0].get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        return ref[len(REF_PREFIX) :]
    return None


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith(REF_PREFIX):
                yield item[len(REF_PREFIX) :]
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def references(schema: Any) -> set[str]:
    """The component names a schema points to (directly)."""
    return set(_references(schema))


@functools.cache
def _direct_references(name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_references(all_schemas()[name])))


def closure(names: Iterable[str]) -> list[str]:
    """The given schema names plus everything they reference, transitively, sorted."""
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(_direct_references(name))
    return sorted(seen)
