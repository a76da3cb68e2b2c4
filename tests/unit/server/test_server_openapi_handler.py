"""/openapi/v2 negotiation, encodings and caching headers; /openapi/v3 served from the same build."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from kubeward.api.openapi import encode_swagger
from kubeward.api.resources import build_scheme
from kubeward.errors import NotAcceptable
from kubeward.server.endpoints.openapi_handler import (
    PROTOBUF_V2_CONTENT_TYPE,
    OpenAPIHandler,
    negotiate_v2,
)

KUBECTL_ACCEPT = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (KUBECTL_ACCEPT, PROTOBUF_V2_CONTENT_TYPE),
        (PROTOBUF_V2_CONTENT_TYPE, PROTOBUF_V2_CONTENT_TYPE),
        ("application/json", "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/json;q=0.5, " + KUBECTL_ACCEPT, PROTOBUF_V2_CONTENT_TYPE),
        (KUBECTL_ACCEPT + ";q=0, application/json", "application/json"),
        ("text/html", None),
    ],
    ids=["kubectl", "dotted", "json", "none", "any", "quality", "refused-protobuf", "html"],
)
def test_negotiation(accept: str, expected: str | None) -> None:
    assert negotiate_v2(accept) == expected


@pytest.fixture(scope="module")
def handler() -> OpenAPIHandler:
    return OpenAPIHandler(build_scheme()[0], "v1.32.4")


def _get(handler: OpenAPIHandler, path: str, **headers: str) -> web.Response:
    request = make_mocked_request("GET", path, headers=headers)
    parts = request.path.strip("/").split("/")
    response = asyncio.run(handler(request, parts))
    assert isinstance(response, web.Response)
    return response


def test_v2_protobuf_for_kubectl(handler: OpenAPIHandler) -> None:
    response = _get(handler, "/openapi/v2", Accept=KUBECTL_ACCEPT)
    assert response.status == 200
    assert response.headers["Content-Type"] == PROTOBUF_V2_CONTENT_TYPE
    json_response = _get(handler, "/openapi/v2", Accept="application/json")
    document = orjson.loads(json_response.body)  # type: ignore[arg-type]
    assert document["swagger"] == "2.0"
    assert response.body == encode_swagger(document)
    assert response.headers["ETag"] == json_response.headers["ETag"]
    assert response.headers["ETag"].startswith('"') and len(response.headers["ETag"]) == 130


def test_v2_if_none_match(handler: OpenAPIHandler) -> None:
    etag = _get(handler, "/openapi/v2").headers["ETag"]
    assert _get(handler, "/openapi/v2", **{"If-None-Match": etag}).status == 304
    assert _get(handler, "/openapi/v2", **{"If-None-Match": '"other"'}).status == 200


def test_v2_refuses_what_it_cannot_produce(handler: OpenAPIHandler) -> None:
    with pytest.raises(NotAcceptable):
        _get(handler, "/openapi/v2", Accept="text/html")


def test_v3_root_and_documents(handler: OpenAPIHandler) -> None:
    root = orjson.loads(_get(handler, "/openapi/v3").body)  # type: ignore[arg-type]
    url = root["paths"]["apis/authorization.k8s.io/v1"]["serverRelativeURL"]
    path, _, query = url.partition("?")
    assert path == "/openapi/v3/apis/authorization.k8s.io/v1"
    document = _get(handler, url)
    assert document.headers["Cache-Control"] == "public, immutable"
    assert (
        "/apis/authorization.k8s.io/v1/subjectaccessreviews"
        in orjson.loads(
            document.body  # type: ignore[arg-type]
        )["paths"]
    )
    assert query.startswith("hash=")
    assert (
        asyncio.run(
            handler(
                make_mocked_request("GET", "/openapi/v3/apis/nope/v1"),
                ["openapi", "v3", "apis", "nope", "v1"],
            )
        )
        is None
    )
