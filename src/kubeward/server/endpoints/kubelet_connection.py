"""How the API server reaches a node's kubelet API: address, TLS and its client certificate.

As kube-apiserver's kubelet client (pkg/kubelet/client, ``--kubelet-*`` flags). Rules:
 1. A node is reached at the first of its ``status.addresses`` whose type comes first in
    ``--kubelet-preferred-address-types``, on ``status.daemonEndpoints.kubeletEndpoint.Port``
    (10250 when absent). A node with no usable address is an error naming it.
 2. The connection is HTTPS, presenting ``--kubelet-client-certificate``/``--kubelet-client-key``
    (the node authorizes that identity itself), and verifying the kubelet's serving certificate
    against ``--kubelet-certificate-authority``; without one the certificate is not verified,
    as kube-apiserver does.
 3. A kubelet that cannot be reached is a 500 naming the URL and the cause, as the API server
    relays a failed dial.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from kubeward.errors import InternalError

DEFAULT_KUBELET_PORT = 10250


@dataclass(frozen=True)
class KubeletLocation:
    host: str
    port: int

    def url(self, path: str, query: str = "") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}{path}" + (f"?{query}" if query else "")


def client_context(
    certificate: Path | None, key: Path | None, authority: Path | None
) -> ssl.SSLContext:
    """Rule 2."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if authority is not None:
        context.load_verify_locations(authority)
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if certificate is not None:
        context.load_cert_chain(certificate, key)
    return context


class KubeletConnector:
    def __init__(
        self,
        *,
        certificate: Path | None,
        key: Path | None,
        authority: Path | None,
        preferred_address_types: tuple[str, ...],
    ) -> None:
        self.context = client_context(certificate, key, authority)
        self.preferred = preferred_address_types
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self.context)
            timeout = aiohttp.ClientTimeout(total=None, connect=10.0)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def locate(self, node: dict[str, Any]) -> KubeletLocation:
        """Rule 1."""
        status = node.get("status") or {}
        addresses = status.get("addresses") or []
        endpoint = (status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}
        port = int(endpoint.get("Port") or DEFAULT_KUBELET_PORT)
        for kind in self.preferred:
            for address in addresses:
                if address.get("type") == kind and address.get("address"):
                    return KubeletLocation(str(address["address"]), port)
        name = (node.get("metadata") or {}).get("name", "")
        raise InternalError(
            f'no preferred addresses found; known addresses: {addresses} (node "{name}")'
        )


def unreachable(url: str, exc: BaseException) -> InternalError:
    """Rule 3."""
    return InternalError(f'Get "{url}": {exc}')
