"""NetworkPolicy validation and defaulting, with Kubernetes' messages and field paths."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeward.api.validation.networking import (
    check_port_name,
    default_network_policy,
    parse_cidr,
    validate_network_policy,
)
from kubeward.errors import invalid

VALID: dict[str, Any] = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "test-network-policy", "namespace": "default"},
    "spec": {
        "podSelector": {"matchLabels": {"role": "db"}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {
                "from": [
                    {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
                    {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
                    {"podSelector": {"matchLabels": {"role": "frontend"}}},
                ],
                "ports": [{"protocol": "TCP", "port": 6379}],
            }
        ],
        "egress": [
            {
                "to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
                "ports": [{"protocol": "TCP", "port": 32000, "endPort": 32768}],
            }
        ],
    },
}


def with_spec(**changes: Any) -> dict[str, Any]:
    obj = copy.deepcopy(VALID)
    obj["spec"].update(changes)
    return obj


def ingress_port(port: dict[str, Any]) -> dict[str, Any]:
    return with_spec(ingress=[{"ports": [port]}])


def ingress_peer(peer: dict[str, Any]) -> dict[str, Any]:
    return with_spec(ingress=[{"from": [peer]}])


VALID_CASES = [
    ("documentation-example", VALID),
    ("empty-spec", {"metadata": {"name": "p", "namespace": "default"}, "spec": {}}),
    ("named-port", ingress_port({"port": "http-alt"})),
    ("port-only-protocol", ingress_port({"protocol": "SCTP"})),
    ("endport-equal", ingress_port({"port": 80, "endPort": 80})),
    (
        "ipv6-block",
        ingress_peer({"ipBlock": {"cidr": "2001:db8::/32", "except": ["2001:db8::/64"]}}),
    ),
    ("host-bits-set", ingress_peer({"ipBlock": {"cidr": "10.0.0.1/8"}})),
    ("leading-zeros", ingress_peer({"ipBlock": {"cidr": "010.000.0.0/8"}})),
    ("pod-and-namespace", ingress_peer({"podSelector": {}, "namespaceSelector": {}})),
    ("duplicate-policy-types", with_spec(policyTypes=["Ingress", "Ingress"])),
]


@pytest.mark.parametrize("obj", [c[1] for c in VALID_CASES], ids=[c[0] for c in VALID_CASES])
def test_valid_policies(obj: dict[str, Any]) -> None:
    assert validate_network_policy(default_network_policy(obj)) == []


INVALID_CASES = [
    (
        "protocol",
        ingress_port({"protocol": "ICMP", "port": 80}),
        "spec.ingress[0].ports[0].protocol",
        'Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
    ),
    (
        "port-zero",
        ingress_port({"port": 0}),
        "spec.ingress[0].ports[0].port",
        "Invalid value: 0: must be between 1 and 65535, inclusive",
    ),
    (
        "port-too-big",
        ingress_port({"port": 65536}),
        "spec.ingress[0].ports[0].port",
        "Invalid value: 65536: must be between 1 and 65535, inclusive",
    ),
    (
        "port-name-upper",
        ingress_port({"port": "Http"}),
        "spec.ingress[0].ports[0].port",
        'Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    ),
    (
        "port-name-digits-string",
        ingress_port({"port": "8080"}),
        "spec.ingress[0].ports[0].port",
        'Invalid value: "8080": must contain at least one letter (a-z)',
    ),
    (
        "port-name-long",
        ingress_port({"port": "a-very-long-port-name"}),
        "spec.ingress[0].ports[0].port",
        'Invalid value: "a-very-long-port-name": must be no more than 15 characters',
    ),
    (
        "port-name-double-hyphen",
        ingress_port({"port": "my--port"}),
        "spec.ingress[0].ports[0].port",
        'Invalid value: "my--port": must not contain consecutive hyphens',
    ),
    (
        "port-name-edge-hyphen",
        ingress_port({"port": "-http"}),
        "spec.ingress[0].ports[0].port",
        'Invalid value: "-http": must not begin or end with a hyphen',
    ),
    (
        "endport-below-port",
        ingress_port({"port": 32000, "endPort": 31999}),
        "spec.ingress[0].ports[0].endPort",
        "Invalid value: 31999: must be greater than or equal to `port`",
    ),
    (
        "endport-too-big",
        ingress_port({"port": 32000, "endPort": 70000}),
        "spec.ingress[0].ports[0].endPort",
        "Invalid value: 70000: must be between 1 and 65535, inclusive",
    ),
    (
        "endport-named-port",
        ingress_port({"port": "http", "endPort": 90}),
        "spec.ingress[0].ports[0].endPort",
        "Invalid value: 90: may not be specified when `port` is non-numeric",
    ),
    (
        "endport-without-port",
        ingress_port({"endPort": 90}),
        "spec.ingress[0].ports[0].endPort",
        "Invalid value: 90: may not be specified when `port` is not specified",
    ),
    (
        "empty-peer",
        ingress_peer({}),
        "spec.ingress[0].from[0]",
        "Required value: must specify a peer",
    ),
    (
        "ipblock-and-selector",
        ingress_peer({"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}),
        "spec.ingress[0].from[0]",
        "Forbidden: may not specify both ipBlock and another peer",
    ),
    (
        "cidr-missing",
        ingress_peer({"ipBlock": {"cidr": ""}}),
        "spec.ingress[0].from[0].ipBlock.cidr",
        "Required value",
    ),
    (
        "cidr-invalid",
        ingress_peer({"ipBlock": {"cidr": "10.0.0.0"}}),
        "spec.ingress[0].from[0].ipBlock.cidr",
        'Invalid value: "10.0.0.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ),
    (
        "except-outside",
        ingress_peer({"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.1.0.0/24"]}}),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        'Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`',
    ),
    (
        "except-equal",
        ingress_peer({"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/16"]}}),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        'Invalid value: "10.0.0.0/16": must be a strict subset of `cidr`',
    ),
    (
        "except-other-family",
        ingress_peer({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["2001:db8::/64"]}}),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        'Invalid value: "2001:db8::/64": must be a strict subset of `cidr`',
    ),
    (
        "except-invalid",
        ingress_peer({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.0.0/33"]}}),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        'Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ),
    (
        "pod-selector-operator",
        with_spec(podSelector={"matchExpressions": [{"key": "a", "operator": "Is"}]}),
        "spec.podSelector.matchExpressions[0].operator",
        'Unsupported value: "Is": supported values: "In", "NotIn", "Exists", "DoesNotExist"',
    ),
    (
        "peer-selector-label",
        ingress_peer({"namespaceSelector": {"matchLabels": {"team": "a b"}}}),
        "spec.ingress[0].from[0].namespaceSelector.matchLabels",
        'Invalid value: "a b": a valid label must be an empty string or consist of alphanumeric '
        "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
        "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ),
    (
        "egress-peer",
        with_spec(egress=[{"to": [{}]}]),
        "spec.egress[0].to[0]",
        "Required value: must specify a peer",
    ),
    (
        "policy-type",
        with_spec(policyTypes=["Ingress", "Sideways"]),
        "spec.policyTypes[1]",
        'Unsupported value: "Sideways": supported values: "Ingress", "Egress"',
    ),
    (
        "policy-types-three",
        with_spec(policyTypes=["Ingress", "Egress", "Ingress"]),
        "spec.policyTypes",
        'Invalid value: ["Ingress", "Egress", "Ingress"]: may not specify more than two policyTypes',
    ),
    (
        "name-missing",
        {"metadata": {"namespace": "default"}, "spec": {}},
        "metadata.name",
        "Required value: name or generateName is required",
    ),
    (
        "namespace-missing",
        {"metadata": {"name": "p"}, "spec": {}},
        "metadata.namespace",
        "Required value",
    ),
]


@pytest.mark.parametrize(
    ("obj", "path", "message"),
    [c[1:] for c in INVALID_CASES],
    ids=[c[0] for c in INVALID_CASES],
)
def test_invalid_policies(obj: dict[str, Any], path: str, message: str) -> None:
    causes = validate_network_policy(default_network_policy(obj))
    assert [(c.field, c.message) for c in causes] == [(path, message)]


def test_invalid_status_message_reads_like_kubernetes() -> None:
    obj = ingress_port({"port": 0})
    causes = validate_network_policy(default_network_policy(obj))
    error = invalid("NetworkPolicy", "test-network-policy", causes, group="networking.k8s.io")
    assert error.code == 422
    assert error.message == (
        'NetworkPolicy.networking.k8s.io "test-network-policy" is invalid: '
        "spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"
    )


def test_wrong_types_are_causes_not_exceptions() -> None:
    obj = with_spec(ingress=[{"ports": [{"port": 1.5}], "from": "everyone"}], policyTypes="Ingress")
    causes = validate_network_policy(obj)
    assert {c.field for c in causes} == {
        "spec.ingress[0].ports[0].port",
        "spec.ingress[0].from",
        "spec.policyTypes",
    }
    assert {c.reason for c in causes} == {"FieldValueTypeInvalid"}


DEFAULT_CASES = [
    ("ingress-only", {}, ["Ingress"]),
    ("with-ingress-rules", {"ingress": [{}]}, ["Ingress"]),
    ("with-egress-rules", {"egress": [{}]}, ["Ingress", "Egress"]),
    ("empty-list", {"policyTypes": [], "egress": [{}]}, ["Ingress", "Egress"]),
    ("explicit-kept", {"policyTypes": ["Egress"]}, ["Egress"]),
]


@pytest.mark.parametrize(
    ("spec", "types"), [c[1:] for c in DEFAULT_CASES], ids=[c[0] for c in DEFAULT_CASES]
)
def test_default_policy_types(spec: dict[str, Any], types: list[str]) -> None:
    obj = {"metadata": {"name": "p", "namespace": "default"}, "spec": spec}
    assert default_network_policy(obj)["spec"]["policyTypes"] == types


def test_default_protocol_on_every_port_and_pod_selector() -> None:
    obj: dict[str, Any] = {
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {
            "ingress": [{"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}],
            "egress": [{"ports": [{}]}],
        },
    }
    defaulted = default_network_policy(obj)
    assert defaulted["spec"]["podSelector"] == {}
    assert defaulted["spec"]["ingress"][0]["ports"] == [
        {"port": 80, "protocol": "TCP"},
        {"port": 53, "protocol": "UDP"},
    ]
    assert defaulted["spec"]["egress"][0]["ports"] == [{"protocol": "TCP"}]
    assert "protocol" not in obj["spec"]["ingress"][0]["ports"][0], "input left untouched"


@pytest.mark.parametrize(
    ("text", "network"),
    [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.1.2.3/16", "10.1.0.0/16"),
        ("010.001.0.0/16", "10.1.0.0/16"),
        ("2001:db8::1/64", "2001:db8::/64"),
        ("10.0.0.0/08", "10.0.0.0/8"),
    ],
    ids=["plain", "host-bits", "leading-zero-octets", "ipv6", "leading-zero-prefix"],
)
def test_parse_cidr_sloppy(text: str, network: str) -> None:
    parsed = parse_cidr(text)
    assert parsed is not None and str(parsed) == network


@pytest.mark.parametrize("text", ["10.0.0.0", "10.0.0.0/33", "x/8", "10.0.0.0/-1", ""])
def test_parse_cidr_rejects(text: str) -> None:
    assert parse_cidr(text) is None


def test_port_name_accepts_iana_names() -> None:
    assert check_port_name("http") == []
    assert check_port_name("x-1") == []
    assert check_port_name("h2c") == []
