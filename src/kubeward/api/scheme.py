"""Which kinds the server serves: one descriptor per kind, in a registry that can change.

A :class:`ResourceType` is everything discovery, OpenAPI, request routing, tables, patching and
the generic store need to know about a kind: its group, version, names, scope, verbs and
subresources (its identity), and its behaviour — the strategy, the table printer, the
strategic-merge root type, the OpenAPI schema, whether DELETE answers with the object and
whether pods of it are deleted gracefully. Nothing else in the server keeps a per-kind table.

Rules:

 1. A descriptor's identity is its group, version, kind, resource and scope; behaviour fields
    do not take part in equality or hashing, so a descriptor completed with its behaviour is
    the same dictionary key as the bare constant a module imports.
 2. The :class:`Scheme` is the registry. Built-in kinds are registered at start by
    ``kubeward.api.resources.build_scheme()``; kinds can be added and removed while the server
    runs (CustomResourceDefinitions), and every subscriber (stores, watch broadcasters,
    OpenAPI) is told of each change, in registration order.
 3. A group is served while it has at least one kind; groups are listed in the order they
    were first registered (core first), a group's versions by Kubernetes' version priority
    (``version_priority``: GA before beta before alpha, higher numbers first), as kube-apiserver
    and the apiextensions server list them; the first is the preferred version.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubeward.api.tables.columns import TablePrinter

if TYPE_CHECKING:
    from kubeward.api.customresources.conversion import Converter
    from kubeward.api.registry.strategy import Strategy

READ_VERBS = ("get", "list", "watch")
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
CREATE_ONLY = ("create",)


@dataclass(frozen=True)
class ScalePaths:
    """Where a kind keeps what its ``scale`` subresource shows and changes.

    As a CustomResourceDefinition's ``subresources.scale`` names them: dotted paths into the
    object. The label selector may be a structured ``LabelSelector`` (Deployments,
    ReplicaSets, StatefulSets: ``spec.selector``) or already a string (custom resources).
    """

    spec_replicas: str = "spec.replicas"
    status_replicas: str = "status.replicas"
    label_selector: str = "spec.selector"
    # The selector is a plain label map (ReplicationController's ``map[string]string``).
    selector_is_map: bool = False


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str = ""
    version: str = ""
    scale: ScalePaths | None = None  # set on a ``scale`` subresource: served by server.scale


# kube-apiserver's SpecialDefaultResourcePrefixes (pkg/kubeapiserver/default_storage_factory_builder.go):
# the built-in resources whose keys are not under their own plural.
KUBE_RESOURCE_PREFIXES: Mapping[tuple[str, str], str] = {
    ("", "replicationcontrollers"): "controllers",
    ("", "endpoints"): "services/endpoints",
    ("", "nodes"): "minions",
    ("", "services"): "services/specs",
    ("extensions", "ingresses"): "ingress",
    ("networking.k8s.io", "ingresses"): "ingress",
}


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    resource: str
    namespaced: bool
    verbs: tuple[str, ...] = ALL_VERBS
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    stored: bool = True  # False for virtual kinds such as SubjectAccessReview
    # --- behaviour (rule 1: not part of the identity) ---
    strategy: type[Strategy] | None = field(default=None, compare=False)
    printer: TablePrinter | None = field(default=None, compare=False)  # None: Name, Created At
    # The strategic-merge type the object starts from; None refuses strategic merge patch (415),
    # as Kubernetes refuses it for custom resources.
    merge_root: str | None = field(default=None, compare=False)
    # The OpenAPI component schema of the kind, by name in the catalog (built-in kinds) ...
    schema_name: str | None = field(default=None, compare=False)
    # ... or the schema itself (custom resources: the CRD version's openAPIV3Schema).
    openapi_schema: Mapping[str, Any] | None = field(default=None, compare=False)
    # Field selector labels beyond metadata.name/namespace, when the kind's strategy does not
    # declare them itself (a CRD version's selectableFields).
    selectable_fields: tuple[str, ...] = field(default=(), compare=False)
    # The singular name when it is not the lower-cased kind (a CRD's spec.names.singular).
    singular_name: str = field(default="", compare=False)
    # DELETE answers with the deleted object (as Pod, Namespace and Node do), not a Status.
    returns_deleted_object: bool = field(default=False, compare=False)
    # List items carry apiVersion and kind (custom resources, as the apiextensions server
    # writes them); built-in kinds' lists leave them out, as kube-apiserver's typed lists do.
    typed_list_items: bool = field(default=False, compare=False)
    # A DELETE of an object bound to an existing node sets deletionTimestamp and waits (pods).
    graceful_delete: bool = field(default=False, compare=False)
    # Custom resources: how objects move between the definition's versions. The store keeps
    # them at the converter's storage version and serves them at this descriptor's version.
    converter: Converter | None = field(default=None, compare=False)
    # A deprecated version's ``Warning`` for every request made at it (a CRD version's
    # ``deprecationWarning``, or upstream's default wording).
    deprecation_warning: str = field(default="", compare=False)
    # The group whose keys hold this kind's objects when another API owns their storage (the
    # events.k8s.io Event is a view of the core Event); None: its own group.
    storage_group: str | None = field(default=None, compare=False)
    # Keys are /registry/<group>/<resource>/...: custom resources, and the kinds of the servers
    # kube-apiserver embeds (CustomResourceDefinition, APIService); see storage_prefix.
    keyed_by_group: bool = field(default=False, compare=False)

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def singular(self) -> str:
        return self.singular_name or self.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def qualified_resource(self) -> str:
        """``pods`` or ``roles.rbac.authorization.k8s.io``, as Kubernetes names it in messages."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def qualified_kind(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind

    def subresource(self, name: str) -> Subresource | None:
        for sub in self.subresources:
            if sub.name == name:
                return sub
        return None

    def storage_prefix(self) -> str:
        """Keys are kube-apiserver's (``etcdctl get --prefix /registry/secrets`` finds Secrets):
        a kind compiled into kube-apiserver is under ``/registry/<resource>/`` whatever its group
        (``/registry/deployments/``, ``/registry/clusterroles/``), except where its storage
        factory names another prefix (``KUBE_RESOURCE_PREFIXES``: ``services/specs``,
        ``minions``, ...); custom resources, CustomResourceDefinitions and APIServices
        (``keyed_by_group``) are under ``/registry/<group>/<resource>/``, as the apiextensions
        and aggregator servers key them. A kind stored by another API (``storage_group``) uses
        that group's keys. Prefixes end in ``/``, so none is a prefix of another kind's."""
        group = self.group if self.storage_group is None else self.storage_group
        if self.keyed_by_group and group:
            return f"/registry/{group}/{self.resource}/"
        return f"/registry/{KUBE_RESOURCE_PREFIXES.get((group, self.resource), self.resource)}/"

    def storage_key(self, namespace: str, name: str) -> str:
        if self.namespaced:
            return f"{self.storage_prefix()}{namespace}/{name}"
        return f"{self.storage_prefix()}{name}"


