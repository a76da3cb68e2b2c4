"""Request bodies in, JSON out; decoding that can neither stall the server nor blow up.

Rules:
 1. A request body may be JSON, YAML or the Kubernetes protobuf envelope (kubectl 1.32 sends
    protobuf for its typed commands); a missing Content-Type is JSON (the Python client sends
    none on POST). Anything else is 415.
 2. The body must be one object (a mapping); anything else is 400.
 3. Whatever the encoding, the decoded value holds only JSON's types, with integers in int64
    (Go's JSON numbers overflow past it) and finite floats — 400 otherwise. YAML's own rules
    (tags, aliases, expansion, merge keys) are in :mod:`kubeward.api.yaml_decoder`.
 4. Nesting is limited to ``MAX_DEPTH`` (100) mappings and sequences: 400. Kubernetes allows
    10,000 (Go's encoding/json and go-yaml); kubeward's bound is lower because orjson refuses to
    encode deeper than 254 levels and the stored object must still fit inside a List, a watch
    event and a Table row, and because a JSON patch can double an object's depth before the
    result is checked again.
 5. What a body expands to is held to the same size limit as the body itself (3 MiB unless the
    server was started with another): 413. Only YAML aliases can make a body grow.
 6. Bodies larger than ``OFF_LOOP_JSON_BYTES`` (JSON, protobuf) or ``OFF_LOOP_YAML_BYTES`` (YAML,
    about twenty times slower per byte) are decoded on a small thread pool by
    :func:`decode_body_async`, so that one large body does not hold the event loop while health
    checks and other clients wait. The pool has two threads: more would only contend for the GIL.
 7. Responses are always JSON, encoded with orjson.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from kubeward.api.yaml_decoder import INT64_MAX, INT64_MIN, decode_yaml
from kubeward.errors import BadRequest, UnsupportedMediaType

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
_ACCEPTED = f"{JSON}, {YAML}, {PROTOBUF}"
_JSON_TYPES = ("", JSON, "*/*")
_YAML_TYPES = (YAML, "application/x-yaml", "text/yaml", "application/apply-patch+yaml")

MAX_DEPTH = 100
MAX_BODY_BYTES = 3 * 1024 * 1024
OFF_LOOP_JSON_BYTES = 64 * 1024
OFF_LOOP_YAML_BYTES = 8 * 1024

_pool: ThreadPoolExecutor | None = None


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def decode_body(
    body: bytes, content_type: str | None, *, max_bytes: int = MAX_BODY_BYTES
) -> dict[str, Any]:
    """Decode an object body (rules 1-5).

    Raises:
        UnsupportedMediaType: the Content-Type is not one we read.
        BadRequest: the body does not parse, is not one object, or breaks rules 3-4.
        RequestEntityTooLarge: a YAML body expands past ``max_bytes``.
    """
    kind = media_type(content_type)
    if kind in _JSON_TYPES:
        obj = decode_json(body)
    elif kind in _YAML_TYPES:
        obj = decode_yaml(body, max_depth=MAX_DEPTH, max_bytes=max_bytes)
        check_json_value(obj)  # the decoder keeps these bounds already; this proves it
    elif kind == PROTOBUF:
        from kubeward.api.protobuf import decode_protobuf

        obj = decode_protobuf(body)
        check_json_value(obj)
    else:
        raise UnsupportedMediaType(
            f"the body of the request was in an unknown format - accepted media types include: {_ACCEPTED}"
        )
    if not isinstance(obj, dict):
        raise BadRequest("the request body must be a single object")
    return obj


async def decode_body_async(
    body: bytes, content_type: str | None, *, max_bytes: int = MAX_BODY_BYTES
) -> dict[str, Any]:
    """:func:`decode_body`, on the decoding pool when the body is large (rule 6)."""
    yaml_like = media_type(content_type) in _YAML_TYPES
    if len(body) <= (OFF_LOOP_YAML_BYTES if yaml_like else OFF_LOOP_JSON_BYTES):
        return decode_body(body, content_type, max_bytes=max_bytes)
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kubeward-decode")
    call = functools.partial(decode_body, body, content_type, max_bytes=max_bytes)
    return await asyncio.get_running_loop().run_in_executor(_pool, call)


def decode_json(body: bytes) -> Any:
    """A JSON body's value, checked against rules 3 and 4."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc) or "recursion" in str(exc).lower():
            raise BadRequest(
                f"the request body is nested too deeply: exceeded max depth of {MAX_DEPTH}"
            ) from exc
        raise BadRequest(f"the request body is not valid JSON: {exc}") from exc
    check_json_value(value)
    return value


def check_json_value(value: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuse values deeper than ``max_depth`` or with integers outside int64 (rules 3-4).

    Iterative, so that no depth of input can reach Python's recursion limit.

    Raises:
        BadRequest: naming the first offending path.
    """
    pending: list[tuple[Any, int, str]] = [(value, 1, "")]
    while pending:
        item, depth, path = pending.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                raise BadRequest(
                    f"the request body is nested too deeply: exceeded max depth of {max_depth}"
                )
            for key, child in item.items():
                if isinstance(child, dict | list):
                    pending.append((child, depth + 1, f"{path}.{key}" if path else key))
                elif type(child) is int and not INT64_MIN <= child <= INT64_MAX:
                    raise _int_out_of_range(child, f"{path}.{key}" if path else key)
        elif isinstance(item, list):
            if depth > max_depth:
                raise BadRequest(
                    f"the request body is nested too deeply: exceeded max depth of {max_depth}"
                )
            for index, child in enumerate(item):
                if isinstance(child, dict | list):
                    pending.append((child, depth + 1, f"{path}[{index}]"))
                elif type(child) is int and not INT64_MIN <= child <= INT64_MAX:
                    raise _int_out_of_range(child, f"{path}[{index}]")
        elif type(item) is int and not INT64_MIN <= item <= INT64_MAX:
            raise _int_out_of_range(item, path)


def _int_out_of_range(number: int, path: str) -> BadRequest:
    where = f" at {path}" if path else ""
    return BadRequest(
        f"the request body is not valid JSON: the number {number}{where} does not fit in a 64-bit integer"
    )


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)
