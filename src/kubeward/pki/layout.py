"""The kubeadm layout: every file ``pki init`` writes, what goes into it, and who signs it.

Files are where Kubernetes users expect them (``/etc/kubernetes`` in a kubeadm cluster)::

    DIR/admin.conf super-admin.conf controller-manager.conf scheduler.conf kube-proxy.conf
    DIR/kubelet-NAME.conf                       one per --node (client cert embedded)
    DIR/pki/ca.{crt,key}  front-proxy-ca.*  sa.{key,pub}
    DIR/pki/apiserver.*  apiserver-kubelet-client.*  apiserver-etcd-client.*  front-proxy-client.*
    DIR/pki/kubelet-NAME.{crt,key}              one kubelet serving certificate per --node
    DIR/pki/etcd/ca.*  healthcheck-client.*  server.*  peer.*   (the first etcd member)
    DIR/pki/etcd/server-NAME.*  peer-NAME.*     (every further etcd member)

Rules:
 1. Each certificate has the name ``kubeadm certs`` gives it: the file's base with ``/`` turned
    into ``-`` (``apiserver``, ``etcd-server``, ``kubelet-worker-1``), or the kubeconfig's file
    name (``admin.conf``). These names are what ``--force``, ``check`` and ``renew`` take.
 2. The first etcd member is this host (by default: the host name at the advertise address) and
    keeps kubeadm's ``etcd/server`` and ``etcd/peer``; further members get their own pair.
 3. The API server certificate names every way it is reached: the ``kubernetes`` Service's DNS
    names and ClusterIP, the advertise address, the host name, localhost and 127.0.0.1, the
    host of ``--server`` if given, and the extra SANs.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from kubeward.errors import InputError
from kubeward.pki import names
from kubeward.pki.keys import DEFAULT_ALGORITHM, check_algorithm
from kubeward.pki.names import AltNames, IPAddress
from kubeward.pki.profiles import Profile

DEFAULT_CERT_VALIDITY = datetime.timedelta(hours=8760)
DEFAULT_CA_VALIDITY = datetime.timedelta(hours=87600)
DEFAULT_PORT = 6443
PKI_DIR = "pki"
SA_KEY_FILE = "sa.key"
SA_PUB_FILE = "sa.pub"


@dataclass(frozen=True)
class Member:
    """A node or etcd member: a name and maybe an IP (``NAME`` or ``NAME=IP`` on the command line)."""

    name: str
    ip: IPAddress | None = None

    @classmethod
    def parse(cls, value: str, what: str = "--node") -> Member:
        name, ip = names.parse_member(value, what)
        return cls(name, ip)


@dataclass(frozen=True)
class BundleOptions:
    """Everything ``pki init`` (and ``kubeward up``) can ask for; defaults are kubeadm's."""

    directory: Path
    cluster_name: str = "kubernetes"
    advertise_address: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    server: str = ""
    apiserver_cert_extra_sans: tuple[str, ...] = ()
    service_cidr: str = "10.96.0.0/12"
    dns_domain: str = "cluster.local"
    nodes: tuple[Member, ...] = ()
    etcd_members: tuple[Member, ...] = ()
    key_algorithm: str = DEFAULT_ALGORITHM
    cert_validity: datetime.timedelta = DEFAULT_CERT_VALIDITY
    ca_validity: datetime.timedelta = DEFAULT_CA_VALIDITY
    force: tuple[str, ...] = ()
    host_name: str = ""
    # ``kubeward up`` owns its directory: a kubeconfig whose only fault is an old server URL
    # (the port or address changed) is pointed at the new one, keeping its credential.
    retarget_kubeconfigs: bool = False


@dataclass(frozen=True)
class CASpec:
    """One certificate authority of the layout."""

    name: str
    base: str
    common_name: str


@dataclass(frozen=True)
class LeafSpec:
    """One leaf certificate: in ``pki/<base>.{crt,key}``, or embedded in kubeconfig ``<kubeconfig>``."""

    name: str
    ca: str
    profile: Profile
    common_name: str
    organizations: tuple[str, ...] = ()
    alt_names: AltNames = field(default_factory=AltNames)
    base: str = ""
    kubeconfig: str = ""


