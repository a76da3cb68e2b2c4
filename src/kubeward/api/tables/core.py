"""Tables of the core/v1 kinds other than Pod, as Kubernetes' ``printers.go`` prints them.

Rules, per kind (cells not listed are the stored value as it stands):

1. Namespace: STATUS is ``status.phase``.
2. Node: STATUS is ``Ready`` or ``NotReady`` from the ``Ready`` condition (any status but
   True is NotReady), ``Unknown`` when there is no such condition, followed by
   ``,SchedulingDisabled`` when ``spec.unschedulable``. ROLES are the names after
   ``node-role.kubernetes.io/`` in label keys plus the value of a ``kubernetes.io/role``
   label, sorted and comma-joined, ``<none>`` when there is none. The wide columns show the
   first InternalIP and ExternalIP address (``<none>``) and the OS image, kernel and runtime
   versions (``<unknown>`` when unreported).
3. ConfigMap DATA counts ``data`` and ``binaryData`` keys; Secret DATA counts ``data`` keys;
   ServiceAccount SECRETS counts ``secrets``.
4. Event: LAST SEEN is ``lastTimestamp``, else FIRST SEEN; FIRST SEEN is ``firstTimestamp``,
   else ``eventTime``; an event ``series`` overrides LAST SEEN and COUNT; a COUNT of 0 reads 1.
   OBJECT is ``<kind in lower case>/<name>``; SOURCE is ``component, host`` falling back to
   ``reportingController`` and ``reportingInstance``; the message is stripped of surrounding
   whitespace.
5. Service: CLUSTER-IP is the first cluster IP (``<none>``); EXTERNAL-IP depends on the type
   (``externalIPs`` for ClusterIP and NodePort, load-balancer ingress then ``externalIPs`` or
   ``<pending>`` for LoadBalancer, ``externalName`` for ExternalName); PORT(S) reads
   ``80/TCP`` or ``80:30080/TCP`` with a node port.
6. Fields Kubernetes fills in on every write (Service ``type`` and port ``protocol``, Secret
   ``type``) are read with that default when absent, so a table shows what a real server
   would have stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from kubeward.api.tables._access import (
    count,
    flag,
    integer,
    items,
    mapping,
    string_map,
    strings,
    text,
    value_at,
)
from kubeward.api.tables.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    KindKey,
    PrintedRow,
    TablePrinter,
    column,
)
from kubeward.api.tables.formatting import (
    NONE,
    UNKNOWN,
    age_since,
    format_labels,
    parse_timestamp,
    translate_timestamp_since,
)

NODE_ROLE_LABEL_PREFIX = "node-role.kubernetes.io/"
NODE_ROLE_LABEL = "kubernetes.io/role"


def _name(obj: Mapping[str, Any]) -> str:
    return text(obj, "metadata", "name")


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return translate_timestamp_since(value_at(obj, "metadata", "creationTimestamp"), now)


# --- Namespace ---------------------------------------------------------------------------

NAMESPACE_COLUMNS = (NAME_COLUMN, column("Status", "The status of the namespace"), AGE_COLUMN)


def print_namespace(namespace: Mapping[str, Any], now: datetime) -> PrintedRow:
    return PrintedRow((_name(namespace), text(namespace, "status", "phase"), _age(namespace, now)))


# --- Node --------------------------------------------------------------------------------

NODE_COLUMNS = (
    NAME_COLUMN,
    column("Status", "The status of the node"),
    column("Roles", "The roles of the node"),
    AGE_COLUMN,
    column("Version", "Kubelet Version reported by the node."),
    column("Internal-IP", "The first InternalIP address of the node.", priority=1),
    column("External-IP", "The first ExternalIP address of the node.", priority=1),
    column("OS-Image", "OS Image reported by the node from /etc/os-release.", priority=1),
    column("Kernel-Version", "Kernel Version reported by the node (uname -r).", priority=1),
    column(
        "Container-Runtime",
        "ContainerRuntime Version reported by the node through runtime remote API.",
        priority=1,
    ),
)


def node_roles(labels: Mapping[str, str]) -> list[str]:
    """The node's roles from its labels, sorted (Kubernetes' ``findNodeRoles``)."""
    roles: set[str] = set()
    for key, value in labels.items():
        if key.startswith(NODE_ROLE_LABEL_PREFIX):
            role = key[len(NODE_ROLE_LABEL_PREFIX) :]
            if role:
                roles.add(role)
        elif key == NODE_ROLE_LABEL and value:
            roles.add(value)
    return sorted(roles)


def _node_status(node: Mapping[str, Any]) -> str:
    ready_status: str | None = None
    for condition in items(node, "status", "conditions"):
        if text(condition, "type") == "Ready":
            ready_status = text(condition, "status")  # the last one wins, as in Go's map
    states = [
        "Unknown" if ready_status is None else "Ready" if ready_status == "True" else "NotReady"
    ]
    if flag(node, "spec", "unschedulable"):
        states.append("SchedulingDisabled")
    return ",".join(states)


def _node_address(node: Mapping[str, Any], address_type: str) -> str:
    for address in items(node, "status", "addresses"):
        if text(address, "type") == address_type:
            return text(address, "address")
    return NONE


def print_node(node: Mapping[str, Any], now: datetime) -> PrintedRow:
    info = mapping(node, "status", "nodeInfo")
    return PrintedRow(
        (
            _name(node),
            _node_status(node),
            ",".join(node_roles(string_map(node, "metadata", "labels"))) or NONE,
            _age(node, now),
            text(info, "kubeletVersion"),
            _node_address(node, "InternalIP"),
            _node_address(node, "ExternalIP"),
            text(info, "osImage") or UNKNOWN,
            text(info, "kernelVersion") or UNKNOWN,
            text(info, "containerRuntimeVersion") or UNKNOWN,
        )
    )


# --- ConfigMap, Secret, ServiceAccount -----------------------------------------------------

CONFIG_MAP_COLUMNS = (
    NAME_COLUMN,
    column("Data", "The number of keys in data and binaryData."),
    AGE_COLUMN,
)


def print_config_map(config_map: Mapping[str, Any], now: datetime) -> PrintedRow:
    keys = count(config_map, "data") + count(config_map, "binaryData")
    return PrintedRow((_name(config_map), keys, _age(config_map, now)))


SECRET_COLUMNS = (
    NAME_COLUMN,
    column("Type", "Used to facilitate programmatic handling of secret data."),
    column("Data", "The number of keys in data."),
    AGE_COLUMN,
)


def print_secret(secret: Mapping[str, Any], now: datetime) -> PrintedRow:
    secret_type = text(secret, "type") or "Opaque"
    return PrintedRow((_name(secret), secret_type, count(secret, "data"), _age(secret, now)))


SERVICE_ACCOUNT_COLUMNS = (
    NAME_COLUMN,
    column("Secrets", "The number of secrets listed by this service account."),
    AGE_COLUMN,
)


def print_service_account(account: Mapping[str, Any], now: datetime) -> PrintedRow:
    return PrintedRow((_name(account), count(account, "secrets"), _age(account, now)))


# --- Event -------------------------------------------------------------------------------

EVENT_COLUMNS = (
    column("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
    column("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
    column("Reason", "A short, machine understandable reason for the transition."),
    column("Object", "The object that this event is about."),
    column("Subobject", "The part of the object this event is about.", priority=1),
    column("Source", "The component reporting this event.", priority=1),
    column("Message", "A human-readable description of the status of this operation."),
    column("First Seen", "The time at which the event was first recorded.", priority=1),
    column("Count", "The number of times this event has occurred.", priority=1),
    replace(NAME_COLUMN, priority=1),
)


def _event_source(event: Mapping[str, Any]) -> str:
    component = text(event, "source", "component") or text(event, "reportingController")
    host = text(event, "source", "host") or text(event, "reportingInstance")
    return f"{component}, {host}" if host else component


def _event_object(event: Mapping[str, Any]) -> str:
    kind = text(event, "involvedObject", "kind").lower()
    name = text(event, "involvedObject", "name")
    return f"{kind}/{name}" if name else kind


def print_event(event: Mapping[str, Any], now: datetime) -> PrintedRow:
    first_time = parse_timestamp(value_at(event, "firstTimestamp")) or parse_timestamp(
        value_at(event, "eventTime")
    )
    first_seen = age_since(first_time, now)
    last_time = parse_timestamp(value_at(event, "lastTimestamp"))
    last_seen = age_since(last_time, now) if last_time is not None else first_seen
    occurrences = integer(event, "count")
    series = value_at(event, "series")
    if isinstance(series, Mapping):
        last_seen = translate_timestamp_since(series.get("lastObservedTime"), now)
        occurrences = integer(series, "count")
    elif occurrences == 0:
        occurrences = 1  # events of the events.k8s.io API leave count unset for a single one
    return PrintedRow(
        (
            last_seen,
            text(event, "type"),
            text(event, "reason"),
            _event_object(event),
            text(event, "involvedObject", "fieldPath"),
            _event_source(event),
            text(event, "message").strip(),
            first_seen,
            occurrences,
            _name(event),
        )
    )


# --- Service -----------------------------------------------------------------------------

SERVICE_COLUMNS = (
    NAME_COLUMN,
    column(
        "Type", "How the Service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName."
    ),
    column("Cluster-IP", "The IP address of the service inside the cluster."),
    column("External-IP", "The addresses the service is reachable at from outside the cluster."),
    column("Port(s)", "The list of ports that are exposed by this service."),
    AGE_COLUMN,
    column(
        "Selector",
        "Route service traffic to pods with label keys and values matching this selector.",
        priority=1,
    ),
)


def _load_balancer_addresses(service: Mapping[str, Any]) -> list[str]:
    addresses: set[str] = set()
    for ingress in items(service, "status", "loadBalancer", "ingress"):
        address = text(ingress, "ip") or text(ingress, "hostname")
        if address:
            addresses.add(address)
    return sorted(addresses)


def _external_ip(service: Mapping[str, Any], service_type: str) -> str:
    external_ips = strings(service, "spec", "externalIPs")
    if service_type in ("ClusterIP", "NodePort"):
        return ",".join(external_ips) or NONE
    if service_type == "LoadBalancer":
        addresses = _load_balancer_addresses(service) + external_ips
        return ",".join(addresses) or "<pending>"
    if service_type == "ExternalName":
        return text(service, "spec", "externalName")
    return UNKNOWN


def _ports(service: Mapping[str, Any]) -> str:
    rendered = []
    for port in items(service, "spec", "ports"):
        protocol = text(port, "protocol") or "TCP"
        node_port = integer(port, "nodePort")
        if node_port > 0:
            rendered.append(f"{integer(port, 'port')}:{node_port}/{protocol}")
        else:
            rendered.append(f"{integer(port, 'port')}/{protocol}")
    return ",".join(rendered) or NONE


def print_service(service: Mapping[str, Any], now: datetime) -> PrintedRow:
    service_type = text(service, "spec", "type") or "ClusterIP"
    cluster_ips = strings(service, "spec", "clusterIPs")
    cluster_ip = (cluster_ips[0] if cluster_ips else text(service, "spec", "clusterIP")) or NONE
    return PrintedRow(
        (
            _name(service),
            service_type,
            cluster_ip,
            _external_ip(service, service_type),
            _ports(service),
            _age(service, now),
            format_labels(string_map(service, "spec", "selector")),
        )
    )


PRINTERS: dict[KindKey, TablePrinter] = {
    ("", "Namespace"): TablePrinter(NAMESPACE_COLUMNS, print_namespace),
    ("", "Node"): TablePrinter(NODE_COLUMNS, print_node),
    ("", "ConfigMap"): TablePrinter(CONFIG_MAP_COLUMNS, print_config_map),
    ("", "Secret"): TablePrinter(SECRET_COLUMNS, print_secret),
    ("", "ServiceAccount"): TablePrinter(SERVICE_ACCOUNT_COLUMNS, print_service_account),
    ("", "Event"): TablePrinter(EVENT_COLUMNS, print_event),
    ("", "Service"): TablePrinter(SERVICE_COLUMNS, print_service),
}
"""The core/v1 printers of this module, keyed by (API group, kind)."""
