"""The request path as a chain of filters, each one stage of DESIGN.md's "The request path".

``chain.build_handler_chain`` composes them; each module holds one filter with the shape of
``interfaces.Filter``; the per-request state is ``interfaces.RequestState``.
"""

from kubeward.server.filters.authorization import attributes_for, forbidden, forbidden_message
from kubeward.server.filters.chain import (
    ChainSettings,
    build_handler_chain,
    compose,
    default_filters,
)
from kubeward.server.filters.interfaces import STATE_KEY, Filter, Handler, RequestState, state_of
from kubeward.server.filters.priority_fairness import (
    FLOW_SCHEMA_UID_HEADER,
    PRIORITY_LEVEL_UID_HEADER,
)

__all__ = [
    "FLOW_SCHEMA_UID_HEADER",
    "PRIORITY_LEVEL_UID_HEADER",
    "STATE_KEY",
    "ChainSettings",
    "Filter",
    "Handler",
    "RequestState",
    "attributes_for",
    "build_handler_chain",
    "compose",
    "default_filters",
    "forbidden",
    "forbidden_message",
    "state_of",
]