CLUSTER_CA = CASpec("ca", "ca", names.CLUSTER_CA_COMMON_NAME)
FRONT_PROXY_CA = CASpec("front-proxy-ca", "front-proxy-ca", names.FRONT_PROXY_CA_COMMON_NAME)
ETCD_CA = CASpec("etcd-ca", "etcd/ca", names.ETCD_CA_COMMON_NAME)
CERTIFICATE_AUTHORITIES: tuple[CASpec, ...] = (CLUSTER_CA, FRONT_PROXY_CA, ETCD_CA)


@dataclass(frozen=True)
class Layout:
    """The planned PKI of one directory."""

    directory: Path
    cluster_name: str
    server: str
    cas: tuple[CASpec, ...]
    leaves: tuple[LeafSpec, ...]

    @property
    def pki_dir(self) -> Path:
        return self.directory / PKI_DIR

    def leaf(self, name: str) -> LeafSpec:
        for spec in self.leaves:
            if spec.name == name:
                return spec
        raise InputError(
            f"{name!r}: not a certificate of this PKI ({', '.join(self.leaf_names())})"
        )

    def leaf_names(self) -> list[str]:
        return [spec.name for spec in self.leaves]


def cert_path(pki_dir: Path, base: str) -> Path:
    return pki_dir / f"{base}.crt"


def key_path(pki_dir: Path, base: str) -> Path:
    return pki_dir / f"{base}.key"


def name_for_base(base: str) -> str:
    """``etcd/server`` → ``etcd-server`` (rule 1)."""
    return base.replace("/", "-")


def expected_ca_name(name: str) -> str:
    """The CA kubeadm signs certificate ``name`` with."""
    if name.startswith("etcd-") or name == "apiserver-etcd-client":
        return "etcd-ca"
    if name.startswith("front-proxy"):
        return "front-proxy-ca"
    return "ca"


def server_url(options: BundleOptions) -> str:
    """``--server``, or ``https://<advertise-address>:<port>`` (IPv6 in brackets)."""
    if options.server:
        return options.server
    ip = names.parse_ip(options.advertise_address)
    host = f"[{ip}]" if isinstance(ip, ipaddress.IPv6Address) else options.advertise_address
    return f"https://{host}:{options.port}"


def host_name(options: BundleOptions) -> str:
    """The host name for SANs and the default etcd member, lowercased; ``localhost`` if unusable."""
    raw = (options.host_name or socket.gethostname()).lower().split(".")[0]
    return raw if names.is_dns_name(raw) else "localhost"


def plan(options: BundleOptions) -> Layout:
    """Validate ``options`` and list every CA and leaf of the PKI.

    Raises:
        InputError: an option is unusable (bad IP, CIDR, name, duplicate node, unknown --force).
    """
    check_algorithm(options.key_algorithm)
    if not options.cluster_name:
        raise InputError("--cluster-name: must not be empty")
    if not 1 <= options.port <= 65535:
        raise InputError(f"--port {options.port}: must be between 1 and 65535")
    if not names.is_dns_name(options.dns_domain):
        raise InputError(f"--dns-domain {options.dns_domain!r}: not a DNS name")
    advertise = names.parse_ip(options.advertise_address)
    if advertise is None:
        raise InputError(f"--advertise-address {options.advertise_address!r}: not an IP address")
    for what, value in (
        ("--cert-validity", options.cert_validity),
        ("--ca-validity", options.ca_validity),
    ):
        if value <= datetime.timedelta(0):
            raise InputError(f"{what}: must be positive")
    url = server_url(options)
    try:
        parsed = urllib.parse.urlsplit(url)
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise InputError(f"--server {url!r}: not a URL") from exc
    if parsed.scheme != "https" or not parsed.hostname:
        raise InputError(f"--server {url!r}: must be an https:// URL with a host")
    host = host_name(options)
    leaves = [
        *_control_plane_leaves(options, advertise, host, url),
        *_etcd_leaves(options, advertise, host),
        *_node_leaves(options),
        *_kubeconfig_leaves(options),
    ]
    layout = Layout(
        options.directory, options.cluster_name, url, CERTIFICATE_AUTHORITIES, tuple(leaves)
    )
    _check_force(layout, options.force)
    return layout


