"""The kubeconfig model: client-go's canonical form, strict types, and nothing unknown lost."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.errors import InputError
from kubeward.kubeconfig.build import client_certificate_kubeconfig, dump_kubeconfig
from kubeward.kubeconfig.load import parse_kubeconfig
from kubeward.kubeconfig.model import AuthInfo, Cluster, Context, Kubeconfig
from kubeward.kubeconfig.save import serialize

FULL = b"""
apiVersion: v1
kind: Config
current-context: prod
preferences: {colors: true}
top-level-unknown: {kept: yes}
clusters:
- name: prod
  cluster:
    server: https://prod:6443
    certificate-authority-data: "aGVs\\nbG8="
    insecure-skip-tls-verify: false
    brand-new-field: 7
    extensions:
    - {name: z, extension: {b: 1, a: 2}}
    - {name: a, extension: text}
users:
- name: robot
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: get-token
- name: oidc
  user:
    auth-provider: {name: oidc, config: {id-token: abc}}
contexts:
- name: prod
  context: {cluster: prod, user: robot, namespace: ""}
  item-level-unknown: 1
"""


def test_kubeconfig_canonical_form_matches_client_go() -> None:
    doc = parse_kubeconfig(FULL, "f").to_dict()
    assert list(doc)[:7] == [
        "kind",
        "apiVersion",
        "preferences",
        "clusters",
        "users",
        "contexts",
        "current-context",
    ]
    cluster = doc["clusters"][0]["cluster"]
    assert cluster["certificate-authority-data"] == "aGVsbG8="  # re-encoded, line break gone
    assert "insecure-skip-tls-verify" not in cluster  # omitempty
    assert [e["name"] for e in cluster["extensions"]] == ["a", "z"]
    assert list(cluster["extensions"][1]["extension"]) == ["a", "b"]
    robot = doc["users"][1]["user"]["exec"]
    assert robot == {
        "command": "get-token",
        "args": None,
        "env": None,
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "provideClusterInfo": False,
        "interactiveMode": "IfAvailable",
    }
    assert [u["name"] for u in doc["users"]] == ["oidc", "robot"]  # sorted by name
    assert doc["contexts"][0]["context"] == {"cluster": "prod", "user": "robot"}


def test_kubeconfig_keeps_unknown_fields_through_a_round_trip() -> None:
    config = parse_kubeconfig(FULL, "f")
    again = parse_kubeconfig(serialize(config), "g")
    doc = again.to_dict()
    assert doc == config.to_dict()
    assert doc["top-level-unknown"] == {"kept": True}
    assert doc["clusters"][0]["cluster"]["brand-new-field"] == 7
    assert doc["contexts"][0]["item-level-unknown"] == 1
    assert doc["users"][0]["user"]["auth-provider"]["config"] == {"id-token": "abc"}


def test_kubeconfig_empty_document_is_an_empty_config() -> None:
    assert parse_kubeconfig(b"", "f").to_dict() == {
        "kind": "Config",
        "apiVersion": "v1",
        "preferences": {},
        "clusters": None,
        "users": None,
        "contexts": None,
        "current-context": "",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"- a\n", "f: not a kubeconfig: the document is a list, not a mapping"),
        (b"just text\n", "f: not a kubeconfig: the document is a str, not a mapping"),
        (b"apiVersion: v2\nkind: Config\n", "f: not a kubeconfig: kind 'Config' in version 'v2'"),
        (b"apiVersion: v1\nkind: Pod\n", "f: not a kubeconfig: kind 'Pod'"),
        (b"clusters: {}\n", "f: clusters: must be a list"),
        (
            b"clusters:\n- name: x\n  cluster: {server: 5}\n",
            "f: clusters[0].cluster.server: must be a string, not a number",
        ),
        (
            b"users:\n- name: x\n  user: {client-key-data: '!!'}\n",
            "f: users[0].user.client-key-data: not valid base64",
        ),
        (
            b"clusters:\n- {name: x}\n- {name: x}\n",
            "f: clusters: duplicate name 'x'",
        ),
        (
            b"users:\n- name: x\n  user: {as-groups: a}\n",
            "f: users[0].user.as-groups: must be a list, not a string",
        ),
        (
            b"contexts:\n- name: x\n  context: {namespace: [a]}\n",
            "f: contexts[0].context.namespace: must be a string, not a list",
        ),
        (b"current-context: [a]\n", "f: current-context: must be a string"),
    ],
    ids=[
        "list",
        "scalar",
        "version",
        "kind",
        "clusters-map",
        "number-server",
        "bad-base64",
        "duplicate",
        "groups-string",
        "namespace-list",
        "current-context-list",
    ],
)
def test_kubeconfig_rejects_bad_documents_in_one_line(text: bytes, message: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_kubeconfig(text, "f")
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_kubeconfig_entry_accessors() -> None:
    config = parse_kubeconfig(FULL, "f")
    cluster = config.cluster("prod")
    assert cluster is not None
    assert cluster.server == "https://prod:6443"
    assert cluster.certificate_authority_data == b"hello"
    assert cluster.source == "f"
    robot = config.user("robot")
    assert robot is not None and robot.exec is not None and robot.token == ""
    context = config.context("prod")
    assert context is not None and (context.cluster, context.user) == ("prod", "robot")
    assert config.context("missing") is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"server": "https://new"}, {"server": "https://new"}),
        (
            {"certificate-authority-data": b"pem"},
            {"server": "", "certificate-authority-data": "cGVt"},
        ),
        ({"insecure-skip-tls-verify": False}, {"server": ""}),
        ({"insecure-skip-tls-verify": True}, {"server": "", "insecure-skip-tls-verify": True}),
    ],
    ids=["set", "bytes-encoded", "false-dropped", "true-kept"],
)
def test_kubeconfig_entry_updated(changes: dict[str, Any], expected: dict[str, Any]) -> None:
    assert dict(Cluster(name="c").updated(changes).fields) == expected


def test_kubeconfig_entry_updated_removes_with_none_and_checks_types() -> None:
    user = AuthInfo(name="u").updated({"token": "t", "username": "bob"})
    assert dict(user.updated({"token": None}).fields) == {"username": "bob"}
    with pytest.raises(InputError, match=r"users\[u\]\.user\.token: must be a string"):
        user.updated({"token": 5})


def test_kubeconfig_with_entry_replaces_by_name_and_without_entry_removes() -> None:
    config = Kubeconfig().with_entry(Context(name="a")).with_entry(Context(name="b"))
    config = config.with_entry(Context(name="a").updated({"namespace": "x"}))
    assert [(c.name, c.namespace) for c in config.contexts] == [("a", "x"), ("b", "")]
    assert [c.name for c in config.without_entry("contexts", "a").contexts] == ["b"]


def test_kubeconfig_build_writes_kubectl_layout() -> None:
    doc = client_certificate_kubeconfig(
        cluster_name="kubernetes",
        server="https://10.0.0.1:6443",
        ca_pem=b"CA",
        user_name="kubernetes-admin",
        cert_pem=b"CERT",
        key_pem=b"KEY",
    )
    text = dump_kubeconfig(doc).decode()
    assert text == (
        "apiVersion: v1\n"
        "clusters:\n"
        "- cluster:\n"
        "    certificate-authority-data: Q0E=\n"
        "    server: https://10.0.0.1:6443\n"
        "  name: kubernetes\n"
        "contexts:\n"
        "- context:\n"
        "    cluster: kubernetes\n"
        "    user: kubernetes-admin\n"
        "  name: kubernetes-admin@kubernetes\n"
        "current-context: kubernetes-admin@kubernetes\n"
        "kind: Config\n"
        "preferences: {}\n"
        "users:\n"
        "- name: kubernetes-admin\n"
        "  user:\n"
        "    client-certificate-data: Q0VSVA==\n"
        "    client-key-data: S0VZ\n"
    )
