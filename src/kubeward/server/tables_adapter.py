"""Builds the ``Table`` answers of the REST handlers from the ``api.tables`` printers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubeward.api.meta import now
from kubeward.api.scheme import ResourceType
from kubeward.api.tables.registry import DEFAULT_PRINTER
from kubeward.api.tables.table import build_table


def build(
    rt: ResourceType,
    objects: Iterable[Mapping[str, Any]],
    *,
    include_object: str,
    resource_version: str,
    continue_token: str = "",
    remaining: int | None = None,
    with_headers: bool = True,
) -> dict[str, Any]:
    return build_table(
        rt.printer or DEFAULT_PRINTER,
        objects,
        now=now(),
        include_object=include_object,
        resource_version=resource_version,
        continue_token=continue_token,
        remaining=remaining,
        with_headers=with_headers,
    )
