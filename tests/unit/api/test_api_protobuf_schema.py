"""Consistency of the protobuf schema tables: every reference resolves, nothing is ambiguous."""

from __future__ import annotations

import pytest

from kubeward.api.protobuf.kinds import MESSAGES, ROOTS
from kubeward.api.protobuf.schema import Kind, Special


def test_every_nested_message_has_a_table() -> None:
    dangling = [
        f"{name} field {number} -> {field.message}"
        for name, table in MESSAGES.items()
        for number, field in table.items()
        if isinstance(field.message, str) and field.message and field.message not in MESSAGES
    ]
    assert dangling == []


def test_every_table_is_reachable_from_a_root() -> None:
    seen: set[str] = set()
    pending = list(ROOTS.values())
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(
            field.message
            for field in MESSAGES[name].values()
            if isinstance(field.message, str) and field.message
        )
    assert sorted(set(MESSAGES) - seen) == []


@pytest.mark.parametrize(("api_version", "kind"), sorted(ROOTS))
def test_every_root_has_metadata_as_field_1(api_version: str, kind: str) -> None:
    table = MESSAGES[ROOTS[(api_version, kind)]]
    assert table[1].json == "metadata"
    assert table[1].message == "meta.ObjectMeta"


def test_json_names_are_unique_within_a_message() -> None:
    duplicated = {}
    for name, table in MESSAGES.items():
        names = [field.json for field in table.values() if not field.inline]
        if len(names) != len(set(names)):
            duplicated[name] = names
    assert duplicated == {}


def test_field_flags_are_coherent() -> None:
    problems = []
    for name, table in MESSAGES.items():
        for number, field in table.items():
            where = f"{name}.{field.json}"
            if not 0 < number < 2**29:
                problems.append(f"{where}: field number {number}")
            if field.repeated and field.is_map:
                problems.append(f"{where}: both repeated and a map")
            if field.inline and (field.kind is not Kind.MESSAGE or field.repeated):
                problems.append(f"{where}: only a single message can be inline")
            if field.kind is Kind.RAW:
                problems.append(f"{where}: raw bytes never reach the output")
            if (field.kind is Kind.MESSAGE) != bool(field.message):
                problems.append(f"{where}: message type and kind disagree")
    assert problems == []


def test_every_special_scalar_is_used() -> None:
    used = {
        field.message
        for table in MESSAGES.values()
        for field in table.values()
        if isinstance(field.message, Special)
    }
    assert used == set(Special)
