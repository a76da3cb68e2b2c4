"""Concurrent patches that name no resourceVersion never conflict: each lost race is retried
on the fresh object, as upstream's GuaranteedUpdate does; a patch that names a stale
resourceVersion is still a 409 (kopf's finalizer and status patches depend on both)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubeward.client.api import APIClient
from kubeward.errors import Conflict
from kubeward.testing import running_cluster

PATH = "/api/v1/namespaces/default/configmaps/racy"


async def race(kubeconfig: Any) -> tuple[list[Any], dict[str, Any]]:
    async with APIClient.from_kubeconfig(kubeconfig) as client:
        await client.request(
            "POST", "/api/v1/namespaces/default/configmaps", body={"metadata": {"name": "racy"}}
        )
        results = await asyncio.gather(
            *(
                client.request(
                    "PATCH",
                    PATH,
                    body={"metadata": {"annotations": {f"writer-{i}": "yes"}}},
                    content_type="application/merge-patch+json",
                )
                for i in range(12)
            ),
            return_exceptions=True,
        )
        final = await client.request("GET", PATH)
        stale = {"metadata": {"resourceVersion": "1", "annotations": {"late": "yes"}}}
        with pytest.raises(Conflict):
            await client.request(
                "PATCH", PATH, body=stale, content_type="application/merge-patch+json"
            )
        return results, final


def test_concurrent_patches_all_land() -> None:
    with running_cluster(controller_manager=False, scheduler=False) as cluster:
        results, final = asyncio.run(race(cluster.admin_kubeconfig))
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert set(final["metadata"]["annotations"]) == {f"writer-{i}" for i in range(12)}
