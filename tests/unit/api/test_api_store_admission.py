"""The order of a write in the generic store: mutating admission, strategy, checks, validating.

Fakes only kubeward's own seams: a recording ``WriteAdmission`` and write check over the
in-memory backend (``api.registry.scope`` states the rules tested here).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kubeward.api.registry.scope import RequestScope
from kubeward.api.registry.store import ListOptions, Store
from kubeward.api.resources import build_scheme
from kubeward.api.resources.core import CONFIGMAPS, PODS
from kubeward.api.user import UserInfo
from kubeward.errors import Forbidden, Invalid
from kubeward.storage.memory import MemoryBackend

SCOPE = RequestScope(UserInfo("jane"), verb="update")
BAD_LABEL = {"bad label": "x"}  # a label key with a space: metadata.labels is invalid


class Recorder:
    """A WriteAdmission that logs what each phase saw and can change or refuse it."""

    def __init__(
        self,
        log: list[str],
        *,
        on_mutate: Callable[[dict[str, Any]], Awaitable[None] | None] | None = None,
        refuse: str = "",
    ) -> None:
        self.log = log
        self.on_mutate = on_mutate
        self.refuse = refuse
        self.seen: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []

    async def mutate(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        self.log.append("mutate")
        self.seen.append(("mutate", copy.deepcopy(obj), old))
        if self.on_mutate is not None:
            result = self.on_mutate(obj)
            if result is not None:
                await result

    async def validate(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        self.log.append("validate")
        self.seen.append(("validate", copy.deepcopy(obj), old))
        if self.refuse and obj["metadata"].get("name") == self.refuse:
            raise Forbidden(f"{self.refuse} refused by the test")


def run(coro: Awaitable[Any]) -> Any:
    async def go() -> Any:
        return await coro

    return asyncio.run(go())


async def stores() -> dict[Any, Store]:
    backend = MemoryBackend()
    await backend.start()
    scheme, strategies = build_scheme()
    return {rt: Store(rt, strategies[rt], backend) for rt in scheme if rt.stored}


def pod(name: str = "web") -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def label(labels: dict[str, str]) -> Callable[[dict[str, Any]], None]:
    def add(obj: dict[str, Any]) -> None:
        obj.setdefault("metadata", {}).setdefault("labels", {}).update(labels)

    return add


def test_create_mutates_before_defaults_and_validates_what_is_stored() -> None:
    async def go() -> Recorder:
        s = await stores()
        log: list[str] = []
        admission = Recorder(log, on_mutate=label({"admitted": "yes"}))
        created = await s[PODS].create("default", pod(), scope=SCOPE, admission=admission)
        assert created["metadata"]["labels"] == {"admitted": "yes"}
        assert log == ["mutate", "validate"]
        return admission

    admission = run(go())
    (_, mutated, _), (_, validated, old) = admission.seen
    assert "restartPolicy" not in mutated["spec"] and "uid" not in mutated["metadata"]
    assert validated["spec"]["restartPolicy"] == "Always" and validated["metadata"]["uid"]
    assert validated["metadata"]["labels"] == {"admitted": "yes"} and old is None


@pytest.mark.parametrize("verb", ["create", "update", "patch"])
def test_a_mutating_change_is_validated_on_create_update_and_patch(verb: str) -> None:
    async def go() -> list[str]:
        s = await stores()
        store = s[CONFIGMAPS]
        log: list[str] = []
        admission = Recorder(log, on_mutate=label(BAD_LABEL))
        cm = {"metadata": {"name": "cm"}, "data": {"k": "v"}}
        if verb != "create":
            await store.create("default", cm)
        with pytest.raises(Invalid, match=r"metadata\.labels"):
            if verb == "create":
                await store.create("default", cm, scope=SCOPE, admission=admission)
            elif verb == "update":
                await store.update("default", "cm", cm, scope=SCOPE, admission=admission)
            else:
                await store.guaranteed_update(
                    "default", "cm", lambda o: o, scope=SCOPE, admission=admission
                )
        listed = await store.list("default", ListOptions())
        assert all(not item["metadata"].get("labels") for item in listed["items"])
        return log

    assert run(go()) == ["mutate"]  # validation refused it: validating admission never ran


def test_update_runs_mutate_then_strategy_then_validate_with_the_old_object() -> None:
    async def go() -> Recorder:
        s = await stores()
        store = s[CONFIGMAPS]
        await store.create("default", {"metadata": {"name": "cm"}, "data": {"k": "v"}})
        admission = Recorder([], on_mutate=label({"admitted": "yes"}))
        updated = await store.update(
            "default",
            "cm",
            {"metadata": {"name": "cm"}, "data": {"k": "2"}},
            scope=SCOPE,
            admission=admission,
        )
        assert updated["metadata"]["labels"] == {"admitted": "yes"}
        return admission

    admission = run(go())
    (_, mutated, old_m), (_, validated, old_v) = admission.seen
    assert "uid" not in mutated["metadata"] and validated["metadata"]["uid"]
    assert old_m is not None and old_m["data"] == {"k": "v"} and old_v is old_m


def test_a_validating_refusal_stores_nothing() -> None:
    async def go() -> None:
        s = await stores()
        store = s[CONFIGMAPS]
        refuse = Recorder([], refuse="cm")
        with pytest.raises(Forbidden):
            await store.create(
                "default", {"metadata": {"name": "cm"}}, scope=SCOPE, admission=refuse
            )
        assert (await store.list("default", ListOptions()))["items"] == []
        await store.create("default", {"metadata": {"name": "cm"}, "data": {"k": "v"}})
        with pytest.raises(Forbidden):
            await store.update(
                "default", "cm", {"metadata": {"name": "cm"}, "data": {"k": "2"}}, admission=refuse
            )
        with pytest.raises(Forbidden):
            await store.delete("default", "cm", admission=refuse)
        assert (await store.get("default", "cm"))["data"] == {"k": "v"}

    run(go())


def test_delete_admits_the_stored_object_as_object_and_old() -> None:
    async def go() -> Recorder:
        s = await stores()
        store = s[CONFIGMAPS]
        await store.create("default", {"metadata": {"name": "cm"}, "data": {"k": "v"}})
        admission = Recorder([])
        await store.delete("default", "cm", admission=admission)
        return admission

    (_, mutated, old_m), (_, validated, old_v) = run(go()).seen
    assert mutated["data"] == validated["data"] == {"k": "v"}
    assert old_m is not None and old_v is not None and old_m["metadata"]["name"] == "cm"


def test_guaranteed_update_runs_admission_again_on_each_retry() -> None:
    async def go() -> tuple[list[str], dict[str, Any]]:
        s = await stores()
        store = s[CONFIGMAPS]
        await store.create("default", {"metadata": {"name": "cm"}, "data": {"n": "0"}})
        log: list[str] = []
        raced = [False]

        async def race_once(obj: dict[str, Any]) -> None:
            if not raced[0]:  # another writer wins between our read and our write
                raced[0] = True
                await store.guaranteed_update(
                    "default", "cm", lambda o: {**o, "data": {"n": "other"}}
                )

        def add_mine(current: dict[str, Any]) -> dict[str, Any]:
            # Unconditional: without the resourceVersion read, a lost race is retried.
            current["metadata"].pop("resourceVersion")
            return {**current, "data": {**current["data"], "mine": "yes"}}

        admission = Recorder(log, on_mutate=race_once)
        result = await store.guaranteed_update(
            "default", "cm", add_mine, scope=SCOPE, admission=admission
        )
        return log, result

    log, result = run(go())
    assert log == ["mutate", "validate", "mutate", "validate"]
    assert result["data"] == {"n": "other", "mine": "yes"}


def test_write_checks_get_the_scope_and_skip_the_servers_own_writes() -> None:
    async def go() -> list[tuple[str, str, str, bool]]:
        s = await stores()
        store = s[CONFIGMAPS]
        calls: list[tuple[str, str, str, bool]] = []

        async def check(
            scope: RequestScope, namespace: str, new: dict[str, Any], old: dict[str, Any] | None
        ) -> None:
            calls.append((scope.user.name, namespace, new["metadata"]["name"], old is None))
            if new.get("data") == {"k": "forbidden"}:
                raise Forbidden("check refused")

        store.write_checks.append(check)
        await store.create("default", {"metadata": {"name": "internal"}})
        await store.create("default", {"metadata": {"name": "cm"}}, scope=SCOPE)
        with pytest.raises(Forbidden, match="check refused"):
            await store.update(
                "default",
                "cm",
                {"metadata": {"name": "cm"}, "data": {"k": "forbidden"}},
                scope=SCOPE,
            )
        return calls

    assert run(go()) == [("jane", "default", "cm", True), ("jane", "default", "cm", False)]
