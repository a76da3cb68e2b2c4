import ipaddress

import pytest

from kubeward.errors import InputError
from kubeward.pki.names import (
    AltNames,
    build_subject,
    common_name,
    first_service_ip,
    organizations,
    parse_member,
)


def test_subject_lists_organizations_before_common_name() -> None:
    subject = build_subject("system:node:w1", ["system:nodes"])
    assert (
        subject.rfc4514_string() == "CN=system:node:w1,O=system:nodes"
    )  # RFC 4514 prints in reverse
    assert common_name(subject) == "system:node:w1"
    assert organizations(subject) == ("system:nodes",)


def test_empty_common_name_is_refused() -> None:
    with pytest.raises(InputError, match="common name"):
        build_subject("")


def test_alt_names_sort_ips_from_names_and_drop_duplicates() -> None:
    alt = AltNames.parse(
        ["Kubernetes", "10.0.0.1", "kubernetes", "::1", "*.example.com", "10.0.0.1"]
    )
    assert alt.dns == ("kubernetes", "*.example.com")
    assert alt.ips == (ipaddress.ip_address("10.0.0.1"), ipaddress.ip_address("::1"))


@pytest.mark.parametrize("value", ["under_score", "-lead", "a..b", "http://x", "exa mple"], ids=str)
def test_alt_names_refuse_non_names(value: str) -> None:
    with pytest.raises(InputError, match="not an IP address or DNS name"):
        AltNames.parse([value], "--san")


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("kubernetes", True),
        ("10.0.0.1", True),
        ("api.example.com", True),
        ("example.com", False),
        ("10.0.0.2", False),
    ],
    ids=str,
)
def test_matches_host_like_a_tls_client(host: str, ok: bool) -> None:
    alt = AltNames.parse(["kubernetes", "10.0.0.1", "*.example.com"])
    assert alt.matches_host(host) is ok


@pytest.mark.parametrize(
    ("cidr", "ip"),
    [
        ("10.96.0.0/12", "10.96.0.1"),
        ("fd00::/108", "fd00::1"),
        ("10.0.0.0/24,fd00::/108", "10.0.0.1"),
    ],
    ids=str,
)
def test_first_service_ip(cidr: str, ip: str) -> None:
    assert str(first_service_ip(cidr)) == ip


@pytest.mark.parametrize("cidr", ["garbage", "10.0.0.1/32"], ids=str)
def test_bad_service_cidr(cidr: str) -> None:
    with pytest.raises(InputError, match="service CIDR"):
        first_service_ip(cidr)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("w1", ("w1", None)), ("w1=10.0.0.5", ("w1", ipaddress.ip_address("10.0.0.5")))],
    ids=["name", "name-ip"],
)
def test_parse_member(value: str, expected: tuple[str, object]) -> None:
    assert parse_member(value, "--node") == expected


@pytest.mark.parametrize("value", ["W_1", "w1=not-ip", "=10.0.0.1"], ids=str)
def test_parse_member_refuses(value: str) -> None:
    with pytest.raises(InputError, match="--node"):
        parse_member(value, "--node")