SchemeListener = Callable[[ResourceType, bool], None]
_KUBE_VERSION = re.compile(r"^v([1-9][0-9]*)(?:(alpha|beta)([1-9][0-9]*))?$")
_STABILITY = {None: 2, "beta": 1, "alpha": 0}


def version_priority(version: str) -> tuple[int, int, int, int, str]:
    """A sort key putting versions in Kubernetes' priority order (apimachinery's
    ``CompareKubeAwareVersionStrings``): ``v2, v1, v1beta2, v1beta1, v1alpha1``, then versions
    that do not look like Kubernetes versions, alphabetically."""
    match = _KUBE_VERSION.match(version)
    if match is None:
        return (1, 0, 0, 0, version)
    major, stability, minor = match.groups()
    return (0, -_STABILITY[stability], -int(major), -int(minor or 0), "")


class Scheme:
    """The registry of served kinds, looked up by URL parts or by kind (rules 2 and 3)."""

    def __init__(self) -> None:
        self._by_resource: dict[tuple[str, str, str], ResourceType] = {}
        self._by_kind: dict[tuple[str, str], ResourceType] = {}
        self._groups: dict[str, list[str]] = {}
        self._listeners: list[SchemeListener] = []
        self.generation = 0  # bumped by every add and remove, for caches of derived documents

    def subscribe(self, listener: SchemeListener) -> None:
        """Call ``listener(rt, added)`` after every later add (True) and remove (False)."""
        self._listeners.append(listener)

    def add(self, rt: ResourceType) -> None:
        key = (rt.group, rt.version, rt.resource)
        if key in self._by_resource:
            raise ValueError(f"resource {rt.resource} in {rt.group_version} registered twice")
        self._by_resource[key] = rt
        self._by_kind.setdefault((rt.group, rt.kind), rt)
        versions = self._groups.setdefault(rt.group, [])
        if rt.version not in versions:
            versions.append(rt.version)
            versions.sort(key=version_priority)
        self.generation += 1
        for listener in self._listeners:
            listener(rt, True)

    def remove(self, rt: ResourceType) -> None:
        """Stop serving ``rt``; a no-op when it is not served.

        Raises:
            ValueError: a different descriptor is registered under the same resource.
        """
        key = (rt.group, rt.version, rt.resource)
        found = self._by_resource.get(key)
        if found is None:
            return
        if found != rt:
            raise ValueError(f"resource {rt.resource} in {rt.group_version} is another kind")
        del self._by_resource[key]
        if self._by_kind.get((rt.group, rt.kind)) == rt:
            del self._by_kind[(rt.group, rt.kind)]
            other = next(
                (t for t in self._by_resource.values() if (t.group, t.kind) == (rt.group, rt.kind)),
                None,
            )
            if other is not None:
                self._by_kind[(rt.group, rt.kind)] = other
        if not self.in_group_version(rt.group, rt.version):
            self._groups[rt.group].remove(rt.version)
            if not self._groups[rt.group]:
                del self._groups[rt.group]
        self.generation += 1
        for listener in self._listeners:
            listener(rt, False)

    def lookup(self, group: str, version: str, resource: str) -> ResourceType | None:
        return self._by_resource.get((group, version, resource))

    def by_kind(self, group: str, kind: str) -> ResourceType | None:
        return self._by_kind.get((group, kind))

    def groups(self) -> list[str]:
        """Groups in discovery order: core first, then as registered."""
        return list(self._groups)

    def versions(self, group: str) -> list[str]:
        return list(self._groups.get(group, []))

    def __iter__(self) -> Iterator[ResourceType]:
        return iter(list(self._by_resource.values()))

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [rt for rt in self if rt.group == group and rt.version == version]
