"""JSON merge patch (RFC 7386): what ``kubectl label``, ``annotate`` and ``patch --type=merge``
send (``application/merge-patch+json``).

Rules:
 1. The patch must be a JSON object; ``null`` as the whole patch, or any other non-object, is a
    400 (Kubernetes decodes merge patches into an object first).
 2. A ``null`` member deletes the key; an object member merges recursively into an object (or
    into ``{}`` if the target is not an object, which drops its ``null`` members); anything
    else, arrays included, replaces the target's value.
 3. The input object is never mutated.
"""

from __future__ import annotations

import copy
from typing import Any

from kubeward.api.patch.document import parse_json
from kubeward.errors import BadRequest


def apply_merge_patch(document: dict[str, Any], patch_bytes: bytes) -> dict[str, Any]:
    """Apply a JSON merge patch to a copy of ``document``.

    Raises:
        BadRequest: the patch is not JSON, or not a JSON object.
    """
    patch = parse_json(patch_bytes)
    if patch is None:
        raise BadRequest("Invalid JSON Patch")
    if not isinstance(patch, dict):
        raise BadRequest(
            f"error decoding patch: a merge patch must be a JSON object, not {_json_type(patch)}"
        )
    return merge_object(copy.deepcopy(document), patch)


def merge(target: Any, patch: Any) -> Any:
    """RFC 7386 ``MergePatch(target, patch)``; may reuse (and change) ``target``."""
    if not isinstance(patch, dict):
        return patch
    return merge_object(target if isinstance(target, dict) else {}, patch)


def merge_object(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge an object patch into ``target`` in place and return it."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = merge(target.get(key), value)
    return target


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
