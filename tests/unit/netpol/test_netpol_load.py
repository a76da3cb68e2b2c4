"""Reading manifests: files, folders, multi-document YAML, JSON, Lists, and bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from netpol_fixtures import THREE_TIER

from kubeward.errors import InputError
from kubeward.netpol.load import load_inventory_from_files
from kubeward.netpol.model import NAMESPACE_NAME_LABEL
from kubeward.netpol.objects import (
    Document,
    inventory_from_documents,
    inventory_from_objects,
    overlay_documents,
)

POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: prod}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 3306}]}]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_reads_multi_document_yaml_and_lists(tmp_path: Path) -> None:
    path = write(tmp_path, "all.yaml", THREE_TIER + "---\n" + POLICY)
    inventory = load_inventory_from_files([path])
    assert [p.key for p in inventory.pods] == [
        "dev/api",
        "dev/web",
        "prod/api",
        "prod/db",
        "prod/web",
    ]
    [policy] = inventory.policies
    assert policy.key == "prod/db"
    assert policy.policy_types == ("Ingress",)
    assert policy.ingress[0].ports[0].protocol == "TCP", "defaulted"
    assert policy.origin == f"{path}#4"
    db = inventory.pods_by_key["prod/db"]
    assert str(db.ip) == "10.1.0.12"
    assert [(p.number, p.protocol, p.name) for p in db.ports] == [(3306, "TCP", "mysql")]
    prod = inventory.namespaces_by_name["prod"]
    assert prod.labels == {"env": "prod", NAMESPACE_NAME_LABEL: "prod"}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= set(
        inventory.namespaces_by_name
    )


def test_reads_folders_and_json(tmp_path: Path) -> None:
    write(tmp_path / "m", "a-cluster.yaml", THREE_TIER)
    write(tmp_path / "m", "b-policy.json", json.dumps(yaml.safe_load(POLICY)))
    write(tmp_path / "m", "notes.txt", "not a manifest")
    write(tmp_path / "m" / "sub", "c.yaml", "kind: Pod")  # only read with recursive=True
    inventory = load_inventory_from_files([tmp_path / "m"])
    assert [p.key for p in inventory.policies] == ["prod/db"]
    with pytest.raises(InputError, match=r'sub/c\.yaml: Pod has no apiVersion \(want "v1"\)$'):
        load_inventory_from_files([tmp_path / "m"], recursive=True)


def test_kubectl_get_output_list(tmp_path: Path) -> None:
    listing = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p", "namespace": "default", "labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c"}]},
                "status": {"podIPs": [{"ip": "fd00::1"}, {"ip": "10.0.0.1"}]},
            }
        ],
    }
    inventory = load_inventory_from_files([write(tmp_path, "get.json", json.dumps(listing))])
    assert str(inventory.pods[0].ip) == "fd00::1"


BAD_INPUT = [
    ("unparseable", "kind: Pod\n  bad: [", r"^x\.yaml: cannot parse at line 2, column"),
    (
        "unknown-kind",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n",
        r'^x\.yaml: kind "Service" is not supported here \(want Namespace, Pod or NetworkPolicy\)$',
    ),
    (
        "wrong-api-version",
        "apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: n}\n",
        r'^x\.yaml: NetworkPolicy has apiVersion "extensions/v1beta1", want "networking\.k8s\.io/v1"$',
    ),
    (
        "no-name",
        "apiVersion: v1\nkind: Pod\nmetadata: {namespace: default}\n",
        r"^x\.yaml: Pod without metadata\.name$",
    ),
    (
        "missing-namespace",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n",
        r'^x\.yaml: Pod "shop/web": namespace "shop" not found \(declare the Namespace in the input\)$',
    ),
    (
        "policy-missing-namespace",
        POLICY.replace("prod", "shop"),
        r'^x\.yaml: NetworkPolicy "shop/db": namespace "shop" not found',
    ),
    (
        "invalid-policy",
        POLICY.replace("port: 3306", "port: 0"),
        r'^x\.yaml: NetworkPolicy\.networking\.k8s\.io "db" is invalid: '
        r"spec\.ingress\[0\]\.ports\[0\]\.port: Invalid value: 0: must be between 1 and 65535, inclusive$",
    ),
    (
        "bad-pod-ip",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIP: 10.0.0.300}\n",
        r"^x\.yaml: Pod \"default/p\": status\.podIP '10\.0\.0\.300' is not an IP address$",
    ),
    (
        "bad-container-port",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, ports: [{containerPort: 0}]}]}\n",
        r'^x\.yaml: Pod "default/p": spec\.containers\[0\]\.ports\[0\]\.containerPort 0 is not in 1-65535$',
    ),
    (
        "scalar-document",
        "just a string\n",
        r"^x\.yaml: not a Kubernetes object \(a str\)$",
    ),
    (
        "twice",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n",
        r'^x\.yaml#2: Pod "default/p": defined twice \(also in x\.yaml#1\)$',
    ),
]


@pytest.mark.parametrize(
    ("text", "pattern"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_is_one_line_naming_the_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, pattern: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "x.yaml", text)
    with pytest.raises(InputError) as caught:
        load_inventory_from_files(["x.yaml"])
    message = str(caught.value)
    assert "\n" not in message
    assert re.search(pattern, message), message


def test_pod_without_ip_is_accepted_beside_an_ipblock(tmp_path: Path) -> None:
    # A pod not yet running has no IP; it simply matches no ipBlock (the evaluator says so).
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\n"
        "spec: {ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}}]}]}\n"
    )
    inventory = load_inventory_from_files([write(tmp_path, "x.yaml", text)])
    assert [pod.ip for pod in inventory.pods] == [None]
    assert [policy.key for policy in inventory.policies] == ["default/n"]


def test_pod_without_ip_is_fine_without_ipblocks(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")
    assert load_inventory_from_files([path]).pods[0].ip is None


def test_missing_file_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_inventory_from_files([tmp_path / "nope.yaml"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no \.yaml, \.yml or \.json files"):
        load_inventory_from_files([tmp_path / "empty"])
    with pytest.raises(InputError, match="no input"):
        load_inventory_from_files([])


def test_live_objects_without_origin() -> None:
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "prod"}},
    ]
    inventory = inventory_from_objects(objects)
    assert [p.key for p in inventory.pods] == ["prod/a"]
    with pytest.raises(InputError, match=r'^Pod "x/a": namespace "x" not found'):
        inventory_from_objects([{**objects[1], "metadata": {"name": "a", "namespace": "x"}}])


def test_overlay_replaces_objects_by_identity_and_adds_the_rest() -> None:
    live = [
        Document({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}}, "live"),
        Document(yaml.safe_load(POLICY), "live"),
    ]
    changed = yaml.safe_load(POLICY.replace("port: 3306", "port: 3307"))
    added = yaml.safe_load(POLICY.replace("name: db,", "name: extra,"))
    laid = overlay_documents(live, [Document(changed, "after.yaml"), Document(added, "after.yaml")])
    inventory = inventory_from_documents(laid)
    by_key = {policy.key: policy for policy in inventory.policies}
    assert sorted(by_key) == ["prod/db", "prod/extra"]
    assert by_key["prod/db"].origin == "after.yaml"
    assert by_key["prod/db"].ingress[0].ports[0].port == 3307
    twice = overlay_documents(live, [Document(changed, "a.yaml"), Document(changed, "b.yaml")])
    with pytest.raises(InputError, match="defined twice"):
        inventory_from_documents(twice)
