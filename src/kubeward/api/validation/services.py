"""Defaulting and validation of core/v1 Service, as kube-apiserver does them.

From ``pkg/apis/core/v1/defaults.go`` (``SetDefaults_Service``), the service strategy
(``pkg/registry/core/service/strategy.go``: ``NormalizeClusterIPs``, ``dropTypeDependentFields``,
``patchAllocatedValues``) and ``ValidateService``/``ValidateServiceUpdate`` of
``pkg/apis/core/validation/validation.go``; messages and paths as upstream words them.

Defaults: ``type: ClusterIP``; ``sessionAffinity: None`` (``ClientIP`` gets a 10800 s timeout);
each port's ``protocol: TCP`` and ``targetPort`` = ``port``; ``internalTrafficPolicy: Cluster``
except for ExternalName; ``externalTrafficPolicy: Cluster`` for NodePort and LoadBalancer;
``allocateLoadBalancerNodePorts: true`` for LoadBalancer; ``clusterIP`` and ``clusterIPs`` kept
in step. Addresses, families and node ports are the allocator's (``api.allocation.services``).

Validation (create): ports required unless headless or ExternalName; port names required when
there are several, DNS-1123 labels, unique; port numbers 1–65535; protocol TCP/UDP/SCTP;
``targetPort`` a port number or IANA name; ``(port, protocol)`` and ``(nodePort, protocol)``
unique; ``type`` and ``sessionAffinity`` supported; ExternalName needs ``externalName`` (a DNS-1123
subdomain, a trailing dot allowed) and no ``clusterIP``/``clusterIPs``/``ipFamilies``/
``ipFamilyPolicy``; NodePort and LoadBalancer may not be headless; ``nodePort`` is forbidden for
ClusterIP; ``loadBalancerSourceRanges``, ``loadBalancerClass`` and ``allocateLoadBalancerNodePorts``
only for LoadBalancer, ``healthCheckNodePort`` only for LoadBalancer with ``externalTrafficPolicy:
Local``; the cluster IP fields agree with each other. Update: ``clusterIPs`` and ``ipFamilies``
may not change once set (unless the type is or was ExternalName).
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from kubeward.api.validation import field as f
from kubeward.api.validation.meta import (
    check_dns1123_label,
    check_dns1123_subdomain,
    validate_labels,
)
from kubeward.api.validation.networking import check_port_name, check_port_number
from kubeward.errors import Cause

TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
AFFINITIES = ("ClientIP", "None")
PROTOCOLS = ("SCTP", "TCP", "UDP")
FAMILIES = ("IPv4", "IPv6")
POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
TRAFFIC_POLICIES = ("Cluster", "Local")
DEFAULT_CLIENT_IP_TIMEOUT = 10800
MAX_CLIENT_IP_TIMEOUT = 86400


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _ports(spec: dict[str, Any]) -> list[dict[str, Any]]:
    ports = spec.get("ports")
    return [p for p in ports if isinstance(p, dict)] if isinstance(ports, list) else []


def is_headless(spec: dict[str, Any]) -> bool:
    ips = spec.get("clusterIPs") or []
    return isinstance(ips, list) and len(ips) == 1 and ips[0] == "None"


def externally_accessible(spec: dict[str, Any]) -> bool:
    """NodePort and LoadBalancer Services, and ClusterIP ones with external IPs."""
    kind = spec.get("type")
    return kind in ("NodePort", "LoadBalancer") or (
        kind == "ClusterIP" and bool(spec.get("externalIPs"))
    )


# --- defaulting ------------------------------------------------------------------------------


def default_service(obj: dict[str, Any]) -> None:
    """Fill the defaults of the module docstring in place (and clusterIP/clusterIPs in step)."""
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    kind = spec.setdefault("type", "ClusterIP")
    affinity = spec.setdefault("sessionAffinity", "None")
    if affinity == "ClientIP":
        config = spec.setdefault("sessionAffinityConfig", {})
        if isinstance(config, dict):
            client = config.setdefault("clientIP", {})
            if isinstance(client, dict):
                client.setdefault("timeoutSeconds", DEFAULT_CLIENT_IP_TIMEOUT)
    for port in _ports(spec):
        port.setdefault("protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    if kind != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if externally_accessible(spec):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if kind == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    cluster_ip = spec.get("clusterIP")
    cluster_ips = spec.get("clusterIPs")
    if cluster_ip and not cluster_ips:
        spec["clusterIPs"] = [cluster_ip]
    elif cluster_ips and isinstance(cluster_ips, list) and not cluster_ip:
        spec["clusterIP"] = cluster_ips[0]
    status = obj.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("loadBalancer", {})


def prepare_service_update(new: dict[str, Any], old: dict[str, Any]) -> None:
    """What an update keeps of what the server gave the old object (``patchAllocatedValues``),
    what it drops when the type no longer needs it (``dropTypeDependentFields``), and the
    cluster IP fields brought in step (``NormalizeClusterIPs``)."""
    spec, old_spec = _spec(new), _spec(old)
    if not spec:
        return
    kind, old_kind = spec.get("type", "ClusterIP"), old_spec.get("type", "ClusterIP")
    if kind != "ExternalName" and old_kind != "ExternalName":
        for key in ("clusterIP", "clusterIPs"):
            if not spec.get(key) and old_spec.get(key):
                spec[key] = copy.deepcopy(old_spec[key])
        if spec.get("clusterIP") != old_spec.get("clusterIP") and spec.get(
            "clusterIPs"
        ) == old_spec.get("clusterIPs"):
            spec["clusterIPs"] = [spec["clusterIP"]] if spec.get("clusterIP") else []
    node_port_kinds = ("NodePort", "LoadBalancer")
    if kind in node_port_kinds and old_kind in node_port_kinds:
        used = {
            (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
            for p in _ports(old_spec)
            if p.get("nodePort")
        }
        for port in _ports(spec):
            if not port.get("nodePort"):
                held = used.get((port.get("port"), port.get("protocol", "TCP")))
                if held:
                    port["nodePort"] = held
    if (
        spec.get("type") == "LoadBalancer"
        and old_spec.get("healthCheckNodePort")
        and not spec.get("healthCheckNodePort")
        and spec.get("externalTrafficPolicy", old_spec.get("externalTrafficPolicy")) == "Local"
    ):
        spec["healthCheckNodePort"] = old_spec["healthCheckNodePort"]
    if kind == "ExternalName" and old_kind != "ExternalName":
        for key in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if spec.get(key) == old_spec.get(key):
                spec.pop(key, None)
    if kind not in node_port_kinds:
        old_ports = {(p.get("port"), p.get("nodePort")) for p in _ports(old_spec)}
        for port in _ports(spec):
            if (port.get("port"), port.get("nodePort")) in old_ports:
                port.pop("nodePort", None)
    if (kind != "LoadBalancer" or spec.get("externalTrafficPolicy") != "Local") and spec.get(
        "healthCheckNodePort"
    ) == old_spec.get("healthCheckNodePort"):
        spec.pop("healthCheckNodePort", None)
    if not externally_accessible(spec) and spec.get("externalTrafficPolicy") == old_spec.get(
        "externalTrafficPolicy"
    ):
        spec.pop("externalTrafficPolicy", None)
    if kind != "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") == old_spec.get(
        "allocateLoadBalancerNodePorts"
    ):
        spec.pop("allocateLoadBalancerNodePorts", None)


# --- validation ------------------------------------------------------------------------------


def _validate_port(
    port: dict[str, Any], at: str, require_name: bool, names: set[str]
) -> list[Cause]:
    causes: list[Cause] = []
    name = port.get("name") or ""
    if require_name and not name:
        causes.append(f.required(f"{at}.name"))
    elif name:
        causes.extend(f.invalid(f"{at}.name", name, msg) for msg in check_dns1123_label(str(name)))
        if name in names:
            causes.append(f.duplicate(f"{at}.name", name))
        names.add(str(name))
    number = port.get("port")
    if not isinstance(number, int) or isinstance(number, bool):
        causes.append(f.invalid(f"{at}.port", number, "must be between 1 and 65535, inclusive"))
    else:
        causes.extend(f.invalid(f"{at}.port", number, msg) for msg in check_port_number(number))
    protocol = port.get("protocol")
    if not protocol:
        causes.append(f.required(f"{at}.protocol"))
    elif protocol not in PROTOCOLS:
        causes.append(f.not_supported(f"{at}.protocol", protocol, PROTOCOLS))
    target = port.get("targetPort")
    if isinstance(target, int) and not isinstance(target, bool):
        causes.extend(f.invalid(f"{at}.targetPort", target, m) for m in check_port_number(target))
    elif isinstance(target, str):
        causes.extend(f.invalid(f"{at}.targetPort", target, m) for m in check_port_name(target))
    node_port = port.get("nodePort")
    if node_port not in (None, 0):
        if not isinstance(node_port, int) or isinstance(node_port, bool):
            causes.append(
                f.invalid(f"{at}.nodePort", node_port, "must be between 1 and 65535, inclusive")
            )
        else:
            causes.extend(
                f.invalid(f"{at}.nodePort", node_port, m) for m in check_port_number(node_port)
            )
    return causes


def _validate_cluster_ips(spec: dict[str, Any]) -> list[Cause]:
    """``ValidateServiceClusterIPsRelatedFields``."""
    causes: list[Cause] = []
    cluster_ip = spec.get("clusterIP") or ""
    ips = spec.get("clusterIPs") or []
    if not isinstance(ips, list):
        return [f.invalid("spec.clusterIPs", ips, "must be a list")]
    if cluster_ip:
        if not ips:
            causes.append(f.required("spec.clusterIPs"))
        elif ips[0] != cluster_ip:
            causes.append(f.invalid("spec.clusterIPs", ips, "first value must match `clusterIP`"))
    elif ips:
        causes.append(
            f.invalid("spec.clusterIPs", ips, "must be empty when `clusterIP` is not specified")
        )
    seen: set[str] = set()
    families = spec.get("ipFamilies") or []
    for i, family in enumerate(families if isinstance(families, list) else []):
        if family not in FAMILIES:
            causes.append(f.not_supported(f"spec.ipFamilies[{i}]", family, FAMILIES))
        if family in seen:
            causes.append(f.duplicate(f"spec.ipFamilies[{i}]", family))
        seen.add(str(family))
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in POLICIES:
        causes.append(f.not_supported("spec.ipFamilyPolicy", policy, POLICIES))
    invalid_ips = False
    parsed: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for i, ip in enumerate(ips):
        if i == 0 and ip == "None":
            if len(ips) > 1:
                invalid_ips = True
                causes.append(
                    f.invalid("spec.clusterIPs", ips, "'None' must be the first and only value")
                )
            continue
        try:
            parsed.append(ipaddress.ip_address(str(ip)))
        except ValueError:
            invalid_ips = True
            causes.append(
                f.invalid(
                    f"spec.clusterIPs[{i}]",
                    ip,
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                )
            )
    if len(ips) > 2:
        causes.append(f.invalid("spec.clusterIPs", ips, "may only hold up to 2 values"))
    if invalid_ips:
        return causes
    if len(parsed) == 2 and parsed[0].version == parsed[1].version:
        causes.append(
            f.invalid("spec.clusterIPs", ips, "may specify no more than one IP for each IP family")
        )
    if ips and ips[0] != "None" and isinstance(families, list):
        for i, address in enumerate(parsed[: len(families)]):
            if families[i] == "IPv4" and address.version == 6:
                causes.append(
                    f.invalid(
                        f"spec.clusterIPs[{i}]",
                        str(address),
                        f"expected an IPv4 value as indicated by `ipFamilies[{i}]`",
                    )
                )
            if families[i] == "IPv6" and address.version == 4:
                causes.append(
                    f.invalid(
                        f"spec.clusterIPs[{i}]",
                        str(address),
                        f"expected an IPv6 value as indicated by `ipFamilies[{i}]`",
                    )
                )
    return causes


def validate_service(obj: dict[str, Any]) -> list[Cause]:
    """``ValidateService`` (metadata is the store's)."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [f.required("spec")]
    causes: list[Cause] = []
    kind = spec.get("type")
    ports = _ports(spec)
    headless = is_headless(spec)
    if not ports and not headless and kind != "ExternalName":
        causes.append(f.required("spec.ports"))
    if kind in ("LoadBalancer", "NodePort") and headless:
        causes.append(
            f.invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {kind} services")
        )
    if kind == "ExternalName":
        for key in ("clusterIPs", "ipFamilies"):
            if spec.get(key):
                causes.append(
                    f.forbidden(f"spec.{key}", "may not be set for ExternalName services")
                )
        if spec.get("ipFamilyPolicy") is not None:
            causes.append(
                f.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services")
            )
        cname = str(spec.get("externalName") or "").removesuffix(".")
        if cname:
            causes.extend(
                f.invalid("spec.externalName", cname, msg) for msg in check_dns1123_subdomain(cname)
            )
        else:
            causes.append(f.required("spec.externalName"))
    names: set[str] = set()
    for i, port in enumerate(ports):
        causes.extend(_validate_port(port, f"spec.ports[{i}]", len(ports) > 1, names))
    selector = spec.get("selector")
    if selector is not None:
        causes.extend(validate_labels(selector, "spec.selector"))
    affinity = spec.get("sessionAffinity")
    if not affinity:
        causes.append(f.required("spec.sessionAffinity"))
    elif affinity not in AFFINITIES:
        causes.append(f.not_supported("spec.sessionAffinity", affinity, AFFINITIES))
    elif affinity == "ClientIP":
        timeout = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get(
            "timeoutSeconds"
        )
        if not isinstance(timeout, int) or not 0 < timeout <= MAX_CLIENT_IP_TIMEOUT:
            causes.append(
                f.invalid(
                    "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                    timeout,
                    f"must be greater than 0 and less than {MAX_CLIENT_IP_TIMEOUT}",
                )
            )
    elif spec.get("sessionAffinityConfig") is not None:
        causes.append(
            f.forbidden(
                "spec.sessionAffinityConfig", "must not be set when session affinity is None"
            )
        )
    if kind != "ExternalName":
        causes.extend(_validate_cluster_ips(spec))
    for i, ip in enumerate(spec.get("externalIPs") or []):
        try:
            ipaddress.ip_address(str(ip))
        except ValueError:
            causes.append(
                f.invalid(
                    f"spec.externalIPs[{i}]",
                    ip,
                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                )
            )
    if not kind:
        causes.append(f.required("spec.type"))
    elif kind not in TYPES:
        causes.append(f.not_supported("spec.type", kind, TYPES))
    if kind == "ClusterIP":
        for i, port in enumerate(ports):
            if port.get("nodePort") not in (None, 0):
                causes.append(
                    f.forbidden(
                        f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'"
                    )
                )
    node_ports: set[tuple[Any, Any]] = set()
    service_ports: set[tuple[Any, Any]] = set()
    for i, port in enumerate(ports):
        if port.get("nodePort") not in (None, 0):
            node_key = (port.get("protocol"), port.get("nodePort"))
            if node_key in node_ports:
                causes.append(f.duplicate(f"spec.ports[{i}].nodePort", port.get("nodePort")))
            node_ports.add(node_key)
        port_key = (port.get("protocol"), port.get("port"))
        if port_key in service_ports:
            causes.append(
                f.duplicate(
                    f"spec.ports[{i}]", {"port": port.get("port"), "protocol": port.get("protocol")}
                )
            )
        service_ports.add(port_key)
    policy = spec.get("externalTrafficPolicy")
    if policy is not None and not externally_accessible(spec):
        causes.append(
            f.invalid(
                "spec.externalTrafficPolicy",
                policy,
                "may only be set for externally-accessible services",
            )
        )
    elif policy is not None and policy not in TRAFFIC_POLICIES:
        causes.append(f.not_supported("spec.externalTrafficPolicy", policy, TRAFFIC_POLICIES))
    if kind != "LoadBalancer":
        for key in ("loadBalancerSourceRanges", "loadBalancerClass"):
            if spec.get(key):
                path = "spec.LoadBalancerSourceRanges" if key.endswith("Ranges") else f"spec.{key}"
                causes.append(f.forbidden(path, "may only be used when `type` is 'LoadBalancer'"))
        if spec.get("allocateLoadBalancerNodePorts") is not None:
            causes.append(
                f.forbidden(
                    "spec.allocateLoadBalancerNodePorts",
                    "may only be used when `type` is 'LoadBalancer'",
                )
            )
    health = spec.get("healthCheckNodePort")
    if health not in (None, 0) and not (
        kind == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"
    ):
        causes.append(
            f.invalid(
                "spec.healthCheckNodePort",
                health,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` "
                "is 'Local'",
            )
        )
    internal = spec.get("internalTrafficPolicy")
    if kind != "ExternalName" and internal is not None and internal not in TRAFFIC_POLICIES:
        causes.append(f.not_supported("spec.internalTrafficPolicy", internal, TRAFFIC_POLICIES))
    return causes


def validate_service_update(new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    """``validateUpgradeDowngradeClusterIPs`` and ``…IPFamilies`` (single-stack subset)."""
    spec, old_spec = _spec(new), _spec(old)
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return []
    causes: list[Cause] = []
    ips, old_ips = spec.get("clusterIPs") or [], old_spec.get("clusterIPs") or []
    if not (is_headless(spec) and is_headless(old_spec)) and old_ips:
        if not ips:
            causes.append(
                f.invalid("spec.clusterIPs[0]", ips, "primary clusterIP can not be unset")
            )
        else:
            for i, ip in enumerate(old_ips[: len(ips)]):
                if ips[i] != ip:
                    causes.append(
                        f.invalid(f"spec.clusterIPs[{i}]", ips, "may not change once set")
                    )
    families, old_families = spec.get("ipFamilies") or [], old_spec.get("ipFamilies") or []
    if is_headless(spec) == is_headless(old_spec) and not is_headless(spec) and families:
        for i, family in enumerate(old_families[: len(families)]):
            if families[i] != family:
                causes.append(f.invalid("spec.ipFamilies[0]", families, "may not change once set"))
    return causes
