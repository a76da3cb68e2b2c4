"""``jsonpatch.escapeKey``: a map key as one JSON Pointer token (``library/jsonpatch.go``).

MutatingAdmissionPolicy's JSONPatch mutations build paths such as
``"/metadata/labels/" + jsonpatch.escapeKey("example.com/team")``; RFC 6901 escapes ``~`` as
``~0`` and ``/`` as ``~1``, in that order. Upstream declares it in the mutation environment only;
kubeward has one environment, so every expression may call it.
"""

from __future__ import annotations

from kubeward.cel.library.declarations import Function, Overload, traversal_cost
from kubeward.cel.types import STRING


def escape_key(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


FUNCTIONS: tuple[Function, ...] = (
    Function(
        "jsonpatch.escapeKey",
        (
            Overload(
                "string_jsonpatch_escapeKey_string",
                (STRING,),
                STRING,
                escape_key,
                cost=traversal_cost,
            ),
        ),
    ),
)
