"""The informer lists, watches, resumes, relists after errors, and reports deletions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

from kubeward.api.resources.certificates import CERTIFICATE_SIGNING_REQUESTS
from kubeward.api.scheme import ResourceType
from kubeward.client.api import APIClient, WatchEvent
from kubeward.controllers.informer import Informer
from kubeward.controllers.sources import ClientSource
from kubeward.errors import Gone, ServiceUnavailable, StatusError


def obj(name: str, rv: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "resourceVersion": rv}}


class ScriptedClient:
    """Answers lists and watches from scripts; records the resourceVersions watched from."""

    def __init__(
        self, lists: list[dict[str, Any]], watches: list[list[WatchEvent] | StatusError]
    ) -> None:
        self.lists = lists
        self.watches = watches
        self.watched_from: list[str] = []

    async def list(
        self, rt: ResourceType, namespace: str = "", params: Any = None
    ) -> dict[str, Any]:
        return self.lists.pop(0)

    async def watch(
        self,
        rt: ResourceType,
        namespace: str = "",
        *,
        resource_version: str = "",
        timeout_seconds: int = 300,
    ) -> AsyncIterator[WatchEvent]:
        self.watched_from.append(resource_version)
        if not self.watches:
            await asyncio.Event().wait()
        step = self.watches.pop(0)
        if isinstance(step, StatusError):
            raise step
        for event in step:
            yield event


def run_informer(client: ScriptedClient, until: int) -> tuple[list[tuple[str, bool]], Informer]:
    seen: list[tuple[str, bool]] = []

    async def scenario() -> Informer:
        informer = Informer(
            ClientSource(cast(APIClient, client), CERTIFICATE_SIGNING_REQUESTS), resync=3600
        )
        informer.add_listener(lambda key, o: seen.append((key, o is not None)))
        task = asyncio.create_task(informer.run())
        for _ in range(2000):
            if len(client.watched_from) >= until:
                break
            await asyncio.sleep(0.005)
        task.cancel()
        return informer

    informer = asyncio.run(scenario())
    return seen, informer


def test_watch_resumes_from_the_last_resource_version() -> None:
    client = ScriptedClient(
        [{"metadata": {"resourceVersion": "10"}, "items": [obj("a", "9")]}],
        [[WatchEvent("ADDED", obj("b", "11")), WatchEvent("BOOKMARK", obj("", "12"))], []],
    )
    seen, informer = run_informer(client, until=3)
    assert client.watched_from[:3] == ["10", "12", "12"]
    assert seen == [("a", True), ("b", True)]
    assert sorted(informer.cache) == ["a", "b"]


def test_relists_after_gone_and_reports_what_vanished() -> None:
    client = ScriptedClient(
        [
            {"metadata": {"resourceVersion": "10"}, "items": [obj("a", "9"), obj("b", "9")]},
            {"metadata": {"resourceVersion": "20"}, "items": [obj("b", "19")]},
        ],
        [Gone("too old resource version")],
    )
    seen, informer = run_informer(client, until=2)
    assert client.watched_from[:2] == ["10", "20"]
    assert ("a", False) in seen
    assert sorted(informer.cache) == ["b"]


def test_survives_an_unreachable_server() -> None:
    client = ScriptedClient(
        [
            {"metadata": {"resourceVersion": "10"}, "items": []},
            {"metadata": {"resourceVersion": "30"}, "items": [obj("c", "29")]},
        ],
        [ServiceUnavailable("connection refused")],
    )
    seen, informer = run_informer(client, until=2)
    assert client.watched_from[:2] == ["10", "30"]
    assert informer.cache.keys() == {"c"}
    assert seen == [("c", True)]
