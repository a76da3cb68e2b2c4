"""Validation and defaulting of ``networking.k8s.io/v1`` NetworkPolicy, as Kubernetes does them.

The rules follow ``pkg/apis/networking/validation/validation.go`` (``ValidateNetworkPolicy``)
and the v1 defaulting functions (``SetDefaults_NetworkPolicy``, ``SetDefaults_NetworkPolicyPort``);
messages and field paths are worded as the real API server words them.

Defaulting (run before validation, as the API server does):

 1. ``spec.podSelector`` absent means the empty selector ``{}`` (it is not a pointer in the Go
    type, so Kubernetes always serializes it).
 2. Every ``ports[*]`` entry of every ingress and egress rule without ``protocol`` gets ``TCP``.
 3. An empty or absent ``spec.policyTypes`` becomes ``["Ingress"]``, plus ``"Egress"`` when the
    policy has at least one egress rule.

Validation:

 1. ``metadata``: name required and a DNS-1123 subdomain; namespace required and a DNS-1123
    label; labels and annotations well formed.
 2. ``spec.podSelector`` and every peer's selectors are well-formed label selectors.
 3. A port's ``protocol`` is ``TCP``, ``UDP`` or ``SCTP``.
 4. A numeric ``port`` is 1–65535; a named one is an IANA_SVC_NAME (at most 15 characters of
    ``[-a-z0-9]``, at least one letter, no leading, trailing or double hyphen).
 5. ``endPort`` needs a numeric ``port``, is 1–65535 and is not below ``port``.
 6. A peer names at least one of ``podSelector``, ``namespaceSelector``, ``ipBlock``; an
    ``ipBlock`` stands alone.
 7. ``ipBlock.cidr`` is required and a valid CIDR; every ``except`` entry is a valid CIDR
    strictly inside ``cidr`` (same family, longer prefix). CIDRs are parsed as Kubernetes' legacy
    fields are: host bits may be set and IPv4 octets may carry leading zeros.
 8. ``policyTypes`` holds at most two entries, each ``Ingress`` or ``Egress``.

Values of the wrong JSON type are reported as causes too, never raised, so that a file read by
the ``netpol`` commands can be judged by the same function the API server uses.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

from kubeward.api.validation import field, meta
from kubeward.errors import Cause

PROTOCOLS = ("TCP", "UDP", "SCTP")
POLICY_TYPES = ("Ingress", "Egress")
DEFAULT_PROTOCOL = "TCP"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


# --- defaulting ------------------------------------------------------------------------------


def default_network_policy(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``obj`` with the API server's defaults applied (see the module rules)."""
    out: dict[str, Any] = copy.deepcopy(dict(obj))
    spec = out.get("spec")
    if not isinstance(spec, dict):
        if spec is not None:
            return out  # wrong type: left for validation to report
        spec = out["spec"] = {}
    if spec.get("podSelector") is None:
        spec["podSelector"] = {}
    for direction in ("ingress", "egress"):
        rules = spec.get(direction)
        if not isinstance(rules, list):
            continue
        for rule in rules:
            ports = rule.get("ports") if isinstance(rule, dict) else None
            if not isinstance(ports, list):
                continue
            for port in ports:
                if isinstance(port, dict) and port.get("protocol") is None:
                    port["protocol"] = DEFAULT_PROTOCOL
    if not spec.get("policyTypes"):
        types = ["Ingress"]
        if spec.get("egress"):
            types.append("Egress")
        spec["policyTypes"] = types
    return out


# --- checks worded as apimachinery's util/validation -----------------------------------------

_PORT_NAME_CHARSET = re.compile(r"^[-a-z0-9]+$")
_ONE_LETTER = re.compile(r"[a-z]")
PORT_NAME_MAX = 15


def check_port_number(port: int) -> list[str]:
    """``IsValidPortNum``: 1–65535."""
    return [] if 1 <= port <= 65535 else ["must be between 1 and 65535, inclusive"]


