"""Kubernetes' bootstrap priority-and-fairness configuration, as kube-apiserver seeds it.

From k8s.io/apiserver ``pkg/apis/flowcontrol/bootstrap/default.go`` (v1, Kubernetes 1.32):

Mandatory (recreated when deleted): priority levels ``exempt`` (Exempt) and ``catch-all``
(Limited, 5 shares, Reject); FlowSchemas ``exempt`` (precedence 1, group ``system:masters``) and
``catch-all`` (precedence 10000, every authenticated and unauthenticated user, ByUser).

Suggested: priority levels ``system`` (30 shares, 64 queues, hand 6, queue length 50),
``node-high`` (40, 64/6/50), ``leader-election`` (10, 16/4/50), ``workload-high`` (40, 128/6/50),
``workload-low`` (100, 128/6/50), ``global-default`` (20, 128/6/50); FlowSchemas ``probes``
(2, exempt: GET /healthz, /readyz, /livez by anyone), ``system-leader-election`` (100),
``endpoint-controller`` (150), ``workload-leader-election`` (200), ``system-node-high`` (400),
``system-nodes`` (500), ``kube-controller-manager`` and ``kube-scheduler`` (800),
``kube-system-service-accounts`` (900), ``service-accounts`` (9000, workload-low),
``global-default`` (9900).

Every object carries ``apf.kubernetes.io/autoupdate-spec: "true"``: at start, an object with
that annotation gets its spec back if it was changed; setting it to ``"false"`` keeps a change.
"""

from __future__ import annotations

from typing import Any

from kubeward.api.resources.flowcontrol import GROUP

API_VERSION = f"{GROUP}/v1"
AUTOUPDATE_ANNOTATION = "apf.kubernetes.io/autoupdate-spec"
MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
NODES = "system:nodes"
CONTROLLER_MANAGER = "system:kube-controller-manager"
SCHEDULER = "system:kube-scheduler"
SERVICE_ACCOUNTS = "system:serviceaccounts"

JSON = dict[str, Any]


def _meta(name: str) -> JSON:
    return {"name": name, "annotations": {AUTOUPDATE_ANNOTATION: "true"}}


def _level(name: str, spec: JSON) -> JSON:
    return {
        "apiVersion": API_VERSION,
        "kind": "PriorityLevelConfiguration",
        "metadata": _meta(name),
        "spec": spec,
    }


def _queued(shares: int, lendable: int, queues: int, hand: int, length: int) -> JSON:
    return {
        "type": "Limited",
        "limited": {
            "nominalConcurrencyShares": shares,
            "lendablePercent": lendable,
            "limitResponse": {
                "type": "Queue",
                "queuing": {"queues": queues, "handSize": hand, "queueLengthLimit": length},
            },
        },
    }


def _groups(*names: str) -> list[JSON]:
    return [{"kind": "Group", "group": {"name": n}} for n in names]


def _users(*names: str) -> list[JSON]:
    return [{"kind": "User", "user": {"name": n}} for n in names]


def _kube_system_service_accounts(*names: str) -> list[JSON]:
    return [
        {"kind": "ServiceAccount", "serviceAccount": {"name": n, "namespace": "kube-system"}}
        for n in names
    ]


def _resource_rule(
    verbs: list[str], groups: list[str], resources: list[str], namespaces: list[str], cluster: bool
) -> JSON:
    rule: JSON = {"verbs": verbs, "apiGroups": groups, "resources": resources}
    if cluster:
        rule["clusterScope"] = True
    if namespaces:
        rule["namespaces"] = namespaces
    return rule


_EVERYTHING = [_resource_rule(["*"], ["*"], ["*"], ["*"], True)]
_EVERY_URL = [{"verbs": ["*"], "nonResourceURLs": ["*"]}]


def _schema(
    name: str,
    level: str,
    precedence: int,
    distinguisher: str,
    subjects: list[JSON],
    resource_rules: list[JSON] | None = None,
    non_resource_rules: list[JSON] | None = None,
) -> JSON:
    rule: JSON = {"subjects": subjects}
    if resource_rules:
        rule["resourceRules"] = resource_rules
    if non_resource_rules:
        rule["nonResourceRules"] = non_resource_rules
    spec: JSON = {
        "priorityLevelConfiguration": {"name": level},
        "matchingPrecedence": precedence,
        "rules": [rule],
    }
    if distinguisher:
        spec["distinguisherMethod"] = {"type": distinguisher}
    return {"apiVersion": API_VERSION, "kind": "FlowSchema", "metadata": _meta(name), "spec": spec}


