import csv
import datetime
import io
import json
import os
from pathlib import Path

import pytest
from pki_testutil import fast_bundle, planted_tree, snapshot

from kubeward.errors import InputError
from kubeward.pki.audit import AuditReport, audit
from kubeward.pki.findings import AuditOptions, Severity
from kubeward.pki.report import CSV_COLUMNS, render_csv, render_json, render_text
from kubeward.pki.report_html import render_html


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], AuditReport]:
    root = tmp_path_factory.mktemp("planted")
    expected = planted_tree(root)
    before = snapshot(root)
    report = audit(root)
    assert snapshot(root) == before, "the audit must only read"
    return root, expected, report


def _codes(report: AuditReport) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.subject, set()).add(finding.code)
    return found


EXPECTED_CODES = [
    ("pki/expired-client.crt", "expired", Severity.CRITICAL),
    ("pki/future-client.crt", "not-yet-valid", Severity.ERROR),
    ("pki/soon-client.crt", "expiring-soon", Severity.WARNING),
    ("pki/mallory-client.crt", "fake-issuer", Severity.CRITICAL),
    ("pki/stranger-client.crt", "issuer-not-found", Severity.ERROR),
    ("pki/mismatch-client.crt", "key-mismatch", Severity.CRITICAL),
    ("pki/apiserver.crt", "apiserver-missing-san", Severity.ERROR),
    ("pki/kubelet-worker-1.crt", "server-without-serverauth", Severity.ERROR),
    ("pki/front-proxy-client.crt", "client-without-clientauth", Severity.ERROR),
    ("pki/rogue-client.crt", "leaf-is-ca", Severity.CRITICAL),
    ("pki/limp-ca.crt", "ca-without-keycertsign", Severity.ERROR),
    ("pki/weak-client.crt", "weak-rsa-key", Severity.ERROR),
    ("pki/etcd/server.crt", "etcd-signed-by-cluster-ca", Severity.ERROR),
    ("kubelet-worker-1.conf", "kubelet-bad-cn", Severity.ERROR),
    ("kubelet-worker-1.conf", "kubelet-missing-nodes-group", Severity.ERROR),
    ("admin.conf", "system-masters-outside-super-admin", Severity.ERROR),
    ("pki/sa.key", "key-readable-by-others", Severity.CRITICAL),
    ("pki/apiserver-kubelet-client.key", "key-readable-by-group", Severity.ERROR),
]


@pytest.mark.parametrize(
    ("subject", "code", "severity"), EXPECTED_CODES, ids=[f"{c}" for _, c, _ in EXPECTED_CODES]
)
def test_every_planted_problem_is_found(
    planted: tuple[Path, dict[str, str], AuditReport], subject: str, code: str, severity: Severity
) -> None:
    _, _, report = planted
    matching = [f for f in report.findings if f.subject == subject and f.code == code]
    assert matching, f"{code} not reported for {subject}; got {_codes(report).get(subject)}"
    assert matching[0].severity is severity
    assert matching[0].fix and "\n" not in matching[0].fix and "\n" not in matching[0].message


def test_planted_expectations_are_all_checked(
    planted: tuple[Path, dict[str, str], AuditReport],
) -> None:
    _, expected, _ = planted
    assert set(expected.items()) <= {(s, c) for s, c, _ in EXPECTED_CODES}


def test_clean_certificates_stay_clean_in_a_planted_tree(
    planted: tuple[Path, dict[str, str], AuditReport],
) -> None:
    _, _, report = planted
    flagged = _codes(report)
    for clean in [
        "pki/ca.crt",
        "super-admin.conf",
        "controller-manager.conf",
        "pki/etcd/peer.crt",
        "pki/apiserver-etcd-client.crt",
    ]:
        assert clean not in flagged, f"{clean}: {flagged.get(clean)}"


def test_exit_code_is_the_worst_severity(planted: tuple[Path, dict[str, str], AuditReport]) -> None:
    assert planted[2].exit_code == 5


def test_mismatching_apiserver_names_say_which(
    planted: tuple[Path, dict[str, str], AuditReport],
) -> None:
    finding = next(f for f in planted[2].findings if f.code == "apiserver-missing-san")
    for name in ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "127.0.0.1"]:
        assert name in finding.message
    assert "--apiserver-cert-extra-sans" in finding.fix


