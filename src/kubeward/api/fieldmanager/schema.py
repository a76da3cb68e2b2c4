"""The shape structured merge needs of a kind: which maps and lists are atomic, how lists key.

kube-apiserver converts a kind's OpenAPI schema into structured-merge-diff's schema; this
module reads the same facts from the OpenAPI v3 component schemas kubeward serves
(``api/openapi``, built-in kinds) or a CRD version's structural schema (custom resources):

 1. An object (``properties`` or ``additionalProperties``) is a *granular* map: each field is
    owned on its own. It is atomic when marked ``x-kubernetes-map-type: atomic`` (or
    ``granular``/``atomic`` spelled as a struct type), and for the few built-in structs
    Kubernetes marks ``+structType=atomic`` (:data:`_ATOMIC_STRUCTS`).
 2. A list follows ``x-kubernetes-list-type``: ``atomic`` (owned whole), ``set`` (items by
    value) or ``map`` (items by ``x-kubernetes-list-map-keys``). A built-in list without it
    follows its strategic-merge facts, as upstream's schema conversion does: patch strategy
    ``merge`` with a merge key is a map on that key, without one a set; any other list is
    atomic. Upstream's ``+listMapKey`` pairs that the merge key alone does not give are in
    :data:`_MAP_KEYS`.
 3. A value without a schema (``x-kubernetes-preserve-unknown-fields``, an untyped field) is
    *deduced* as upstream does: objects are granular maps of deduced values, lists atomic.
 4. ``metadata`` is always ``ObjectMeta``, also in a custom resource's schema.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubeward.api.openapi.catalog import OBJECT_META, all_schemas, ref_target

SCALAR = "scalar"
MAP = "map"
LIST = "list"
UNTYPED = "untyped"

# Rule 1: structs Kubernetes marks +structType=atomic (meta/v1 and core/v1 types.go).
_ATOMIC_STRUCTS = frozenset(
    {
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        "io.k8s.api.core.v1.LocalObjectReference",
        "io.k8s.api.core.v1.ObjectReference",
        "io.k8s.api.core.v1.TypedLocalObjectReference",
    }
)

# Rule 2: +listMapKey pairs of built-in lists (the merge key is the first), and the defaults
# of key fields an item may leave out (upstream's schema has them: protocol is "TCP").
_MAP_KEYS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("io.k8s.api.core.v1.Container", "ports"): ("containerPort", "protocol"),
    ("io.k8s.api.core.v1.ServiceSpec", "ports"): ("port", "protocol"),
}
_KEY_DEFAULTS: Mapping[str, Any] = {"protocol": "TCP"}


@dataclass(eq=False)
class Type:
    """One node of the shape: a scalar, a map (struct or string-keyed map), a list, or deduced.

    ``fields`` and ``element`` are resolved on first use (schemas are recursive).
    """

    kind: str
    atomic: bool = False
    list_type: str = "atomic"  # for lists: atomic, set or map
    keys: tuple[str, ...] = ()
    # The value a key field takes when an item leaves it out (its schema's default).
    key_defaults: Mapping[str, Any] = field(default_factory=dict)
    _schema: Mapping[str, Any] = field(default_factory=dict, repr=False)
    _fields: dict[str, Type] = field(default_factory=dict, repr=False)
    _element: Type | None = field(default=None, repr=False)

    def has_field(self, name: str) -> bool:
        properties = self._schema.get("properties")
        return isinstance(properties, Mapping) and name in properties

    def is_struct(self) -> bool:
        """A map with declared fields (a Go struct, for built-in kinds)."""
        return self.kind == MAP and bool(self._schema.get("properties"))

    def field_type(self, name: str) -> Type:
        """The type of a map's field ``name``: its declared property, else its element type."""
        if self.kind == UNTYPED:
            return DEDUCED
        found = self._fields.get(name)
        if found is not None:
            return found
        properties = self._schema.get("properties")
        if name == "metadata" and self._schema.get("_root"):
            found = named(OBJECT_META)
        elif isinstance(properties, Mapping) and isinstance(properties.get(name), Mapping):
            owner = str(self._schema.get("_name", ""))
            found = from_schema(properties[name], map_keys=_MAP_KEYS.get((owner, name)))
        else:
            found = self.element_type()
        self._fields[name] = found
        return found

    def element_type(self) -> Type:
        """A list's item type, or a map's value type for keys it does not declare."""
        if self._element is None:
            sub = self._schema.get("items" if self.kind == LIST else "additionalProperties")
            self._element = from_schema(sub) if isinstance(sub, Mapping) else DEDUCED
        return self._element


