"""The server's TLS context.

Rules:
 1. TLS 1.2 is the floor (``--tls-min-version`` may raise it to 1.3, never lower it).
 2. Client certificates are optional on the one port: a request without one goes on to token
    authentication, but a certificate that does not verify against ``--client-ca-file`` fails
    the handshake.
"""

from __future__ import annotations

import ssl

from kubeward.errors import InputError
from kubeward.server.config import ServerConfig

_VERSIONS = {
    "VersionTLS12": ssl.TLSVersion.TLSv1_2,
    "VersionTLS13": ssl.TLSVersion.TLSv1_3,
}


def server_ssl_context(config: ServerConfig) -> ssl.SSLContext:
    version = _VERSIONS.get(config.tls_min_version)
    if version is None:
        allowed = ", ".join(_VERSIONS)
        raise InputError(
            f"--tls-min-version: {config.tls_min_version!r} is not supported; use one of {allowed}"
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = version
    try:
        context.load_cert_chain(str(config.tls_cert_file), str(config.tls_private_key_file))
    except (OSError, ssl.SSLError) as exc:
        raise InputError(
            f"{config.tls_cert_file}: cannot load the serving certificate and key ({config.tls_private_key_file}): {exc}"
        ) from exc
    if config.client_ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(config.client_ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise InputError(f"{config.client_ca_file}: cannot load the client CA: {exc}") from exc
        context.verify_mode = ssl.CERT_OPTIONAL
    context.set_alpn_protocols(["http/1.1"])
    return context
