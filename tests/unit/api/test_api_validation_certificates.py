"""CertificateSigningRequest validation, worded as Kubernetes words it."""

from __future__ import annotations

import base64
import copy
import datetime
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubeward.api.validation import certificates as v

KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


def _csr_pem(cn: str = "akshay", orgs: tuple[str, ...] = ()) -> bytes:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(attrs))
        .sign(KEY, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM)


def _bad_signature_pem() -> bytes:
    der = bytearray(x509.load_pem_x509_csr(_csr_pem()).public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # inside the signature
    request = x509.load_der_x509_csr(bytes(der))
    return request.public_bytes(serialization.Encoding.PEM)


def _cert_pem() -> bytes:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(OTHER_KEY, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def csr(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": "akshay"},
        "spec": {
            "request": b64(_csr_pem()),
            "signerName": "kubernetes.io/kube-apiserver-client",
            "usages": ["client auth"],
            "expirationSeconds": 86400,
        },
    }
    base["spec"].update(spec)
    return base


def messages(causes: list[Any]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in causes]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, []),
        (
            {"request": b64(b"hello")},
            ['spec.request: Invalid value: "aGVsbG8=": PEM block type must be CERTIFICATE REQUEST'],
        ),
        (
            {"request": "%%%"},
            ['spec.request: Invalid value: "%%%": illegal base64 data at input byte 0'],
        ),
        ({"request": b64(_bad_signature_pem())}, ["spec.request"]),
        ({"usages": []}, ["spec.usages: Required value"]),
        ({"usages": ["client auth", "flying"]}, ['spec.usages[1]: Unsupported value: "flying"']),
        (
            {"usages": ["client auth", "client auth"]},
            ['spec.usages[1]: Duplicate value: "client auth"'],
        ),
        ({"signerName": ""}, ["spec.signerName: Required value"]),
        (
            {"signerName": "nodomain"},
            [
                "spec.signerName: Invalid value: \"nodomain\": must be a fully qualified domain and path of the form 'example.com/signer-name'"
            ],
        ),
        ({"signerName": "example.com/my-signer"}, []),
        (
            {"signerName": "kubernetes.io/legacy-unknown"},
            [
                'spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy signerName is not allowed via this API version'
            ],
        ),
        (
            {"expirationSeconds": 599},
            [
                "spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)"
            ],
        ),
        ({"expirationSeconds": 600}, []),
    ],
    ids=[
        "valid",
        "not-pem",
        "not-base64",
        "bad-signature",
        "no-usages",
        "unknown-usage",
        "duplicate-usage",
        "no-signer",
        "signer-without-path",
        "custom-signer",
        "legacy-unknown",
        "expiration-599",
        "expiration-600",
    ],
)
def test_create_validation(spec: dict[str, Any], expected: list[str]) -> None:
    found = messages(v.validate_csr(csr(**spec)))
    assert len(found) == len(expected), found
    for got, want in zip(found, expected, strict=True):
        assert got.startswith(want)


def with_conditions(obj: dict[str, Any], *types: str, cert: bytes = b"") -> dict[str, Any]:
    out = copy.deepcopy(obj)
    status: dict[str, Any] = {"conditions": [{"type": t, "status": "True"} for t in types]}
    if cert:
        status["certificate"] = b64(cert)
    out["status"] = status
    return out


def test_approved_and_denied_are_exclusive() -> None:
    found = messages(v.validate_csr(with_conditions(csr(), "Approved", "Denied")))
    assert found == [
        'status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive'
    ]


def test_condition_status_must_be_true_for_approved() -> None:
    obj = csr()
    obj["status"] = {"conditions": [{"type": "Approved", "status": "False"}]}
    assert messages(v.validate_csr(obj)) == [
        'status.conditions[0].status: Unsupported value: "False": supported values: "True"'
    ]


def test_certificate_must_be_pem_certificates() -> None:
    found = messages(v.validate_csr(with_conditions(csr(), "Approved", cert=b"junk")))
    assert found == [
        'status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block'
    ]


CERT = _cert_pem()
PENDING = csr()
APPROVED = with_conditions(PENDING, "Approved")
ISSUED = with_conditions(PENDING, "Approved", cert=CERT)


