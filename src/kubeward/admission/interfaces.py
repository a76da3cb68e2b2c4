"""The admission seam: what a plugin sees of a write, and the two kinds of plugin.

Rules:
 1. A plugin sees an :class:`AdmissionRequest`, never the HTTP request: the operation and the
    verb, the resource and subresource, the namespace and name, the user, the new object (which
    mutating plugins change in place), the old one on updates and deletes, dry run and the
    request's options (``CreateOptions``, ``UpdateOptions`` — for a patch too, as upstream
    converts them — or ``DeleteOptions``).
 2. Mutating plugins (``admit``) run before defaults and validation, validating plugins
    (``validate``) after them, on the object as it will be stored (``api.registry.scope``); a
    plugin may be both, as upstream's ServiceAccount plugin is.
 3. A plugin refuses by raising a :class:`kubeward.errors.StatusError` (usually ``Forbidden``)
    whose message says why; warnings for the client go to ``request.warnings`` (sent as
    ``Warning`` headers) and audit annotations to ``request.audit_annotations``.
 4. Plugins read other objects through an :class:`ObjectReader`, so each can be tested
    without a server. The server's reader is also an :class:`ObjectWaiter`: a plugin may wait
    for an object about to be written (it is told by an informer, never by asking again); and
    it can ``update_status`` of an object as the server's own write (ResourceQuota's usage).
 5. A plugin that needs the authorizer says so by having ``set_authorizer``
    (:class:`WantsAuthorizer`, upstream's ``WantsAuthorizer`` initializer); the registry gives
    it the server's authorizer chain when it builds the chain.
 6. Reinvocation (kube-apiserver's ``ReinvocationContext``): a mutating webhook or policy with
    ``reinvocationPolicy: IfNeeded`` notes, in ``request.reinvocation``, the object as it left
    it. When a later plugin changed the object after it, the chain runs every mutating plugin
    a second time (built-in ones are idempotent, as upstream requires), and in that pass each
    such invocation runs again if the object changed since it ran — once per request at most.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kubeward.api.user import UserInfo
from kubeward.authz.interfaces import Authorizer
from kubeward.errors import Forbidden, StatusDetails

CREATE = "CREATE"
UPDATE = "UPDATE"
DELETE = "DELETE"
CONNECT = "CONNECT"


class ObjectReader(Protocol):
    """Current objects from storage; ``None`` when absent."""

    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]: ...


@runtime_checkable
class ObjectWaiter(Protocol):
    """A reader that can wait, up to ``timeout`` seconds, for an object to exist (rule 4)."""

    async def wait_for(
        self, resource: str, namespace: str, name: str, timeout: float
    ) -> dict[str, Any] | None: ...


@dataclass
class Reinvocation:
    """Rule 6: the IfNeeded invocations of one write, and the object each last saw."""

    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    reinvoked: set[str] = field(default_factory=set)
    second_pass: bool = False

    def ran(self, invocation: str, obj: dict[str, Any], *, again: bool = False) -> None:
        """``invocation`` (an IfNeeded one) left the object as ``obj``; ``again``: reinvoked."""
        self.seen[invocation] = copy.deepcopy(obj)
        if again:
            self.reinvoked.add(invocation)

    def wanted(self, obj: dict[str, Any]) -> bool:
        """Is the object now different from what an invocation not yet reinvoked left?"""
        return any(k not in self.reinvoked and v != obj for k, v in self.seen.items())

    def due(self, invocation: str, obj: dict[str, Any]) -> bool:
        """In the second pass: should ``invocation`` run again on ``obj``?"""
        return (
            self.second_pass
            and invocation in self.seen
            and invocation not in self.reinvoked
            and self.seen[invocation] != obj
        )


@dataclass
class AdmissionRequest:
    operation: str
    group: str
    resource: str
    kind: str
    subresource: str
    namespace: str
    name: str
    user: UserInfo
    object: dict[str, Any]
    old_object: dict[str, Any] | None = None
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    audit_annotations: dict[str, str] = field(default_factory=dict)
    # The API verb (create, update, patch, delete, deletecollection); the operation is coarser.
    verb: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    # The API version the request was made in (webhooks are told the kind and resource with it).
    version: str = ""
    reinvocation: Reinvocation = field(default_factory=Reinvocation)  # rule 6

    def is_pod(self) -> bool:
        return self.group == "" and self.resource == "pods" and not self.subresource


class MutatingPlugin(Protocol):
    name: str

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None: ...


class ValidatingPlugin(Protocol):
    name: str

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None: ...


class WantsAuthorizer(Protocol):
    """A plugin that asks the authorizer (rule 5), as CertificateApproval does."""

    def set_authorizer(self, authorizer: Authorizer) -> None: ...


def forbidden(request: AdmissionRequest, reason: str) -> Forbidden:
    """Kubernetes' admission refusal: ``pods "web" is forbidden: <reason>``."""
    qualified = f"{request.resource}.{request.group}" if request.group else request.resource
    target = f'{qualified} "{request.name}"' if request.name else qualified
    return Forbidden(
        f"{target} is forbidden: {reason}",
        StatusDetails(name=request.name, group=request.group, kind=request.resource),
    )
