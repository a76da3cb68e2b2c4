"""Tables of core/v1 Endpoints and discovery.k8s.io/v1 EndpointSlice, as ``printers.go``.

Rules:
 1. Endpoints ENDPOINTS lists ``ip:port`` for every port of every subset (just the IP when a
    subset has no ports), at most three, then `` + N more...``; ``<none>`` without subsets.
 2. EndpointSlice PORTS lists port numbers (the name when there is no number, ``*`` with
    neither) and ENDPOINTS the addresses, each at most three then `` + N more...``, ``<unset>``
    when empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kubeward.api.tables._access import items, strings, text, value_at
from kubeward.api.tables.columns import (
    AGE_COLUMN,
    NAME_COLUMN,
    KindKey,
    PrintedRow,
    TablePrinter,
    column,
)
from kubeward.api.tables.formatting import NONE, translate_timestamp_since

SHOWN = 3


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return translate_timestamp_since(value_at(obj, "metadata", "creationTimestamp"), now)


def _host_port(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def format_endpoints(endpoints: Mapping[str, Any]) -> str:
    """Rule 1."""
    subsets = items(endpoints, "subsets")
    if not subsets:
        return NONE
    shown: list[str] = []
    total = 0
    for subset in subsets:
        ips = [text(a, "ip") for a in items(subset, "addresses")]
        ports = items(subset, "ports")
        for port in ports or [{}]:
            total += len(ips)
            for ip in ips:
                if len(shown) < SHOWN:
                    shown.append(_host_port(ip, int(port["port"])) if port else ip)
    joined = ",".join(shown)
    return f"{joined} + {total - SHOWN} more..." if total > SHOWN else joined


def _with_more(shown: list[str], total: int) -> str:
    joined = ",".join(shown[:SHOWN])
    if total > SHOWN:
        return f"{joined} + {total - SHOWN} more..."
    return joined or "<unset>"


def format_slice_ports(endpoint_slice: Mapping[str, Any]) -> str:
    """Rule 2, PORTS."""
    ports = items(endpoint_slice, "ports")
    shown = []
    for port in ports:
        number = value_at(port, "port")
        shown.append(str(number) if isinstance(number, int) else text(port, "name") or "*")
    return _with_more(shown, len(shown))


def format_slice_endpoints(endpoint_slice: Mapping[str, Any]) -> str:
    """Rule 2, ENDPOINTS."""
    addresses = [a for e in items(endpoint_slice, "endpoints") for a in strings(e, "addresses")]
    return _with_more(addresses, len(addresses))


ENDPOINTS_COLUMNS = (
    NAME_COLUMN,
    column("Endpoints", "The addresses and ports the Endpoints object lists."),
    AGE_COLUMN,
)
ENDPOINT_SLICE_COLUMNS = (
    NAME_COLUMN,
    column("AddressType", "The type of address the slice holds: IPv4, IPv6 or FQDN."),
    column("Ports", "The network ports the slice exposes."),
    column("Endpoints", "The addresses of the slice's endpoints."),
    AGE_COLUMN,
)


def print_endpoints(endpoints: Mapping[str, Any], now: datetime) -> PrintedRow:
    return PrintedRow(
        (text(endpoints, "metadata", "name"), format_endpoints(endpoints), _age(endpoints, now))
    )


def print_endpoint_slice(endpoint_slice: Mapping[str, Any], now: datetime) -> PrintedRow:
    return PrintedRow(
        (
            text(endpoint_slice, "metadata", "name"),
            text(endpoint_slice, "addressType"),
            format_slice_ports(endpoint_slice),
            format_slice_endpoints(endpoint_slice),
            _age(endpoint_slice, now),
        )
    )


PRINTERS: dict[KindKey, TablePrinter] = {
    ("", "Endpoints"): TablePrinter(ENDPOINTS_COLUMNS, print_endpoints),
    ("discovery.k8s.io", "EndpointSlice"): TablePrinter(
        ENDPOINT_SLICE_COLUMNS, print_endpoint_slice
    ),
}
