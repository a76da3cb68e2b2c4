"""Columns and cells of every kind other than Pod, and the default Name/Created At table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeward.api.tables import KindKey, printer_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=UTC)
RBAC = "rbac.authorization.k8s.io"


def ago(seconds: int) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def obj(kind: str, name: str = "x", created: int = 5 * 3600, **fields: Any) -> dict[str, Any]:
    metadata = {"name": name, "creationTimestamp": ago(created), **fields.pop("metadata", {})}
    return {"kind": kind, "metadata": metadata, **fields}


def cells(kind_key: KindKey, item: dict[str, Any]) -> tuple[Any, ...]:
    return printer_for(kind_key).print_row(item, NOW).cells


# --- column definitions: exactly Kubernetes' names, types and priorities -------------------

COLUMNS: dict[KindKey, list[tuple[str, str, int]]] = {
    ("", "Namespace"): [("Name", "string", 0), ("Status", "string", 0), ("Age", "string", 0)],
    ("", "Node"): [
        ("Name", "string", 0),
        ("Status", "string", 0),
        ("Roles", "string", 0),
        ("Age", "string", 0),
        ("Version", "string", 0),
        ("Internal-IP", "string", 1),
        ("External-IP", "string", 1),
        ("OS-Image", "string", 1),
        ("Kernel-Version", "string", 1),
        ("Container-Runtime", "string", 1),
    ],
    ("", "ConfigMap"): [("Name", "string", 0), ("Data", "string", 0), ("Age", "string", 0)],
    ("", "Secret"): [
        ("Name", "string", 0),
        ("Type", "string", 0),
        ("Data", "string", 0),
        ("Age", "string", 0),
    ],
    ("", "ServiceAccount"): [("Name", "string", 0), ("Secrets", "string", 0), ("Age", "string", 0)],
    ("", "Event"): [
        ("Last Seen", "string", 0),
        ("Type", "string", 0),
        ("Reason", "string", 0),
        ("Object", "string", 0),
        ("Subobject", "string", 1),
        ("Source", "string", 1),
        ("Message", "string", 0),
        ("First Seen", "string", 1),
        ("Count", "string", 1),
        ("Name", "string", 1),
    ],
    ("", "Service"): [
        ("Name", "string", 0),
        ("Type", "string", 0),
        ("Cluster-IP", "string", 0),
        ("External-IP", "string", 0),
        ("Port(s)", "string", 0),
        ("Age", "string", 0),
        ("Selector", "string", 1),
    ],
    ("coordination.k8s.io", "Lease"): [
        ("Name", "string", 0),
        ("Holder", "string", 0),
        ("Age", "string", 0),
    ],
    ("apps", "Deployment"): [
        ("Name", "string", 0),
        ("Ready", "string", 0),
        ("Up-to-date", "string", 0),
        ("Available", "string", 0),
        ("Age", "string", 0),
        ("Containers", "string", 1),
        ("Images", "string", 1),
        ("Selector", "string", 1),
    ],
    (RBAC, "Role"): [("Name", "string", 0), ("Created At", "date", 0)],
    (RBAC, "ClusterRole"): [("Name", "string", 0), ("Created At", "date", 0)],
    (RBAC, "RoleBinding"): [
        ("Name", "string", 0),
        ("Role", "string", 0),
        ("Age", "string", 0),
        ("Users", "string", 1),
        ("Groups", "string", 1),
        ("ServiceAccounts", "string", 1),
    ],
    (RBAC, "ClusterRoleBinding"): [
        ("Name", "string", 0),
        ("Role", "string", 0),
        ("Age", "string", 0),
        ("Users", "string", 1),
        ("Groups", "string", 1),
        ("ServiceAccounts", "string", 1),
    ],
    ("certificates.k8s.io", "CertificateSigningRequest"): [
        ("Name", "string", 0),
        ("Age", "string", 0),
        ("SignerName", "string", 0),
        ("Requestor", "string", 0),
        ("RequestedDuration", "string", 0),
        ("Condition", "string", 0),
    ],
    ("networking.k8s.io", "NetworkPolicy"): [
        ("Name", "string", 0),
        ("Pod-Selector", "string", 0),
        ("Age", "string", 0),
    ],
    ("example.com", "Widget"): [("Name", "string", 0), ("Created At", "date", 0)],
}


@pytest.mark.parametrize("kind_key", list(COLUMNS), ids=lambda key: f"{key[0] or 'core'}/{key[1]}")
def test_column_definitions(kind_key: KindKey) -> None:
    columns = printer_for(kind_key).columns
    assert [(c.name, c.type, c.priority) for c in columns] == COLUMNS[kind_key]
    name_columns = [c for c in columns if c.format == "name"]
    assert [c.name for c in name_columns] == ["Name"]
    assert all(c.description for c in columns)


@pytest.mark.parametrize("kind_key", list(COLUMNS), ids=lambda key: f"{key[0] or 'core'}/{key[1]}")
def test_empty_object_prints_one_str_or_int_cell_per_column(kind_key: KindKey) -> None:
    printer = printer_for(kind_key)
    printed = printer.print_row({}, NOW).cells
    assert len(printed) == len(printer.columns)
    assert all(type(cell) in (str, int) for cell in printed)


# --- core/v1 -------------------------------------------------------------------------------


def test_namespace() -> None:
    ns = obj("Namespace", "team-a", created=3 * 86400 + 5 * 3600, status={"phase": "Terminating"})
    assert cells(("", "Namespace"), ns) == ("team-a", "Terminating", "3d5h")


def node(
    conditions: list[dict[str, str]] | None = None,
    labels: dict[str, str] | None = None,
    unschedulable: bool = False,
    info: dict[str, str] | None = None,
    addresses: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return obj(
        "Node",
        "node-1",
        metadata={"labels": labels or {}},
        spec={"unschedulable": unschedulable},
        status={
            "conditions": conditions or [],
            "nodeInfo": info or {},
            "addresses": addresses or [],
        },
    )


@pytest.mark.parametrize(
    ("item", "status", "roles"),
    [
        (node([{"type": "Ready", "status": "True"}]), "Ready", "<none>"),
        (node([{"type": "Ready", "status": "False"}]), "NotReady", "<none>"),
        (node([{"type": "Ready", "status": "Unknown"}]), "NotReady", "<none>"),
        (node([{"type": "MemoryPressure", "status": "False"}]), "Unknown", "<none>"),
        (
            node([{"type": "Ready", "status": "True"}], unschedulable=True),
            "Ready,SchedulingDisabled",
            "<none>",
        ),
        (node(unschedulable=True), "Unknown,SchedulingDisabled", "<none>"),
        (
            node(
                [{"type": "Ready", "status": "True"}],
                labels={
                    "node-role.kubernetes.io/worker": "",
                    "node-role.kubernetes.io/control-plane": "",
                    "node-role.kubernetes.io/": "",
                    "kubernetes.io/role": "infra",
                    "kubernetes.io/hostname": "node-1",
                },
            ),
            "Ready",
            "control-plane,infra,worker",
        ),
        (node(labels={"kubernetes.io/role": ""}), "Unknown", "<none>"),
    ],
    ids=[
        "ready",
        "not-ready",
        "ready-unknown-is-not-ready",
        "no-ready-condition",
        "cordoned",
        "cordoned-unknown",
        "roles-from-labels",
        "empty-role-label",
    ],
)
def test_node_status_and_roles(item: dict[str, Any], status: str, roles: str) -> None:
    assert cells(("", "Node"), item)[1:3] == (status, roles)


def test_node_version_and_wide_columns() -> None:
    item = node(
        [{"type": "Ready", "status": "True"}],
        info={
            "kubeletVersion": "v1.32.4",
            "osImage": "Ubuntu 24.04 LTS",
            "kernelVersion": "6.8.0-31-generic",
            "containerRuntimeVersion": "containerd://1.7.12",
        },
        addresses=[
            {"type": "Hostname", "address": "node-1"},
            {"type": "InternalIP", "address": "10.0.0.4"},
            {"type": "InternalIP", "address": "10.0.0.5"},
            {"type": "ExternalIP", "address": "203.0.113.9"},
        ],
    )
    assert cells(("", "Node"), item) == (
        "node-1",
        "Ready",
        "<none>",
        "5h",
        "v1.32.4",
        "10.0.0.4",
        "203.0.113.9",
        "Ubuntu 24.04 LTS",
        "6.8.0-31-generic",
        "containerd://1.7.12",
    )


def test_node_unreported_wide_columns() -> None:
    assert cells(("", "Node"), node())[4:] == (
        "",
        "<none>",
        "<none>",
        "<unknown>",
        "<unknown>",
        "<unknown>",
    )


@pytest.mark.parametrize(
    ("kind_key", "item", "expected"),
    [
        (
            ("", "ConfigMap"),
            obj("ConfigMap", "cfg", data={"a": "1", "b": "2"}, binaryData={"c": "AA=="}),
            ("cfg", 3, "5h"),
        ),
        (("", "ConfigMap"), obj("ConfigMap", "kube-root-ca.crt"), ("kube-root-ca.crt", 0, "5h")),
        (
            ("", "Secret"),
            obj("Secret", "tls", type="kubernetes.io/tls", data={"tls.crt": "", "tls.key": ""}),
            ("tls", "kubernetes.io/tls", 2, "5h"),
        ),
        (("", "Secret"), obj("Secret", "plain", data={"k": "dg=="}), ("plain", "Opaque", 1, "5h")),
        (
            ("", "ServiceAccount"),
            obj("ServiceAccount", "default", secrets=[{"name": "default-token"}]),
            ("default", 1, "5h"),
        ),
        (("", "ServiceAccount"), obj("ServiceAccount", "builder"), ("builder", 0, "5h")),
        (
            ("coordination.k8s.io", "Lease"),
            obj("Lease", "kube-scheduler", spec={"holderIdentity": "host_1234"}),
            ("kube-scheduler", "host_1234", "5h"),
        ),
        (("coordination.k8s.io", "Lease"), obj("Lease", "free", spec={}), ("free", "", "5h")),
    ],
    ids=[
        "configmap-data-and-binary",
        "configmap-empty",
        "secret-tls",
        "secret-type-defaults-to-opaque",
        "serviceaccount-with-secret",
        "serviceaccount-bare",
        "lease-held",
        "lease-free",
    ],
)
def test_simple_kinds(kind_key: KindKey, item: dict[str, Any], expected: tuple[Any, ...]) -> None:
    assert cells(kind_key, item) == expected


def event(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "Normal",
        "reason": "Scheduled",
        "message": "  Successfully assigned default/web to node-1\n",
        "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{app}"},
        "source": {"component": "default-scheduler"},
        "firstTimestamp": ago(600),
        "lastTimestamp": ago(90),
        "count": 3,
    }
    base.update(fields)
    return obj("Event", "web.17d", **base)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            event(),
            (
                "90s",
                "Normal",
                "Scheduled",
                "pod/web",
                "spec.containers{app}",
                "default-scheduler",
                "Successfully assigned default/web to node-1",
                "10m",
                3,
                "web.17d",
            ),
        ),
        (
            event(
                firstTimestamp=None,
                lastTimestamp=None,
                count=0,
                eventTime="2024-06-01T11:59:00.000000Z",
                source={},
                reportingController="kubelet",
                reportingInstance="node-1",
            ),
            (
                "60s",
                "Normal",
                "Scheduled",
                "pod/web",
                "spec.containers{app}",
                "kubelet, node-1",
                "Successfully assigned default/web to node-1",
                "60s",
                1,
                "web.17d",
            ),
        ),
        (
            event(
                series={"count": 7, "lastObservedTime": "2024-06-01T11:59:55.000000Z"},
                source={"component": "kubelet", "host": "node-2"},
                involvedObject={"kind": "Node"},
            ),
            (
                "5s",
                "Normal",
                "Scheduled",
                "node",
                "",
                "kubelet, node-2",
                "Successfully assigned default/web to node-1",
                "10m",
                7,
                "web.17d",
            ),
        ),
        (
            event(lastTimestamp=None),
            (
                "10m",
                "Normal",
                "Scheduled",
                "pod/web",
                "spec.containers{app}",
                "default-scheduler",
                "Successfully assigned default/web to node-1",
                "10m",
                3,
                "web.17d",
            ),
        ),
    ],
    ids=["legacy-event", "new-api-event", "event-series", "last-seen-falls-back-to-first"],
)
def test_event(item: dict[str, Any], expected: tuple[Any, ...]) -> None:
    assert cells(("", "Event"), item) == expected


def service(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    return obj("Service", "web", spec=spec, status=status or {})


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            service(
                {
                    "type": "ClusterIP",
                    "clusterIP": "10.96.0.10",
                    "clusterIPs": ["10.96.0.10"],
                    "ports": [
                        {"port": 53, "protocol": "UDP"},
                        {"port": 53, "protocol": "TCP"},
                        {"port": 9153},
                    ],
                    "selector": {"k8s-app": "kube-dns"},
                }
            ),
            (
                "web",
                "ClusterIP",
                "10.96.0.10",
                "<none>",
                "53/UDP,53/TCP,9153/TCP",
                "5h",
                "k8s-app=kube-dns",
            ),
        ),
        (
            service(
                {
                    "type": "NodePort",
                    "clusterIP": "10.96.4.2",
                    "externalIPs": ["198.51.100.1"],
                    "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}],
                }
            ),
            ("web", "NodePort", "10.96.4.2", "198.51.100.1", "80:30080/TCP", "5h", "<none>"),
        ),
        (
            service({"type": "LoadBalancer", "clusterIPs": ["10.96.4.3"], "ports": []}),
            ("web", "LoadBalancer", "10.96.4.3", "<pending>", "<none>", "5h", "<none>"),
        ),
        (
            service(
                {
                    "type": "LoadBalancer",
                    "clusterIPs": ["10.96.4.3"],
                    "externalIPs": ["198.51.100.2"],
                },
                {
                    "loadBalancer": {
                        "ingress": [{"ip": "203.0.113.7"}, {"hostname": "lb.example.com"}]
                    }
                },
            ),
            (
                "web",
                "LoadBalancer",
                "10.96.4.3",
                "203.0.113.7,lb.example.com,198.51.100.2",
                "<none>",
                "5h",
                "<none>",
            ),
        ),
        (
            service({"type": "ExternalName", "externalName": "db.example.com"}),
            ("web", "ExternalName", "<none>", "db.example.com", "<none>", "5h", "<none>"),
        ),
        (
            service({"clusterIP": "None", "clusterIPs": ["None"], "selector": {"app": "db"}}),
            ("web", "ClusterIP", "None", "<none>", "<none>", "5h", "app=db"),
        ),
    ],
    ids=[
        "cluster-ip",
        "node-port",
        "load-balancer-pending",
        "load-balancer-ingress",
        "external-name",
        "headless",
    ],
)
def test_service(item: dict[str, Any], expected: tuple[Any, ...]) -> None:
    assert cells(("", "Service"), item) == expected


# --- named groups ---------------------------------------------------------------------------


def deployment(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    return obj("Deployment", "web", spec=spec, status=status or {})


TEMPLATE = {
    "spec": {
        "containers": [
            {"name": "app", "image": "nginx:1.27"},
            {"name": "sidecar", "image": "envoy:v1.30"},
        ]
    }
}


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            deployment(
                {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
                {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
            ),
            ("web", "2/3", 3, 2, "5h", "app,sidecar", "nginx:1.27,envoy:v1.30", "app=web"),
        ),
        (
            deployment({"selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE}),
            ("web", "0/1", 0, 0, "5h", "app,sidecar", "nginx:1.27,envoy:v1.30", "app=web"),
        ),
        (
            deployment({"replicas": 0, "template": TEMPLATE}),
            ("web", "0/0", 0, 0, "5h", "app,sidecar", "nginx:1.27,envoy:v1.30", ""),
        ),
        (
            deployment(
                {
                    "replicas": 1,
                    "selector": {"matchExpressions": [{"key": "app", "operator": "Bad"}]},
                }
            ),
            ("web", "0/1", 0, 0, "5h", "", "", "<invalid>"),
        ),
    ],
    ids=["scaled", "replicas-default-to-one", "no-selector", "invalid-selector"],
)
def test_deployment(item: dict[str, Any], expected: tuple[Any, ...]) -> None:
    assert cells(("apps", "Deployment"), item) == expected


SUBJECTS = [
    {"kind": "User", "name": "alice", "apiGroup": RBAC},
    {"kind": "Group", "name": "system:masters", "apiGroup": RBAC},
    {"kind": "User", "name": "bob", "apiGroup": RBAC},
    {"kind": "ServiceAccount", "name": "builder", "namespace": "ci"},
    {"kind": "Other", "name": "ignored"},
]


@pytest.mark.parametrize("kind", ["RoleBinding", "ClusterRoleBinding"])
def test_bindings(kind: str) -> None:
    item = obj(
        kind, "edit-binding", roleRef={"kind": "ClusterRole", "name": "edit"}, subjects=SUBJECTS
    )
    assert cells((RBAC, kind), item) == (
        "edit-binding",
        "ClusterRole/edit",
        "5h",
        "alice, bob",
        "system:masters",
        "ci/builder",
    )


@pytest.mark.parametrize("kind", ["Role", "ClusterRole"])
def test_roles_print_name_and_created_at(kind: str) -> None:
    item = obj(kind, "pod-reader", metadata={"creationTimestamp": "2024-05-31T09:30:00+02:00"})
    assert cells((RBAC, kind), item) == ("pod-reader", "2024-05-31T07:30:00Z")


def csr(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    return obj("CertificateSigningRequest", "csr-1", created=45, spec=spec, status=status or {})


CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client"


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            csr({"signerName": CLIENT_SIGNER, "username": "alice", "expirationSeconds": 86400}),
            ("csr-1", "45s", CLIENT_SIGNER, "alice", "24h", "Pending"),
        ),
        (
            csr(
                {"signerName": CLIENT_SIGNER, "username": "alice", "expirationSeconds": 3600},
                {"conditions": [{"type": "Approved", "status": "True"}]},
            ),
            ("csr-1", "45s", CLIENT_SIGNER, "alice", "60m", "Approved"),
        ),
        (
            csr(
                {"signerName": CLIENT_SIGNER, "username": "alice"},
                {
                    "conditions": [{"type": "Approved", "status": "True"}],
                    "certificate": "LS0tLS1CRUdJTg==",
                },
            ),
            ("csr-1", "45s", CLIENT_SIGNER, "alice", "<none>", "Approved,Issued"),
        ),
        (
            csr(
                {"username": "system:node:n1", "expirationSeconds": 600},
                {"conditions": [{"type": "Approved"}, {"type": "Denied"}, {"type": "Failed"}]},
            ),
            ("csr-1", "45s", "<none>", "system:node:n1", "10m", "Denied,Failed"),
        ),
    ],
    ids=["pending", "approved", "issued", "denied-and-failed"],
)
def test_certificate_signing_request(item: dict[str, Any], expected: tuple[Any, ...]) -> None:
    assert cells(("certificates.k8s.io", "CertificateSigningRequest"), item) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"podSelector": {}}, "<none>"),
        ({}, "<none>"),
        ({"podSelector": {"matchLabels": {"role": "db"}}}, "role=db"),
        (
            {
                "podSelector": {
                    "matchExpressions": [
                        {"key": "tier", "operator": "In", "values": ["web", "api"]}
                    ]
                }
            },
            "tier in (api,web)",
        ),
    ],
    ids=["all-pods", "absent-selector", "match-labels", "match-expressions"],
)
def test_network_policy(spec: dict[str, Any], expected: str) -> None:
    item = obj("NetworkPolicy", "deny-all", spec=spec)
    assert cells(("networking.k8s.io", "NetworkPolicy"), item) == ("deny-all", expected, "5h")


def test_unknown_kind_gets_the_default_table() -> None:
    item = obj("Widget", "w1", metadata={"creationTimestamp": "2024-01-02T03:04:05Z"})
    assert cells(("example.com", "Widget"), item) == ("w1", "2024-01-02T03:04:05Z")
