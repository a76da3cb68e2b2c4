"""The built-in kinds kubeward serves, one module per API group.

``build_scheme()`` is the one place that lists them. A group module declares each kind's
``ResourceType`` and its ``Strategy`` (``TYPES`` and ``STRATEGIES``); a new kind is one
declaration there plus, for a new group, one line in ``_MODULES``. Registration completes each
descriptor with the facts kept beside their own machinery — the table printer
(``api.tables``), the strategic-merge root type (``api.patch.strategies``) and the OpenAPI
schema (``api.openapi.catalog``) — so that handlers read everything from the descriptor and a
kind added at run time (a CustomResourceDefinition) brings its own.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kubeward.api.openapi.catalog import schema_name
from kubeward.api.patch.strategies import root_type
from kubeward.api.registry.strategy import Strategy
from kubeward.api.resources import (
    admissionregistration,
    apiextensions,
    apps,
    apps_sets,
    authentication,
    authorization,
    autoscaling,
    batch,
    certificates,
    core,
    core_policy,
    core_services,
    core_storage,
    core_workloads,
    discovery,
    events,
    flowcontrol,
    metrics,
    networking,
    policy,
    rbac,
    scheduling,
    storage,
)
from kubeward.api.scheme import ResourceType, Scheme
from kubeward.api.tables.registry import PRINTERS

_MODULES = (
    core,
    core_services,
    core_workloads,
    core_storage,
    core_policy,
    discovery,
    apps,
    authentication,
    authorization,
    networking,
    rbac,
    certificates,
    apiextensions,
    flowcontrol,
    apps_sets,
    batch,
    autoscaling,
    policy,
    scheduling,
    storage,
    events,
    admissionregistration,
    metrics,
)


def builtin(rt: ResourceType, strategy: type[Strategy] | None) -> ResourceType:
    """``rt`` completed with its strategy and the built-in facts its declaration leaves out."""
    return replace(
        rt,
        strategy=strategy,
        printer=rt.printer or PRINTERS.get((rt.group, rt.kind)),
        merge_root=rt.merge_root or root_type(rt.group, rt.version, rt.kind),
        schema_name=rt.schema_name or schema_name(rt.group, rt.version, rt.kind),
    )


def _declared(module: Any, optional: frozenset[str]) -> list[ResourceType]:
    """The module's kinds, with those of the off-by-default versions in ``optional``."""
    extra: dict[str, tuple[ResourceType, ...]] = getattr(module, "OPTIONAL_TYPES", {})
    return [*module.TYPES, *(rt for gv, types in extra.items() if gv in optional for rt in types)]


def served_versions() -> dict[str, set[str]]:
    """Every group kubeward can serve (core is ``""``) and its versions, optional ones too
    (``api.features``: what ``--runtime-config`` may name)."""
    everything = frozenset(gv for m in _MODULES for gv in getattr(m, "OPTIONAL_TYPES", {}))
    served: dict[str, set[str]] = {}
    for module in _MODULES:
        for rt in _declared(module, everything):
            served.setdefault(rt.group, set()).add(rt.version)
    return served


def build_scheme(
    optional: frozenset[str] = frozenset(),
) -> tuple[Scheme, dict[ResourceType, Strategy]]:
    """Every built-in kind, registered, and the strategy instance of each stored one.

    ``optional``: the off-by-default group/versions to serve too (``api.features``)."""
    scheme = Scheme()
    strategies: dict[ResourceType, Strategy] = {}
    for module in _MODULES:
        for declared in _declared(module, optional):
            rt = builtin(declared, module.STRATEGIES.get(declared))
            scheme.add(rt)
            if rt.stored:
                if rt.strategy is None:
                    raise ValueError(f"{rt.qualified_kind} is stored but has no strategy")
                strategies[rt] = rt.strategy(rt)
    return scheme, strategies
