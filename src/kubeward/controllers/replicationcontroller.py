"""The replicationcontroller controller: the ReplicaSet controller run over ReplicationControllers
(``pkg/controller/replication``, which upstream builds the same way, by converting RCs to
ReplicaSets and back).

Rules:

 1. Everything ``replicaset`` does, for core/v1 ``replicationcontrollers``: the same pod
    claiming, expectations, slow-start creation, deletion order, status fields
    (``replicas``, ``fullyLabeledReplicas``, ``readyReplicas``, ``availableReplicas``,
    ``observedGeneration``) and ``ReplicaFailure`` condition.
 2. What differs is the selector: an RC's ``spec.selector`` is a plain label map, matched by
    equality (the API server defaults it to the template's labels). An empty one selects
    nothing, so the RC is left alone.
 3. Events come from the ``replication-controller`` component, as upstream's recorder names
    it; with ``--use-service-account-credentials`` writes are the ``replication-controller``
    service account's.
"""

from __future__ import annotations

from kubeward.api import meta as m
from kubeward.api.resources.core_workloads import REPLICATION_CONTROLLERS
from kubeward.api.selectors import LabelSelector
from kubeward.client.api import APIClient
from kubeward.controllers.informer import Informer
from kubeward.controllers.replicaset import ReplicaSetController


def equality_selector(obj: m.JSONObject) -> LabelSelector | None:
    """Rule 2: the RC's ``spec.selector`` map as a selector, or None when it is empty."""
    labels = (obj.get("spec") or {}).get("selector")
    if not isinstance(labels, dict) or not labels:
        return None
    return LabelSelector.from_dict({"matchLabels": {str(k): str(v) for k, v in labels.items()}})


class ReplicationManager(ReplicaSetController):
    """Rule 1, with rules 2 and 3 as its differences (upstream's ``ReplicationManager``)."""

    name = "replicationcontroller"
    component = "replication-controller"

    def __init__(
        self, controllers: Informer, pods: Informer, client: APIClient, *, workers: int = 5
    ) -> None:
        super().__init__(controllers, pods, client, workers=workers, rt=REPLICATION_CONTROLLERS)

    def selector_of(self, obj: m.JSONObject) -> LabelSelector | None:
        return equality_selector(obj)
