"""Builds the ``meta.k8s.io/v1`` ``Table`` that kube-apiserver sends for ``as=Table``.

kubectl asks for tables (``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``) on
``get``, ``get -o wide`` and ``get -w`` and prints the cells as they come. This module turns
objects into that body, as ``asTable`` in ``k8s.io/apiserver``'s handlers and the printers'
table generator do. Rules:

1. The body is ``{"kind": "Table", "apiVersion": ..., "metadata": ..., "columnDefinitions":
   [...], "rows": [...]}``. ``metadata`` holds ``resourceVersion``, ``continue`` and
   ``remainingItemCount`` when they are set, and is ``{}`` otherwise.
2. Every column is sent, whatever its priority: the server always renders the wide table
   and kubectl drops priority>0 columns unless ``-o wide``.
3. ``includeObject`` decides ``row.object``: ``Metadata`` (the default, also for ``""``) sends
   a ``PartialObjectMetadata`` of the same API version as the table, carrying the object's
   whole ``metadata`` (kubectl needs it for ``-A``, ``--show-labels``, ``-L`` and
   ``--sort-by``); ``Object`` sends the object itself; ``None`` sends ``null``, as the Go
   server does (the field is not omitted: Go never omits an empty struct). Any other value
   is a 400 ``unrecognized includeObject value``.
4. On a watch only the first event's table carries the column definitions; every later one
   is built with ``with_headers=False`` and sends ``"columnDefinitions": null``, exactly what
   kube-apiserver sends (the field has no ``omitempty``). kubectl keeps the first header.
5. Tables exist in ``meta.k8s.io/v1`` and ``meta.k8s.io/v1beta1`` only; any other version is
   a 406 ``no Table exists in group version ...``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from kubeward.api.tables.columns import KindKey, TablePrinter
from kubeward.api.tables.registry import printer_for
from kubeward.errors import BadRequest, NotAcceptable

TABLE_API_VERSION = "meta.k8s.io/v1"
TABLE_API_VERSIONS = ("meta.k8s.io/v1", "meta.k8s.io/v1beta1")

INCLUDE_NONE = "None"
INCLUDE_METADATA = "Metadata"
INCLUDE_OBJECT = "Object"
_INCLUDE_POLICIES = {
    "": INCLUDE_METADATA,
    INCLUDE_METADATA: INCLUDE_METADATA,
    INCLUDE_OBJECT: INCLUDE_OBJECT,
    INCLUDE_NONE: INCLUDE_NONE,
}


def include_object_policy(value: str) -> str:
    """The ``includeObject`` policy named by a query value (``""`` means ``Metadata``).

    Raises:
        BadRequest: the value is not None, Metadata or Object.
    """
    policy = _INCLUDE_POLICIES.get(value)
    if policy is None:
        raise BadRequest(f'unrecognized includeObject value: "{value}"')
    return policy


def _row_object(obj: Mapping[str, Any], policy: str, api_version: str) -> Any:
    if policy == INCLUDE_OBJECT:
        return obj
    if policy == INCLUDE_NONE:
        return None
    metadata = obj.get("metadata")
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": api_version,
        "metadata": metadata if isinstance(metadata, Mapping) else {},
    }


def render_rows(
    printer: TablePrinter,
    objects: Iterable[Mapping[str, Any]],
    *,
    now: datetime,
    policy: str,
    api_version: str = TABLE_API_VERSION,
) -> list[dict[str, Any]]:
    """The ``rows`` of a table: cells, row conditions when there are any, and the object."""
    rows: list[dict[str, Any]] = []
    for obj in objects:
        printed = printer.print_row(obj, now)
        row: dict[str, Any] = {"cells": list(printed.cells)}
        if printed.conditions:
            row["conditions"] = [condition.to_dict() for condition in printed.conditions]
        row["object"] = _row_object(obj, policy, api_version)
        rows.append(row)
    return rows


def build_table(
    kind_key: KindKey | TablePrinter,
    objects: Iterable[Mapping[str, Any]],
    *,
    now: datetime,
    include_object: str,
    resource_version: str,
    continue_token: str = "",
    remaining: int | None = None,
    with_headers: bool = True,
    api_version: str = TABLE_API_VERSION,
) -> dict[str, Any]:
    """The ``Table`` body for ``objects`` of one kind.

    Args:
        kind_key: the kind's printer (``ResourceType.printer``, which a kind added at run time
            brings), or its (API group, kind) to look the built-in printer up; kinds without a
            printer get the default Name/Created At table.
        objects: the objects as stored, each a decoded JSON object. With ``Object`` they are
            put in the rows as they are, not copied.
        now: the time ages are measured against; a naive datetime is taken as UTC.
        include_object: the ``includeObject`` query value: None, Metadata (or "") or Object.
        resource_version: the list's resourceVersion (a single object's for a get or a watch
            event); empty leaves it out.
        continue_token: the list's ``continue`` token, left out when empty.
        remaining: the list's ``remainingItemCount``, left out when None.
        with_headers: False for every watch event after the first.
        api_version: the table's API version, from the negotiated Accept header.

    Raises:
        BadRequest: ``include_object`` is not a known policy.
        NotAcceptable: ``api_version`` has no Table kind.
    """
    policy = include_object_policy(include_object)
    if api_version not in TABLE_API_VERSIONS:
        raise NotAcceptable(f"no Table exists in group version {api_version}")
    printer = kind_key if isinstance(kind_key, TablePrinter) else printer_for(kind_key)
    metadata: dict[str, Any] = {}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    if continue_token:
        metadata["continue"] = continue_token
    if remaining is not None:
        metadata["remainingItemCount"] = remaining
    columns = [definition.to_dict() for definition in printer.columns] if with_headers else None
    return {
        "kind": "Table",
        "apiVersion": api_version,
        "metadata": metadata,
        "columnDefinitions": columns,
        "rows": render_rows(printer, objects, now=now, policy=policy, api_version=api_version),
    }
