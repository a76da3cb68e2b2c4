"""Validation of core/v1 Endpoints, discovery.k8s.io/v1 EndpointSlice and a Service's
load-balancer status, as ``pkg/apis/core/validation`` and ``pkg/apis/discovery/validation``
word it.

Rules:
 1. Endpoints: each subset lists ``addresses`` or ``notReadyAddresses``; each address has a
    valid, non-special IP (not unspecified, loopback, link-local or link-local multicast), an
    optional DNS-1123 label ``hostname`` and DNS-1123 subdomain ``nodeName``; ports have a name
    when there are several (DNS-1123 labels), a number 1–65535 and a TCP/UDP/SCTP protocol.
 2. EndpointSlice: ``addressType`` is IPv4, IPv6 or FQDN and never changes; each endpoint has 1 to
    100 addresses of that type; at most 1000 endpoints and 100 ports; port names are empty or
    DNS-1123 labels and unique; protocols TCP/UDP/SCTP; numbers 1–65535.
 3. Load-balancer ingress: ``ip`` a valid IP, ``hostname`` a DNS-1123 subdomain that is not an IP.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from kubeward.api.validation import field as f
from kubeward.api.validation.meta import check_dns1123_label, check_dns1123_subdomain
from kubeward.api.validation.networking import check_port_number
from kubeward.errors import Cause

PROTOCOLS = ("SCTP", "TCP", "UDP")
ADDRESS_TYPES = ("FQDN", "IPv4", "IPv6")
IP_MESSAGE = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
MAX_SLICE_ENDPOINTS = 1000
MAX_SLICE_PORTS = 100
MAX_ENDPOINT_ADDRESSES = 100


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _link_local_multicast(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Go's ``IsLinkLocalMulticast``: 224.0.0.0/24, or an IPv6 multicast of link-local scope."""
    if ip.version == 4:
        return ip in _IPV4_LINK_LOCAL_MULTICAST
    packed = ip.packed
    return packed[0] == 0xFF and packed[1] & 0x0F == 0x02


_IPV4_LINK_LOCAL_MULTICAST = ipaddress.ip_network("224.0.0.0/24")


def check_non_special_ip(text: str, at: str) -> list[Cause]:
    """``ValidateNonSpecialIP``: a routable unicast address."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return [f.invalid(at, text, IP_MESSAGE)]
    if ip.is_unspecified:
        return [f.invalid(at, text, "may not be unspecified (0.0.0.0)")]
    if ip.is_loopback:
        return [f.invalid(at, text, "may not be in the loopback range (127.0.0.0/8, ::1/128)")]
    if ip.is_link_local:
        return [
            f.invalid(at, text, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")
        ]
    if _link_local_multicast(ip):
        return [
            f.invalid(
                at, text, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"
            )
        ]
    return []


def _port(
    port: dict[str, Any], at: str, require_name: bool, names: set[str], port_required: bool = True
) -> list[Cause]:
    causes: list[Cause] = []
    name = port.get("name") or ""
    if require_name and not name:
        causes.append(f.required(f"{at}.name"))
    elif name:
        causes.extend(f.invalid(f"{at}.name", name, m) for m in check_dns1123_label(str(name)))
        if name in names:
            causes.append(f.duplicate(f"{at}.name", name))
        names.add(str(name))
    number = port.get("port", 0 if port_required else None)
    if number is None:
        pass
    elif isinstance(number, int) and not isinstance(number, bool):
        causes.extend(f.invalid(f"{at}.port", number, m) for m in check_port_number(number))
    else:
        causes.append(f.invalid(f"{at}.port", number, "must be between 1 and 65535, inclusive"))
    protocol = port.get("protocol")
    if not protocol:
        causes.append(f.required(f"{at}.protocol"))
    elif protocol not in PROTOCOLS:
        causes.append(f.not_supported(f"{at}.protocol", protocol, PROTOCOLS))
    return causes


def default_endpoints(obj: dict[str, Any]) -> None:
    """Each port's protocol defaults to TCP (``SetDefaults_EndpointPort``)."""
    for subset in _dicts(obj.get("subsets")):
        for port in _dicts(subset.get("ports")):
            port.setdefault("protocol", "TCP")


