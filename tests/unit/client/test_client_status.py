"""Error answers become the kubeward.errors class their Status names."""

from __future__ import annotations

import orjson
import pytest

from kubeward.client.status import error_from_response
from kubeward.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    Gone,
    InternalError,
    Invalid,
    NotFound,
    StatusError,
    Unauthorized,
)


def status(code: int, reason: str, message: str = "m", **details: object) -> bytes:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": message,
        "details": details,
    }
    return orjson.dumps(body)


@pytest.mark.parametrize(
    ("code", "raw", "expected"),
    [
        (409, status(409, "AlreadyExists"), AlreadyExists),
        (409, status(409, "Conflict"), Conflict),
        (403, status(403, "Forbidden"), Forbidden),
        (404, status(404, "NotFound"), NotFound),
        (410, status(410, "Expired"), Gone),
        (401, b"Unauthorized", Unauthorized),
        (404, b"", NotFound),
        (502, b"bad gateway", InternalError),
    ],
    ids=[
        "already-exists",
        "conflict",
        "forbidden",
        "not-found",
        "expired",
        "plain-401",
        "empty-404",
        "unknown-code",
    ],
)
def test_maps_reason_then_code(code: int, raw: bytes, expected: type[StatusError]) -> None:
    assert type(error_from_response(code, raw)) is expected


def test_keeps_message_and_causes() -> None:
    raw = status(
        422,
        "Invalid",
        'CertificateSigningRequest.certificates.k8s.io "x" is invalid',
        name="x",
        causes=[
            {"reason": "FieldValueInvalid", "message": "Invalid value", "field": "spec.request"}
        ],
    )
    error = error_from_response(422, raw)
    assert isinstance(error, Invalid)
    assert error.message.endswith('"x" is invalid')
    assert error.details is not None
    assert [(c.field, c.reason) for c in error.details.causes] == [
        ("spec.request", "FieldValueInvalid")
    ]
