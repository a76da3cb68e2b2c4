import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from pki_testutil import snapshot

from kubeward.cli.main import main
from kubeward.pki.keys import generate_private_key, private_key_pem
from kubeward.pki.reading import load_certificate
from kubeward.pki.verify import signed_by

COMMANDS = ["init", "keygen", "csr", "sign", "check", "inspect", "audit", "renew"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["pki", *args])
    captured = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "c"
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "pki",
                "init",
                "--dir",
                str(root),
                "--key-algorithm",
                "ecdsa-p256",
                "--node",
                "w1=10.0.0.21",
            ]
        )
    assert exited.value.code == 0
    return root


@pytest.mark.parametrize("command", COMMANDS, ids=str)
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert "Usage: kubeward pki" in out and len(out.splitlines()) > 4


def test_group_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and all(c in out for c in COMMANDS)


def test_init_reports_and_is_idempotent(capsys: pytest.CaptureFixture[str], cluster: Path) -> None:
    code, out, _ = run(
        capsys,
        "init",
        "--dir",
        str(cluster),
        "--key-algorithm",
        "ecdsa-p256",
        "--node",
        "w1=10.0.0.21",
    )
    assert code == 0
    assert "0 created" in out and "kept      apiserver" in out


def test_keygen_csr_sign_flow(
    capsys: pytest.CaptureFixture[str], cluster: Path, tmp_path: Path
) -> None:
    key, csr, crt = tmp_path / "jane.key", tmp_path / "jane.csr", tmp_path / "jane.crt"
    assert run(capsys, "keygen", "--algorithm", "ecdsa-p256", "--out", str(key))[0] == 0
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert (
        run(capsys, "csr", "--key", str(key), "--cn", "jane", "--org", "dev", "--out", str(csr))[0]
        == 0
    )
    code, _, err = run(
        capsys,
        "sign",
        "--csr",
        str(csr),
        "--ca-dir",
        str(cluster),
        "--profile",
        "client",
        "--duration",
        "30d",
        "--out",
        str(crt),
    )
    assert code == 0, err
    cert = load_certificate(crt)
    assert cert.subject.rfc4514_string() == "CN=jane,O=dev"
    assert signed_by(cert, load_certificate(cluster / "pki" / "ca.crt"))


def test_keygen_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["pki", "keygen", "--algorithm", "ed25519"])
    # click writes bytes to the real stdout buffer; capsys captures it as text
    assert "BEGIN PRIVATE KEY" in capsys.readouterr().out


def test_check_outputs(capsys: pytest.CaptureFixture[str], cluster: Path) -> None:
    code, out, _ = run(capsys, "check", "--dir", str(cluster))
    assert code == 0 and out.startswith("CERTIFICATE ")
    code, out, _ = run(capsys, "check", "--dir", str(cluster), "-o", "json", "--warn", "400d")
    assert code == 3 and json.loads(out)["kind"] == "CertificateExpirationInfo"
    code, out, _ = run(capsys, "check", "--dir", str(cluster), "-o", "yaml", "--warn", "30d")
    assert code == 0 and "kind: CertificateExpirationInfo" in out


def test_inspect_json_and_stdin(
    capsys: pytest.CaptureFixture[str], cluster: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, "inspect", str(cluster / "pki" / "apiserver.crt"), "-o", "json")
    assert code == 0 and json.loads(out)["items"][0]["subject"] == "CN=kube-apiserver"


def test_audit_formats_and_exit_code(
    capsys: pytest.CaptureFixture[str], cluster: Path, tmp_path: Path
) -> None:
    for output in ("table", "csv", "json"):
        code, out, _ = run(capsys, "audit", str(cluster), "-o", output)
        assert code == 0 and out
    page = tmp_path / "audit.html"
    code, _, _ = run(capsys, "audit", str(cluster), "-o", "html", "--out", str(page))
    assert code == 0 and page.read_text().startswith("<!DOCTYPE html>")
    os.chmod(cluster / "pki" / "apiserver.key", 0o644)
    try:
        code, out, _ = run(capsys, "audit", str(cluster))
        assert code == 5 and "chmod 600" in out
    finally:
        os.chmod(cluster / "pki" / "apiserver.key", 0o600)


def test_renew_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = tmp_path / "r"
    assert run(capsys, "init", "--dir", str(root), "--key-algorithm", "ecdsa-p256")[0] == 0
    code, out, _ = run(capsys, "renew", "apiserver", "admin.conf", "--dir", str(root))
    assert code == 0 and out.splitlines() == ["renewed apiserver", "renewed admin.conf"]


def _encrypted_key(path: Path) -> None:
    key = generate_private_key("ecdsa-p256")
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw"),
        )
    )


def _csr(directory: Path) -> None:
    from kubeward.pki.csr import build_csr, csr_pem

    (directory / "j.csr").write_bytes(csr_pem(build_csr(generate_private_key("ecdsa-p256"), "j")))


def _mismatching_ca_key(directory: Path) -> None:
    _csr(directory)
    (directory / "c/pki/ca.key").write_bytes(private_key_pem(generate_private_key("ecdsa-p256")))