def _everything(
    name: str, level: str, precedence: int, distinguisher: str, subjects: list[JSON]
) -> JSON:
    return _schema(name, level, precedence, distinguisher, subjects, _EVERYTHING, _EVERY_URL)


_LEADER_ELECTION_VERBS = ["get", "create", "update"]


def mandatory_priority_levels() -> list[JSON]:
    return [
        _level(
            "exempt",
            {"type": "Exempt", "exempt": {"nominalConcurrencyShares": 0, "lendablePercent": 0}},
        ),
        _level(
            "catch-all",
            {
                "type": "Limited",
                "limited": {
                    "nominalConcurrencyShares": 5,
                    "lendablePercent": 0,
                    "limitResponse": {"type": "Reject"},
                },
            },
        ),
    ]


def mandatory_flow_schemas() -> list[JSON]:
    return [
        _everything("exempt", "exempt", 1, "", _groups(MASTERS)),
        _everything(
            "catch-all", "catch-all", 10000, "ByUser", _groups(UNAUTHENTICATED, AUTHENTICATED)
        ),
    ]


def suggested_priority_levels() -> list[JSON]:
    return [
        _level("system", _queued(30, 33, 64, 6, 50)),
        _level("node-high", _queued(40, 25, 64, 6, 50)),
        _level("leader-election", _queued(10, 0, 16, 4, 50)),
        _level("workload-high", _queued(40, 50, 128, 6, 50)),
        _level("workload-low", _queued(100, 90, 128, 6, 50)),
        _level("global-default", _queued(20, 50, 128, 6, 50)),
    ]


def suggested_flow_schemas() -> list[JSON]:
    leases = _resource_rule(
        _LEADER_ELECTION_VERBS, ["coordination.k8s.io"], ["leases"], ["*"], False
    )
    return [
        _everything("system-nodes", "system", 500, "ByUser", _groups(NODES)),
        _schema(
            "system-node-high",
            "node-high",
            400,
            "ByUser",
            _groups(NODES),
            [
                _resource_rule(["*"], [""], ["nodes", "nodes/status"], ["*"], True),
                _resource_rule(["*"], ["coordination.k8s.io"], ["leases"], ["*"], False),
            ],
        ),
        _schema(
            "probes",
            "exempt",
            2,
            "",
            _groups(UNAUTHENTICATED, AUTHENTICATED),
            non_resource_rules=[
                {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/readyz", "/livez"]}
            ],
        ),
        _schema(
            "system-leader-election",
            "leader-election",
            100,
            "ByUser",
            [*_users(CONTROLLER_MANAGER, SCHEDULER), *_kube_system_service_accounts("*")],
            [
                _resource_rule(
                    _LEADER_ELECTION_VERBS,
                    [""],
                    ["endpoints", "configmaps"],
                    ["kube-system"],
                    False,
                ),
                leases,
            ],
        ),
        _schema(
            "endpoint-controller",
            "workload-high",
            150,
            "ByUser",
            [
                *_users(CONTROLLER_MANAGER),
                *_kube_system_service_accounts(
                    "endpoint-controller", "endpointslicemirroring-controller"
                ),
            ],
            [_resource_rule(["get", "create", "update"], [""], ["endpoints"], ["*"], False)],
        ),
        _schema(
            "workload-leader-election",
            "leader-election",
            200,
            "ByUser",
            _kube_system_service_accounts("*"),
            [
                _resource_rule(
                    _LEADER_ELECTION_VERBS, [""], ["endpoints", "configmaps"], ["*"], False
                ),
                leases,
            ],
        ),
        _everything(
            "kube-controller-manager",
            "workload-high",
            800,
            "ByNamespace",
            _users(CONTROLLER_MANAGER),
        ),
        _everything("kube-scheduler", "workload-high", 800, "ByNamespace", _users(SCHEDULER)),
        _everything(
            "kube-system-service-accounts",
            "workload-high",
            900,
            "ByNamespace",
            _kube_system_service_accounts("*"),
        ),
        _everything("service-accounts", "workload-low", 9000, "ByUser", _groups(SERVICE_ACCOUNTS)),
        _everything(
            "global-default",
            "global-default",
            9900,
            "ByUser",
            _groups(UNAUTHENTICATED, AUTHENTICATED),
        ),
    ]


def priority_levels() -> list[JSON]:
    return [*mandatory_priority_levels(), *suggested_priority_levels()]


def flow_schemas() -> list[JSON]:
    return [*mandatory_flow_schemas(), *suggested_flow_schemas()]