def check_port_name(name: str) -> list[str]:
    """``IsValidPortName``: the IANA_SVC_NAME rule (RFC 6335, lower case only)."""
    errs = []
    if len(name) > PORT_NAME_MAX:
        errs.append(f"must be no more than {PORT_NAME_MAX} characters")
    if not _PORT_NAME_CHARSET.match(name):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _ONE_LETTER.search(name):
        errs.append("must contain at least one letter (a-z)")
    if "--" in name:
        errs.append("must not contain consecutive hyphens")
    if name and (name[0] == "-" or name[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


_CIDR_MESSAGE = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
_DOTTED_QUAD = re.compile(r"^(\d+)\.(\d+)\.(\d+)\.(\d+)$")


def parse_cidr(value: str) -> IPNetwork | None:
    """Parse a CIDR as Go's ``netutils.ParseCIDRSloppy`` does, or return None.

    Host bits may be set (``10.0.0.1/24`` is the network ``10.0.0.0/24``) and IPv4 octets may
    carry leading zeros, read as decimal; the prefix length is mandatory.
    """
    address, slash, prefix = value.partition("/")
    if not slash or not prefix.isascii() or not prefix.isdigit():
        return None
    quad = _DOTTED_QUAD.match(address)
    if quad:
        address = ".".join(str(int(octet)) for octet in quad.groups())
    try:
        return ipaddress.ip_network(f"{address}/{int(prefix)}", strict=False)
    except ValueError:
        return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- validation ------------------------------------------------------------------------------


def validate_network_policy(obj: Mapping[str, Any]) -> list[Cause]:
    """Kubernetes' ``ValidateNetworkPolicy``: object metadata, then the spec.

    Call it on a defaulted object (:func:`default_network_policy`), as the API server does.
    """
    metadata = obj.get("metadata")
    causes: list[Cause] = []
    if metadata is not None and not isinstance(metadata, Mapping):
        causes.append(field.type_invalid("metadata", metadata, "must be an object"))
    else:
        causes.extend(validate_policy_metadata(metadata or {}))
    spec = obj.get("spec")
    if spec is not None and not isinstance(spec, Mapping):
        return [*causes, field.type_invalid("spec", spec, "must be an object")]
    causes.extend(validate_network_policy_spec(spec or {}, "spec"))
    return causes


def validate_policy_metadata(metadata: Mapping[str, Any]) -> list[Cause]:
    """The parts of ``ValidateObjectMeta`` a NetworkPolicy needs (namespaced, DNS-1123 name)."""
    causes: list[Cause] = []
    name = metadata.get("name")
    if not name and not metadata.get("generateName"):
        causes.append(field.required("metadata.name", "name or generateName is required"))
    elif isinstance(name, str) and name:
        causes.extend(meta.validate_name(name, "metadata.name", meta.check_dns1123_subdomain))
    elif name:
        causes.append(field.type_invalid("metadata.name", name, "must be a string"))
    namespace = metadata.get("namespace")
    if not namespace:
        causes.append(field.required("metadata.namespace"))
    elif isinstance(namespace, str):
        causes.extend(meta.validate_name(namespace, "metadata.namespace", meta.check_dns1123_label))
    else:
        causes.append(field.type_invalid("metadata.namespace", namespace, "must be a string"))
    causes.extend(meta.validate_labels(metadata.get("labels"), "metadata.labels"))
    causes.extend(meta.validate_annotations(metadata.get("annotations"), "metadata.annotations"))
    return causes


def validate_network_policy_spec(spec: Mapping[str, Any], path: str = "spec") -> list[Cause]:
    """Kubernetes' ``ValidateNetworkPolicySpec`` at ``path``."""
    causes = meta.validate_label_selector(spec.get("podSelector"), f"{path}.podSelector")
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        if rules is None:
            continue
        if not isinstance(rules, list):
            causes.append(field.type_invalid(f"{path}.{direction}", rules, "must be a list"))
            continue
        for i, rule in enumerate(rules):
            rule_path = f"{path}.{direction}[{i}]"
            if rule is None:
                continue
            if not isinstance(rule, Mapping):
                causes.append(field.type_invalid(rule_path, rule, "must be an object"))
                continue
            causes.extend(_validate_list(rule, "ports", rule_path, validate_network_policy_port))
            causes.extend(_validate_list(rule, peers_key, rule_path, validate_network_policy_peer))
    causes.extend(_validate_policy_types(spec.get("policyTypes"), f"{path}.policyTypes"))
    return causes


def _validate_list(
    rule: Mapping[str, Any],
    key: str,
    rule_path: str,
    validate_item: Callable[[Mapping[str, Any], str], list[Cause]],
) -> list[Cause]:
    items = rule.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        return [field.type_invalid(f"{rule_path}.{key}", items, "must be a list")]
    causes: list[Cause] = []
    for j, item in enumerate(items):
        item_path = f"{rule_path}.{key}[{j}]"
        if not isinstance(item, Mapping):
            causes.append(field.type_invalid(item_path, item, "must be an object"))
            continue
        causes.extend(validate_item(item, item_path))
    return causes


def validate_network_policy_port(port: Mapping[str, Any], path: str) -> list[Cause]:
    """Kubernetes' ``ValidateNetworkPolicyPort``."""
    causes: list[Cause] = []
    protocol = port.get("protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        causes.append(field.not_supported(f"{path}.protocol", protocol, PROTOCOLS))
    number = port.get("port")
    end_port = port.get("endPort")
    if end_port is not None and not _is_int(end_port):
        return [*causes, field.type_invalid(f"{path}.endPort", end_port, "must be an integer")]
    if number is None:
        if end_port is not None:
            causes.append(
                field.invalid(
                    f"{path}.endPort", end_port, "may not be specified when `port` is not specified"
                )
            )
    elif _is_int(number):
        causes.extend(field.invalid(f"{path}.port", number, m) for m in check_port_number(number))
        if end_port is not None:
            if end_port < number:
                causes.append(
                    field.invalid(
                        f"{path}.endPort", end_port, "must be greater than or equal to `port`"
                    )
                )
            causes.extend(
                field.invalid(f"{path}.endPort", end_port, m) for m in check_port_number(end_port)
            )
    elif isinstance(number, str):
        if end_port is not None:
            causes.append(
                field.invalid(
                    f"{path}.endPort", end_port, "may not be specified when `port` is non-numeric"
                )
            )
        causes.extend(field.invalid(f"{path}.port", number, m) for m in check_port_name(number))
    else:
        causes.append(field.type_invalid(f"{path}.port", number, "must be an integer or a string"))
    return causes


def validate_network_policy_peer(peer: Mapping[str, Any], path: str) -> list[Cause]:
    """Kubernetes' ``ValidateNetworkPolicyPeer``."""
    causes: list[Cause] = []
    kinds = 0
    for key in ("podSelector", "namespaceSelector"):
        if peer.get(key) is not None:
            kinds += 1
            causes.extend(meta.validate_label_selector(peer[key], f"{path}.{key}"))
    ip_block = peer.get("ipBlock")
    if ip_block is not None:
        kinds += 1
        if isinstance(ip_block, Mapping):
            causes.extend(validate_ip_block(ip_block, f"{path}.ipBlock"))
        else:
            causes.append(field.type_invalid(f"{path}.ipBlock", ip_block, "must be an object"))
    if kinds == 0:
        causes.append(field.required(path, "must specify a peer"))
    elif kinds > 1 and ip_block is not None:
        causes.append(field.forbidden(path, "may not specify both ipBlock and another peer"))
    return causes


def validate_ip_block(ip_block: Mapping[str, Any], path: str) -> list[Cause]:
    """Kubernetes' ``ValidateIPBlock``: a valid ``cidr``; each ``except`` strictly inside it."""
    cidr = ip_block.get("cidr")
    if not cidr:
        return [field.required(f"{path}.cidr")]
    if not isinstance(cidr, str):
        return [field.type_invalid(f"{path}.cidr", cidr, "must be a string")]
    network = parse_cidr(cidr)
    if network is None:
        return [field.invalid(f"{path}.cidr", cidr, _CIDR_MESSAGE)]
    excepts = ip_block.get("except")
    if excepts is None:
        return []
    if not isinstance(excepts, list):
        return [field.type_invalid(f"{path}.except", excepts, "must be a list")]
    causes: list[Cause] = []
    for i, value in enumerate(excepts):
        at = f"{path}.except[{i}]"
        inner = parse_cidr(value) if isinstance(value, str) else None
        if inner is None:
            causes.append(field.invalid(at, value, _CIDR_MESSAGE))
        elif not network_strictly_contains(network, inner):
            causes.append(field.invalid(at, value, "must be a strict subset of `cidr`"))
    return causes


def network_strictly_contains(outer: IPNetwork, inner: IPNetwork) -> bool:
    """Whether ``inner`` lies inside ``outer`` with a strictly longer prefix."""
    return (
        outer.version == inner.version
        and inner.network_address in outer
        and inner.prefixlen > outer.prefixlen
    )


def _validate_policy_types(types: object, path: str) -> list[Cause]:
    if types is None:
        return []
    if not isinstance(types, list):
        return [field.type_invalid(path, types, "must be a list")]
    if len(types) > len(POLICY_TYPES):
        return [field.invalid(path, types, "may not specify more than two policyTypes")]
    return [
        field.not_supported(f"{path}[{i}]", value, POLICY_TYPES)
        for i, value in enumerate(types)
        if value not in POLICY_TYPES
    ]
