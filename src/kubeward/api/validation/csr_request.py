"""Reading a CSR's ``spec.request``, and saying exactly what is wrong with it when it is wrong.

``spec.request`` is bytes in the Go API, so in JSON it is base64 of the PEM file that
``openssl req -new`` wrote (the course encodes it with ``cat akshay.csr | base64 | tr -d "\\n"``).
Kubernetes' ``ParseCSR`` answers "PEM block type must be CERTIFICATE REQUEST" for anything that
is not such a block, and a request that is not base64 never reaches it (the JSON decoder
refuses it: "illegal base64 data at input byte N"). People get this wrong in a handful of
ways, and each gets its own message here. Rules:

 1. The base64 may contain line breaks (Go's decoder skips ``\\r`` and ``\\n``); any other
    character outside the standard alphabet is "illegal base64 data at input byte N", N
    counting from 0 as Go counts; a length that is not a multiple of 4 is a truncated request.
 2. Decoded bytes without a PEM block keep Kubernetes' words, "PEM block type must be
    CERTIFICATE REQUEST", and add what they are instead: base64 a second time, DER, or text.
 3. A PEM block of another type names the type found; a private key is called out as one.
 4. A ``CERTIFICATE REQUEST`` block without its END line is a truncated request; a block whose
    content is not base64 or not a PKCS#10 structure is "x509: malformed certificate request".
 5. No message carries a library's own text (cryptography's FAQ link, asn1 parse dumps).
"""

from __future__ import annotations

import base64
import binascii
import re
import string

from cryptography import x509

PEM_TYPE_REQUIRED = "PEM block type must be CERTIFICATE REQUEST"
REQUEST_LABEL = "CERTIFICATE REQUEST"
HOW_TO_ENCODE = 'encode the .csr file with: base64 < NAME.csr | tr -d "\\n"'

_ALPHABET = frozenset(string.ascii_letters + string.digits + "+/=")
_BEGIN = re.compile(rb"-----BEGIN ([^-\r\n]+)-----")
_DER_SEQUENCE = 0x30


def decode_request_base64(text: str) -> bytes:
    """The bytes ``spec.request`` encodes (rule 1).

    Raises:
        ValueError: naming the first illegal character, or a truncated length.
    """
    for index, char in enumerate(text):
        if char not in _ALPHABET and char not in "\r\n":
            shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
            raise ValueError(
                f"illegal base64 data at input byte {index} ({shown}): spec.request must be "
                f"the PEM certificate request encoded in base64; {HOW_TO_ENCODE}"
            )
    compact = text.replace("\r", "").replace("\n", "")
    if len(compact) % 4:
        raise ValueError(
            f"the base64 is truncated: {len(compact)} characters is not a multiple of 4; "
            "copy the whole encoded request"
        )
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:  # '=' in the middle
        raise ValueError(f"illegal base64 data: padding '=' before the end ({exc})") from None


def load_request_pem(pem: bytes) -> x509.CertificateSigningRequest:
    """The PKCS#10 request in the decoded bytes (rules 2 to 5).

    Raises:
        ValueError: what the bytes are instead of a PEM certificate request.
    """
    begin = _BEGIN.search(pem)
    if begin is None:
        raise ValueError(f"{PEM_TYPE_REQUIRED}: {_what_instead(pem)}")
    label = begin.group(1).decode("ascii", "replace")
    if label != REQUEST_LABEL:
        found = f'{PEM_TYPE_REQUIRED}, found "{label}"'
        if "PRIVATE KEY" in label:
            found += " (a private key, which must never leave its owner: send the .csr)"
        raise ValueError(found)
    end_line = f"-----END {REQUEST_LABEL}-----".encode()
    end = pem.find(end_line, begin.end())
    if end < 0:
        raise ValueError(f"the {REQUEST_LABEL} PEM block has no END line: the request is truncated")
    body = pem[begin.end() : end]
    if b":" in body:
        raise ValueError("x509: malformed certificate request: PEM headers are not allowed")
    try:
        der = base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "x509: malformed certificate request: the PEM block's content is not base64"
        ) from None
    try:
        return x509.load_der_x509_csr(der)
    except ValueError:
        raise ValueError(
            "x509: malformed certificate request: the PEM block does not hold a PKCS#10 request"
        ) from None


def _what_instead(data: bytes) -> str:
    """Rule 2: what decoded bytes without a PEM block look like."""
    if not data:
        return "the request is empty"
    stripped = data.strip()
    if stripped and all(chr(b) in _ALPHABET or chr(b) in "\r\n" for b in stripped):
        try:
            twice = base64.b64decode(b"".join(stripped.split()), validate=True)
        except (binascii.Error, ValueError):
            twice = b""
        if _BEGIN.search(twice):
            return "the request is base64-encoded twice; encode the .csr file once"
    if data[0] == _DER_SEQUENCE:
        return (
            "the request is DER, not PEM; write it as PEM "
            "(openssl req -outform PEM) and encode that"
        )
    return f"the decoded request ({len(data)} bytes) holds no PEM block; {HOW_TO_ENCODE}"
