"""Which kinds the server serves, and under which group, version and resource name.

A :class:`ResourceType` is everything discovery, OpenAPI, request routing and the generic store
need to know about a kind. Kinds register themselves in ``kubeward.api.resources`` (one module
per API group); adding a kind is one ``ResourceType`` and one strategy there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str = ""
    version: str = ""
    scale: ScalePaths | None = None  # set on a ``scale`` subresource: served by server.scale


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

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def singular(self) -> str:
        return self.kind.lower()

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
        """Keys are ``/registry/<group>/<resource>/[<namespace>/]<name>``, like the real server."""
        group = self.group or "core"
        return f"/registry/{group}/{self.resource}/"

    def storage_key(self, namespace: str, name: str) -> str:
        if self.namespaced:
            return f"{self.storage_prefix()}{namespace}/{name}"
        return f"{self.storage_prefix()}{name}"


class Scheme:
    """The set of served resource types, looked up by URL parts or by kind."""

    def __init__(self) -> None:
        self._by_resource: dict[tuple[str, str, str], ResourceType] = {}
        self._by_kind: dict[tuple[str, str], ResourceType] = {}
        self._groups: dict[str, list[str]] = {}

    def add(self, rt: ResourceType) -> None:
        key = (rt.group, rt.version, rt.resource)
        if key in self._by_resource:
            raise ValueError(f"resource {rt.resource} in {rt.group_version} registered twice")
        self._by_resource[key] = rt
        self._by_kind.setdefault((rt.group, rt.kind), rt)
        versions = self._groups.setdefault(rt.group, [])
        if rt.version not in versions:
            versions.append(rt.version)

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
        return iter(self._by_resource.values())

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [rt for rt in self if rt.group == group and rt.version == version]
