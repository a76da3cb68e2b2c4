"""Turning bytes that claim to be certificates, CSRs or keys into objects — or into one clear line.

Whatever openssl, kubeadm, cfssl or a course's shell commands wrote must be readable here, and
whatever is broken must be named, so the rules are:

 1. PEM and DER are both accepted for certificates, CSRs, private keys and public keys.
    PEM private keys may be PKCS#1 (``RSA PRIVATE KEY``), SEC1 (``EC PRIVATE KEY``), PKCS#8
    (``PRIVATE KEY``) or encrypted PKCS#8 / legacy encrypted PEM, given the passphrase.
 2. A file may hold several PEM blocks (a chain, or a certificate followed by its key, like
    the kubelet's ``kubelet-client-current.pem``); each reader takes the blocks it wants.
 3. Every failure is an :class:`InputError` whose message starts with the source (a path, or
    ``<stdin>``) and says what is wrong in words: truncated PEM, damaged block, encrypted key
    without a passphrase, wrong passphrase, not a certificate at all, unsupported key type.
    The cryptography exception is chained, never shown.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from kubeward.errors import InputError
from kubeward.fileio import read_bytes
from kubeward.pki.keys import (
    PrivateKey,
    PublicKey,
    as_supported_private_key,
    as_supported_public_key,
)

_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.S)
_CERT_LABELS = {"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"}
_CSR_LABELS = {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"}
_PUBLIC_LABELS = {"PUBLIC KEY", "RSA PUBLIC KEY"}


@dataclass(frozen=True)
class PemBlock:
    """One ``-----BEGIN LABEL-----`` ... ``-----END LABEL-----`` block, markers included."""

    label: str
    text: bytes


def pem_blocks(data: bytes, source: str) -> list[PemBlock]:
    """The PEM blocks in ``data``; ``[]`` when it has none (it may be DER).

    Raises:
        InputError: a block begins but never ends (a truncated file).
    """
    if b"-----BEGIN" not in data:
        return []
    blocks = [PemBlock(m.group(1).decode("ascii"), m.group(0)) for m in _BLOCK.finditer(data)]
    begins = _BEGIN.findall(data)
    if len(begins) > len(blocks):
        complete = [b.label for b in blocks]
        for label in begins:
            name = label.decode("ascii")
            if name in complete:
                complete.remove(name)
                continue
            raise InputError(f"{source}: truncated PEM: the {name} block has no END line")
    return blocks


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


def read_certificates(data: bytes, source: str) -> list[x509.Certificate]:
    """Every certificate in ``data`` (PEM, several allowed) or the one DER certificate."""
    blocks = pem_blocks(data, source)
    if blocks:
        certs = []
        for block in blocks:
            if block.label not in _CERT_LABELS:
                continue
            try:
                certs.append(x509.load_pem_x509_certificate(block.text))
            except ValueError as exc:
                raise InputError(f"{source}: damaged CERTIFICATE block ({_short(exc)})") from exc
        if not certs:
            labels = ", ".join(sorted({b.label for b in blocks}))
            raise InputError(f"{source}: no certificate in it (it holds: {labels})")
        return certs
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise InputError(f"{source}: not a PEM or DER certificate") from exc


def read_certificate(data: bytes, source: str) -> x509.Certificate:
    """The first certificate in ``data`` (the leaf, in a chain file)."""
    return read_certificates(data, source)[0]


def read_csr(data: bytes, source: str) -> x509.CertificateSigningRequest:
    """The certificate signing request in ``data`` (PEM or DER)."""
    blocks = pem_blocks(data, source)
    if blocks:
        for block in blocks:
            if block.label in _CSR_LABELS:
                try:
                    return x509.load_pem_x509_csr(block.text)
                except ValueError as exc:
                    raise InputError(
                        f"{source}: damaged CERTIFICATE REQUEST block ({_short(exc)})"
                    ) from exc
        labels = ", ".join(sorted({b.label for b in blocks}))
        raise InputError(f"{source}: no certificate request in it (it holds: {labels})")
    try:
        return x509.load_der_x509_csr(data)
    except ValueError as exc:
        raise InputError(f"{source}: not a PEM or DER certificate signing request") from exc


def read_private_key(
    data: bytes, source: str, password: bytes | None = None, *, validate: bool = True
) -> PrivateKey:
    """The private key in ``data``: PKCS#1, SEC1 or PKCS#8, PEM or DER, encrypted or not.

    Args:
        validate: check RSA key consistency (slow); readers that only compare public halves,
            like the audit, may skip it.
    """
    blocks = [b for b in pem_blocks(data, source) if b.label.endswith("PRIVATE KEY")]
    if not blocks and b"-----BEGIN" in data:
        labels = ", ".join(sorted({b.label for b in pem_blocks(data, source)}))
        raise InputError(f"{source}: no private key in it (it holds: {labels})")
    payload = blocks[0].text if blocks else data
    skip = not validate
    try:
        if blocks:
            key: Any = serialization.load_pem_private_key(
                payload, password, unsafe_skip_rsa_key_validation=skip
            )
        else:
            key = serialization.load_der_private_key(
                payload, password, unsafe_skip_rsa_key_validation=skip
            )
    except TypeError as exc:
        if "encrypted" in str(exc) and password is None:
            raise InputError(
                f"{source}: private key is encrypted; give its passphrase (--passphrase-file)"
            ) from exc
        if password is not None:
            raise InputError(
                f"{source}: private key is not encrypted; drop the passphrase"
            ) from exc
        raise InputError(f"{source}: damaged private key ({_short(exc)})") from exc
    except UnsupportedAlgorithm as exc:
        raise InputError(f"{source}: unsupported private key type") from exc
    except ValueError as exc:
        if password is not None:
            raise InputError(f"{source}: wrong passphrase, or the private key is damaged") from exc
        if blocks:
            raise InputError(f"{source}: damaged {blocks[0].label} block") from exc
        raise InputError(f"{source}: not a PEM or DER private key") from exc
    return as_supported_private_key(key, source)


def read_public_key(data: bytes, source: str) -> PublicKey:
    """A bare public key (``sa.pub``), PEM or DER."""
    blocks = [b for b in pem_blocks(data, source) if b.label in _PUBLIC_LABELS]
    try:
        if blocks:
            key: Any = serialization.load_pem_public_key(blocks[0].text)
        else:
            key = serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise InputError(f"{source}: not a PEM or DER public key") from exc
    return as_supported_public_key(key, source)


def read_password_file(path: str | os.PathLike[str]) -> bytes:
    """A passphrase from a file, without its trailing newline (as ``openssl -passin file:``)."""
    return read_bytes(path).rstrip(b"\r\n")


@dataclass(frozen=True)
class Decoded:
    """Everything recognised in one input: what ``pki inspect`` and the audit look at."""

    certificates: tuple[x509.Certificate, ...] = ()
    csrs: tuple[x509.CertificateSigningRequest, ...] = ()
    private_keys: tuple[PrivateKey, ...] = ()
    public_keys: tuple[PublicKey, ...] = ()
    kubeconfig: dict[str, Any] | None = field(default=None)

    @property
    def kind(self) -> str:
        if self.kubeconfig is not None:
            return "Kubeconfig"
        if self.certificates:
            return "Certificate"
        if self.csrs:
            return "CertificateSigningRequest"
        if self.private_keys:
            return "PrivateKey"
        return "PublicKey"


def decode(
    data: bytes, source: str, password: bytes | None = None, *, validate: bool = True
) -> Decoded:
    """Recognise any certificate, CSR, key (PEM or DER) or kubeconfig in ``data``.

    Raises:
        InputError: nothing usable is in it, or what is in it is damaged.
    """
    blocks = pem_blocks(data, source)
    if blocks:
        labels = {b.label for b in blocks}
        certs = tuple(read_certificates(data, source)) if labels & _CERT_LABELS else ()
        csrs = (read_csr(data, source),) if labels & _CSR_LABELS else ()
        has_key = any(label.endswith("PRIVATE KEY") for label in labels)
        private = (read_private_key(data, source, password, validate=validate),) if has_key else ()
        public = (read_public_key(data, source),) if labels & _PUBLIC_LABELS else ()
        if not (certs or csrs or private or public):
            raise InputError(
                f"{source}: no certificate, request or key in it (it holds: {', '.join(sorted(labels))})"
            )
        return Decoded(certs, csrs, private, public)
    document = _kubeconfig_document(data)
    if document is not None:
        return Decoded(kubeconfig=document)
    for attempt in (_der_certificate, _der_csr, _der_public_key):
        decoded = attempt(data)
        if decoded is not None:
            return decoded
    try:
        return Decoded(private_keys=(read_private_key(data, source, password, validate=validate),))
    except InputError as exc:
        if "encrypted" in str(exc) or "passphrase" in str(exc) or "not supported" in str(exc):
            raise
    raise InputError(
        f"{source}: not a PEM or DER certificate, certificate request or key, nor a kubeconfig"
    )


def _der_certificate(data: bytes) -> Decoded | None:
    try:
        return Decoded(certificates=(x509.load_der_x509_certificate(data),))
    except ValueError:
        return None


def _der_csr(data: bytes) -> Decoded | None:
    try:
        return Decoded(csrs=(x509.load_der_x509_csr(data),))
    except ValueError:
        return None


def _der_public_key(data: bytes) -> Decoded | None:
    try:
        key = serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        return None
    if isinstance(key, PublicKey):
        return Decoded(public_keys=(key,))
    return None


def _kubeconfig_document(data: bytes) -> dict[str, Any] | None:
    """The parsed YAML if ``data`` is a kubeconfig (``kind: Config`` or clusters/users lists)."""
    if b"\x00" in data[:4096]:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "clusters" not in text and "users" not in text and "kind" not in text:
        return None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(document, dict):
        return None
    if document.get("kind") == "Config" or "clusters" in document or "users" in document:
        return document
    return None


def load_certificate(path: str | os.PathLike[str]) -> x509.Certificate:
    """Read the (first) certificate in a file; errors name the file."""
    return read_certificate(read_bytes(path), str(path))


def load_private_key(
    path: str | os.PathLike[str], password: bytes | None = None, *, validate: bool = True
) -> PrivateKey:
    """Read the private key in a file; errors name the file."""
    return read_private_key(read_bytes(path), str(path), password, validate=validate)


def load_csr(path: str | os.PathLike[str]) -> x509.CertificateSigningRequest:
    """Read the certificate signing request in a file; errors name the file."""
    return read_csr(read_bytes(path), str(path))


def source_name(path: str | os.PathLike[str]) -> str:
    """How errors name an input: ``<stdin>`` for ``-``, the path otherwise."""
    return "<stdin>" if str(path) == "-" else str(Path(path))
