import base64
import dataclasses
import ipaddress
import stat
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from pki_testutil import fast_bundle, snapshot

from kubeward.errors import InputError
from kubeward.pki.bundle import ensure_bundle
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.layout import BundleOptions, Member, plan
from kubeward.pki.names import AltNames, common_name, organizations
from kubeward.pki.profiles import extended_key_usages
from kubeward.pki.reading import load_certificate, read_certificate
from kubeward.pki.verify import signed_by

PKI_FILES = [
    "ca.crt",
    "ca.key",
    "front-proxy-ca.crt",
    "front-proxy-ca.key",
    "sa.key",
    "sa.pub",
    "apiserver.crt",
    "apiserver.key",
    "apiserver-kubelet-client.crt",
    "apiserver-etcd-client.crt",
    "front-proxy-client.crt",
    "etcd/ca.crt",
    "etcd/ca.key",
    "etcd/server.crt",
    "etcd/peer.crt",
    "etcd/healthcheck-client.crt",
    "kubelet-worker-1.crt",
    "kubelet-worker-1.key",
]
KUBECONFIGS = {
    "admin.conf": ("kubernetes-admin", ("kubeadm:cluster-admins",)),
    "super-admin.conf": ("kubernetes-super-admin", ("system:masters",)),
    "controller-manager.conf": ("system:kube-controller-manager", ()),
    "scheduler.conf": ("system:kube-scheduler", ()),
    "kube-proxy.conf": ("system:kube-proxy", ()),
    "kubelet-worker-1.conf": ("system:node:worker-1", ("system:nodes",)),
}


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bundle") / "cluster"
    fast_bundle(
        root,
        apiserver_cert_extra_sans=("api.example.com,192.0.2.10",),
        advertise_address="10.0.0.5",
    )
    return root


@pytest.mark.parametrize("name", PKI_FILES, ids=str)
def test_layout_file_exists_with_its_mode(bundle_dir: Path, name: str) -> None:
    path = bundle_dir / "pki" / name
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == (0o600 if name.endswith(".key") else 0o644)


@pytest.mark.parametrize(("file", "identity"), list(KUBECONFIGS.items()), ids=list(KUBECONFIGS))
def test_kubeconfigs_embed_the_identity(
    bundle_dir: Path, file: str, identity: tuple[str, tuple[str, ...]]
) -> None:
    path = bundle_dir / file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    doc = yaml.safe_load(path.read_text())
    assert doc["clusters"][0]["cluster"]["server"] == "https://10.0.0.5:6443"
    cert = read_certificate(
        base64.b64decode(doc["users"][0]["user"]["client-certificate-data"]), file
    )
    assert (common_name(cert.subject), organizations(cert.subject)) == identity
    assert extended_key_usages(cert) == ["client auth"]
    assert signed_by(cert, load_certificate(bundle_dir / "pki" / "ca.crt"))


@pytest.mark.parametrize(
    ("base", "ca"),
    [
        ("apiserver", "ca"),
        ("apiserver-etcd-client", "etcd/ca"),
        ("front-proxy-client", "front-proxy-ca"),
        ("etcd/server", "etcd/ca"),
        ("etcd/peer", "etcd/ca"),
        ("etcd/healthcheck-client", "etcd/ca"),
        ("kubelet-worker-1", "ca"),
        ("apiserver-kubelet-client", "ca"),
    ],
    ids=str,
)
def test_each_leaf_is_signed_by_its_ca(bundle_dir: Path, base: str, ca: str) -> None:
    pki = bundle_dir / "pki"
    assert signed_by(load_certificate(pki / f"{base}.crt"), load_certificate(pki / f"{ca}.crt"))


def test_apiserver_names_every_way_it_is_reached(bundle_dir: Path) -> None:
    alt = AltNames.of(load_certificate(bundle_dir / "pki" / "apiserver.crt"))
    for name in [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "localhost",
        "cp-1",
        "api.example.com",
    ]:
        assert name in alt.dns
    for ip in ["10.96.0.1", "10.0.0.5", "127.0.0.1", "192.0.2.10"]:
        assert ipaddress.ip_address(ip) in alt.ips


