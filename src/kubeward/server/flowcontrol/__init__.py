"""API Priority and Fairness, as kube-apiserver does it (``flowcontrol.apiserver.k8s.io/v1``).

Every request is classified by the FlowSchemas (``classifier``) into a priority level and a
flow; a limited level hands out its share of the server's concurrency fairly among flows
(``queueset``: shuffle sharding, queues, seats); an exempt level (``system:masters``, probes) is
never limited. The configuration is the stored FlowSchema and PriorityLevelConfiguration objects,
seeded with Kubernetes' bootstrap set (``bootstrap``) and followed as they change (``wiring``).

What differs from upstream:
 1. Every request occupies one seat: there is no work estimator (upstream gives large lists and
    watch initialization more seats) and no extra seats held after a mutating request.
 2. Levels do not lend or borrow seats (``lendablePercent``/``borrowingLimitPercent`` are stored
    and validated but each level keeps its nominal concurrency limit).
 3. A freed seat goes to the non-empty queue with the fewest requests executing, instead of
    upstream's virtual-finish-time order (``queueset``, rule 4).
 4. A request waits in its queue at most a quarter of ``--request-timeout`` (15 s by default);
    then it is rejected with 429, as upstream's request wait limit.
 5. Of the status, only FlowSchema's ``Dangling`` condition is written; priority levels get no
    status conditions.
 6. There is no ``/debug/api_priority_and_fairness`` endpoint and no metrics.
 7. A request whose body is still arriving lends its seat out until the body is in
    (``server.filters.priority_fairness``, rule 4); upstream holds it, so slow clients can fill
    a level there.
 8. Configuration changes apply as the watch delivers them (normally before the next request);
    upstream's config controller batches them.
"""

from kubeward.server.flowcontrol.controller import Classification, FlowControl
from kubeward.server.flowcontrol.queueset import QueueSet, Seat
from kubeward.server.flowcontrol.wiring import FlowControlWiring

__all__ = ["Classification", "FlowControl", "FlowControlWiring", "QueueSet", "Seat"]
