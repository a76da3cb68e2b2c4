"""Kubernetes objects (as decoded JSON) to an :class:`~kubeward.netpol.model.Inventory`.

The same function serves files (:mod:`kubeward.netpol.load`) and a live cluster (a list of
objects fetched through the API), so both are judged alike. Rules:

 1. Only ``v1`` Namespaces, ``v1`` Pods and ``networking.k8s.io/v1`` NetworkPolicies are
    accepted; any other kind is bad input.
 2. A namespaced object without ``metadata.namespace`` lives in ``default``, as kubectl assumes.
 3. A pod or policy in a namespace that is not declared is bad input, as the API server would
    refuse it — except for the namespaces every cluster has (``default``, ``kube-system``,
    ``kube-public``, ``kube-node-lease``), which exist with just their name label.
 4. Every namespace gets the ``kubernetes.io/metadata.name`` label, as the API server sets it.
 5. A pod's IP is ``status.podIP`` (or the first of ``status.podIPs``), as the node that runs
    it reports it; a pod whose ``status.phase`` is ``Succeeded`` or ``Failed`` has none (its
    sandbox is gone and its address may already be another pod's). Container ports come
    from ``spec.containers[*].ports`` (and init containers), protocol defaulted to TCP.
 6. A NetworkPolicy is defaulted and validated as the API server does; a failure is bad input.
 7. A pod without an IP is accepted whatever the policies say: it matches no ``ipBlock``
    (there is no address to test), and the evaluator says so when that decides a
    connection. In a live cluster (``--kubeconfig``) that is a pod not yet running (no node
    has given it an address) or one that has finished; running pods carry the IP their
    node gave them from its ``spec.podCIDR``, and ipBlocks are judged against it.
 8. The same object twice is bad input.
 9. :func:`overlay_documents` lays objects over others by identity (kind, namespace, name):
    ``netpol diff --kubeconfig K --after FILE`` judges the live cluster with FILE applied.

Every problem raises :class:`~kubeward.errors.InputError` naming the object and where it came
from, one line, before anything is returned.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubeward.api.selectors import LabelSelector
from kubeward.api.validation.networking import (
    default_network_policy,
    parse_cidr,
    validate_network_policy,
)
from kubeward.errors import BadRequest, InputError, invalid
from kubeward.netpol.model import (
    TCP,
    ContainerPort,
    Inventory,
    IPAddress,
    IPBlock,
    IPNetwork,
    Namespace,
    NetworkPolicy,
    Peer,
    Pod,
    PolicyPort,
    Rule,
)

BUILTIN_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
KINDS = {"Namespace": "v1", "Pod": "v1", "NetworkPolicy": "networking.k8s.io/v1"}


@dataclass(frozen=True)
class Document:
    """One object and where it came from (``pods.yaml``, ``pods.yaml#3``, ``cluster``)."""

    obj: Mapping[str, Any]
    origin: str = ""


def inventory_from_objects(objects: Iterable[Mapping[str, Any]], origin: str = "") -> Inventory:
    """Build an inventory from decoded objects (a live cluster's, say)."""
    return inventory_from_documents(Document(obj, origin) for obj in objects)


def inventory_from_documents(documents: Iterable[Document]) -> Inventory:
    """Build an inventory from objects that know their origin; raise on the first problem."""
    namespaces: dict[str, Namespace] = {}
    pods: dict[str, tuple[Pod, str]] = {}
    policies: dict[str, tuple[NetworkPolicy, str]] = {}
    seen: dict[tuple[str, str], str] = {}
    for doc in documents:
        kind = _kind(doc)
        name, namespace = _identity(doc, kind)
        key = name if kind == "Namespace" else f"{namespace}/{name}"
        where = _where(doc, kind, key)
        if (kind, key) in seen:
            raise InputError(f"{where}: defined twice (also in {seen[(kind, key)] or 'input'})")
        seen[(kind, key)] = doc.origin
        if kind == "Namespace":
            labels = _labels(doc.obj["metadata"].get("labels"), where)
            namespaces[name] = Namespace.with_name_label(name, labels)
        elif kind == "Pod":
            pods[key] = (_pod(doc.obj, name, namespace, where), where)
        else:
            policies[key] = (_policy(doc, name, namespace, where), where)
    for builtin in BUILTIN_NAMESPACES:
        namespaces.setdefault(builtin, Namespace.with_name_label(builtin))
    for pod, where in pods.values():
        _require_namespace(pod.namespace, namespaces, where)
    for policy, where in policies.values():
        _require_namespace(policy.namespace, namespaces, where)
    return Inventory(
        tuple(namespaces.values()),
        tuple(pod for pod, _ in pods.values()),
        tuple(policy for policy, _ in policies.values()),
    )


def overlay_documents(base: Iterable[Document], overlay: Iterable[Document]) -> list[Document]:
    """``base`` with each object of ``overlay`` in place of the base object it names (rule 9).

    Objects of ``overlay`` that name no base object are added; two objects in ``overlay`` with
    one identity stay two, and the builder refuses them as any duplicate.

    Raises:
        InputError: an object of either side has no usable kind or name.
    """
    laid = list(overlay)
    replaced = {_key(doc) for doc in laid}
    return [doc for doc in base if _key(doc) not in replaced] + laid


def _key(doc: Document) -> tuple[str, str]:
    kind = _kind(doc)
    name, namespace = _identity(doc, kind)
    return kind, name if kind == "Namespace" else f"{namespace}/{name}"


def _where(doc: Document, kind: str, key: str) -> str:
    named = f'{kind} "{key}"'
    return f"{doc.origin}: {named}" if doc.origin else named


def _kind(doc: Document) -> str:
    obj = doc.obj
    prefix = f"{doc.origin}: " if doc.origin else ""
    if not isinstance(obj, Mapping):
        raise InputError(f"{prefix}not a Kubernetes object (a {type(obj).__name__})")
    kind = obj.get("kind")
    if not kind:
        raise InputError(f"{prefix}object has no kind")
    if kind not in KINDS:
        raise InputError(
            f'{prefix}kind "{kind}" is not supported here (want Namespace, Pod or NetworkPolicy)'
        )
    api_version = obj.get("apiVersion")
    if not api_version:
        raise InputError(f'{prefix}{kind} has no apiVersion (want "{KINDS[kind]}")')
    if api_version != KINDS[kind]:
        raise InputError(f'{prefix}{kind} has apiVersion "{api_version}", want "{KINDS[kind]}"')
    return str(kind)


def _identity(doc: Document, kind: str) -> tuple[str, str]:
    prefix = f"{doc.origin}: " if doc.origin else ""
    metadata = doc.obj.get("metadata")
    if not isinstance(metadata, Mapping) or not metadata.get("name"):
        raise InputError(f"{prefix}{kind} without metadata.name")
    name = metadata["name"]
    namespace = metadata.get("namespace") or "default"
    if not isinstance(name, str) or not isinstance(namespace, str):
        raise InputError(f"{prefix}{kind}: metadata.name and metadata.namespace must be strings")
    return name, namespace


def _require_namespace(namespace: str, known: Mapping[str, Namespace], where: str) -> None:
    if namespace not in known:
        raise InputError(
            f'{where}: namespace "{namespace}" not found (declare the Namespace in the input)'
        )


def _labels(labels: object, where: str) -> dict[str, str]:
    if labels is None:
        return {}
    if not isinstance(labels, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise InputError(f"{where}: metadata.labels must map strings to strings")
    return dict(labels)


def _pod(obj: Mapping[str, Any], name: str, namespace: str, where: str) -> Pod:
    labels = _labels(obj["metadata"].get("labels"), where)
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    if not isinstance(spec, Mapping) or not isinstance(status, Mapping):
        raise InputError(f"{where}: spec and status must be objects")
    phase = str(status.get("phase") or "")
    ip = _pod_ip(status, where)
    return Pod(
        namespace,
        name,
        labels,
        None if phase in ("Succeeded", "Failed") else ip,
        _container_ports(spec, where),
        phase,
    )


def _pod_ip(status: Mapping[str, Any], where: str) -> IPAddress | None:
    text = status.get("podIP")
    if not text:
        ips = status.get("podIPs") or []
        if isinstance(ips, list) and ips and isinstance(ips[0], Mapping):
            text = ips[0].get("ip")
    if not text:
        return None
    try:
        return ipaddress.ip_address(str(text))
    except ValueError as exc:
        raise InputError(f"{where}: status.podIP {text!r} is not an IP address") from exc


def _container_ports(spec: Mapping[str, Any], where: str) -> tuple[ContainerPort, ...]:
    out: list[ContainerPort] = []
    for key in ("containers", "initContainers"):
        containers = spec.get(key) or []
        if not isinstance(containers, list):
            raise InputError(f"{where}: spec.{key} must be a list")
        for c, container in enumerate(containers):
            ports = container.get("ports") if isinstance(container, Mapping) else None
            if ports is None:
                continue
            if not isinstance(ports, list):
                raise InputError(f"{where}: spec.{key}[{c}].ports must be a list")
            for p, port in enumerate(ports):
                at = f"spec.{key}[{c}].ports[{p}]"
                number = port.get("containerPort") if isinstance(port, Mapping) else None
                if not isinstance(number, int) or isinstance(number, bool):
                    raise InputError(f"{where}: {at}.containerPort must be a port number")
                if not 1 <= number <= 65535:
                    raise InputError(f"{where}: {at}.containerPort {number} is not in 1-65535")
                protocol = port.get("protocol") or TCP
                if protocol not in ("TCP", "UDP", "SCTP"):
                    raise InputError(f"{where}: {at}.protocol {protocol!r} is not TCP, UDP or SCTP")
                out.append(ContainerPort(number, str(protocol), str(port.get("name") or "")))
    return tuple(out)


def _policy(doc: Document, name: str, namespace: str, where: str) -> NetworkPolicy:
    obj = doc.obj
    metadata = {**obj["metadata"], "namespace": namespace}
    defaulted = default_network_policy({**obj, "metadata": metadata})
    causes = validate_network_policy(defaulted)
    if causes:
        error = invalid("NetworkPolicy", name, causes, group="networking.k8s.io")
        prefix = f"{doc.origin}: " if doc.origin else ""
        raise InputError(f"{prefix}{error.message}")
    spec = defaulted["spec"]
    try:
        return NetworkPolicy(
            namespace=namespace,
            name=name,
            pod_selector=LabelSelector.from_dict(spec.get("podSelector")),
            policy_types=tuple(dict.fromkeys(spec["policyTypes"])),
            ingress=tuple(_rule(r, "from") for r in spec.get("ingress") or []),
            egress=tuple(_rule(r, "to") for r in spec.get("egress") or []),
            origin=doc.origin,
        )
    except BadRequest as exc:  # validated above; kept so no library error can escape
        raise InputError(f"{where}: {exc}") from exc


def _rule(rule: Mapping[str, Any] | None, peers_key: str) -> Rule:
    rule = rule or {}
    peers = tuple(_peer(p) for p in rule.get(peers_key) or [])
    ports = tuple(
        PolicyPort(str(p["protocol"]), p.get("port"), p.get("endPort"))
        for p in rule.get("ports") or []
    )
    return Rule(peers, ports)


def _peer(peer: Mapping[str, Any]) -> Peer:
    block = peer.get("ipBlock")
    if block is not None:
        return Peer(
            ip_block=IPBlock(
                _network(block["cidr"]), tuple(_network(e) for e in block.get("except") or [])
            )
        )
    pods = peer.get("podSelector")
    namespaces = peer.get("namespaceSelector")
    return Peer(
        pod_selector=None if pods is None else LabelSelector.from_dict(pods),
        namespace_selector=None if namespaces is None else LabelSelector.from_dict(namespaces),
    )


def _network(text: str) -> IPNetwork:
    network = parse_cidr(text)
    assert network is not None, "validated before"
    return network
