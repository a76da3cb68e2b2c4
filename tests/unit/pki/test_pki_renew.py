import datetime
from pathlib import Path

import pytest
from pki_testutil import fast_bundle, snapshot, write_pair

from kubeward.errors import InputError
from kubeward.pki.ca import CertificateAuthority
from kubeward.pki.keys import generate_private_key
from kubeward.pki.kubeconfigs import read_kubeconfig
from kubeward.pki.names import AltNames, build_subject
from kubeward.pki.profiles import Profile, extended_key_usages
from kubeward.pki.reading import load_certificate
from kubeward.pki.renew import renew
from kubeward.pki.verify import key_matches, signed_by

DAY = datetime.timedelta(days=1)


def test_renew_keeps_subject_sans_and_ca_with_a_new_key(tmp_path: Path) -> None:
    fast_bundle(tmp_path)
    pki = tmp_path / "pki"
    old = load_certificate(pki / "etcd" / "server.crt")
    old_key = (pki / "etcd" / "server.key").read_bytes()
    assert renew(tmp_path, ["etcd-server"]) == ["etcd-server"]
    new = load_certificate(pki / "etcd" / "server.crt")
    assert new.subject == old.subject and AltNames.of(new) == AltNames.of(old)
    assert new.serial_number != old.serial_number
    assert (pki / "etcd" / "server.key").read_bytes() != old_key
    assert signed_by(new, load_certificate(pki / "etcd" / "ca.crt"))
    assert extended_key_usages(new) == ["server auth", "client auth"]


def test_renew_refreshes_kubeconfig_embedded_certificates(tmp_path: Path) -> None:
    fast_bundle(tmp_path)
    before = read_kubeconfig(tmp_path / "admin.conf")
    renew(tmp_path, ["admin.conf"])
    after = read_kubeconfig(tmp_path / "admin.conf")
    assert after.users[0].cert.subject == before.users[0].cert.subject
    assert after.users[0].cert.serial_number != before.users[0].cert.serial_number
    assert after.users[0].key is not None and key_matches(after.users[0].cert, after.users[0].key)
    assert (
        after.clusters == before.clusters
        and after.document["contexts"] == before.document["contexts"]
    )


def test_renew_all_renews_every_leaf_and_no_ca(tmp_path: Path) -> None:
    fast_bundle(tmp_path)
    before = snapshot(tmp_path)
    renewed = renew(tmp_path, ["all"])
    after = snapshot(tmp_path)
    assert {
        "apiserver",
        "etcd-peer",
        "front-proxy-client",
        "admin.conf",
        "kubelet-worker-1.conf",
        "kubelet-worker-1",
    } <= set(renewed)
    for unchanged in ["pki/ca.crt", "pki/ca.key", "pki/etcd/ca.crt", "pki/sa.key"]:
        assert after[unchanged] == before[unchanged]


def test_renew_repairs_a_wrong_profile_for_known_names(tmp_path: Path) -> None:
    fast_bundle(tmp_path)
    ca = CertificateAuthority.from_dir(tmp_path)
    key = generate_private_key("ecdsa-p256")
    bad = ca.issue(key.public_key(), build_subject("kube-apiserver"), Profile.CLIENT, DAY)
    write_pair(tmp_path / "pki", "apiserver", bad, key)
    renew(tmp_path, ["apiserver"])
    assert extended_key_usages(load_certificate(tmp_path / "pki" / "apiserver.crt")) == [
        "server auth"
    ]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["ca"], "not renewed"),
        (["apiservr"], "no such certificate"),
        (["apiserver", "nope"], "no such certificate"),
    ],
    ids=["ca", "typo", "one-bad-of-two"],
)
def test_renew_refuses_and_changes_nothing(tmp_path: Path, names: list[str], message: str) -> None:
    fast_bundle(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(InputError, match=message):
        renew(tmp_path, names)
    assert snapshot(tmp_path) == before


def test_renew_needs_the_ca_key(tmp_path: Path) -> None:
    fast_bundle(tmp_path)
    (tmp_path / "pki" / "etcd" / "ca.key").unlink()
    with pytest.raises(InputError, match="externally managed"):
        renew(tmp_path, ["etcd-peer"])


def test_renew_refuses_a_certificate_no_local_ca_signed(tmp_path: Path) -> None:
    fast_bundle(tmp_path)
    other = CertificateAuthority.create("kubernetes", DAY, algorithm="ecdsa-p256")
    key = generate_private_key("ecdsa-p256")
    write_pair(
        tmp_path / "pki",
        "stranger-client",
        other.issue_client_certificate(key.public_key(), "s", [], DAY),
        key,
    )
    with pytest.raises(InputError, match="not signed by any CA"):
        renew(tmp_path, ["stranger-client"])
