"""OpenAPI v3: the schemas kubeward serves, the documents kubectl reads, unknown-field checks.

- ``catalog``: the generated component schemas (``schemas.json``) and lookups by kind.
- ``documents``: the ``/openapi/v3`` root and the per-group-version documents.
- ``fields``: schema conformance: JSON types, and unknown fields for ``fieldValidation``.
- ``swagger`` and ``swagger_proto``: the ``/openapi/v2`` document derived from the v3 ones, as
  JSON and as the gnostic protobuf kubectl reads.
- ``descriptions``: Kubernetes' API descriptions, read at run time from the user's
  ``kubernetes`` package when it is installed.
"""

from kubeward.api.openapi.descriptions import available as descriptions_available
from kubeward.api.openapi.documents import (
    OpenAPIResource,
    ServedDocument,
    document_hash,
    group_version_document,
    group_version_path,
    parse_group_version_path,
    root_document,
    served_document,
)
from kubeward.api.openapi.fields import (
    Conformance,
    conform,
    decoding_error,
    has_schema,
    patch_decoding_error,
    strict_decoding_error,
    strict_decoding_message,
    strict_patch_error,
    unknown_field_warnings,
    unknown_fields,
)
from kubeward.api.openapi.swagger import swagger_document
from kubeward.api.openapi.swagger_proto import encode_document as encode_swagger

__all__ = [
    "Conformance",
    "OpenAPIResource",
    "ServedDocument",
    "conform",
    "decoding_error",
    "descriptions_available",
    "document_hash",
    "encode_swagger",
    "group_version_document",
    "group_version_path",
    "has_schema",
    "parse_group_version_path",
    "patch_decoding_error",
    "root_document",
    "served_document",
    "strict_decoding_error",
    "strict_decoding_message",
    "strict_patch_error",
    "swagger_document",
    "unknown_field_warnings",
    "unknown_fields",
]
