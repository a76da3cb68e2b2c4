"""Request bodies in, JSON out.

Rules:
 1. A request body may be JSON, YAML or the Kubernetes protobuf envelope (kubectl 1.32 sends
    protobuf for its typed commands); a missing Content-Type is JSON (the Python client sends
    none on POST). Anything else is 415.
 2. The body must be one object (a mapping); anything else is 400.
 3. Responses are always JSON, encoded with orjson.
"""

from __future__ import annotations

from typing import Any

import orjson
import yaml

from kubeward.errors import BadRequest, UnsupportedMediaType

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
_ACCEPTED = f"{JSON}, {YAML}, {PROTOBUF}"


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    """Decode an object body.

    Raises:
        UnsupportedMediaType: the Content-Type is not one we read.
        BadRequest: the body does not parse, or is not one object.
    """
    kind = media_type(content_type)
    if kind in ("", JSON, "*/*"):
        try:
            obj = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"the request body is not valid JSON: {exc}") from exc
    elif kind in (YAML, "application/x-yaml", "text/yaml"):
        try:
            obj = yaml.safe_load(body)
        except yaml.YAMLError as exc:
            raise BadRequest(f"the request body is not valid YAML: {_one_line(str(exc))}") from exc
    elif kind == PROTOBUF:
        from kubeward.api.protobuf import decode_protobuf

        obj = decode_protobuf(body)
    else:
        raise UnsupportedMediaType(
            f"the body of the request was in an unknown format - accepted media types include: {_ACCEPTED}"
        )
    if not isinstance(obj, dict):
        raise BadRequest("the request body must be a single object")
    return obj


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def _one_line(text: str) -> str:
    return " ".join(text.split())
