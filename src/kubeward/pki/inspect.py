"""``pki inspect``: the facts ``openssl x509 -text -noout`` shows, readable, for anything PKI.

Rules:
 1. Certificates: subject, issuer, serial, validity, SANs, key usage, extended key usage, basic
    constraints, key type and size, signature algorithm, key identifiers and the SHA-256
    fingerprint. CSRs: subject, SANs, requested usages, key, and whether the signature verifies.
 2. Private keys are described by type, size and the fingerprint of their public half only —
    key material is never printed, in text or JSON.
 3. A kubeconfig is shown as its clusters (server, CA) and users (client certificate facts and
    key type, never the key), with the current context marked.
 4. The JSON form is the same facts as the text form, camelCase keys.
"""

from __future__ import annotations

import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from kubeward.pki.keys import colon_hex, describe_key
from kubeward.pki.kubeconfigs import KubeconfigCredentials
from kubeward.pki.names import AltNames
from kubeward.pki.profiles import extended_key_usages, key_usages
from kubeward.pki.reading import Decoded
from kubeward.pki.verify import signature_hash_name


def describe_certificate(
    cert: x509.Certificate, now: datetime.datetime | None = None
) -> dict[str, Any]:
    """Rule 1, for a certificate."""
    now = now or datetime.datetime.now(datetime.UTC)
    out: dict[str, Any] = {
        "kind": "Certificate",
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serialNumber": colon_hex(
            cert.serial_number.to_bytes((cert.serial_number.bit_length() + 7) // 8 or 1, "big")
        ),
        "notBefore": cert.not_valid_before_utc.isoformat(),
        "notAfter": cert.not_valid_after_utc.isoformat(),
        "expired": cert.not_valid_after_utc <= now,
        "subjectAltNames": AltNames.of(cert).as_strings(),
        "keyUsage": key_usages(cert),
        "extendedKeyUsage": extended_key_usages(cert),
        "basicConstraints": _basic_constraints(cert),
        "publicKey": describe_key(cert.public_key()).to_dict(),
        "signatureAlgorithm": _signature_algorithm(cert),
        "subjectKeyIdentifier": _ski(cert),
        "authorityKeyIdentifier": _aki(cert),
        "sha256Fingerprint": colon_hex(cert.fingerprint(hashes.SHA256())),
    }
    return out


def describe_csr(csr: x509.CertificateSigningRequest) -> dict[str, Any]:
    """Rule 1, for a certificate signing request."""
    return {
        "kind": "CertificateSigningRequest",
        "subject": csr.subject.rfc4514_string(),
        "subjectAltNames": AltNames.of(csr).as_strings(),
        "extendedKeyUsage": extended_key_usages(csr),
        "publicKey": describe_key(csr.public_key()).to_dict(),
        "signatureValid": csr.is_signature_valid,
    }


def describe_decoded(
    decoded: Decoded, source: str, creds: KubeconfigCredentials | None = None
) -> dict[str, Any]:
    """Everything recognised in one input, as one document."""
    items: list[dict[str, Any]] = []
    if creds is not None:
        items.append(describe_kubeconfig(creds))
    items += [describe_certificate(c) for c in decoded.certificates]
    items += [describe_csr(c) for c in decoded.csrs]
    items += [{"kind": "PrivateKey", **describe_key(k).to_dict()} for k in decoded.private_keys]
    items += [{"kind": "PublicKey", **describe_key(k).to_dict()} for k in decoded.public_keys]
    return {"source": source, "items": items}


def describe_kubeconfig(creds: KubeconfigCredentials) -> dict[str, Any]:
    """Rule 3."""
    document = creds.document
    return {
        "kind": "Kubeconfig",
        "currentContext": document.get("current-context", ""),
        "clusters": [
            {
                "name": cluster.name,
                "server": cluster.server,
                "certificateAuthorities": [describe_certificate(c) for c in cluster.ca_certs],
            }
            for cluster in creds.clusters
        ],
        "users": [
            {
                "name": user.name,
                "current": user.name == creds.current_user,
                "clientCertificate": describe_certificate(user.cert),
                "clientKey": describe_key(user.key).to_dict() if user.key is not None else None,
            }
            for user in creds.users
        ],
    }