def _control_plane_leaves(
    options: BundleOptions, advertise: IPAddress, host: str, url: str
) -> list[LeafSpec]:
    domain = options.dns_domain
    dns = [
        host,
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        f"kubernetes.default.svc.{domain}",
        "localhost",
    ]
    ips = [str(names.first_service_ip(options.service_cidr)), str(advertise), "127.0.0.1"]
    server_host = (urllib.parse.urlsplit(url).hostname or "") if options.server else ""
    extra = [s for value in options.apiserver_cert_extra_sans for s in value.split(",")]
    alt = AltNames.parse(
        [*dns, *ips, *([server_host] if server_host else []), *extra], "--apiserver-cert-extra-sans"
    )
    return [
        LeafSpec(
            "apiserver",
            "ca",
            Profile.SERVER,
            names.APISERVER_COMMON_NAME,
            alt_names=alt,
            base="apiserver",
        ),
        LeafSpec(
            "apiserver-kubelet-client",
            "ca",
            Profile.CLIENT,
            names.APISERVER_KUBELET_CLIENT_COMMON_NAME,
            (names.CLUSTER_ADMINS_GROUP,),
            base="apiserver-kubelet-client",
        ),
        LeafSpec(
            "front-proxy-client",
            "front-proxy-ca",
            Profile.CLIENT,
            names.FRONT_PROXY_CLIENT_COMMON_NAME,
            base="front-proxy-client",
        ),
    ]


def _etcd_leaves(options: BundleOptions, advertise: IPAddress, host: str) -> list[LeafSpec]:
    members = options.etcd_members or (Member(host, advertise),)
    _check_unique([m.name for m in members], "--etcd-member")
    leaves = [
        LeafSpec(
            "apiserver-etcd-client",
            "etcd-ca",
            Profile.CLIENT,
            names.APISERVER_ETCD_CLIENT_COMMON_NAME,
            base="apiserver-etcd-client",
        ),
        LeafSpec(
            "etcd-healthcheck-client",
            "etcd-ca",
            Profile.CLIENT,
            names.ETCD_HEALTHCHECK_CLIENT_COMMON_NAME,
            base="etcd/healthcheck-client",
        ),
    ]
    for index, member in enumerate(members):
        ips = [str(member.ip)] if member.ip is not None else []
        alt = AltNames.parse([member.name, "localhost", *ips, "127.0.0.1", "::1"])
        suffix = "" if index == 0 else f"-{member.name}"
        for role in ("server", "peer"):
            base = f"etcd/{role}{suffix}"
            leaves.append(
                LeafSpec(
                    name_for_base(base),
                    "etcd-ca",
                    Profile.PEER,
                    member.name,
                    alt_names=alt,
                    base=base,
                )
            )
    return leaves


def _node_leaves(options: BundleOptions) -> list[LeafSpec]:
    _check_unique([n.name for n in options.nodes], "--node")
    leaves = []
    for node in options.nodes:
        alt = AltNames.parse([node.name, *([str(node.ip)] if node.ip is not None else [])])
        leaves.append(
            LeafSpec(
                f"kubelet-{node.name}",
                "ca",
                Profile.SERVER,
                node.name,
                alt_names=alt,
                base=f"kubelet-{node.name}",
            )
        )
    return leaves


def _kubeconfig_leaves(options: BundleOptions) -> list[LeafSpec]:
    identities = [
        ("admin.conf", names.ADMIN_USER, (names.CLUSTER_ADMINS_GROUP,)),
        ("super-admin.conf", names.SUPER_ADMIN_USER, (names.SYSTEM_MASTERS,)),
        ("controller-manager.conf", names.KUBE_CONTROLLER_MANAGER, ()),
        ("scheduler.conf", names.KUBE_SCHEDULER, ()),
        ("kube-proxy.conf", names.KUBE_PROXY, ()),
    ]
    identities += [
        (f"kubelet-{node.name}.conf", names.node_user(node.name), (names.NODES_GROUP,))
        for node in options.nodes
    ]
    return [
        LeafSpec(file, "ca", Profile.CLIENT, user, groups, kubeconfig=file)
        for file, user, groups in identities
    ]


def _check_unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise InputError(f"{what} {value!r}: given twice")
        seen.add(value)


def _check_force(layout: Layout, force: tuple[str, ...]) -> None:
    ca_names = {ca.name for ca in layout.cas}
    for name in force:
        if name == "all":
            continue
        if name in ca_names:
            raise InputError(
                f"--force {name}: certificate authorities are never reissued "
                "(every certificate they signed would stop working)"
            )
        layout.leaf(name)
