"""Kubernetes' IP and CIDR libraries: ``ip()``, ``isIP()``, ``cidr()``, ``isCIDR()`` and their methods.

Parsing is strict as upstream's ``netip``-based parser: no leading zeros in IPv4 octets and
no IPv4-mapped IPv6 addresses (``::ffff:1.2.3.4``), no zone. A bad string is
``IP Address "x" parse error during conversion from string: ...``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from kubeward.cel.library import values
from kubeward.cel.library.declarations import Function, Overload
from kubeward.cel.types import BOOL, INT, OPAQUE, STRING
from kubeward.errors import CELEvaluationError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse_ip(text: str) -> Address | None:
    if "%" in text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return None
    return address


def _parse_cidr(text: str) -> Network | None:
    address, _, prefix = text.partition("/")
    if _parse_ip(address) is None or not prefix.isdigit():
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def ip(text: str) -> dict[str, str]:
    if _parse_ip(text) is None:
        raise CELEvaluationError(f'IP Address "{text}" parse error during conversion from string')
    return values.wrap(values.IP, text)


def is_ip(text: str) -> bool:
    return _parse_ip(text) is not None


def is_canonical(text: str) -> bool:
    address = _parse_ip(text)
    if address is None:
        raise CELEvaluationError(f'IP Address "{text}" parse error during conversion from string')
    return str(address) == text


def _address(value: Any) -> Address:
    address = _parse_ip(values.unwrap(values.IP, value))
    assert address is not None  # ip() only wraps what parses
    return address


def family(value: Any) -> int:
    return _address(value).version


def is_unspecified(value: Any) -> bool:
    return _address(value).is_unspecified


def is_loopback(value: Any) -> bool:
    return _address(value).is_loopback


def is_link_local_multicast(value: Any) -> bool:
    address = _address(value)
    if address.version == 4:
        return address in ipaddress.ip_network("224.0.0.0/24")
    return address in ipaddress.ip_network("ff02::/16")


def is_link_local_unicast(value: Any) -> bool:
    return _address(value).is_link_local and not _address(value).is_multicast


def is_global_unicast(value: Any) -> bool:
    address = _address(value)
    if address.version == 4 and address == ipaddress.IPv4Address("255.255.255.255"):
        return False
    return not (
        address.is_unspecified
        or address.is_loopback
        or address.is_multicast
        or address.is_link_local
    )


def cidr(text: str) -> dict[str, str]:
    if _parse_cidr(text) is None:
        raise CELEvaluationError(
            f'network address "{text}" parse error during conversion from string'
        )
    return values.wrap(values.CIDR, text)


def is_cidr(text: str) -> bool:
    return _parse_cidr(text) is not None


def _network(value: Any) -> tuple[Address, Network]:
    text = values.unwrap(values.CIDR, value)
    network = _parse_cidr(text)
    assert network is not None  # cidr() only wraps what parses
    address = _parse_ip(text.partition("/")[0])
    assert address is not None
    return address, network


def contains_ip(value: Any, other: Any) -> bool:
    address = _parse_ip(other) if isinstance(other, str) else _address(other)
    if address is None:
        raise CELEvaluationError(f'IP Address "{other}" parse error during conversion from string')
    return address in _network(value)[1]


def contains_cidr(value: Any, other: Any) -> bool:
    if isinstance(other, str):
        inner = _parse_cidr(other)
        if inner is None:
            raise CELEvaluationError(
                f'network address "{other}" parse error during conversion from string'
            )
    else:
        inner = _network(other)[1]
    outer = _network(value)[1]
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def cidr_ip(value: Any) -> dict[str, str]:
    return values.wrap(values.IP, str(_network(value)[0]))


def prefix_length(value: Any) -> int:
    return _network(value)[1].prefixlen


def masked(value: Any) -> dict[str, str]:
    return values.wrap(values.CIDR, str(_network(value)[1]))


def _ip_member(name: str, impl: Any, result: Any = BOOL) -> Function:
    return Function(name, (Overload(f"ip_{name}", (OPAQUE,), result, impl, member=True),))


FUNCTIONS: tuple[Function, ...] = (
    Function(
        "ip",
        (
            Overload("string_to_ip", (STRING,), OPAQUE, ip),
            Overload("cidr_ip", (OPAQUE,), OPAQUE, cidr_ip, member=True),
        ),
    ),
    Function("isIP", (Overload("is_ip_string", (STRING,), BOOL, is_ip),)),
    Function(
        "ip.isCanonical", (Overload("ip_is_canonical_string", (STRING,), BOOL, is_canonical),)
    ),
    _ip_member("family", family, INT),
    _ip_member("isUnspecified", is_unspecified),
    _ip_member("isLoopback", is_loopback),
    _ip_member("isLinkLocalMulticast", is_link_local_multicast),
    _ip_member("isLinkLocalUnicast", is_link_local_unicast),
    _ip_member("isGlobalUnicast", is_global_unicast),
    Function("cidr", (Overload("string_to_cidr", (STRING,), OPAQUE, cidr),)),
    Function("isCIDR", (Overload("is_cidr_string", (STRING,), BOOL, is_cidr),)),
    Function(
        "containsIP",
        (
            Overload("cidr_contains_ip_string", (OPAQUE, STRING), BOOL, contains_ip, member=True),
            Overload("cidr_contains_ip_ip", (OPAQUE, OPAQUE), BOOL, contains_ip, member=True),
        ),
    ),
    Function(
        "containsCIDR",
        (
            Overload(
                "cidr_contains_cidr_string", (OPAQUE, STRING), BOOL, contains_cidr, member=True
            ),
            Overload("cidr_contains_cidr", (OPAQUE, OPAQUE), BOOL, contains_cidr, member=True),
        ),
    ),
    Function(
        "prefixLength",
        (Overload("cidr_prefix_length", (OPAQUE,), INT, prefix_length, member=True),),
    ),
    Function("masked", (Overload("cidr_masked", (OPAQUE,), OPAQUE, masked, member=True),)),
)
