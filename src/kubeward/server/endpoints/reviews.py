"""Review endpoints: kinds that are answered from the request, never stored.

``selfsubjectreviews`` (``kubectl auth whoami``) returns the requester's own identity as the
authenticators established it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from kubeward.api.request_info import RequestInfo
from kubeward.api.user import UserInfo
from kubeward.server.endpoints.bodies import read_body_as
from kubeward.server.http import json_response

if TYPE_CHECKING:
    from kubeward.server.app import APIServer


async def self_subject_review(
    request: web.Request, info: RequestInfo, user: UserInfo, body: bytes
) -> web.StreamResponse:
    if body.strip():
        await read_body_as(request, body, group="authentication.k8s.io", kind="SelfSubjectReview")
    return json_response(
        {
            "kind": "SelfSubjectReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": None},
            "status": {"userInfo": user.to_dict()},
        },
        201,
    )


def register(server: APIServer) -> None:
    server.virtual[("authentication.k8s.io", "selfsubjectreviews", "")] = self_subject_review
