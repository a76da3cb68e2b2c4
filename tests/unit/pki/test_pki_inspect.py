import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pki_testutil import fast_bundle

from kubeward.pki.inspect import describe_decoded, render_text
from kubeward.pki.kubeconfigs import read_kubeconfig
from kubeward.pki.reading import decode, load_private_key


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inspect")
    fast_bundle(root)
    return root


def _describe(path: Path) -> dict[str, object]:
    decoded = decode(path.read_bytes(), str(path))
    creds = read_kubeconfig(path) if decoded.kubeconfig is not None else None
    return describe_decoded(decoded, str(path), creds)


def test_certificate_facts(cluster: Path) -> None:
    item = _describe(cluster / "pki" / "apiserver.crt")["items"][0]  # type: ignore[index]
    assert item["subject"] == "CN=kube-apiserver"
    assert item["issuer"] == "CN=kubernetes"
    assert "DNS:kubernetes.default.svc" in item["subjectAltNames"]
    assert "IP Address:10.96.0.1" in item["subjectAltNames"]
    assert item["keyUsage"] == ["digital signature"]
    assert item["extendedKeyUsage"] == ["server auth"]
    assert item["basicConstraints"] == "CA:FALSE (critical)"
    assert item["publicKey"]["type"] == "ECDSA" and item["publicKey"]["curve"] == "P-256"
    assert item["signatureAlgorithm"] == "ecdsa-with-SHA256"
    assert len(item["sha256Fingerprint"].split(":")) == 32
    assert item["authorityKeyIdentifier"]


@pytest.mark.parametrize("file", ["pki/apiserver.key", "admin.conf", "pki/sa.key"], ids=str)
def test_keys_are_never_printed(cluster: Path, file: str) -> None:
    document = _describe(cluster / file)
    text = render_text(document) + json.dumps(document)
    assert "PRIVATE KEY" not in text and "client-key-data" not in text
    key = load_private_key(cluster / "pki" / "apiserver.key")
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert format(key.private_numbers().private_value, "x")[:16] not in text.lower().replace(
        ":", ""
    )


def test_kubeconfig_shows_clusters_users_and_current(cluster: Path) -> None:
    document = _describe(cluster / "admin.conf")
    item = document["items"][0]  # type: ignore[index]
    assert item["kind"] == "Kubeconfig" and item["currentContext"] == "kubernetes-admin@kubernetes"
    assert item["clusters"][0]["server"] == "https://127.0.0.1:6443"
    user = item["users"][0]
    assert (
        user["current"]
        and user["clientCertificate"]["subject"] == "CN=kubernetes-admin,O=kubeadm:cluster-admins"
    )
    text = render_text(document)
    assert (
        "User kubernetes-admin (current):" in text
        and "Cluster kubernetes: server https://127.0.0.1:6443" in text
    )
