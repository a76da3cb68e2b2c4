"""What the generic store knows of the request behind a write, and the admission it runs.

Kubernetes' strategies read the request from their ``context.Context`` (the user for a CSR's
requester, the subresource of an update) and its REST storage calls admission around the
strategy. kubeward passes the same things explicitly, so that neither the store nor a strategy
ever sees an HTTP request. The rules of every write (create, update, patch, apply, delete,
each item of a deletecollection, subresource writes):

 1. Mutating admission runs first, on the object as the client sent it (for an update, after
    the patch or replacement is applied to the current object).
 2. Then the strategy: prepare (system fields, what the subresource may change, the requester
    from :class:`RequestScope`), defaults, the ``managedFields`` of the scope's field manager
    (``api.fieldmanager``: what the write added or changed, defaults included, as upstream
    records after decoding), validation (422 with every cause).
 3. Then the kind's write checks (:data:`WriteCheck`, e.g. RBAC's escalate and bind), then
    validating admission, on the object exactly as it will be stored.
 4. Then storage. A refusal at any step writes nothing; a retried update (a lost
    compare-and-swap race) runs every step again on the fresh object, as upstream's
    ``GuaranteedUpdate`` does.
 5. Writes without a scope are the server's own (bootstrap policy, in-process controllers): no
    admission and no write checks, as in-process writes in kube-apiserver bypass the handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from kubeward.api.meta import JSONObject
from kubeward.api.user import UserInfo


@dataclass(frozen=True)
class RequestScope:
    """The request a write comes from: who, with which verb, through which subresource."""

    user: UserInfo
    verb: str = ""
    subresource: str = ""
    dry_run: bool = False
    # Who the write's ``managedFields`` entry names (an Update operation); "" records none —
    # the server's own writes, and apply, which records its own (``api.fieldmanager``).
    field_manager: str = ""
    # An apply: the object carries the managedFields its merge computed, kept through a
    # subresource's prepare (which otherwise starts from the stored metadata).
    applying: bool = False


class WriteAdmission(Protocol):
    """Admission bound to one request; the store calls it at rules 1 and 3.

    ``old`` is ``None`` on create; on delete both are the object being deleted.
    """

    async def mutate(self, obj: JSONObject, old: JSONObject | None) -> None: ...

    async def validate(self, obj: JSONObject, old: JSONObject | None) -> None: ...


# A kind's request-scoped check (rule 3): raises a StatusError to refuse. Arguments: the scope,
# the namespace written to, the new object and the stored one (None on create).
WriteCheck = Callable[[RequestScope, str, JSONObject, JSONObject | None], Awaitable[None]]


# Called once a write that a WriteHooks began has ended: True when it was stored (or was a dry
# run that passed), False when it failed after the hook ran. As upstream's ``FinishFunc``.
FinishWrite = Callable[[bool], Awaitable[None]]


class WriteHooks(Protocol):
    """A kind's side effects on other storage keys around its own writes (Service addresses
    and node ports), as upstream's ``BeginCreate``/``BeginUpdate``/``AfterDelete``.

    The store calls ``begin_*`` after validation and before validating admission, on the object
    as it will be stored (the hook may fill fields, such as ``spec.clusterIP``), and the returned
    finish function once the write has succeeded or failed; ``after_delete`` once the object is
    gone from storage. A hook refuses by raising a StatusError, and then has kept nothing.
    """

    async def begin_create(self, obj: JSONObject, dry_run: bool) -> FinishWrite: ...

    async def begin_update(
        self, new: JSONObject, old: JSONObject, dry_run: bool
    ) -> FinishWrite: ...

    async def after_delete(self, obj: JSONObject) -> None: ...
