"""The admission chain bound to one request: two phases, fresh requests, shared warnings."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubeward.admission.chain import AdmissionChain
from kubeward.admission.interfaces import AdmissionRequest, ObjectReader
from kubeward.api.user import UserInfo
from kubeward.errors import Forbidden


class NoReader:
    async def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return None

    async def list(self, resource: str, namespace: str) -> list[dict[str, Any]]:
        return []


class Labeller:
    name = "Labeller"

    def __init__(self, seen: list[AdmissionRequest]) -> None:
        self.seen = seen

    async def admit(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        self.seen.append(request)
        request.object.setdefault("metadata", {}).setdefault("labels", {})["admitted"] = "yes"
        request.warnings.append("labelled")


class Refuser:
    name = "Refuser"

    def __init__(self, seen: list[AdmissionRequest]) -> None:
        self.seen = seen

    async def validate(self, request: AdmissionRequest, reader: ObjectReader) -> None:
        self.seen.append(request)
        if request.name == "refused":
            raise Forbidden("refused by the test")


def template(warnings: list[str], name: str = "") -> AdmissionRequest:
    return AdmissionRequest(
        "CREATE",
        "",
        "configmaps",
        "ConfigMap",
        "",
        "default",
        name,
        UserInfo("jane"),
        {},
        warnings=warnings,
        verb="create",
        options={"kind": "CreateOptions"},
    )


def test_each_phase_runs_its_plugins_on_the_object_of_that_moment() -> None:
    seen: list[AdmissionRequest] = []
    warnings: list[str] = []
    bound = AdmissionChain((Labeller(seen),), (Refuser(seen),)).bind(template(warnings), NoReader())
    obj: dict[str, Any] = {"metadata": {"name": "cm"}}

    asyncio.run(bound.mutate(obj, None))
    assert obj["metadata"]["labels"] == {"admitted": "yes"}
    stored = {"metadata": {"name": "cm", "uid": "1"}}
    asyncio.run(bound.validate(stored, None))

    mutated, validated = seen
    assert mutated.object is obj and validated.object is stored
    assert (mutated.name, validated.name) == ("cm", "cm")
    assert (validated.verb, validated.options, validated.user.name) == (
        "create",
        {"kind": "CreateOptions"},
        "jane",
    )
    assert warnings == ["labelled"]


def test_a_validating_refusal_raises_and_the_name_comes_from_the_url_when_the_object_has_none() -> (
    None
):
    seen: list[AdmissionRequest] = []
    bound = AdmissionChain((), (Refuser(seen),)).bind(template([], name="refused"), NoReader())
    with pytest.raises(Forbidden, match="refused by the test"):
        asyncio.run(bound.validate({"metadata": {}}, {"metadata": {}}))
    assert seen[0].name == "refused"


def test_names_follow_the_given_order_or_mutating_first() -> None:
    seen: list[AdmissionRequest] = []
    assert AdmissionChain((Labeller(seen),), (Refuser(seen),)).names == ("Labeller", "Refuser")
    ordered = AdmissionChain((Labeller(seen),), (Refuser(seen),), ("Refuser", "Labeller"))
    assert ordered.names == ("Refuser", "Labeller")
