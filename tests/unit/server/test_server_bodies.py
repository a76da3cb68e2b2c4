"""Bodies of review and TokenRequest endpoints: decoded with bounds, then type-checked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request

from kubeward.errors import BadRequest
from kubeward.server.endpoints.bodies import read_body_as


def read(
    body: bytes, *, query: str = "", kind: str = "TokenReview", ctype: str = "application/json"
) -> Any:
    request = make_mocked_request(
        "POST",
        "/apis/authentication.k8s.io/v1/tokenreviews" + query,
        headers={"Content-Type": ctype},
    )
    return asyncio.run(read_body_as(request, body, group="authentication.k8s.io", kind=kind))


def test_a_well_typed_body_comes_back_without_unknown_fields() -> None:
    assert read(b'{"spec": {"token": "t", "audiences": ["a"]}, "extra": 1}') == {
        "spec": {"token": "t", "audiences": ["a"]}
    }


def test_yaml_bodies_are_read_too() -> None:
    assert read(b"spec: {token: t}", ctype="application/yaml") == {"spec": {"token": "t"}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"spec": "x"}', "TokenReview.spec of type v1.TokenReviewSpec"),
        (b'{"spec": {"token": 1}}', "TokenReviewSpec.spec.token of type string"),
        (b'{"spec": {"audiences": "x"}}', "spec.audiences of type []string"),
    ],
)
def test_wrong_types_are_400_in_kubernetes_words(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        read(body)
    assert caught.value.message.startswith(
        'TokenReview in version "authentication.k8s.io/v1" cannot be handled as a TokenReview: '
        "json: cannot unmarshal"
    )
    assert message in caught.value.message


def test_unknown_fields_under_strict_are_400() -> None:
    with pytest.raises(BadRequest, match='strict decoding error: unknown field "extra"'):
        read(b'{"spec": {}, "extra": 1}', query="?fieldValidation=Strict")


def test_decoding_bounds_apply() -> None:
    with pytest.raises(BadRequest, match="!!binary"):
        read(b"spec: !!binary aGk=", ctype="application/yaml")
