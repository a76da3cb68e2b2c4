"""The kinds kubeward serves, one module per API group.

``build_scheme()`` is the one place that lists them; a new kind is a ``ResourceType`` and a
``Strategy`` in its group's module plus one line here.
"""

from __future__ import annotations

from kubeward.api.registry.strategy import Strategy
from kubeward.api.resources import (
    apps,
    authentication,
    authorization,
    certificates,
    core,
    flowcontrol,
    networking,
    rbac,
)
from kubeward.api.scheme import ResourceType, Scheme

_MODULES = (
    core,
    apps,
    authentication,
    authorization,
    networking,
    rbac,
    certificates,
    flowcontrol,
)


def build_scheme() -> tuple[Scheme, dict[ResourceType, Strategy]]:
    """Every served resource type and the strategy that governs it."""
    scheme = Scheme()
    strategies: dict[ResourceType, Strategy] = {}
    for module in _MODULES:
        for rt in module.TYPES:
            scheme.add(rt)
            if rt.stored:
                strategies[rt] = module.STRATEGIES[rt](rt)
    return scheme, strategies
