"""What ``config view`` and ``get-contexts`` show: redaction, minify, flatten, the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeward.errors import InputError
from kubeward.kubeconfig.load import load_kubeconfig, parse_kubeconfig
from kubeward.kubeconfig.view import contexts_table, flatten, minify, redact

CONFIG = b"""
current-context: a
clusters:
- name: ca
  cluster: {server: https://a, certificate-authority-data: Q0E=}
- name: cb
  cluster: {server: https://b}
users:
- name: ua
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ, token: secret}
- name: ub
  user: {username: bob, password: hunter2, auth-provider: {name: oidc, config: {id-token: x}}}
contexts:
- name: a
  context: {cluster: ca, user: ua, namespace: ns}
- name: long-context-name
  context: {cluster: cb, user: ub}
- name: broken
  context: {cluster: nowhere, user: ua}
"""


def test_kubeconfig_redact_hides_secrets_like_kubectl() -> None:
    doc = redact(parse_kubeconfig(CONFIG, "f")).to_dict()
    assert doc["clusters"][0]["cluster"]["certificate-authority-data"] == "DATA+OMITTED"
    ua, ub = (u["user"] for u in doc["users"])
    assert ua == {
        "client-certificate-data": "DATA+OMITTED",
        "client-key-data": "DATA+OMITTED",
        "token": "REDACTED",
    }
    assert ub["password"] == "REDACTED"
    assert ub["username"] == "bob"
    assert ub["auth-provider"]["config"] == {"id-token": "x"}  # kubectl shows it too


def test_kubeconfig_minify_keeps_what_the_context_uses() -> None:
    doc = minify(parse_kubeconfig(CONFIG, "f")).to_dict()
    assert [c["name"] for c in doc["clusters"]] == ["ca"]
    assert [u["name"] for u in doc["users"]] == ["ua"]
    assert [c["name"] for c in doc["contexts"]] == ["a"]
    other = minify(parse_kubeconfig(CONFIG, "f"), "long-context-name")
    assert other.current_context == "long-context-name"


@pytest.mark.parametrize(
    ("text", "context", "message"),
    [
        (b"{}", "", "current-context must exist in order to minify"),
        (CONFIG, "nope", "cannot locate context nope"),
        (CONFIG, "broken", "cannot locate cluster nowhere"),
    ],
    ids=["no-current", "unknown-context", "missing-cluster"],
)
def test_kubeconfig_minify_errors(text: bytes, context: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        minify(parse_kubeconfig(text, "f"), context)


def test_kubeconfig_flatten_embeds_files_relative_to_their_kubeconfig(tmp_path: Path) -> None:
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.crt").write_bytes(b"CA")
    (tmp_path / "key").write_bytes(b"KEY")
    kc = tmp_path / "kc"
    kc.write_text(
        "clusters:\n- name: c\n  cluster: {server: https://c, certificate-authority: pki/ca.crt}\n"
        f"users:\n- name: u\n  user: {{client-key: {tmp_path}/key}}\n"
    )
    doc = flatten(load_kubeconfig(kc)).to_dict()
    assert doc["clusters"][0]["cluster"] == {
        "server": "https://c",
        "certificate-authority-data": "Q0E=",
    }
    assert doc["users"][0]["user"] == {"client-key-data": "S0VZ"}


def test_kubeconfig_flatten_missing_file_is_one_line(tmp_path: Path) -> None:
    kc = tmp_path / "kc"
    kc.write_text("clusters:\n- name: c\n  cluster: {certificate-authority: gone.crt}\n")
    with pytest.raises(InputError, match=r"gone.crt: no such file"):
        flatten(load_kubeconfig(kc))


def test_kubeconfig_contexts_table_aligns_like_tabwriter() -> None:
    table = contexts_table(parse_kubeconfig(CONFIG, "f"))
    assert table.text == (
        "CURRENT   NAME                CLUSTER   AUTHINFO   NAMESPACE\n"
        "*         a                   ca        ua         ns\n"
        "          broken              nowhere   ua         \n"
        "          long-context-name   cb        ub         \n"
    )
    assert table.missing == ()


def test_kubeconfig_contexts_table_names_and_missing() -> None:
    config = parse_kubeconfig(CONFIG, "f")
    table = contexts_table(config, ["long-context-name", "nope", "a"], name_only=True)
    assert table.text == "a\nlong-context-name\n"
    assert table.missing == ("nope",)
    assert contexts_table(config, ["a"], headers=False).text == "*     a     ca    ua    ns\n"
