"""``kubeward netpol`` through click's runner: outputs, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from netpol_fixtures import THREE_TIER

from kubeward.cli.main import cli, main

POLICY = """
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {env: prod}}
      podSelector: {matchLabels: {app: api}}
    - ipBlock: {cidr: 192.168.5.10/32}
    ports: [{port: 3306}]
"""


@pytest.fixture
def cluster(tmp_path: Path) -> Path:
    (tmp_path / "cluster.yaml").write_text(THREE_TIER)
    (tmp_path / "policy.yaml").write_text(POLICY)
    return tmp_path


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args)


def test_check_text_and_json(cluster: Path) -> None:
    files = ["-f", str(cluster / "cluster.yaml"), "-f", str(cluster / "policy.yaml")]
    result = invoke(
        ["netpol", "check", *files, "--from", "prod/api", "--to", "prod/db", "--port", "mysql"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "allowed: prod/api (10.1.0.11) -> prod/db (10.1.0.12) on 3306/TCP\n"
    )
    result = invoke(
        [
            "netpol",
            "check",
            *files,
            "--from",
            "dev/api",
            "--to",
            "prod/db",
            "--port",
            "3306",
            "-o",
            "json",
        ]
    )
    assert result.exit_code == 1, result.output  # denied, as kubectl auth can-i says "no"
    data = json.loads(result.output)
    assert list(data) == ["allowed", "sourceIP", "destinationIP", "egress", "ingress"]
    assert (data["sourceIP"], data["destinationIP"]) == ("10.2.0.11", "10.1.0.12")
    assert data["allowed"] is False
    assert data["ingress"]["isolatedBy"] == ["prod/db"]
    assert data["egress"]["allowed"] is True


def test_check_external_ip_and_pod_ip(cluster: Path) -> None:
    files = ["-f", f"{cluster / 'cluster.yaml'},{cluster / 'policy.yaml'}"]
    result = invoke(
        ["netpol", "check", *files, "--from", "192.168.5.10", "--to", "prod/db", "--port", "3306"]
    )
    assert result.exit_code == 0
    assert result.output.startswith("allowed: 192.168.5.10 -> prod/db (10.1.0.12)")
    # 10.1.0.11 is prod/api's IP: it stands for that pod.
    result = invoke(
        ["netpol", "check", *files, "--from", "10.1.0.11", "--to", "10.1.0.12", "--port", "3306"]
    )
    assert result.output.startswith("allowed: prod/api (10.1.0.11) -> prod/db (10.1.0.12)")


def test_matrix_outputs(cluster: Path) -> None:
    base = ["netpol", "matrix", "-f", str(cluster), "-n", "prod"]
    text = invoke([*base, "--port", "3306/TCP"])
    assert text.exit_code == 0
    assert text.output.splitlines()[:2] == ["3306/TCP:", "-\tprod/api\tprod/db\tprod/web"]
    data = json.loads(invoke([*base, "--port", "3306", "--port", "80/TCP", "-o", "json"]).output)
    assert [(p["port"], p["protocol"]) for p in data["probes"]] == [(3306, "TCP"), (80, "TCP")]
    default = json.loads(invoke([*base, "-o", "json"]).output)
    assert [(p["port"], p["protocol"]) for p in default["probes"]] == [(80, "TCP")]
    page = invoke([*base, "-o", "html"])
    assert page.exit_code == 0 and page.output.startswith("<!DOCTYPE html>")


def test_explain_and_lint(cluster: Path) -> None:
    result = invoke(["netpol", "explain", "-f", str(cluster), "--pod", "prod/db"])
    assert result.exit_code == 0
    assert (
        f"  prod/db ({cluster / 'policy.yaml'}):" in result.output
        and "peer 1 (IP addresses in 192.168.5.10/32)" in result.output
    )
    clean = invoke(["netpol", "lint", "-f", str(cluster)])
    assert clean.exit_code == 0 and clean.output == "no findings in 1 NetworkPolicies\n"
    (cluster / "typo.yaml").write_text(
        POLICY.replace("name: db,", "name: typo,").replace("app: db", "app: dbb")
    )
    dirty = invoke(["netpol", "lint", "-f", str(cluster), "-o", "json"])
    assert dirty.exit_code == 1
    codes = [f["code"] for f in json.loads(dirty.output)["findings"]]
    assert codes == ["selects-no-pods"]


def test_diff(cluster: Path, tmp_path: Path) -> None:
    after = tmp_path / "after.yaml"
    after.write_text(POLICY.replace("port: 3306", "port: 3307"))
    result = invoke(
        [
            "netpol",
            "diff",
            "--before",
            str(cluster / "cluster.yaml"),
            "--before",
            str(cluster / "policy.yaml"),
            "--after",
            f"{cluster / 'cluster.yaml'},{after}",
            "-o",
            "json",
        ]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {(c["from"], c["to"], c["port"]) for c in data["closed"]} == {
        ("prod/api", "prod/db", 3306)
    }
    assert {(c["from"], c["to"], c["port"]) for c in data["opened"]} == {
        ("prod/api", "prod/db", 3307)
    }


ERRORS = [
    (
        ["check", "--from", "prod/nope", "--to", "prod/db", "--port", "80"],
        'error: --from prod/nope: pod "prod/nope" not found in the input',
    ),
    (
        ["check", "--from", "1.2.3.4", "--to", "5.6.7.8", "--port", "80"],
        "error: --from 1.2.3.4 --to 5.6.7.8: both are outside the cluster; NetworkPolicies do not apply",
    ),
    (
        ["check", "--from", "prod/api", "--to", "prod/db", "--port", "http"],
        "error: --port http: pod prod/db has no port named http",
    ),
    (
        ["check", "--from", "prod/api", "--to", "1.2.3.4", "--port", "http"],
        "error: --port http: a named port needs a pod as --to, not an IP address",
    ),
    (
        ["check", "--from", "prod/api", "--to", "prod/db", "--port", "mysql", "--protocol", "UDP"],
        "error: --port mysql: pod prod/db has no UDP port named mysql",
    ),
    (
        ["matrix", "--port", "99999"],
        "error: --port '99999': must be between 1 and 65535, inclusive",
    ),
    (["matrix", "-n", "shop"], 'error: -n shop: namespace "shop" not found in the input'),
    (
        ["explain", "--pod", "db"],
        'error: --pod db: pod "db" not found in the input (want NAMESPACE/NAME)',
    ),
]


@pytest.mark.parametrize(
    ("args", "line"),
    ERRORS,
    ids=[
        "no-pod",
        "two-ips",
        "no-named-port",
        "named-to-ip",
        "protocol",
        "bad-port",
        "no-namespace",
        "explain-no-pod",
    ],
)
def test_errors_are_one_line(
    cluster: Path, capsys: pytest.CaptureFixture[str], args: list[str], line: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["netpol", *args, "-f", str(cluster)])
    assert exited.value.code == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == line + "\n"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["netpol", "matrix", "--kubeconfig", "admin.conf"],
            "error: admin.conf: no such file",
        ),
        (["netpol", "matrix"], "error: no input: give -f PATH"),
        (
            ["netpol", "matrix", "-f", "x.yaml", "--kubeconfig", "admin.conf"],
            "error: give either -f PATH or --kubeconfig, not both",
        ),
        (["netpol", "diff", "--after", "x.yaml"], "error: give the state before the change"),
    ],
    ids=["kubeconfig-missing", "no-input", "both-inputs", "diff-no-before"],
)
def test_input_choice_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], line: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(line) and err.count("\n") == 1


def test_bad_file_prints_nothing_but_the_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text(THREE_TIER)
    (tmp_path / "b.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
    with pytest.raises(SystemExit):
        main(["netpol", "matrix", "-f", str(tmp_path)])
    out, err = capsys.readouterr()
    assert out == ""
    assert (
        err
        == f'error: {tmp_path / "b.yaml"}: kind "Service" is not supported here (want Namespace, Pod or NetworkPolicy)\n'
    )
