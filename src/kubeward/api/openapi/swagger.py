"""The OpenAPI v2 (Swagger 2.0) document served at ``/openapi/v2``.

kubectl 1.32 still needs it. Before ``create``/``apply``/``replace`` it asks the v3 document of
the object's group-version for a PATCH operation of the kind that takes ``fieldValidation``;
kinds without one - the create-only reviews (SubjectAccessReview, TokenReview, ...) and every
kind the server does not serve - are validated on the client against ``/openapi/v2``, and a
404 there stops kubectl with "failed to download openapi". ``kubectl apply`` also reads the
v2 schemas' patch extensions to compute strategic merge patches.

The v2 document is derived from the v3 group-version documents (``documents.py``), so both
describe exactly the same paths and schemas.

Rules:

1. ``definitions`` is the union of the v3 documents' ``components.schemas``, each converted:
   ``#/components/schemas/`` references become ``#/definitions/``; an ``allOf`` holding one
   reference becomes that ``$ref`` (with any sibling keys, as upstream writes a described
   reference); a ``oneOf`` of primitive types (Quantity, IntOrString) becomes ``type: string``
   with its ``format``, as in Kubernetes' own v2 document; ``nullable`` has no v2 form and is
   dropped. Vendor extensions (``x-kubernetes-group-version-kind``, the patch strategy and merge
   key) are kept as they are.
2. Every v3 path and operation appears once: query and path parameters carry their ``type``
   directly, a request body becomes the ``body`` parameter, ``consumes`` and ``produces`` list
   the media types of the request and response content, ``schemes`` is ``https``.
3. Security is a bearer token, declared as kube-apiserver declares it.
4. Operations do not list the ``fieldValidation`` parameter, although the server honours it.
   kubectl consults v2 for it only when the v3 document has no PATCH operation for the kind
   (the create-only reviews); a v2 Namespace PATCH that takes it then sends kubectl to list
   ``customresourcedefinitions``, which kubeward does not serve yet, and the create fails
   with "failed to check CRD". Without it kubectl validates those kinds on the client against
   these schemas, which is what it ends up doing against kube-apiserver. Revisit when CRDs
   are served.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubeward.api.openapi import catalog

SWAGGER_VERSION = "2.0"
DEFINITIONS_PREFIX = "#/definitions/"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_UNADVERTISED_PARAMETERS = frozenset({"fieldValidation"})  # rule 4
_SECURITY_DEFINITIONS = {
    "BearerToken": {
        "type": "apiKey",
        "name": "authorization",
        "in": "header",
        "description": "Bearer Token authentication",
    }
}


def swagger_document(
    documents: Iterable[Mapping[str, Any]], version: str = "unversioned"
) -> dict[str, Any]:
    """One Swagger 2.0 document covering the given OpenAPI v3 group-version documents."""
    paths: dict[str, Any] = {}
    definitions: dict[str, Any] = {}
    for document in documents:
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            definitions.setdefault(name, v2_schema(schema))
        for path, item in document.get("paths", {}).items():
            paths[path] = _path_item(item)
    return {
        "swagger": SWAGGER_VERSION,
        "info": {"title": "Kubernetes", "version": version},
        "paths": {path: paths[path] for path in sorted(paths)},
        "definitions": {name: definitions[name] for name in sorted(definitions)},
        "securityDefinitions": _SECURITY_DEFINITIONS,
        "security": [{"BearerToken": []}],
    }


def v2_schema(schema: Any) -> Any:
    """One v3 schema (and everything nested in it) in its v2 form (rule 1)."""
    if isinstance(schema, list):
        return [v2_schema(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    converted: dict[str, Any] = {}
    all_of = schema.get("allOf")
    one_of = schema.get("oneOf")
    for key, value in schema.items():
        if key == "nullable":
            continue
        if key == "allOf" and isinstance(all_of, list) and len(all_of) == 1:
            converted.update(v2_schema(all_of[0]))
        elif key == "oneOf" and isinstance(one_of, list) and "type" not in schema:
            converted["type"] = _one_type(one_of)
        elif key == "$ref" and isinstance(value, str):
            converted[key] = value.replace(catalog.REF_PREFIX, DEFINITIONS_PREFIX)
        elif key == "properties" and isinstance(value, Mapping):
            converted[key] = {name: v2_schema(prop) for name, prop in value.items()}
        elif key in ("items", "additionalProperties", "allOf", "oneOf", "anyOf", "not"):
            converted[key] = v2_schema(value)
        else:
            converted[key] = value
    return converted


def _one_type(choices: list[Any]) -> str:
    types = [c.get("type") for c in choices if isinstance(c, Mapping)]
    return "string" if "string" in types or not types else str(types[0])


def _parameter(param: Mapping[str, Any]) -> dict[str, Any]:
    converted = {k: v for k, v in param.items() if k != "schema"}
    schema = param.get("schema")
    if isinstance(schema, Mapping):
        for key in ("type", "format", "uniqueItems"):
            if key in schema:
                converted[key] = schema[key]
    return converted


def _path_item(item: Mapping[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for method in _METHODS:
        operation = item.get(method)
        if isinstance(operation, Mapping):
            converted[method] = _operation(operation)
    parameters = item.get("parameters")
    if parameters:
        converted["parameters"] = [_parameter(p) for p in parameters]
    return converted


def _operation(operation: Mapping[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for key in ("description", "operationId", "tags"):
        if key in operation:
            converted[key] = operation[key]
    body = operation.get("requestBody")
    if isinstance(body, Mapping):
        converted["consumes"] = list(body.get("content", {}))
    produces: list[str] = []
    responses: dict[str, Any] = {}
    for code, response in operation.get("responses", {}).items():
        entry: dict[str, Any] = {"description": response.get("description", "")}
        content = response.get("content") or {}
        for media_type, media in content.items():
            if media_type not in produces:
                produces.append(media_type)
            if "schema" not in entry and isinstance(media, Mapping) and "schema" in media:
                entry["schema"] = v2_schema(media["schema"])
        responses[code] = entry
    if produces:
        converted["produces"] = produces
    parameters = [
        _parameter(p)
        for p in operation.get("parameters", ())
        if p.get("name") not in _UNADVERTISED_PARAMETERS
    ]
    if isinstance(body, Mapping):
        first: Mapping[str, Any] = next(iter(body.get("content", {}).values()), {})
        schema = first.get("schema")
        parameters.insert(
            0,
            {
                "in": "body",
                "name": "body",
                "required": bool(body.get("required", False)),
                "schema": v2_schema(schema or {}),
            },
        )
    converted["parameters"] = parameters
    converted["responses"] = responses
    converted["schemes"] = ["https"]
    for key, value in operation.items():
        if key.startswith("x-"):
            converted[key] = value
    return converted
