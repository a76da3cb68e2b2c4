"""Parsing and validating AuthorizationConfiguration (--authorization-config), with
kube-apiserver 1.32's messages and field paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeward.authz.structured import parse_authorization_configuration
from kubeward.authz.structured.config import WebhookConfig
from kubeward.errors import InputError


def document(*authorizers: dict[str, Any], version: str = "v1") -> str:
    return yaml.safe_dump(
        {
            "apiVersion": f"apiserver.config.k8s.io/{version}",
            "kind": "AuthorizationConfiguration",
            "authorizers": list(authorizers),
        }
    )


def webhook(kubeconfig: Path, name: str = "opa", **fields: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "timeout": "3s",
        "subjectAccessReviewVersion": "v1",
        "failurePolicy": "NoOpinion",
        "connectionInfo": {"type": "KubeConfigFile", "kubeConfigFile": str(kubeconfig)},
    }
    spec.update(fields)
    return {"type": "Webhook", "name": name, "webhook": spec}


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "webhook.kubeconfig"
    path.write_text("apiVersion: v1\nkind: Config\n")
    return path


def problems(text: str) -> str:
    with pytest.raises(InputError) as caught:
        parse_authorization_configuration(text, "authz.yaml")
    message = str(caught.value)
    assert message.startswith("authz.yaml: ")
    return message.removeprefix("authz.yaml: ")


@pytest.mark.parametrize("version", ["v1", "v1beta1", "v1alpha1"])
def test_an_ordered_chain_with_defaults(kubeconfig: Path, version: str) -> None:
    parsed = parse_authorization_configuration(
        document(
            {"type": "Node", "name": "node"},
            webhook(kubeconfig, matchConditionSubjectAccessReviewVersion="v1",
                    matchConditions=[{"expression": "request.user != 'admin'"}]),
            webhook(kubeconfig, name="second", failurePolicy="Deny", authorizedTTL="1m"),
            {"type": "RBAC", "name": "rbac"},
            version=version,
        ),
        "authz.yaml",
    )  # fmt: skip
    assert [(a.type, a.name) for a in parsed] == [
        ("Node", "node"),
        ("Webhook", "opa"),
        ("Webhook", "second"),
        ("RBAC", "rbac"),
    ]
    assert parsed[1].webhook == WebhookConfig(
        timeout=3.0,
        authorized_ttl=300.0,
        unauthorized_ttl=30.0,
        subject_access_review_version="v1",
        match_condition_version="v1",
        failure_policy="NoOpinion",
        connection_type="KubeConfigFile",
        kubeconfig_file=str(kubeconfig),
        match_conditions=("request.user != 'admin'",),
    )
    assert parsed[2].webhook is not None
    assert (parsed[2].webhook.failure_policy, parsed[2].webhook.authorized_ttl) == ("Deny", 60.0)


def test_fields_from_later_releases_are_ignored(kubeconfig: Path) -> None:
    # cacheAuthorizedRequests arrived in 1.33; 1.32's decoder ignores fields it does not know.
    parsed = parse_authorization_configuration(
        document(webhook(kubeconfig, cacheAuthorizedRequests=False)), "authz.yaml"
    )
    assert parsed[0].webhook is not None and parsed[0].webhook.authorized_ttl == 300.0


def test_an_empty_list_is_refused() -> None:
    assert problems(document()) == (
        "authorizers: Required value: at least one authorization mode must be defined"
    )
    assert "at least one authorization mode must be defined" in problems("")


def test_types_and_names() -> None:
    text = document(
        {"type": "RBAC", "name": "rbac"},
        {"type": "RBAC", "name": "rbac2"},
        {"type": "Magic", "name": "magic"},
        {"name": "untyped"},
        {"type": "Node"},
        {"type": "AlwaysDeny", "name": "Bad_Name"},
    )
    assert problems(text) == (
        '[authorizers[1].type: Duplicate value: "RBAC", '
        'authorizers[2].type: Unsupported value: "Magic": supported values: "ABAC", '
        '"AlwaysAllow", "AlwaysDeny", "Node", "RBAC", "Webhook", '
        "authorizers[3].type: Required value, "
        "authorizers[4].name: Required value, "
        'authorizers[5].name: Invalid value: "Bad_Name": authorizer name is invalid: a lowercase'
        " RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and"
        " must start and end with an alphanumeric character (e.g. 'example.com', regex used for"
        " validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')]"
    )


def test_duplicate_webhook_names(kubeconfig: Path) -> None:
    text = document(webhook(kubeconfig), webhook(kubeconfig))
    assert problems(text) == 'authorizers[1].name: Duplicate value: "opa"'


def test_non_webhook_types_carry_kube_apiservers_names() -> None:
    text = document({"type": "RBAC", "name": "my-rbac"}, {"type": "AlwaysAllow", "name": "yes"})
    assert problems(text) == (
        "[expected name rbac for authorizer RBAC instead of my-rbac, "
        "expected name alwaysallow for authorizer AlwaysAllow instead of yes]"
    )


def test_webhook_only_for_type_webhook_and_required_there(kubeconfig: Path) -> None:
    text = document(
        {"type": "RBAC", "name": "rbac", "webhook": {"timeout": "1s"}},
        {"type": "Webhook", "name": "w"},
    )
    assert problems(text) == (
        '[authorizers[0].webhook: Invalid value: "non-null": may only be specified when'
        " type=Webhook, authorizers[1].webhook: Required value: required when type=Webhook]"
    )


def test_webhook_fields(kubeconfig: Path) -> None:
    text = document(
        {
            "type": "Webhook",
            "name": "w",
            "webhook": {"matchConditions": [{"expression": "true"}], "connectionInfo": {}},
        }
    )
    assert problems(text) == (
        "[authorizers[0].timeout: Required value, "
        "authorizers[0].subjectAccessReviewVersion: Required value, "
        "authorizers[0].matchConditionSubjectAccessReviewVersion: Required value: required if"
        " match conditions are specified, "
        "authorizers[0].failurePolicy: Required value, "
        "authorizers[0].connectionInfo.type: Required value]"
    )


def test_webhook_values(kubeconfig: Path) -> None:
    text = document(
        webhook(
            kubeconfig,
            timeout="45s",
            authorizedTTL="-1s",
            subjectAccessReviewVersion="v2",
            matchConditionSubjectAccessReviewVersion="v1beta1",
            failurePolicy="Allow",
        )
    )
    assert problems(text) == (
        '[authorizers[0].timeout: Invalid value: "45s": must be > 0s and <= 30s, '
        'authorizers[0].authorizedTTL: Invalid value: "-1s": must be > 0s, '
        'authorizers[0].subjectAccessReviewVersion: Unsupported value: "v2": supported values:'
        ' "v1", "v1beta1", '
        'authorizers[0].matchConditionSubjectAccessReviewVersion: Unsupported value: "v1beta1":'
        ' supported values: "v1", '
        'authorizers[0].failurePolicy: Unsupported value: "Allow": supported values: "Deny",'
        ' "NoOpinion"]'
    )


def test_connection_info(tmp_path: Path) -> None:
    relative = {"type": "KubeConfigFile", "kubeConfigFile": "webhook.kubeconfig"}
    missing = {"type": "KubeConfigFile", "kubeConfigFile": str(tmp_path / "nope")}
    directory = {"type": "KubeConfigFile", "kubeConfigFile": str(tmp_path)}
    in_cluster = {"type": "InClusterConfig", "kubeConfigFile": "/x"}
    text = document(
        *(
            webhook(tmp_path, name=f"w{i}", connectionInfo=info)
            for i, info in enumerate((relative, missing, directory, in_cluster, {"type": "X"}))
        )
    )
    assert problems(text) == (
        '[authorizers[0].connectionInfo.kubeConfigFile: Invalid value: "webhook.kubeconfig":'
        " must be an absolute path, "
        f'authorizers[1].connectionInfo.kubeConfigFile: Invalid value: "{tmp_path}/nope": error'
        f" loading file: stat {tmp_path}/nope: No such file or directory, "
        f'authorizers[2].connectionInfo.kubeConfigFile: Invalid value: "{tmp_path}": must be a'
        " regular file, "
        'authorizers[3].connectionInfo.kubeConfigFile: Invalid value: "/x": can only be set when'
        " type=KubeConfigFile, "
        'authorizers[4].connectionInfo.type: Unsupported value: "X": supported values:'
        ' "InClusterConfig", "KubeConfigFile"]'
    )


def test_match_conditions_compile_at_load(kubeconfig: Path) -> None:
    conditions = [
        {"expression": "request.user == 'a'"},
        {"expression": "request.user == 'a'"},
        {"expression": "  "},
        {"expression": "'not a bool'"},
        {"expression": "request.nope("},
    ]
    text = document(
        webhook(
            kubeconfig,
            matchConditionSubjectAccessReviewVersion="v1",
            matchConditions=conditions,
        )
    )
    message = problems(text)
    assert message.startswith(
        "[authorizers[0].matchConditions[1].expression: Duplicate value: \"request.user == 'a'\", "
        "authorizers[0].matchConditions[2].expression: Required value, "
        "authorizers[0].matchConditions[3].expression: Invalid value: \"'not a bool'\": must"
        " evaluate to bool, "
        'authorizers[0].matchConditions[4].expression: Invalid value: "request.nope(":'
        " compilation failed: ERROR: <input>:1:"
    )


def test_at_most_64_match_conditions(kubeconfig: Path) -> None:
    conditions = [{"expression": f"request.user != 'u{i}'"} for i in range(65)]
    text = document(
        webhook(
            kubeconfig, matchConditionSubjectAccessReviewVersion="v1", matchConditions=conditions
        )
    )
    assert (
        problems(text) == "authorizers[0].matchConditions: Too many: 65: must have at most 64 items"
    )


@pytest.mark.parametrize(
    "text",
    [
        "apiVersion: v1\nkind: Config\n",
        "kind: AuthorizationConfiguration\napiVersion: apiserver.config.k8s.io/v2\n",
        "{not yaml",
    ],
)
def test_other_documents_cannot_be_loaded(text: str) -> None:
    assert problems(text).startswith("failed to load AuthorizationConfiguration from file: ")


def test_a_bad_duration_cannot_be_loaded(kubeconfig: Path) -> None:
    assert problems(document(webhook(kubeconfig, timeout="soon"))) == (
        'failed to load AuthorizationConfiguration from file: time: invalid duration "soon"'
    )


def test_a_field_the_review_does_not_have_is_refused(kubeconfig: Path) -> None:
    conditions = [{"expression": "request.resourceAttributes.nam == 'x'"}]
    text = document(
        webhook(
            kubeconfig, matchConditionSubjectAccessReviewVersion="v1", matchConditions=conditions
        )
    )
    assert problems(text) == (
        "authorizers[0].matchConditions[0].expression: Invalid value:"
        " \"request.resourceAttributes.nam == 'x'\": compilation failed: ERROR: <input>:1:27:"
        " undefined field 'nam'\n | request.resourceAttributes.nam == 'x'\n"
        " | ..........................^"
    )
