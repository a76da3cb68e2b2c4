"""ControllerRevision history: names, renumbering on rollback, hash collisions, truncation."""

from __future__ import annotations

import asyncio
import copy
from typing import Any, cast

from kubeward.api.resources.apps_sets import STATEFULSETS
from kubeward.client.api import APIClient
from kubeward.controllers import history
from kubeward.errors import AlreadyExists


def owner(image: str = "nginx:1") -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "ns", "uid": "u"},
        "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {"image": image}}},
        "status": {},
    }


class Revisions:
    """Creates revisions; a name in ``taken`` answers AlreadyExists with other data."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self.taken = taken or set()
        self.created: list[dict[str, Any]] = []
        self.updated: list[dict[str, Any]] = []

    async def create(self, rt: Any, obj: dict[str, Any], namespace: str = "") -> Any:
        if obj["metadata"]["name"] in self.taken:
            raise AlreadyExists("exists")
        self.created.append(obj)
        return copy.deepcopy(obj)

    async def get(self, rt: Any, name: str, namespace: str = "") -> Any:
        return {"metadata": {"name": name}, "data": {"other": True}}

    async def update(self, rt: Any, obj: dict[str, Any], **_: Any) -> Any:
        self.updated.append(obj)
        return copy.deepcopy(obj)


def sync(client: Revisions, obj: dict[str, Any], existing: list[dict[str, Any]]) -> Any:
    return asyncio.run(history.sync_revisions(cast(APIClient, client), obj, STATEFULSETS, existing))


def test_a_revision_is_named_by_the_hash_of_its_data() -> None:
    made = history.new_revision(owner(), STATEFULSETS, 1, None)
    digest = made["metadata"]["labels"]["controller-revision-hash"]
    assert made["metadata"]["name"] == f"web-{digest}"
    assert made["metadata"]["labels"]["app"] == "web"
    assert made["data"]["spec"]["template"]["$patch"] == "replace"
    assert history.template_of(made) == owner()["spec"]["template"]
    other = history.new_revision(owner("nginx:2"), STATEFULSETS, 1, None)
    assert other["metadata"]["name"] != made["metadata"]["name"]


def test_a_rollback_renumbers_the_equal_revision() -> None:
    first = history.new_revision(owner(), STATEFULSETS, 1, None)
    second = history.new_revision(owner("nginx:2"), STATEFULSETS, 2, None)
    client = Revisions()
    _, update, collisions, _ = sync(client, owner(), [first, second])
    assert client.created == []
    assert [(r["metadata"]["name"], r["revision"]) for r in client.updated] == [
        (first["metadata"]["name"], 3)
    ]
    assert update["revision"] == 3
    assert collisions is None


def test_a_hash_collision_raises_the_collision_count() -> None:
    taken = history.new_revision(owner(), STATEFULSETS, 1, None)["metadata"]["name"]
    client = Revisions({taken})
    _, update, collisions, _ = sync(client, owner(), [])
    assert collisions == 1
    assert update["metadata"]["name"] != taken
    assert update["metadata"]["name"] == client.created[0]["metadata"]["name"]


def test_unused_revisions_beyond_the_limit_go_oldest_first() -> None:
    revisions = [
        history.new_revision(owner(f"nginx:{i}"), STATEFULSETS, i, None) for i in range(1, 5)
    ]
    live = {revisions[3]["metadata"]["name"]}
    doomed = history.surplus(revisions, live, 1)
    assert [r["revision"] for r in doomed] == [1, 2]
