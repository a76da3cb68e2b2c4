"""Apply the PATCH bodies kubectl and the Python client send: JSON patch, JSON merge patch and
strategic merge patch.

Rules:
 1. The patch format comes from the Content-Type (parameters such as ``charset`` ignored),
    matched exactly as Kubernetes matches it. An unknown format is 415 UnsupportedMediaType
    listing the formats the kind accepts.
 2. Strategic merge patch needs the kind's merge root type (its descriptor's ``merge_root``,
    from :mod:`.strategies` for built-in kinds); a kind without one is refused with 415, as
    Kubernetes refuses strategic merge for custom resources.
 3. Server-side apply (``application/apply-patch+yaml``) is not a patch this package applies:
    the caller routes it to the field manager before calling :func:`apply_patch`.
 4. The result must still be a JSON object, or the patch is 422 Invalid.
 5. The object passed in is never mutated; the result is a new object.
 6. Nesting too deep for the merge to follow is a 400, not a crash.
"""

from __future__ import annotations

import json
from typing import Any, Final

from kubeward.api.patch.jsonpatch import apply_json_patch
from kubeward.api.patch.mergepatch import apply_merge_patch
from kubeward.api.patch.strategic import apply_strategic_merge_patch
from kubeward.errors import BadRequest, Cause, UnsupportedMediaType, invalid

JSON_PATCH: Final = "application/json-patch+json"
MERGE_PATCH: Final = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH: Final = "application/strategic-merge-patch+json"
APPLY_PATCH_YAML: Final = "application/apply-patch+yaml"

BUILTIN_PATCH_TYPES: Final = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH_YAML)
CUSTOM_PATCH_TYPES: Final = (JSON_PATCH, MERGE_PATCH, APPLY_PATCH_YAML)


def supports_strategic_merge(merge_root: str | None) -> bool:
    """Whether ``application/strategic-merge-patch+json`` is accepted for a kind."""
    return merge_root is not None


def patch_types(merge_root: str | None) -> tuple[str, ...]:
    """The PATCH Content-Types a kind with this merge root accepts, in Kubernetes' order."""
    return BUILTIN_PATCH_TYPES if supports_strategic_merge(merge_root) else CUSTOM_PATCH_TYPES


def apply_patch(
    obj: dict[str, Any],
    patch_bytes: bytes,
    content_type: str,
    *,
    merge_root: str | None,
) -> dict[str, Any]:
    """Apply a PATCH body to ``obj`` (the stored object, JSON-shaped) and return the new object.

    ``merge_root`` is the kind's strategic-merge root type (``ResourceType.merge_root``), or
    None for a kind that refuses strategic merge patch.

    Raises:
        UnsupportedMediaType: the Content-Type is not a patch format the kind accepts.
        BadRequest: the patch body is malformed (not JSON, wrong shape, bad directives).
        Invalid: a JSON patch operation failed, or the result is not an object (422).
        RequestEntityTooLarge: a JSON patch with more than 10,000 operations.
        ValueError: called with a server-side apply body, which is the caller's to handle.
    """
    media_type = content_type.split(";", 1)[0].strip()
    if media_type == APPLY_PATCH_YAML:
        raise ValueError("server-side apply is handled by the field manager, not apply_patch")
    try:
        result = _apply(obj, patch_bytes, media_type, merge_root)
    except RecursionError as exc:
        raise BadRequest("the patch or the object is nested too deeply to merge") from exc
    if not isinstance(result, dict):
        shown = json.dumps(result)
        raise invalid(
            "",
            "",
            [Cause("FieldValueInvalid", f"Invalid value: {shown}: must be a JSON object", "patch")],
        )
    return result


def _apply(obj: dict[str, Any], patch_bytes: bytes, media_type: str, merge_root: str | None) -> Any:
    if media_type == JSON_PATCH:
        return apply_json_patch(obj, patch_bytes)
    if media_type == MERGE_PATCH:
        return apply_merge_patch(obj, patch_bytes)
    if media_type == STRATEGIC_MERGE_PATCH and merge_root is not None:
        return apply_strategic_merge_patch(obj, patch_bytes, merge_root)
    accepted = ", ".join(patch_types(merge_root))
    raise UnsupportedMediaType(
        "the body of the request was in an unknown format - accepted media types include: "
        + accepted
    )


__all__ = [
    "APPLY_PATCH_YAML",
    "BUILTIN_PATCH_TYPES",
    "CUSTOM_PATCH_TYPES",
    "JSON_PATCH",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "apply_patch",
    "patch_types",
    "supports_strategic_merge",
]
