import datetime
from pathlib import Path

import pytest
import yaml
from pki_testutil import fast_bundle

from kubeward.errors import InputError
from kubeward.pki.check import KUBEADM_CERTIFICATES, check_expiration, render_text, residual_time

DAY = datetime.timedelta(days=1)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("check")
    fast_bundle(root)
    return root


def test_table_has_kubeadm_columns_and_every_certificate(cluster: Path) -> None:
    text = render_text(check_expiration(cluster))
    lines = text.splitlines()
    assert lines[0].split("   ")[0] == "CERTIFICATE"
    assert (
        "RESIDUAL TIME" in lines[0]
        and "CERTIFICATE AUTHORITY" in lines[0]
        and "EXTERNALLY MANAGED" in lines[0]
    )
    names = [line.split()[0] for line in lines[1:] if line and not line.startswith("CERTIFICATE")]
    for name in [
        *KUBEADM_CERTIFICATES,
        "kube-proxy.conf",
        "kubelet-worker-1.conf",
        "kubelet-worker-1",
        "ca",
        "etcd-ca",
    ]:
        assert name in names
    assert "364d" in text and "9y" in text
    apiserver = next(line for line in lines if line.startswith("apiserver "))
    assert apiserver.split()[-2:] == ["ca", "no"]
    assert next(line for line in lines if line.startswith("etcd-peer ")).split()[-2] == "etcd-ca"


def test_missing_certificates_are_marked_and_fail_the_warn_check(tmp_path: Path) -> None:
    fast_bundle(tmp_path)
    (tmp_path / "scheduler.conf").unlink()
    report = check_expiration(tmp_path)
    assert "!MISSING! scheduler.conf" in render_text(report)
    assert report.status(None) == 0
    assert report.status(30 * DAY) == 4


@pytest.mark.parametrize(
    ("later_days", "warn_days", "status"),
    [(0, 30, 0), (340, 30, 3), (366, 30, 4), (340, 10, 0)],
    ids=["fresh", "within-window", "expired", "outside-window"],
)
def test_status_with_warn_window(
    cluster: Path, later_days: int, warn_days: int, status: int
) -> None:
    now = datetime.datetime.now(datetime.UTC) + later_days * DAY
    assert check_expiration(cluster, now).status(warn_days * DAY) == status


def test_json_document_is_kubeadm_shaped(cluster: Path) -> None:
    document = check_expiration(cluster).to_dict()
    assert document["kind"] == "CertificateExpirationInfo"
    assert document["apiVersion"] == "output.kubeadm.k8s.io/v1alpha3"
    admin = next(c for c in document["certificates"] if c["name"] == "admin.conf")  # type: ignore[union-attr,index]
    assert (
        admin["caName"] == "ca"
        and admin["missing"] is False
        and admin["externallyManaged"] is False
    )
    assert 360 * 86400 < admin["residualTime"] <= 365 * 86400
    assert [ca["name"] for ca in document["certificateAuthorities"]] == [
        "ca",
        "etcd-ca",
        "front-proxy-ca",
    ]  # type: ignore[union-attr,index]
    assert yaml.safe_load(yaml.safe_dump(document)) == document


def test_externally_managed_when_the_ca_key_is_absent(tmp_path: Path) -> None:
    fast_bundle(tmp_path)
    (tmp_path / "pki" / "front-proxy-ca.key").unlink()
    report = check_expiration(tmp_path)
    client = next(c for c in report.certificates if c.name == "front-proxy-client")
    assert client.externally_managed
    assert next(c for c in report.authorities if c.name == "front-proxy-ca").externally_managed


def test_directory_without_pki(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no PKI here"):
        check_expiration(tmp_path)


def test_an_expired_certificate_says_since_when(cluster: Path) -> None:
    """kubeadm prints ``<invalid>`` (and older kubeward ``0s``); the reader wants "expired, since when"."""
    now = datetime.datetime.now(datetime.UTC) + 368 * DAY
    text = render_text(check_expiration(cluster, now))
    apiserver = next(line for line in text.splitlines() if line.startswith("apiserver "))
    assert "expired 3 days ago" in apiserver or "expired 4 days ago" in apiserver
    assert "0s" not in text.split() and "<invalid>" not in text
    ca = next(line for line in text.splitlines() if line.startswith("ca "))
    assert "expired" not in ca  # the CAs are still valid for years


@pytest.mark.parametrize(
    ("left", "shown"),
    [
        (datetime.timedelta(days=2), "2d"),
        (-datetime.timedelta(days=1, hours=2), "expired 1 day ago"),
        (-datetime.timedelta(days=45), "expired 45 days ago"),
        (-datetime.timedelta(hours=5), "expired 5 hours ago"),
        (-datetime.timedelta(seconds=1), "expired just now"),
    ],
    ids=["valid", "one-day", "many-days", "hours", "just-now"],
)
def test_residual_time_wording(left: datetime.timedelta, shown: str) -> None:
    assert residual_time(left) == shown
