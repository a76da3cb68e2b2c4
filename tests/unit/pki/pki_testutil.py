"""Builders shared by the PKI unit tests: fast CAs and leaves, bundles, and a tree of planted problems.

Keys are ECDSA P-256 unless a test is about RSA, so that the suite stays fast.
"""

from __future__ import annotations

import base64
import datetime
import os
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from kubeward.pki.bundle import BundleResult, ensure_bundle
from kubeward.pki.ca import CertificateAuthority, certificate_pem
from kubeward.pki.keys import PrivateKey, generate_private_key, private_key_pem
from kubeward.pki.layout import BundleOptions, Member
from kubeward.pki.names import AltNames, build_subject
from kubeward.pki.profiles import Profile

UTC = datetime.UTC
NOW = datetime.datetime.now(UTC)
DAY = datetime.timedelta(days=1)


def fast_bundle(directory: Path, **overrides: Any) -> BundleResult:
    options: dict[str, Any] = {
        "directory": directory,
        "key_algorithm": "ecdsa-p256",
        "host_name": "cp-1",
        "nodes": (Member("worker-1", None),),
    }
    options.update(overrides)
    return ensure_bundle(BundleOptions(**options))


def snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``directory`` with its bytes and mode: to prove nothing changed."""
    out = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            out[str(path.relative_to(directory))] = (path.read_bytes(), path.stat().st_mode)
    return out


def write_pair(pki: Path, base: str, cert: x509.Certificate, key: PrivateKey | None) -> None:
    (pki / base).parent.mkdir(parents=True, exist_ok=True)
    (pki / f"{base}.crt").write_bytes(certificate_pem(cert))
    if key is not None:
        path = pki / f"{base}.key"
        path.write_bytes(private_key_pem(key))
        os.chmod(path, 0o600)


def raw_certificate(
    issuer: CertificateAuthority,
    key: PrivateKey,
    common_name: str,
    *,
    organizations: tuple[str, ...] = (),
    is_ca: bool = False,
    key_cert_sign: bool = False,
    eku: tuple[x509.ObjectIdentifier, ...] = (ExtendedKeyUsageOID.CLIENT_AUTH,),
    sans: tuple[str, ...] = (),
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    self_signed: bool = False,
) -> x509.Certificate:
    """A certificate with exactly the flaws a test wants (CA:TRUE leaf, no keyCertSign, ...)."""
    subject = build_subject(common_name, organizations)
    signer_key = key if self_signed else issuer.key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if self_signed else issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - DAY)
        .not_valid_after(not_after or NOW + 365 * DAY)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, key_cert_sign, False, False, False),
            critical=True,
        )
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if sans:
        builder = builder.add_extension(AltNames.parse(sans).to_extension(), critical=False)
    return builder.sign(signer_key, hashes.SHA256())


def kubeconfig_with(
    path: Path,
    server: str,
    ca: x509.Certificate,
    user: str,
    cert: x509.Certificate,
    key: PrivateKey,
) -> None:
    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "kubernetes",
                "cluster": {
                    "server": server,
                    "certificate-authority-data": b64(certificate_pem(ca)),
                },
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": b64(certificate_pem(cert)),
                    "client-key-data": b64(private_key_pem(key)),
                },
            }
        ],
        "contexts": [{"name": "ctx", "context": {"cluster": "kubernetes", "user": user}}],
        "current-context": "ctx",
    }
    path.write_text(yaml.safe_dump(doc))
    os.chmod(path, 0o600)


def planted_tree(root: Path) -> dict[str, str]:
    """A fresh bundle with every planted problem the audit must find (SHA-1/MD5 need openssl).

    Returns the finding code expected for each planted label (the audit's ``subject``).
    """
    result = fast_bundle(root)
    pki = result.pki_dir
    ca = CertificateAuthority.from_dir(pki)
    ec = "ecdsa-p256"

    def key() -> PrivateKey:
        return generate_private_key(ec)

    def issue(
        authority: CertificateAuthority, cn: str, profile: Profile, **kw: Any
    ) -> tuple[x509.Certificate, PrivateKey]:
        k = key()
        cert = authority.issue(
            k.public_key(),
            build_subject(cn, kw.pop("orgs", ())),
            profile,
            kw.pop("validity", 365 * DAY),
            **kw,
        )
        return cert, k

    expected: dict[str, str] = {}
    # expired, not yet valid, expiring soon
    cert, k = issue(ca, "old", Profile.CLIENT, validity=DAY, now=NOW - 30 * DAY)
    write_pair(pki, "expired-client", cert, k)
    expected["pki/expired-client.crt"] = "expired"
    cert, k = issue(ca, "future", Profile.CLIENT, now=NOW + 10 * DAY)
    write_pair(pki, "future-client", cert, k)
    expected["pki/future-client.crt"] = "not-yet-valid"
    cert, k = issue(ca, "soon", Profile.CLIENT, validity=10 * DAY)
    write_pair(pki, "soon-client", cert, k)
    expected["pki/soon-client.crt"] = "expiring-soon"
    # fake issuer: a CA with the same name, not in the tree
    impostor = CertificateAuthority.create("kubernetes", 365 * DAY, algorithm=ec)
    cert, k = issue(impostor, "mallory", Profile.CLIENT)
    write_pair(pki, "mallory-client", cert, k)
    expected["pki/mallory-client.crt"] = "fake-issuer"
    stranger = CertificateAuthority.create("other-ca", 365 * DAY, algorithm=ec)
    cert, k = issue(stranger, "stranger", Profile.CLIENT)
    write_pair(pki, "stranger-client", cert, k)
    expected["pki/stranger-client.crt"] = "issuer-not-found"
    # key mismatch
    cert, _ = issue(ca, "mismatch", Profile.CLIENT)
    write_pair(pki, "mismatch-client", cert, key())
    expected["pki/mismatch-client.crt"] = "key-mismatch"
    # API server certificate missing the in-cluster names and the kubeconfigs' server
    cert, k = issue(ca, "kube-apiserver", Profile.SERVER, alt_names=AltNames.parse(["localhost"]))
    write_pair(pki, "apiserver", cert, k)
    expected["pki/apiserver.crt"] = "apiserver-missing-san"
    # usages: kubelet serving cert with clientAuth only; front-proxy client with serverAuth only
    cert, k = issue(ca, "worker-1", Profile.CLIENT)
    write_pair(pki, "kubelet-worker-1", cert, k)
    expected["pki/kubelet-worker-1.crt"] = "server-without-serverauth"
    fp_ca = CertificateAuthority.from_files(pki / "front-proxy-ca.crt", pki / "front-proxy-ca.key")
    cert, k = issue(fp_ca, "front-proxy-client", Profile.SERVER)
    write_pair(pki, "front-proxy-client", cert, k)
    expected["pki/front-proxy-client.crt"] = "client-without-clientauth"
    # leaf with CA:TRUE; CA without keyCertSign
    k = key()
    write_pair(pki, "rogue-client", raw_certificate(ca, k, "rogue", is_ca=True), k)
    expected["pki/rogue-client.crt"] = "leaf-is-ca"
    k = key()
    write_pair(
        pki, "limp-ca", raw_certificate(ca, k, "limp-ca", is_ca=True, eku=(), self_signed=True), k
    )
    expected["pki/limp-ca.crt"] = "ca-without-keycertsign"
    # RSA below 2048
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    cert = ca.issue(weak.public_key(), build_subject("weak"), Profile.CLIENT, 365 * DAY)
    write_pair(pki, "weak-client", cert, weak)
    expected["pki/weak-client.crt"] = "weak-rsa-key"
    # etcd server certificate from the cluster CA
    cert, k = issue(ca, "cp-1", Profile.PEER, alt_names=AltNames.parse(["cp-1", "127.0.0.1"]))
    write_pair(pki, "etcd/server", cert, k)
    expected["pki/etcd/server.crt"] = "etcd-signed-by-cluster-ca"
    # kubelet client certificate with the wrong CN and no O=system:nodes
    server = result.server
    cert, k = issue(ca, "worker-1", Profile.CLIENT)
    kubeconfig_with(root / "kubelet-worker-1.conf", server, ca.cert, "worker-1", cert, k)
    expected["kubelet-worker-1.conf"] = "kubelet-bad-cn"
    # admin in system:masters outside super-admin.conf
    cert, k = issue(ca, "kubernetes-admin", Profile.CLIENT, orgs=("system:masters",))
    kubeconfig_with(root / "admin.conf", server, ca.cert, "kubernetes-admin", cert, k)
    expected["admin.conf"] = "system-masters-outside-super-admin"
    # private keys readable by others and by the group
    os.chmod(pki / "sa.key", 0o644)
    expected["pki/sa.key"] = "key-readable-by-others"
    os.chmod(pki / "apiserver-kubelet-client.key", 0o640)
    expected["pki/apiserver-kubelet-client.key"] = "key-readable-by-group"
    return expected