def _empty_dir_and_csr(directory: Path) -> None:
    _csr(directory)
    (directory / "empty").mkdir()


BAD_INPUT = [
    (
        "garbage",
        lambda d: (d / "x.pem").write_bytes(b"garbage\n"),
        ["inspect", "{d}/x.pem"],
        "x.pem: not a PEM or DER certificate",
    ),
    (
        "truncated-pem",
        lambda d: (d / "x.crt").write_bytes((d / "c/pki/ca.crt").read_bytes()[:200]),
        ["inspect", "{d}/x.crt"],
        "x.crt: truncated PEM",
    ),
    (
        "der-garbage",
        lambda d: (d / "x.der").write_bytes(bytes(range(256))),
        ["inspect", "{d}/x.der"],
        "x.der: not a PEM or DER",
    ),
    ("empty", lambda d: (d / "x.pem").write_bytes(b""), ["inspect", "{d}/x.pem"], "x.pem: empty"),
    (
        "encrypted-key",
        lambda d: _encrypted_key(d / "e.key"),
        ["csr", "--key", "{d}/e.key", "--cn", "x"],
        "e.key: private key is encrypted",
    ),
    (
        "missing-file",
        lambda d: None,
        ["sign", "--csr", "{d}/nope.csr", "--ca-dir", "{d}/c", "--profile", "client"],
        "nope.csr: no such file",
    ),
    (
        "directory-as-file",
        lambda d: (d / "sub").mkdir(),
        ["inspect", "{d}/sub"],
        "sub: is a directory",
    ),
    (
        "dir-without-ca",
        _empty_dir_and_csr,
        ["sign", "--csr", "{d}/j.csr", "--ca-dir", "{d}/empty", "--profile", "client"],
        "empty: no CA here",
    ),
    (
        "csr-is-a-cert",
        lambda d: None,
        ["sign", "--csr", "{d}/c/pki/ca.crt", "--ca-dir", "{d}/c", "--profile", "client"],
        "ca.crt: no certificate request in it",
    ),
    (
        "mismatching-key",
        lambda d: (d / "c/pki/apiserver.key").write_bytes(
            private_key_pem(generate_private_key("ecdsa-p256"))
        ),
        ["init", "--dir", "{d}/c", "--key-algorithm", "ecdsa-p256"],
        "apiserver.crt: the private key does not match the certificate; run with --force apiserver",
    ),
    (
        "mismatching-ca-key",
        _mismatching_ca_key,
        ["sign", "--csr", "{d}/j.csr", "--ca-dir", "{d}/c", "--profile", "client"],
        "ca.key: private key does not match",
    ),
    (
        "keygen-over-existing",
        lambda d: None,
        ["keygen", "--out", "{d}/c/pki/ca.key"],
        "ca.key: already exists; refusing to overwrite it",
    ),
    (
        "check-without-pki",
        lambda d: (d / "empty").mkdir(),
        ["check", "--dir", "{d}/empty"],
        "empty: no PKI here",
    ),
    ("audit-missing-dir", lambda d: None, ["audit", "{d}/nowhere"], "nowhere: no such directory"),
    (
        "renew-unknown",
        lambda d: None,
        ["renew", "apiservr", "--dir", "{d}/c"],
        "apiservr: no such certificate",
    ),
]


@pytest.mark.parametrize(
    ("case", "prepare", "args", "message"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_is_one_line_exit_1_and_nothing_changes(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    case: str,
    prepare: object,
    args: list[str],
    message: str,
) -> None:
    assert (
        run(capsys, "init", "--dir", str(tmp_path / "c"), "--key-algorithm", "ecdsa-p256")[0] == 0
    )
    assert callable(prepare)
    prepare(tmp_path)
    before = snapshot(tmp_path)
    code, out, err = run(capsys, *[a.format(d=tmp_path) for a in args])
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
    assert "Traceback" not in out + err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["init", "--dir", "x", "--cert-validity", "soon"], "Invalid value for '--cert-validity'"),
        (["init", "--dir", "x", "--ca-validity", "-5h"], "must be positive"),
        (
            ["init", "--dir", "x", "--key-algorithm", "rsa-1024"],
            "Invalid value for '--key-algorithm'",
        ),
        (
            ["sign", "--csr", "x", "--ca-dir", "y", "--profile", "admin"],
            "Invalid value for '--profile'",
        ),
    ],
    ids=["duration", "negative", "algorithm", "profile"],
)
def test_bad_flags_are_usage_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    os.chdir(tmp_path)
    code, _, err = run(capsys, *args)
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_check_and_renew_default_to_the_up_data_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README writes `kubeward pki check` and `kubeward pki renew NAME|all` without --dir."""
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "init", "--dir", ".kubeward", "--key-algorithm", "ecdsa-p256")[0] == 0
    code, out, err = run(capsys, "check")
    assert code == 0 and out.startswith("CERTIFICATE "), err
    code, out, err = run(capsys, "renew", "apiserver")
    assert code == 0 and out.splitlines() == ["renewed apiserver"], err