@pytest.mark.parametrize(
    ("old", "new", "path", "expected"),
    [
        (PENDING, APPROVED, v.APPROVAL, []),
        (PENDING, APPROVED, v.MAIN, ['updates may not add a condition of type "Approved"']),
        (PENDING, APPROVED, v.STATUS, ['updates may not add a condition of type "Approved"']),
        (APPROVED, PENDING, v.APPROVAL, ['updates may not remove a condition of type "Approved"']),
        (
            APPROVED,
            with_conditions(PENDING, "Denied"),
            v.APPROVAL,
            ['remove a condition of type "Approved"'],
        ),
        (APPROVED, ISSUED, v.STATUS, []),
        (APPROVED, ISSUED, v.APPROVAL, ["updates may not set certificate content"]),
        (
            ISSUED,
            with_conditions(PENDING, "Approved", cert=CERT + CERT),
            v.STATUS,
            ["modify existing certificate content"],
        ),
        (
            PENDING,
            csr(expirationSeconds=3600),
            v.MAIN,
            ['spec: Invalid value: "<spec>": field is immutable'],
        ),
        (PENDING, csr(username="someone-else"), v.STATUS, ["field is immutable"]),
    ],
    ids=[
        "approve-via-approval",
        "approve-via-main",
        "approve-via-status",
        "unapprove",
        "approved-to-denied",
        "sign-via-status",
        "sign-via-approval",
        "re-sign",
        "spec-changed",
        "username-changed",
    ],
)
def test_update_rules(
    old: dict[str, Any], new: dict[str, Any], path: v.UpdatePath, expected: list[str]
) -> None:
    found = messages(v.validate_csr_update(copy.deepcopy(new), copy.deepcopy(old), path))
    assert len(found) == len(expected), found
    for got, want in zip(found, expected, strict=True):
        assert want in got


def test_parse_request_returns_the_subject() -> None:
    request = v.parse_request(csr(request=b64(_csr_pem("jane", ("dev",)))))
    assert request.subject.rfc4514_string() == "O=dev,CN=jane"


def _truncated_pem_base64() -> str:
    encoded = b64(_csr_pem())
    return encoded[: len(encoded) // 8 * 4]  # a multiple of 4: decodes, but the PEM is cut


REQUEST_PROBLEMS = [
    ("absent", "", "spec.request: Required value"),
    (
        "raw-pem-pasted",
        _csr_pem().decode(),
        "spec.request: Invalid value: \"<request data>\": illegal base64 data at input byte 0 ('-')",
    ),
    (
        "space-inside",
        "aGVs bG8=",
        "spec.request: Invalid value: \"aGVs bG8=\": illegal base64 data at input byte 4 (' ')",
    ),
    (
        "cut-mid-quantum",
        b64(_csr_pem())[:-3],
        "the base64 is truncated: ",
    ),
    (
        "cut-on-a-quantum",
        _truncated_pem_base64(),
        "the CERTIFICATE REQUEST PEM block has no END line: the request is truncated",
    ),
    (
        "encoded-twice",
        b64(b64(_csr_pem()).encode()),
        "PEM block type must be CERTIFICATE REQUEST: the request is base64-encoded twice",
    ),
    (
        "der",
        b64(x509.load_pem_x509_csr(_csr_pem()).public_bytes(serialization.Encoding.DER)),
        "PEM block type must be CERTIFICATE REQUEST: the request is DER, not PEM",
    ),
    (
        "private-key",
        b64(
            KEY.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        ),
        'PEM block type must be CERTIFICATE REQUEST, found "EC PRIVATE KEY" (a private key',
    ),
    (
        "a-certificate",
        b64(_cert_pem()),
        'PEM block type must be CERTIFICATE REQUEST, found "CERTIFICATE"',
    ),
    (
        "pem-body-not-base64",
        b64(_csr_pem().replace(b"\n", b"\n!", 2)),
        "x509: malformed certificate request: the PEM block's content is not base64",
    ),
    (
        "pem-body-not-pkcs10",
        b64(b"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"),
        "x509: malformed certificate request: the PEM block does not hold a PKCS#10 request",
    ),
]


@pytest.mark.parametrize(
    ("request_text", "message"),
    [case[1:] for case in REQUEST_PROBLEMS],
    ids=[case[0] for case in REQUEST_PROBLEMS],
)
def test_each_bad_request_names_its_problem(request_text: str, message: str) -> None:
    found = messages(v.validate_csr(csr(request=request_text)))
    assert len(found) == 1, found
    assert message in found[0]
    assert "cryptography.io" not in found[0] and "ParseError" not in found[0]


def test_line_broken_base64_is_accepted_as_go_decodes_it() -> None:
    wrapped = base64.encodebytes(_csr_pem()).decode()  # 76-character lines, as base64(1) writes
    assert "\n" in wrapped
    assert v.validate_csr(csr(request=wrapped)) == []
    assert v.parse_request(csr(request=wrapped)).subject.rfc4514_string() == "CN=akshay"
