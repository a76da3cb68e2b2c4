"""Status bodies are written byte for byte as kube-apiserver writes them."""

from __future__ import annotations

import pytest

from kubeward.errors import Cause, Forbidden, NotFound, StatusDetails, TooManyRequests, invalid
from kubeward.server.http import go_json, status_body, status_response, success_status


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            NotFound('pods "x" not found', StatusDetails(name="x", kind="pods")),
            b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
            b'"message":"pods \\"x\\" not found","reason":"NotFound",'
            b'"details":{"name":"x","kind":"pods"},"code":404}\n',
        ),
        (
            Forbidden('forbidden: User "a" cannot get path "/<x>&"', StatusDetails()),
            b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
            b'"message":"forbidden: User \\"a\\" cannot get path \\"/\\u003cx\\u003e\\u0026\\"",'
            b'"reason":"Forbidden","details":{},"code":403}\n',
        ),
        (
            TooManyRequests("slow down", StatusDetails(retry_after_seconds=1)),
            b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
            b'"message":"slow down","reason":"TooManyRequests",'
            b'"details":{"retryAfterSeconds":1},"code":429}\n',
        ),
        (
            invalid("Pod", "web", [Cause("FieldValueRequired", "Required value", "spec")]),
            b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
            b'"message":"Pod \\"web\\" is invalid: spec: Required value","reason":"Invalid",'
            b'"details":{"name":"web","kind":"Pod","causes":[{"reason":"FieldValueRequired",'
            b'"message":"Required value","field":"spec"}]},"code":422}\n',
        ),
    ],
    ids=["not-found", "html-escapes", "retry-after", "invalid-with-causes"],
)
def test_failure_status_bytes(error: Exception, expected: bytes) -> None:
    from kubeward.errors import StatusError

    assert isinstance(error, StatusError)
    response = status_response(error)
    assert response.body == expected
    assert response.status == error.code
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-cache, private"


def test_success_status_bytes() -> None:
    body = success_status({"name": "r", "group": "rbac.authorization.k8s.io", "kind": "roles"})
    assert status_body(body).body == (
        b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success",'
        b'"details":{"name":"r","group":"rbac.authorization.k8s.io","kind":"roles"}}\n'
    )


def test_go_json_escapes_line_separators() -> None:
    assert go_json({"m": "a\u2028b\u2029c"}) == b'{"m":"a\\u2028b\\u2029c"}\n'