def validate_endpoints(obj: dict[str, Any]) -> list[Cause]:
    """Rule 1."""
    causes: list[Cause] = []
    for i, subset in enumerate(_dicts(obj.get("subsets"))):
        at = f"subsets[{i}]"
        addresses = _dicts(subset.get("addresses"))
        not_ready = _dicts(subset.get("notReadyAddresses"))
        if not addresses and not not_ready:
            causes.append(f.required(at, "must specify `addresses` or `notReadyAddresses`"))
        for key, group in (("addresses", addresses), ("notReadyAddresses", not_ready)):
            for j, address in enumerate(group):
                where = f"{at}.{key}[{j}]"
                causes.extend(check_non_special_ip(str(address.get("ip") or ""), f"{where}.ip"))
                hostname = address.get("hostname")
                if hostname:
                    causes.extend(
                        f.invalid(f"{where}.hostname", hostname, m)
                        for m in check_dns1123_label(str(hostname))
                    )
                node = address.get("nodeName")
                if node:
                    causes.extend(
                        f.invalid(f"{where}.nodeName", node, m)
                        for m in check_dns1123_subdomain(str(node))
                    )
        ports = _dicts(subset.get("ports"))
        names: set[str] = set()
        for j, port in enumerate(ports):
            causes.extend(_port(port, f"{at}.ports[{j}]", len(ports) > 1, names))
    return causes


def _slice_address(address: Any, address_type: str, at: str) -> list[Cause]:
    text = str(address)
    if address_type == "FQDN":
        return [f.invalid(at, text, m) for m in check_dns1123_subdomain(text)]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return [f.invalid(at, text, IP_MESSAGE)]
    if address_type == "IPv4" and ip.version != 4:
        return [f.invalid(at, text, "must be an IPv4 address")]
    if address_type == "IPv6" and ip.version != 6:
        return [f.invalid(at, text, "must be an IPv6 address")]
    return []


def validate_endpoint_slice(obj: dict[str, Any]) -> list[Cause]:
    """Rule 2 on create and update."""
    causes: list[Cause] = []
    address_type = obj.get("addressType")
    if not address_type:
        causes.append(f.required("addressType"))
    elif address_type not in ADDRESS_TYPES:
        causes.append(f.not_supported("addressType", address_type, ADDRESS_TYPES))
    endpoints = _dicts(obj.get("endpoints"))
    if len(endpoints) > MAX_SLICE_ENDPOINTS:
        causes.append(f.too_many("endpoints", len(endpoints), MAX_SLICE_ENDPOINTS))
    for i, endpoint in enumerate(endpoints):
        at = f"endpoints[{i}]"
        addresses = endpoint.get("addresses")
        if not isinstance(addresses, list) or not addresses:
            causes.append(f.required(f"{at}.addresses", "must contain at least 1 address"))
            continue
        if len(addresses) > MAX_ENDPOINT_ADDRESSES:
            causes.append(f.too_many(f"{at}.addresses", len(addresses), MAX_ENDPOINT_ADDRESSES))
        if address_type in ADDRESS_TYPES:
            for j, address in enumerate(addresses):
                causes.extend(_slice_address(address, str(address_type), f"{at}.addresses[{j}]"))
        hostname = endpoint.get("hostname")
        if hostname:
            causes.extend(
                f.invalid(f"{at}.hostname", hostname, m) for m in check_dns1123_label(str(hostname))
            )
    ports = _dicts(obj.get("ports"))
    if len(ports) > MAX_SLICE_PORTS:
        causes.append(f.too_many("ports", len(ports), MAX_SLICE_PORTS))
    names: set[str] = set()
    for i, port in enumerate(ports):
        port = {"protocol": "TCP", **port}
        causes.extend(_port(port, f"ports[{i}]", False, names, port_required=False))
    return causes


def validate_endpoint_slice_update(new: dict[str, Any], old: dict[str, Any]) -> list[Cause]:
    if new.get("addressType") != old.get("addressType"):
        return [f.invalid("addressType", new.get("addressType"), "field is immutable")]
    return []


def validate_load_balancer_status(obj: dict[str, Any]) -> list[Cause]:
    """Rule 3."""
    status = obj.get("status") if isinstance(obj.get("status"), dict) else {}
    balancer = (status or {}).get("loadBalancer") or {}
    causes: list[Cause] = []
    for i, ingress in enumerate(
        _dicts(balancer.get("ingress") if isinstance(balancer, dict) else [])
    ):
        at = f"status.loadBalancer.ingress[{i}]"
        ip = ingress.get("ip")
        if ip:
            try:
                ipaddress.ip_address(str(ip))
            except ValueError:
                causes.append(f.invalid(f"{at}.ip", ip, "must be a valid IP address"))
        hostname = ingress.get("hostname")
        if hostname:
            causes.extend(
                f.invalid(f"{at}.hostname", hostname, m)
                for m in check_dns1123_subdomain(str(hostname))
            )
            try:
                ipaddress.ip_address(str(hostname))
                causes.append(
                    f.invalid(f"{at}.hostname", hostname, "must be a DNS name, not an IP address")
                )
            except ValueError:
                pass
    return causes