def test_rerun_is_idempotent_and_changes_nothing(bundle_dir: Path) -> None:
    before = snapshot(bundle_dir)
    result = fast_bundle(
        bundle_dir,
        apiserver_cert_extra_sans=("api.example.com,192.0.2.10",),
        advertise_address="10.0.0.5",
    )
    assert result.names("created") == [] and result.names("reissued") == []
    assert snapshot(bundle_dir) == before


def test_missing_leaf_is_issued_from_the_existing_ca(tmp_path: Path) -> None:
    fast_bundle(tmp_path)
    ca_before = (tmp_path / "pki" / "ca.crt").read_bytes()
    (tmp_path / "pki" / "apiserver.crt").unlink()
    (tmp_path / "pki" / "apiserver.key").unlink()
    (tmp_path / "admin.conf").unlink()
    result = fast_bundle(tmp_path)
    assert sorted(result.names("created")) == ["admin.conf", "apiserver"]
    assert (tmp_path / "pki" / "ca.crt").read_bytes() == ca_before
    assert signed_by(
        load_certificate(tmp_path / "pki" / "apiserver.crt"),
        load_certificate(tmp_path / "pki" / "ca.crt"),
    )


def test_force_reissues_leaves_only(tmp_path: Path) -> None:
    fast_bundle(tmp_path)
    before = snapshot(tmp_path)
    result = fast_bundle(tmp_path, force=("all",))
    after = snapshot(tmp_path)
    assert "apiserver" in result.names("reissued") and "admin.conf" in result.names("reissued")
    for unchanged in ["pki/ca.crt", "pki/ca.key", "pki/etcd/ca.key", "pki/sa.key", "pki/sa.pub"]:
        assert after[unchanged] == before[unchanged]
    assert after["pki/apiserver.crt"] != before["pki/apiserver.crt"]


@pytest.mark.parametrize("name", ["ca", "etcd-ca", "front-proxy-ca"], ids=str)
def test_force_never_touches_a_ca(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError, match="never reissued"):
        fast_bundle(tmp_path, force=(name,))
    assert not tmp_path.exists() or not any(tmp_path.rglob("*"))


def test_force_of_an_unknown_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="'apiservr': not a certificate"):
        fast_bundle(tmp_path, force=("apiservr",))


def _break(root: Path, what: str) -> None:
    pki = root / "pki"
    if what == "key-mismatch":
        (pki / "apiserver.key").write_bytes(private_key_pem(generate_private_key("ecdsa-p256")))
    elif what == "half-pair":
        (pki / "apiserver.key").unlink()
    elif what == "garbage-cert":
        (pki / "apiserver.crt").write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB")
    elif what == "wrong-ca":
        (pki / "apiserver.crt").write_bytes((pki / "front-proxy-client.crt").read_bytes())
        (pki / "apiserver.key").write_bytes((pki / "front-proxy-client.key").read_bytes())
    elif what == "ca-key-without-cert":
        (pki / "etcd" / "ca.crt").unlink()
    elif what == "sa-mismatch":
        (pki / "sa.pub").write_bytes(
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
        )


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("key-mismatch", r"apiserver\.crt: the private key does not match.*--force apiserver"),
        ("half-pair", r"apiserver\.key: missing while apiserver\.crt exists"),
        ("garbage-cert", r"apiserver\.crt: truncated PEM"),
        ("wrong-ca", r"apiserver\.crt: not signed by the ca CA"),
        ("ca-key-without-cert", r"etcd/ca\.key: exists without ca\.crt"),
        ("sa-mismatch", r"sa\.pub: not a PEM or DER public key"),
    ],
    ids=lambda v: v if "\\" not in v else "",
)
def test_invalid_existing_files_are_errors_and_nothing_changes(
    tmp_path: Path, what: str, message: str
) -> None:
    fast_bundle(tmp_path)
    (tmp_path / "scheduler.conf").unlink()  # something that a successful run would create
    _break(tmp_path, what)
    before = snapshot(tmp_path)
    with pytest.raises(InputError, match=message):
        fast_bundle(tmp_path)
    assert snapshot(tmp_path) == before


