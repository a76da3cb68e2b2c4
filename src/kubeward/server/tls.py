"""The server's TLS context, and the client certificate chain of a connection.

Rules:
 1. TLS 1.2 is the floor (``--tls-min-version`` may raise it to 1.3, never lower it).
 2. With ``--client-ca-file`` the handshake asks for a client certificate but does not judge it,
    as kube-apiserver does (Go's ``RequestClientCert``): a request without one goes on to token
    authentication, and a certificate that is expired, from another CA or not for clientAuth
    reaches ``authn.x509``, which answers 401 and logs why. Judged in the handshake, it would
    end as a reset connection that says nothing: OpenSSL sends its alert, but Python's asyncio
    TLS transport closes the socket before writing it, and logs nothing.
 3. Python's ``ssl`` has no verify callback, the only way OpenSSL offers to ask for a certificate
    without judging it. kubeward installs one through ``ctypes`` on the very ``SSL_CTX`` of the
    ``SSLContext``, in the ``libssl`` that Python's ``_ssl`` module uses, after checking that the
    pointer it found is that context (its verify mode and options read back as Python set them).
    Where that is not possible (another Python implementation, a statically linked OpenSSL), the
    handshake judges the certificate as before but ignores its dates, so that the most common
    fault, an expired certificate, still gets its 401 and log line; a foreign certificate then
    ends the handshake (a warning at start says so).
 4. The chain a client sent (leaf first, then its intermediates) is read with
    ``SSLObject.get_unverified_chain`` (Python 3.13), or the same method of the underlying
    ``_ssl`` object (Python 3.10-3.12); without either, the leaf alone.
"""

from __future__ import annotations

import ctypes
import logging
import platform
import ssl
from typing import Any

from kubeward.errors import InputError
from kubeward.server.config import ServerConfig

log = logging.getLogger("kubeward.apiserver")

_VERSIONS = {
    "VersionTLS12": ssl.TLSVersion.TLSv1_2,
    "VersionTLS13": ssl.TLSVersion.TLSv1_3,
}
_SSL_VERIFY_PEER = 0x01
_X509_V_FLAG_NO_CHECK_TIME = 0x200000
_VERIFY_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p)


def _accept_any(_preverified: int, _store: int | None) -> int:
    return 1  # rule 2: authn.x509 judges the certificate


_ACCEPT_ANY = _VERIFY_CALLBACK(_accept_any)  # module-level: it must outlive every context


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
        if not request_client_certificate_without_judging(context):
            context.verify_flags |= _X509_V_FLAG_NO_CHECK_TIME
            log.warning(
                "this Python's TLS layer cannot ask for a client certificate without judging it: "
                "a certificate from another CA ends the handshake without an HTTP 401"
            )
    context.set_alpn_protocols(["http/1.1"])
    return context


def _libssl() -> Any:
    import _ssl

    return ctypes.CDLL(_ssl.__file__)  # its symbols resolve to the libssl it is linked with


def request_client_certificate_without_judging(context: ssl.SSLContext) -> bool:
    """Rule 3: install the accept-everything verify callback; False where that is not possible."""
    if platform.python_implementation() != "CPython":
        return False
    try:
        lib = _libssl()
        get_mode, get_options, set_verify = (
            lib.SSL_CTX_get_verify_mode,
            lib.SSL_CTX_get_options,
            lib.SSL_CTX_set_verify,
        )
    except (OSError, AttributeError):
        return False
    get_mode.argtypes = get_options.argtypes = [ctypes.c_void_p]
    get_mode.restype, get_options.restype = ctypes.c_int, ctypes.c_uint64
    set_verify.argtypes = [ctypes.c_void_p, ctypes.c_int, _VERIFY_CALLBACK]
    set_verify.restype = None
    # CPython's context object is its object header followed by the SSL_CTX pointer.
    pointer = ctypes.c_void_p.from_address(id(context) + object.__basicsize__).value
    if not pointer:
        return False
    if get_mode(pointer) != _SSL_VERIFY_PEER or get_options(pointer) != int(context.options):
        return False
    set_verify(pointer, _SSL_VERIFY_PEER, _ACCEPT_ANY)
    return True


def peer_certificate_chain(ssl_object: ssl.SSLObject) -> list[bytes]:
    """Rule 4: the DER certificates the client sent, leaf first; empty without a certificate."""
    leaf = ssl_object.getpeercert(binary_form=True)
    if not leaf:
        return []
    public = getattr(ssl_object, "get_unverified_chain", None)
    if public is not None:
        chain = public()
        return [bytes(c) for c in chain] if chain else [leaf]
    inner = getattr(ssl_object, "_sslobj", None)
    private = getattr(inner, "get_unverified_chain", None)
    if private is None:
        return [leaf]
    certificates = private()
    if not certificates:
        return [leaf]
    import _ssl

    return [c.public_bytes(_ssl.ENCODING_DER) for c in certificates]
