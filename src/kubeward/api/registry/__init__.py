"""The generic store of every kind: one :class:`Store` per served kind over one backend.

``strategy`` holds the per-kind rules (defaults, validation, status); ``scope`` the order every
write runs in (mutating admission, defaults, validation, the kind's checks, validating
admission, storage); ``revisions`` the stored encoding and continue tokens.
"""

from kubeward.api.registry.scope import FinishWrite, RequestScope, WriteHooks
from kubeward.api.registry.store import ListOptions, Store, WatchEvent
from kubeward.api.registry.strategy import Strategy

__all__ = [
    "FinishWrite",
    "ListOptions",
    "RequestScope",
    "Store",
    "Strategy",
    "WatchEvent",
    "WriteHooks",
]
