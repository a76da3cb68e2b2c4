"""Subjects and subject alternative names: who a certificate is for, and where it may be used.

Kubernetes reads identity from a client certificate's subject — the common name (CN) is the user
and each organization (O) a group — and checks a server by its subject alternative names (SANs).
The names with special meaning live here in one place (this layer sits below ``kubeward.api``,
so it keeps its own copy of the few it needs). Rules:

 1. Subjects are written O first, then CN, as Go's ``pkix.Name`` orders them, so that openssl
    shows ``O = system:nodes, CN = system:node:worker-1`` exactly as for a kubeadm cluster.
 2. A SAN is an IP address if it parses as one, otherwise it must be a DNS-1123 subdomain
    (``*.`` wildcards allowed); anything else is refused with the offending value quoted.
 3. SANs keep the order they were given in and never repeat.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from kubeward.errors import InputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Certificate authorities, as kubeadm names them.
CLUSTER_CA_COMMON_NAME = "kubernetes"
FRONT_PROXY_CA_COMMON_NAME = "front-proxy-ca"
ETCD_CA_COMMON_NAME = "etcd-ca"

# Component identities.
APISERVER_COMMON_NAME = "kube-apiserver"
APISERVER_KUBELET_CLIENT_COMMON_NAME = "kube-apiserver-kubelet-client"
APISERVER_ETCD_CLIENT_COMMON_NAME = "kube-apiserver-etcd-client"
FRONT_PROXY_CLIENT_COMMON_NAME = "front-proxy-client"
ETCD_HEALTHCHECK_CLIENT_COMMON_NAME = "kube-etcd-healthcheck-client"
ADMIN_USER = "kubernetes-admin"
SUPER_ADMIN_USER = "kubernetes-super-admin"
KUBE_CONTROLLER_MANAGER = "system:kube-controller-manager"
KUBE_SCHEDULER = "system:kube-scheduler"
KUBE_PROXY = "system:kube-proxy"
NODE_USER_PREFIX = "system:node:"

# Groups.
SYSTEM_MASTERS = "system:masters"
CLUSTER_ADMINS_GROUP = "kubeadm:cluster-admins"
NODES_GROUP = "system:nodes"

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"^(\*\.)?{_DNS_LABEL}(\.{_DNS_LABEL})*$")


def node_user(node_name: str) -> str:
    """``system:node:NAME``, the user a kubelet's client certificate names."""
    return f"{NODE_USER_PREFIX}{node_name}"


def build_subject(common_name: str, organizations: Sequence[str] = ()) -> x509.Name:
    """``O=..., CN=...``; refuses an empty common name."""
    if not common_name:
        raise InputError("certificate subject: the common name (CN) must not be empty")
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def common_name(name: x509.Name) -> str:
    """The (last) CN of a name, or ``""``."""
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[-1].value) if values else ""


def organizations(name: x509.Name) -> tuple[str, ...]:
    """Every O of a name, in order: the groups of a client certificate."""
    return tuple(str(a.value) for a in name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))


def is_dns_name(value: str) -> bool:
    """True for a DNS-1123 subdomain, optionally with a leading ``*.`` wildcard."""
    return len(value) <= 253 and _DNS_SUBDOMAIN.match(value) is not None


def parse_ip(value: str) -> IPAddress | None:
    """The IP address ``value`` spells, or None (brackets around IPv6 are allowed)."""
    try:
        return ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class AltNames:
    """A certificate's DNS and IP subject alternative names."""

    dns: tuple[str, ...] = ()
    ips: tuple[IPAddress, ...] = ()

    @classmethod
    def parse(cls, values: Iterable[str], what: str = "SAN") -> AltNames:
        """Sort ``values`` into IPs and DNS names; a value that is neither is an InputError."""
        dns: list[str] = []
        ips: list[IPAddress] = []
        for raw in values:
            value = raw.strip()
            if not value:
                continue
            ip = parse_ip(value)
            if ip is not None:
                if ip not in ips:
                    ips.append(ip)
            elif is_dns_name(value.lower()):
                if value.lower() not in dns:
                    dns.append(value.lower())
            else:
                raise InputError(f"{what} {value!r}: not an IP address or DNS name")
        return cls(tuple(dns), tuple(ips))

    @classmethod
    def of(cls, cert: x509.Certificate | x509.CertificateSigningRequest) -> AltNames:
        """The SANs of a certificate or CSR (empty when it has none)."""
        try:
            ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return cls()
        return cls(
            tuple(ext.get_values_for_type(x509.DNSName)),
            tuple(
                ip
                for ip in ext.get_values_for_type(x509.IPAddress)
                if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address)
            ),
        )

    def __bool__(self) -> bool:
        return bool(self.dns or self.ips)

    def merged(self, other: AltNames) -> AltNames:
        """These names followed by those of ``other`` not already present."""
        dns = list(self.dns) + [d for d in other.dns if d not in self.dns]
        ips = list(self.ips) + [i for i in other.ips if i not in self.ips]
        return AltNames(tuple(dns), tuple(ips))

    def covers(self, other: AltNames) -> bool:
        """True when every name of ``other`` is here (wildcards are not expanded)."""
        return set(other.dns) <= set(self.dns) and set(other.ips) <= set(self.ips)

    def missing_from(self, other: AltNames) -> list[str]:
        """The names of ``self`` that ``other`` lacks, as text."""
        return [d for d in self.dns if d not in other.dns] + [
            str(i) for i in self.ips if i not in other.ips
        ]

    def matches_host(self, host: str) -> bool:
        """True when a TLS client connecting to ``host`` would accept these names."""
        ip = parse_ip(host)
        if ip is not None:
            return ip in self.ips
        host = host.lower().rstrip(".")
        for name in self.dns:
            if name == host:
                return True
            if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
                return True
        return False

    def to_extension(self) -> x509.SubjectAlternativeName:
        general: list[x509.GeneralName] = [x509.DNSName(d) for d in self.dns]
        general += [x509.IPAddress(i) for i in self.ips]
        return x509.SubjectAlternativeName(general)

    def as_strings(self) -> list[str]:
        """``DNS:name`` and ``IP Address:ip`` as ``openssl x509 -ext subjectAltName`` prints."""
        return [f"DNS:{d}" for d in self.dns] + [f"IP Address:{i}" for i in self.ips]


def first_service_ip(service_cidr: str) -> IPAddress:
    """The first usable IP of the service CIDR: the ``kubernetes`` Service's ClusterIP.

    Raises:
        InputError: the CIDR does not parse or has no room for it.
    """
    first = service_cidr.split(",")[0].strip()
    try:
        network = ipaddress.ip_network(first, strict=False)
    except ValueError as exc:
        raise InputError(f"service CIDR {service_cidr!r}: not a CIDR like 10.96.0.0/12") from exc
    if network.num_addresses < 2:
        raise InputError(f"service CIDR {service_cidr!r}: too small to hold a Service IP")
    return network.network_address + 1


def parse_member(value: str, what: str) -> tuple[str, IPAddress | None]:
    """``NAME`` or ``NAME=IP`` (as given to ``--node`` and ``--etcd-member``)."""
    name, _, ip_text = value.partition("=")
    name = name.strip()
    if not is_dns_name(name) or name.startswith("*"):
        raise InputError(f"{what} {value!r}: {name!r} is not a valid name (lowercase DNS-1123)")
    if not ip_text:
        return name, None
    ip = parse_ip(ip_text.strip())
    if ip is None:
        raise InputError(f"{what} {value!r}: {ip_text!r} is not an IP address")
    return name, ip
