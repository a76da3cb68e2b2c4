"""DELETE's propagation policy: the garbage collector's finalizers, set by the store."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubeward.api.registry.propagation import Propagation
from kubeward.api.registry.store import Store
from kubeward.api.resources import build_scheme
from kubeward.api.resources.core import CONFIGMAPS
from kubeward.errors import Invalid
from kubeward.storage.memory import MemoryBackend


@pytest.mark.parametrize(
    ("options", "current", "expected"),
    [
        ({"propagationPolicy": "Orphan"}, [], ["orphan"]),
        ({"propagationPolicy": "Foreground"}, ["orphan", "x"], ["x", "foregroundDeletion"]),
        ({"propagationPolicy": "Background"}, ["orphan"], []),
        ({"orphanDependents": True}, [], ["orphan"]),
        ({"orphanDependents": False}, ["orphan"], []),
        ({}, ["foregroundDeletion"], ["foregroundDeletion"]),
        ({}, ["x"], ["x"]),
    ],
    ids=[
        "orphan",
        "foreground-replaces",
        "background-clears",
        "orphan-deprecated",
        "not-orphan-deprecated",
        "kept-by-finalizer",
        "default-background",
    ],
)
def test_finalizers(options: dict[str, Any], current: list[str], expected: list[str]) -> None:
    assert Propagation.from_options(options).finalizers(current) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"propagationPolicy": "Sideways"}, 'propagationPolicy: Unsupported value: "Sideways"'),
        (
            {"propagationPolicy": "Orphan", "orphanDependents": True},
            "orphanDependents and deletionPropagation cannot be both set",
        ),
    ],
)
def test_bad_options_are_invalid(options: dict[str, Any], message: str) -> None:
    with pytest.raises(Invalid, match=message):
        Propagation.from_options(options)


def test_orphan_and_foreground_mark_the_object_instead_of_deleting_it() -> None:
    async def scenario() -> None:
        _, strategies = build_scheme()
        backend = MemoryBackend()
        await backend.start()
        store = Store(CONFIGMAPS, strategies[CONFIGMAPS], backend)
        await store.create("ns", {"metadata": {"name": "a"}, "data": {}})
        obj, now = await store.delete("ns", "a", propagation=Propagation("Orphan"))
        assert not now
        assert obj["metadata"]["finalizers"] == ["orphan"]
        assert obj["metadata"]["deletionTimestamp"]
        # A second DELETE asking Foreground swaps the finalizer on the marked object.
        obj, now = await store.delete("ns", "a", propagation=Propagation("Foreground"))
        assert not now and obj["metadata"]["finalizers"] == ["foregroundDeletion"]
        # Background clears the collector's finalizers: the deletion completes.
        _, now = await store.delete("ns", "a", propagation=Propagation("Background"))
        assert now
        await backend.close()

    asyncio.run(scenario())
