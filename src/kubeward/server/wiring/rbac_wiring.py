"""RBAC in the running server: the bootstrap policy, the live index and aggregated ClusterRoles.

The RBAC library (``authz.rbac``) decides from an in-memory :class:`RBACIndex`; this module
keeps that index equal to what storage holds, as kube-apiserver's informers keep its RBAC
listers current. Rules:

 1. At start, before the server accepts a request, the default policy (``bootstrap_objects()``)
    is reconciled into storage — created when absent, updated when it lacks something,
    recreated when a binding's roleRef differs, left alone when annotated
    ``rbac.authorization.kubernetes.io/autoupdate: "false"`` — as the ``rbac/bootstrap-roles``
    post-start hook does. This happens whatever ``--authorization-mode`` says, as upstream.
 2. Aggregated ClusterRoles are settled once before serving, so ``admin``, ``edit`` and
    ``view`` hold their rules from the first request.
 3. The index is fed by one shared informer per kind (``controllers.informer``) over the
    server's own store: filled from each kind's list, kept current by its watch, corrected by a
    relist after 410 Gone (objects deleted meanwhile are reported deleted and forgotten).
    ``prepare`` returns only once all four have delivered their first list, and the server
    starts accepting requests after ``prepare``: no request is authorized from a partial index.
 4. A task re-aggregates whenever a ClusterRole changes and writes the ``rules`` of every
    aggregated ClusterRole that differs, through the store (so the write is itself watched).
 5. Writes of the four kinds through the API pass the escalation checks: the stores carry
    ``authz.rbac.policybased``'s write check (:func:`attach_escalation_checks`); the server's
    own writes here carry no request scope and are not checked.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from kubeward.api import meta as m
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources.rbac import CLUSTER_ROLE_BINDINGS, CLUSTER_ROLES, ROLE_BINDINGS, ROLES
from kubeward.api.scheme import ResourceType
from kubeward.authz.interfaces import Authorizer
from kubeward.authz.rbac.aggregation import aggregate_cluster_roles, rules_equal
from kubeward.authz.rbac.bootstrap import ReconcileOperation, bootstrap_objects, reconcile
from kubeward.authz.rbac.index import ADDED, DELETED, MODIFIED, RBACIndex
from kubeward.authz.rbac.policybased import escalation_check
from kubeward.controllers.factory import InformerFactory
from kubeward.errors import NotFound

if TYPE_CHECKING:  # only a type: the chain is built by authz.modes
    from kubeward.authz.rbac.authorizer import RBACAuthorizer

log = logging.getLogger("kubeward.apiserver.rbac")

RBAC_TYPES = (ROLES, CLUSTER_ROLES, ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS)
_BY_KIND = {rt.kind: rt for rt in RBAC_TYPES}


# --- rule 1: the bootstrap policy -------------------------------------------------------------


async def reconcile_bootstrap_policy(stores: dict[ResourceType, Store]) -> int:
    """Write what the default policy needs; returns how many objects were written."""
    written = 0
    for desired in bootstrap_objects():
        rt = _BY_KIND[str(desired["kind"])]
        store = stores[rt]
        namespace = m.namespace_of(desired)
        name = m.name_of(desired)
        try:
            existing: dict[str, Any] | None = await store.get(namespace, name)
        except NotFound:
            existing = None
        result = reconcile(existing, desired)
        if result is None:
            continue
        obj = dict(result.object)
        if result.operation is ReconcileOperation.CREATE:
            await store.create(namespace, obj)
        elif result.operation is ReconcileOperation.UPDATE:
            await store.update(namespace, name, obj)
        else:
            await store.delete(namespace, name)
            obj.get("metadata", {}).pop("resourceVersion", None)
            await store.create(namespace, obj)
        log.info("RBAC bootstrap: %s %s %s", result.operation.value, rt.kind, name)
        written += 1
    return written


# --- rule 2 and 4: aggregation ----------------------------------------------------------------


async def aggregate_once(store: Store) -> int:
    """Write the rules of every aggregated ClusterRole that differs; returns how many."""
    listed = await store.list("", ListOptions())
    roles = listed["items"]
    written = 0
    for name, rules in aggregate_cluster_roles(roles).items():
        current = next((r for r in roles if m.name_of(r) == name), None)
        if current is None or rules_equal(rules, current.get("rules")):
            continue

        def set_rules(obj: m.JSONObject, rules: list[Any] = rules) -> m.JSONObject:
            obj["rules"] = rules
            return obj

        try:
            await store.guaranteed_update("", name, set_rules)
        except NotFound:
            continue
        written += 1
    return written


# --- rule 3: the index ------------------------------------------------------------------------


class RBACWiring:
    """The background work that keeps RBAC current in a running server."""

    def __init__(
        self, index: RBACIndex, stores: dict[ResourceType, Store], informers: InformerFactory
    ) -> None:
        self.index = index
        self.stores = stores
        self.informers = informers
        self._cluster_roles_changed = asyncio.Event()
        for rt in RBAC_TYPES:
            self._feed_index(rt)

    def _feed_index(self, rt: ResourceType) -> None:
        """Rule 3: the kind's informer applies every change to the index."""
        kind = rt.kind
        watches_cluster_roles = rt is CLUSTER_ROLES

        def apply(event_type: str, obj: m.JSONObject) -> None:
            self.index.apply(event_type, obj, kind=kind)
            if watches_cluster_roles:
                self._cluster_roles_changed.set()

        def updated(old: m.JSONObject, new: m.JSONObject) -> None:
            if old is not new:  # a resync replays the same object: nothing to re-index
                apply(MODIFIED, new)

        self.informers.informer(rt).add_event_handler(
            on_add=lambda obj: apply(ADDED, obj),
            on_update=updated,
            on_delete=lambda obj: apply(DELETED, obj),
        )

    async def prepare(self) -> None:
        """Rules 1 and 2, then the index synced (rule 3): everything before the site starts."""
        await reconcile_bootstrap_policy(self.stores)
        await aggregate_once(self.stores[CLUSTER_ROLES])
        self.informers.start()
        await self.informers.wait_for_sync(RBAC_TYPES)

    def tasks(self) -> list[asyncio.Task[None]]:
        """Rule 4 (the informers' own tasks belong to the factory)."""
        return [asyncio.create_task(self._keep_aggregated(), name="rbac-aggregation")]

    async def _keep_aggregated(self) -> None:
        while True:
            await self._cluster_roles_changed.wait()
            self._cluster_roles_changed.clear()
            try:
                await aggregate_once(self.stores[CLUSTER_ROLES])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bad selector, a storage error: log, wait for a change
                log.warning("ClusterRole aggregation failed: %s", exc)


# --- escalation prevention --------------------------------------------------------------------


def attach_escalation_checks(
    stores: dict[ResourceType, Store], authorizer: Authorizer, rbac: RBACAuthorizer
) -> None:
    """Rule 5: every write of the four kinds made for a request checks escalation.

    ``authorizer`` is the whole chain (for the ``escalate`` and ``bind`` verbs), ``rbac`` the
    RBAC authorizer whose rules the writer's own are read from (``authz.rbac.escalation``).
    """
    for rt in RBAC_TYPES:
        stores[rt].write_checks.append(escalation_check(authorizer, rbac, rt.resource))
