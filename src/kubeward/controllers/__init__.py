"""Controllers, and the one informer every list-and-follow in kubeward goes through.

- ``informer``: list, watch, relist after 410 Gone, resync, event handlers (client-go's
  reflector and informer, reduced); ``sources``: what it follows — the API server over HTTPS
  (``ClientSource``) or the server's own store (``StoreSource``); ``factory``: one shared
  informer per kind.
- ``queue`` and ``base``: the work queue and the reconcile contract every controller follows.
- In the controller-manager (over HTTPS; ``manager``, with ``names``, ``leader`` and
  ``credentials``): ``signing``, ``approving``, ``cleaning``, ``replicaset``, ``deployment``
  (with ``deployment_rollout`` and ``deployment_util``), ``statefulset`` (with
  ``statefulset_pods``), ``daemonset`` (with ``daemonset_nodes`` and ``daemonset_rollout``),
  ``job`` (with ``job_pods``, ``job_status`` and ``job_indexes``), ``cronjob`` (with
  ``cron_times``), ``ttlafterfinished`` and ``garbagecollector``, helped by ``ownership``,
  ``expectations``, ``podstate``, ``history`` (ControllerRevisions) and ``clock`` (the time the
  batch controllers read; a test injects a ``FakeClock``). In the API server (over its store):
  ``namespaces`` and ``serviceaccounts``.
"""

from kubeward.controllers.base import Controller
from kubeward.controllers.factory import InformerFactory
from kubeward.controllers.informer import EventHandler, Informer, key_of
from kubeward.controllers.queue import WorkQueue
from kubeward.controllers.sources import (
    ClientSource,
    EventFeed,
    Listed,
    ListWatchSource,
    SourceEvent,
    StoreSource,
    StoreSources,
)

__all__ = [
    "ClientSource",
    "Controller",
    "EventFeed",
    "EventHandler",
    "Informer",
    "InformerFactory",
    "ListWatchSource",
    "Listed",
    "SourceEvent",
    "StoreSource",
    "StoreSources",
    "WorkQueue",
    "key_of",
]