def test_changed_server_or_sans_need_force(tmp_path: Path) -> None:
    fast_bundle(tmp_path)
    with pytest.raises(
        InputError, match=r"server is https://127\.0\.0\.1:6443, not https://10\.1\.1\.1:6443"
    ):
        fast_bundle(
            tmp_path, advertise_address="10.1.1.1", force=("apiserver", "etcd-server", "etcd-peer")
        )
    with pytest.raises(InputError, match=r"lacks the SANs new\.example\.com.*--force apiserver"):
        fast_bundle(tmp_path, apiserver_cert_extra_sans=("new.example.com",))
    result = fast_bundle(
        tmp_path, apiserver_cert_extra_sans=("new.example.com",), force=("apiserver",)
    )
    assert result.names("reissued") == ["apiserver"]
    assert (
        "new.example.com" in AltNames.of(load_certificate(tmp_path / "pki" / "apiserver.crt")).dns
    )


def test_leaf_without_its_ca_is_refused(tmp_path: Path) -> None:
    fast_bundle(tmp_path)
    for name in ("ca.crt", "ca.key"):
        (tmp_path / "pki" / name).unlink()
    with pytest.raises(InputError, match="exists but its CA"):
        fast_bundle(tmp_path)


def test_externally_managed_ca_keeps_valid_leaves_but_cannot_issue(tmp_path: Path) -> None:
    fast_bundle(tmp_path)
    (tmp_path / "pki" / "ca.key").unlink()
    assert fast_bundle(tmp_path).names("created") == []
    (tmp_path / "admin.conf").unlink()
    with pytest.raises(InputError, match=r"ca\.key: missing, so admin\.conf cannot be issued"):
        fast_bundle(tmp_path)


def test_several_etcd_members_get_their_own_certificates(tmp_path: Path) -> None:
    members = tuple(
        Member.parse(m, "--etcd-member") for m in ["e1=10.0.0.11", "e2=10.0.0.12", "e3"]
    )
    fast_bundle(tmp_path, etcd_members=members)
    for base, name in [("etcd/server", "e1"), ("etcd/server-e2", "e2"), ("etcd/peer-e3", "e3")]:
        cert = load_certificate(tmp_path / "pki" / f"{base}.crt")
        assert common_name(cert.subject) == name
        assert name in AltNames.of(cert).dns
        assert extended_key_usages(cert) == ["server auth", "client auth"]
    assert (
        ipaddress.ip_address("10.0.0.12")
        in AltNames.of(load_certificate(tmp_path / "pki" / "etcd" / "peer-e2.crt")).ips
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"advertise_address": "nope"}, "--advertise-address"),
        ({"service_cidr": "x"}, "service CIDR"),
        ({"key_algorithm": "dsa"}, "unsupported"),
        ({"nodes": (Member("a"), Member("a"))}, "given twice"),
        ({"server": "http://x:1"}, "https://"),
        ({"port": 0}, "--port"),
        ({"apiserver_cert_extra_sans": ("bad_name",)}, "not an IP address or DNS name"),
    ],
    ids=["advertise", "cidr", "algorithm", "duplicate-node", "server-scheme", "port", "extra-san"],
)
def test_bad_options_are_refused_before_anything_is_written(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    options = dataclasses.replace(BundleOptions(directory=tmp_path / "c"), **change)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=message):
        ensure_bundle(options)
    assert not (tmp_path / "c").exists()


def test_server_option_host_goes_into_the_sans() -> None:
    layout = plan(
        BundleOptions(directory=Path("/x"), server="https://api.example.com:443", host_name="cp")
    )
    assert layout.server == "https://api.example.com:443"
    assert "api.example.com" in layout.leaf("apiserver").alt_names.dns


def test_ed25519_bundle_uses_ecdsa_for_the_service_account_key(tmp_path: Path) -> None:
    fast_bundle(tmp_path, key_algorithm="ed25519")
    assert b"BEGIN PUBLIC KEY" in (tmp_path / "pki" / "sa.pub").read_bytes()
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    from kubeward.pki.reading import load_private_key

    assert isinstance(load_private_key(tmp_path / "pki" / "sa.key"), ec.EllipticCurvePrivateKey)
    assert isinstance(
        load_certificate(tmp_path / "pki" / "ca.crt").public_key(), ed25519.Ed25519PublicKey
    )
    assert isinstance(load_certificate(tmp_path / "pki" / "apiserver.crt"), x509.Certificate)