def render_text(document: dict[str, Any]) -> str:
    """The readable form: one block per item, ``Field: value`` lines, lists indented."""
    lines = [f"Source: {document['source']}"]
    for item in document["items"]:
        lines.append("")
        lines.extend(_item_lines(item, ""))
    return "\n".join(lines) + "\n"


_LABELS = {
    "subject": "Subject",
    "issuer": "Issuer",
    "serialNumber": "Serial",
    "notBefore": "Not before",
    "notAfter": "Not after",
    "expired": "Expired",
    "subjectAltNames": "SANs",
    "keyUsage": "Key usage",
    "extendedKeyUsage": "Extended key usage",
    "basicConstraints": "Basic constraints",
    "publicKey": "Public key",
    "signatureAlgorithm": "Signature",
    "subjectKeyIdentifier": "Subject key id",
    "authorityKeyIdentifier": "Authority key id",
    "sha256Fingerprint": "SHA-256 fingerprint",
    "signatureValid": "Signature valid",
    "currentContext": "Current context",
}


def _item_lines(item: dict[str, Any], indent: str) -> list[str]:
    kind = item.get("kind", "")
    if kind in ("PrivateKey", "PublicKey"):
        return [f"{indent}{kind}: {_key_text(item)}"]
    if kind == "Kubeconfig":
        return _kubeconfig_lines(item, indent)
    lines = [f"{indent}{kind}:"]
    for key, label in _LABELS.items():
        if key not in item:
            continue
        value = item[key]
        if key == "publicKey":
            value = _key_text(value)
        elif isinstance(value, list):
            value = ", ".join(value) if value else "none"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        elif value in ("", None):
            value = "none"
        lines.append(f"{indent}  {label}: {value}")
    return lines


def _kubeconfig_lines(item: dict[str, Any], indent: str) -> list[str]:
    lines = [
        f"{indent}Kubeconfig:",
        f"{indent}  Current context: {item['currentContext'] or 'none'}",
    ]
    for cluster in item["clusters"]:
        lines.append(f"{indent}  Cluster {cluster['name']}: server {cluster['server'] or 'none'}")
        for ca in cluster["certificateAuthorities"]:
            lines.extend(_item_lines(ca, indent + "    "))
    for user in item["users"]:
        mark = " (current)" if user["current"] else ""
        lines.append(f"{indent}  User {user['name']}{mark}:")
        lines.extend(_item_lines(user["clientCertificate"], indent + "    "))
        if user["clientKey"] is not None:
            lines.append(f"{indent}    PrivateKey: {_key_text(user['clientKey'])}")
    return lines


def _key_text(key: dict[str, Any]) -> str:
    size = (
        f" {key['curve']}"
        if key.get("curve")
        else f" {key['bits']}"
        if key["type"] == "RSA"
        else ""
    )
    return f"{key['type']}{size} (public key SHA-256 {key['publicKeySHA256']})"


def _basic_constraints(cert: x509.Certificate) -> str:
    try:
        ext = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return ""
    text = "CA:TRUE" if ext.value.ca else "CA:FALSE"
    if ext.value.path_length is not None:
        text += f", pathlen:{ext.value.path_length}"
    return text + (" (critical)" if ext.critical else "")


def _signature_algorithm(cert: x509.Certificate) -> str:
    name = cert.signature_algorithm_oid._name
    return name if name and name != "Unknown OID" else signature_hash_name(cert)


def _ski(cert: x509.Certificate) -> str:
    try:
        return colon_hex(
            cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        )
    except x509.ExtensionNotFound:
        return ""


def _aki(cert: x509.Certificate) -> str:
    try:
        value = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        return ""
    return colon_hex(value.key_identifier) if value.key_identifier else ""
