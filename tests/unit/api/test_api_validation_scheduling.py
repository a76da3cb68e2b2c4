"""scheduling.k8s.io/v1 PriorityClass validation and the system classes, as upstream's."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubeward.api.registry.store import Store
from kubeward.api.resources.scheduling import (
    PRIORITY_CLASSES,
    PriorityClassStrategy,
    ensure_system_priority_classes,
)
from kubeward.api.validation import scheduling
from kubeward.errors import Forbidden
from kubeward.storage.memory import MemoryBackend


def _pc(name: str, value: int, **extra: Any) -> dict[str, Any]:
    obj = {"metadata": {"name": name}, "value": value, **extra}
    scheduling.default_priority_class(obj)
    return obj


CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("user class", _pc("high", 1000), []),
    ("highest user value", _pc("top", 1_000_000_000), []),
    (
        "value too high",
        _pc("toohigh", 1_000_000_001),
        [("value", "Forbidden: maximum allowed value of a user defined priority is 1000000000")],
    ),
    ("system node critical", _pc("system-node-critical", 2000001000), []),
    ("system cluster critical", _pc("system-cluster-critical", 2000000000), []),
    (
        "unknown system name",
        _pc("system-mine", 10),
        [
            (
                "metadata.name",
                "Forbidden: priority class names with 'system-' prefix are reserved "
                "for system use only. error: system-mine is not a known system priority class",
            )
        ],
    ),
    (
        "system class with another value",
        _pc("system-node-critical", 5),
        [
            (
                "metadata.name",
                "Forbidden: priority class names with 'system-' prefix are reserved "
                "for system use only. error: value of system-node-critical PriorityClass must be "
                "2000001000",
            )
        ],
    ),
    (
        "system class as global default",
        _pc("system-cluster-critical", 2000000000, globalDefault=True),
        [
            (
                "metadata.name",
                "Forbidden: priority class names with 'system-' prefix are reserved "
                "for system use only. error: globalDefault of system-cluster-critical PriorityClass must "
                "be false",
            )
        ],
    ),
    (
        "preemption policy",
        _pc("low", 1, preemptionPolicy="Sometimes"),
        [
            (
                "preemptionPolicy",
                'Unsupported value: "Sometimes": supported values: "Never", "PreemptLowerPriority"',
            )
        ],
    ),
]


@pytest.mark.parametrize(("obj", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_priority_class_validation(obj: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [(c.field, c.message) for c in scheduling.validate_priority_class(obj)] == expected


def test_defaults_and_update_rules() -> None:
    obj = {"metadata": {"name": "x"}}
    scheduling.default_priority_class(obj)
    assert obj == {
        "metadata": {"name": "x"},
        "value": 0,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    old = _pc("high", 1000)
    changed = {**old, "value": 2000, "preemptionPolicy": "Never"}
    assert [
        (c.field, c.message) for c in scheduling.validate_priority_class_update(changed, old)
    ] == [
        ("value", "Forbidden: may not be changed in an update."),
        ("preemptionPolicy", 'Invalid value: "Never": field is immutable'),
    ]
    assert scheduling.validate_priority_class_update({**old, "description": "d"}, old) == []


def test_system_classes_are_made_once_and_cannot_be_deleted() -> None:
    async def scenario() -> None:
        backend = MemoryBackend()
        await backend.start()
        store = Store(PRIORITY_CLASSES, PriorityClassStrategy(PRIORITY_CLASSES), backend)
        stores = {PRIORITY_CLASSES: store}
        assert await ensure_system_priority_classes(stores) == 2
        assert await ensure_system_priority_classes(stores) == 0
        node = await store.get("", "system-node-critical")
        assert node["value"] == 2000001000
        assert node["preemptionPolicy"] == "PreemptLowerPriority"
        with pytest.raises(Forbidden) as refused:
            await store.delete("", "system-node-critical")
        assert refused.value.message == (
            'priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a '
            "system priority class and cannot be deleted"
        )
        await store.get("", "system-node-critical")
        await store.create("", _pc("mine", 5))
        await store.delete("", "mine")
        await backend.close()

    asyncio.run(scenario())
