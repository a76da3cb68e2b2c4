"""Validation of certificates.k8s.io/v1 CertificateSigningRequest, as Kubernetes validates it.

Kubernetes' ``pkg/apis/certificates/validation`` is the reference; the rules, worded as it
words them:

 1. ``spec.request`` is a base64 PEM ``CERTIFICATE REQUEST`` whose signature verifies; what
    is wrong with one that is not is said precisely (``csr_request``).
 2. ``spec.usages`` is required, each from Kubernetes' list, none twice.
 3. ``spec.signerName`` is required and a qualified ``domain/path`` name; the legacy
    ``kubernetes.io/legacy-unknown`` signer cannot be requested through v1.
 4. ``spec.expirationSeconds``, when set, is at least 600.
 5. Conditions have a type and a status; Approved, Denied and Failed may only be ``True``;
    Approved and Denied exclude each other; no type appears twice.
 6. ``status.certificate``, when set, holds only ``CERTIFICATE`` PEM blocks.
 7. On update: Approved, Denied and Failed conditions are never removed; only the
    ``/approval`` subresource adds or changes Approved/Denied; only ``/status`` sets the
    certificate, and only once. The spec never changes (kubeward refuses the change where
    Kubernetes silently drops it, so a client learns its edit did nothing).

Tolerances Kubernetes keeps for objects already stored with a problem are kept too (rule 7
checks only what an update changes).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from kubeward.api.meta import JSONObject
from kubeward.api.validation import field
from kubeward.api.validation.csr_request import decode_request_base64, load_request_pem
from kubeward.api.validation.meta import check_dns1123_subdomain
from kubeward.errors import Cause

KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"
KUBE_APISERVER_CLIENT_KUBELET = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING = "kubernetes.io/kubelet-serving"
LEGACY_UNKNOWN = "kubernetes.io/legacy-unknown"

APPROVED = "Approved"
DENIED = "Denied"
FAILED = "Failed"

VALID_USAGES = (
    "any",
    "cert sign",
    "client auth",
    "code signing",
    "content commitment",
    "crl sign",
    "data encipherment",
    "decipher only",
    "digital signature",
    "email protection",
    "encipher only",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "key agreement",
    "key encipherment",
    "microsoft sgc",
    "netscape sgc",
    "ocsp signing",
    "s/mime",
    "server auth",
    "signing",
    "timestamping",
)
_TRUE_ONLY = frozenset({APPROVED, DENIED, FAILED})
_ALL_STATUS = ("False", "True", "Unknown")
_SIGNER_PATH = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class UpdatePath:
    """Which subresource an update came through, and so what it may change (rule 7)."""

    may_set_approval: bool = False
    may_set_certificate: bool = False


MAIN = UpdatePath()
STATUS = UpdatePath(may_set_certificate=True)
APPROVAL = UpdatePath(may_set_approval=True)


def request_bytes(csr: JSONObject) -> bytes:
    """The PEM bytes of ``spec.request`` (base64 in JSON); empty when absent or not base64."""
    raw = (csr.get("spec") or {}).get("request") or ""
    if not isinstance(raw, str):
        return b""
    try:
        return decode_request_base64(raw)
    except ValueError:
        return b""


def parse_request(csr: JSONObject) -> x509.CertificateSigningRequest:
    """The parsed PKCS#10 request of a CSR object.

    Raises:
        ValueError: naming what is wrong (see :mod:`~kubeward.api.validation.csr_request`):
            not base64, no PEM block, another PEM type, truncated, not PKCS#10, or a
            signature that does not verify.
    """
    raw = (csr.get("spec") or {}).get("request") or ""
    if not isinstance(raw, str):
        raise ValueError("must be a base64-encoded string")
    request = load_request_pem(decode_request_base64(raw))
    if not request.is_signature_valid:
        raise ValueError("x509: ECDSA or RSA verification failure: the signature does not verify")
    return request


def _shown_request(raw: object) -> object:
    """The request as an error shows it: a long one would bury the message behind it."""
    if isinstance(raw, str) and len(raw) > 64:
        return "<request data>"
    return raw


def _validate_signer_name(value: Any) -> list[Cause]:
    path = "spec.signerName"
    if not value:
        return [field.required(path)]
    if not isinstance(value, str):
        return [field.invalid(path, value, "must be a string")]
    domain, sep, rest = value.partition("/")
    if not sep or not rest:
        return [
            field.invalid(
                path,
                value,
                "must be a fully qualified domain and path of the form 'example.com/signer-name'",
            )
        ]
    causes = [field.invalid(path, value, msg) for msg in check_dns1123_subdomain(domain)]
    if "." not in domain:
        causes.append(field.invalid(path, value, "should be a domain with at least two segments"))
    for segment in rest.split("/"):
        if not _SIGNER_PATH.match(segment):
            causes.append(
                field.invalid(
                    path, value, "validating label: path segments must be qualified names"
                )
            )
            break
    return causes


def _validate_conditions(csr: JSONObject, old: JSONObject | None) -> list[Cause]:
    causes: list[Cause] = []
    conditions = _conditions(csr)
    old_conditions = _conditions(old) if old is not None else []
    old_types = [str(c.get("type") or "") for c in old_conditions]
    tolerate_both = APPROVED in old_types and DENIED in old_types
    tolerate_duplicates = len(old_types) != len(set(old_types))
    tolerate_empty = "" in old_types
    seen: set[str] = set()
    has_approved = has_denied = False
    for i, cond in enumerate(conditions):
        base = f"status.conditions[{i}]"
        ctype = str(cond.get("type") or "")
        status = str(cond.get("status") or "")
        if not ctype and not tolerate_empty:
            causes.append(field.required(f"{base}.type"))
        allowed = ("True",) if ctype in _TRUE_ONLY else _ALL_STATUS
        if not status:
            causes.append(field.required(f"{base}.status"))
        elif status not in allowed:
            causes.append(field.not_supported(f"{base}.status", status, allowed))
        if not tolerate_both:
            if ctype == APPROVED:
                has_approved = True
                if has_denied:
                    causes.append(_exclusive(base, ctype))
            elif ctype == DENIED:
                has_denied = True
                if has_approved:
                    causes.append(_exclusive(base, ctype))
        if not tolerate_duplicates:
            if ctype in seen:
                causes.append(field.duplicate(f"{base}.type", ctype))
            seen.add(ctype)
    return causes


def _exclusive(base: str, ctype: str) -> Cause:
    return field.invalid(
        f"{base}.type", ctype, "Approved and Denied conditions are mutually exclusive"
    )


def certificate_problem(data: bytes) -> str:
    """Why ``status.certificate`` is unacceptable (empty string: it is fine or empty)."""
    if not data:
        return ""
    blocks = 0
    for match in re.finditer(rb"-----BEGIN ([^-]+)-----(.*?)-----END \1-----", data, re.S):
        label = match.group(1).decode("ascii", "replace")
        if label != "CERTIFICATE":
            return f'only CERTIFICATE PEM blocks are allowed, found "{label}"'
        if b":" in match.group(2):
            return "no PEM block headers are permitted"
        try:
            x509.load_pem_x509_certificate(match.group(0))
        except ValueError as exc:
            return f"x509: malformed certificate ({exc})"
        blocks += 1
    if blocks == 0:
        return "must contain at least one CERTIFICATE PEM block"
    return ""


def certificate_bytes(csr: JSONObject | None) -> bytes:
    if csr is None:
        return b""
    raw = (csr.get("status") or {}).get("certificate") or ""
    try:
        return base64.b64decode(raw) if isinstance(raw, str) else b""
    except (binascii.Error, ValueError):
        return raw.encode() if isinstance(raw, str) else b""


def validate_csr(csr: JSONObject, old: JSONObject | None = None) -> list[Cause]:
    """Rules 1-6 (``old`` relaxes them for problems the stored object already has)."""
    spec = csr.get("spec") or {}
    old_spec = (old or {}).get("spec") or {}
    causes: list[Cause] = []
    if not spec.get("request"):
        causes.append(field.required("spec.request"))
    else:
        try:
            parse_request(csr)
        except ValueError as exc:
            causes.append(field.invalid("spec.request", _shown_request(spec["request"]), str(exc)))
    usages = spec.get("usages") or []
    old_usages = old_spec.get("usages") or []
    if not isinstance(usages, list) or not usages:
        causes.append(field.required("spec.usages"))
        usages = []
    if not any(u not in VALID_USAGES for u in old_usages):
        for i, usage in enumerate(usages):
            if usage not in VALID_USAGES:
                causes.append(field.not_supported(f"spec.usages[{i}]", usage, VALID_USAGES))
    if len(set(old_usages)) == len(old_usages):
        seen: set[str] = set()
        for i, usage in enumerate(usages):
            if usage in seen:
                causes.append(field.duplicate(f"spec.usages[{i}]", usage))
            seen.add(str(usage))
    signer = spec.get("signerName")
    if signer == LEGACY_UNKNOWN and old_spec.get("signerName") != LEGACY_UNKNOWN:
        causes.append(
            field.invalid(
                "spec.signerName",
                signer,
                "the legacy signerName is not allowed via this API version",
            )
        )
    else:
        causes.extend(_validate_signer_name(signer))
    seconds = spec.get("expirationSeconds")
    if seconds is not None:
        if not isinstance(seconds, int) or isinstance(seconds, bool):
            causes.append(field.invalid("spec.expirationSeconds", seconds, "must be an integer"))
        elif seconds < 600:
            causes.append(
                field.invalid(
                    "spec.expirationSeconds",
                    seconds,
                    "may not specify a duration less than 600 seconds (10 minutes)",
                )
            )
    causes.extend(_validate_conditions(csr, old))
    cert = certificate_bytes(csr)
    unchanged = old is not None and cert == certificate_bytes(old)
    old_bad = old is not None and bool(certificate_problem(certificate_bytes(old)))
    if not unchanged and not old_bad:
        problem = certificate_problem(cert)
        if problem:
            causes.append(field.invalid("status.certificate", "<certificate data>", problem))
    return causes


def validate_csr_update(new: JSONObject, old: JSONObject, path: UpdatePath = MAIN) -> list[Cause]:
    """Rules 1-7 for an update that came through ``path``."""
    return validate_csr(new, old) + validate_csr_transition(new, old, path)


def validate_csr_transition(new: JSONObject, old: JSONObject, path: UpdatePath) -> list[Cause]:
    """Rule 7 alone: what an update through ``path`` may change."""
    causes: list[Cause] = []
    if (new.get("spec") or {}) != (old.get("spec") or {}):
        causes.append(field.invalid("spec", "<spec>", "field is immutable"))
    for ctype in (APPROVED, DENIED, FAILED):
        if len(_of_type(new, ctype)) < len(_of_type(old, ctype)):
            causes.append(
                field.forbidden(
                    "status.conditions", f'updates may not remove a condition of type "{ctype}"'
                )
            )
    if not path.may_set_approval:
        for ctype in (APPROVED, DENIED):
            before, after = _of_type(old, ctype), _of_type(new, ctype)
            if len(after) > len(before):
                causes.append(
                    field.forbidden(
                        "status.conditions", f'updates may not add a condition of type "{ctype}"'
                    )
                )
            elif len(after) == len(before) and after != before:
                causes.append(
                    field.forbidden(
                        "status.conditions", f'updates may not modify a condition of type "{ctype}"'
                    )
                )
    new_cert, old_cert = certificate_bytes(new), certificate_bytes(old)
    if new_cert != old_cert:
        if not path.may_set_certificate:
            causes.append(
                field.forbidden("status.certificate", "updates may not set certificate content")
            )
        elif old_cert:
            causes.append(
                field.forbidden(
                    "status.certificate", "updates may not modify existing certificate content"
                )
            )
    return causes


def _conditions(csr: JSONObject | None) -> list[JSONObject]:
    if csr is None:
        return []
    found = (csr.get("status") or {}).get("conditions") or []
    return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []


def _of_type(csr: JSONObject, ctype: str) -> list[JSONObject]:
    return [c for c in _conditions(csr) if c.get("type") == ctype]


def has_condition(csr: JSONObject, ctype: str) -> bool:
    """True when the CSR carries a ``True`` condition of ``ctype``."""
    return any(c.get("status", "True") == "True" for c in _of_type(csr, ctype))


def public_key_der(request: x509.CertificateSigningRequest) -> bytes:
    """The requested key in SubjectPublicKeyInfo DER, to compare keys across requests."""
    return request.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