DEDUCED = Type(UNTYPED)
_SCALAR = Type(SCALAR)


@functools.cache
def named(name: str) -> Type:
    """The type of a component schema of the catalog (built-in kinds)."""
    schema = all_schemas().get(name)
    if schema is None:
        return DEDUCED
    return _build({**schema, "_name": name}, atomic_struct=name in _ATOMIC_STRUCTS)


def root(schema: Mapping[str, Any]) -> Type:
    """The type of a whole object from its schema (rule 4 applies at this level)."""
    return _build({**schema, "_root": True}, atomic_struct=False)


def for_builtin(schema_name: str) -> Type:
    base = all_schemas().get(schema_name)
    if base is None:
        return DEDUCED
    return _build({**base, "_name": schema_name, "_root": True}, atomic_struct=False)


def from_schema(schema: Mapping[str, Any], *, map_keys: tuple[str, ...] | None = None) -> Type:
    target = ref_target(schema)
    if target is not None:
        return named(target)
    return _build(schema, atomic_struct=False, map_keys=map_keys)


def _build(
    schema: Mapping[str, Any], *, atomic_struct: bool, map_keys: tuple[str, ...] | None = None
) -> Type:
    if schema.get("x-kubernetes-int-or-string"):
        return _SCALAR
    kind = schema.get("type")
    if kind == "array" or (kind is None and "items" in schema):
        return _list(schema, map_keys)
    if kind == "object" or "properties" in schema or "additionalProperties" in schema:
        if not schema.get("properties") and not isinstance(
            schema.get("additionalProperties"), Mapping
        ):
            # An object with no declared shape (preserve-unknown-fields): rule 3.
            return Type(MAP, atomic=schema.get("x-kubernetes-map-type") == "atomic")
        atomic = atomic_struct or schema.get("x-kubernetes-map-type") == "atomic"
        return Type(MAP, atomic=atomic, _schema=schema)
    if kind in ("string", "integer", "number", "boolean"):
        return _SCALAR
    return DEDUCED


def _list(schema: Mapping[str, Any], map_keys: tuple[str, ...] | None) -> Type:
    list_type = schema.get("x-kubernetes-list-type")
    keys: tuple[str, ...] = ()
    if list_type == "map":
        keys = tuple(str(k) for k in schema.get("x-kubernetes-list-map-keys") or ())
    elif list_type is None:
        strategy = str(schema.get("x-kubernetes-patch-strategy") or "")
        if "merge" in strategy.split(","):
            merge_key = schema.get("x-kubernetes-patch-merge-key")
            if merge_key:
                list_type, keys = "map", map_keys or (str(merge_key),)
            else:
                list_type = "set"
        else:
            list_type = "atomic"
    if list_type not in ("atomic", "set", "map") or (list_type == "map" and not keys):
        list_type = "atomic"
    defaults: dict[str, Any] = {}
    if map_keys:
        defaults.update({k: v for k, v in _KEY_DEFAULTS.items() if k in keys})
    items = schema.get("items")
    properties = items.get("properties") if isinstance(items, Mapping) else None
    if isinstance(properties, Mapping):
        for name in keys:
            prop = properties.get(name)
            if isinstance(prop, Mapping) and "default" in prop:
                defaults[name] = prop["default"]
    return Type(
        LIST,
        atomic=list_type == "atomic",
        list_type=list_type,
        keys=keys,
        key_defaults=defaults,
        _schema=schema,
    )