def test_fresh_bundle_audits_clean(tmp_path: Path) -> None:
    fast_bundle(tmp_path, nodes=())
    report = audit(tmp_path)
    assert report.findings == ()
    assert report.exit_code == 0
    assert len(report.rows) == 15  # 3 CAs, 7 leaves, 5 kubeconfigs
    assert {row.verified_by for row in report.rows} >= {"ca", "etcd-ca", "front-proxy-ca"}


@pytest.mark.parametrize(
    ("days_left", "code", "exit_code"),
    [(10, "expiring-soon", 3), (-1, "expired", 5)],
    ids=["warning", "critical"],
)
def test_exit_codes_follow_severity(
    tmp_path: Path, days_left: int, code: str, exit_code: int
) -> None:
    fast_bundle(tmp_path)
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=365 - days_left)
    report = audit(tmp_path, options=AuditOptions(now=later))
    assert {f.code for f in report.findings} == {code}
    assert report.exit_code == exit_code


def test_extra_kubeconfig_and_expected_names(tmp_path: Path) -> None:
    result = fast_bundle(tmp_path / "c")
    outside = tmp_path / "elsewhere.yaml"
    doc = (
        (tmp_path / "c" / "admin.conf")
        .read_text()
        .replace("https://127.0.0.1:6443", "https://api.example.com:6443")
    )
    outside.write_text(doc)
    os.chmod(outside, 0o600)
    report = audit(
        result.directory, [outside], AuditOptions(expected_apiserver_names=("10.9.9.9",))
    )
    finding = next(f for f in report.findings if f.code == "apiserver-missing-san")
    assert "api.example.com" in finding.message and "10.9.9.9" in finding.message
    assert any(row.source.endswith("elsewhere.yaml") for row in report.rows)


def test_unreadable_certificate_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    fast_bundle(tmp_path)
    (tmp_path / "pki" / "broken.crt").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n")
    report = audit(tmp_path)
    assert [(f.code, f.severity) for f in report.findings] == [("unreadable", Severity.WARNING)]
    assert "truncated PEM" in report.findings[0].message


def test_audit_of_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such directory"):
        audit(tmp_path / "nope")


def test_kubeconfig_trusting_another_ca(tmp_path: Path) -> None:
    fast_bundle(tmp_path / "a")
    fast_bundle(tmp_path / "b")
    (tmp_path / "a" / "scheduler.conf").write_bytes(
        (tmp_path / "b" / "scheduler.conf").read_bytes()
    )
    report = audit(tmp_path / "a")
    codes = {(f.subject, f.code) for f in report.findings}
    assert ("scheduler.conf", "kubeconfig-untrusted-server") in codes


def test_reports(planted: tuple[Path, dict[str, str], AuditReport]) -> None:
    _, _, report = planted
    text = render_text(report)
    assert "CERTIFICATE" in text and "VERIFIED BY" in text and "fake-issuer" not in text
    assert "claims issuer CN=kubernetes" in text
    rows = list(csv.reader(io.StringIO(render_csv(report))))
    assert rows[0] == CSV_COLUMNS and len(rows) == len(report.rows) + 1
    document = json.loads(render_json(report))
    assert document["exitCode"] == 5
    assert {f["code"] for f in document["findings"]} >= {c for _, c, _ in EXPECTED_CODES}
    page = render_html(report)
    assert (
        page.startswith("<!DOCTYPE html>")
        and "<script" not in page
        and "http" not in page.replace("https://127", "")
    )
    assert page.count('class="bar"') == len(report.rows)


def test_html_escapes_subjects(tmp_path: Path) -> None:
    from pki_testutil import write_pair

    from kubeward.pki.ca import CertificateAuthority
    from kubeward.pki.keys import generate_private_key

    fast_bundle(tmp_path)
    ca = CertificateAuthority.from_dir(tmp_path)
    key = generate_private_key("ecdsa-p256")
    cert = ca.issue_client_certificate(
        key.public_key(), "<script>alert(1)</script>", [], datetime.timedelta(days=9)
    )
    write_pair(tmp_path / "pki", "evil-client", cert, key)
    page = render_html(audit(tmp_path))
    assert "<script>" not in page and "&lt;script&gt;" in page
