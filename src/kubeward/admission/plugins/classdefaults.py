"""Which class is the default, for the plugins that default a class (DefaultStorageClass,
DefaultIngressClass), as ``GetDefaultClass`` chooses since Kubernetes 1.26/1.28.

Rules:

 1. A class is a default when one of the given annotations is exactly ``"true"``.
 2. With several defaults, the newest (latest ``creationTimestamp``) wins; equal times go to
    the name first in order. No default: None.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from kubeward.admission.interfaces import ObjectReader
from kubeward.api import meta as m


async def cluster_objects(reader: ObjectReader, resource: str) -> list[dict[str, Any]]:
    """Every object of a cluster-scoped ``resource``: from the server's informer when the
    reader has one (listed and watched once), else listed."""
    cached: Callable[[str], Awaitable[list[dict[str, Any]]]] | None = getattr(
        reader, "cached", None
    )
    return await (cached(resource) if cached else reader.list(resource, ""))


def newest_default(
    classes: Iterable[dict[str, Any]], annotations: Sequence[str]
) -> dict[str, Any] | None:
    """Rules 1 and 2."""
    defaults = [
        c
        for c in classes
        if any((m.metadata(c).get("annotations") or {}).get(a) == "true" for a in annotations)
    ]
    if not defaults:
        return None

    def created(obj: dict[str, Any]) -> float:
        moment = m.parse_time(str(m.metadata(obj).get("creationTimestamp") or ""))
        return moment.timestamp() if moment is not None else 0.0

    return sorted(defaults, key=lambda c: (-created(c), m.name_of(c)))[0]
