"""YAML bodies to JSON values: JSON's types only, go-yaml's alias bound, size, depth."""

from __future__ import annotations

from typing import Any

import pytest

from kubeward.api.yaml_decoder import WITH_LIBYAML, allowed_alias_ratio, decode_yaml
from kubeward.errors import BadRequest, RequestEntityTooLarge

MIB = 1024 * 1024


def decode(text: str | bytes, *, max_bytes: int = 3 * MIB, max_depth: int = 100) -> Any:
    body = text.encode() if isinstance(text, str) else text
    return decode_yaml(body, max_depth=max_depth, max_bytes=max_bytes)


def billion_laughs(levels: int) -> str:
    names = "abcdefghijklmnop"
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*{names[i - 1]}"] * 9)
        lines.append(f"{names[i]}: &{names[i]} [{refs}]")
    return "\n".join(lines) + "\n"


def test_the_installed_wheel_has_the_c_parser() -> None:
    assert WITH_LIBYAML


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: 1\nb: 1.5\nc: yes\nd: ~\ne: text\nf: '1'",
            {"a": 1, "b": 1.5, "c": True, "d": None, "e": "text", "f": "1"},
        ),
        ("a: 0x1F\nb: 1_000\nc: 017\nd: 190:20:30", {"a": 31, "b": 1000, "c": 15, "d": 685230}),
        (
            "a: 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00",
            {"a": "2001-12-14", "b": "2001-12-14t21:59:43.10-05:00"},
        ),
        (
            "a: !!str 1\nb: !!int '7'\nc: !!float '2'\nd: !!bool 'true'\ne: !!null ''",
            {"a": "1", "b": 7, "c": 2.0, "d": True, "e": None},
        ),
        ("a: ! 12", {"a": "12"}),
        ("1: a\ntrue: b\n~: c\n1.5: d", {"1": "a", "true": "b", "null": "c", "1.5": "d"}),
        ("- a\n- [1, {b: c}]", ["a", [1, {"b": "c"}]]),
        ("", None),
        ("a: =", {"a": "="}),
        ("n: -9223372036854775808\nm: 9223372036854775807", {"n": -(2**63), "m": 2**63 - 1}),
    ],
    ids=[
        "plain",
        "yaml11-ints",
        "timestamps-stay-strings",
        "explicit-core-tags",
        "non-specific-tag",
        "scalar-keys",
        "nesting",
        "empty",
        "value-tag",
        "int64-bounds",
    ],
)
def test_values(text: str, expected: Any) -> None:
    assert decode(text) == expected


def test_merge_keys_follow_yaml_11() -> None:
    text = (
        "base: &base {a: 1, b: 1}\nother: &other {b: 2, c: 2}\nm:\n  <<: [*base, *other]\n  a: 0\n"
    )
    assert decode(text)["m"] == {"a": 0, "b": 1, "c": 2}


def test_aliases_are_copies() -> None:
    value = decode("a: &x {k: [1]}\nb: *x\n")
    assert value == {"a": {"k": [1]}, "b": {"k": [1]}}
    value["a"]["k"].append(2)
    assert value["b"] == {"k": [1]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!binary aGk=", "tag !!binary is not allowed"),
        ("a: !!set {x, y}", "tag !!set is not allowed"),
        ("a: !!timestamp 2001-12-14", "tag !!timestamp is not allowed"),
        ("a: !!omap [{x: 1}]", "tag !!omap is not allowed"),
        ("a: !!python/object:os.system [ls]", "python/object:os.system is not allowed"),
        ("a: !local x", "tag !local is not allowed"),
        ("a: 9223372036854775808", "does not fit in 64 bits"),
        ("a: -9223372036854775809", "does not fit in 64 bits"),
        ("a: " + "7" * 5000, "does not fit in 64 bits"),
        ("a: .inf", "not a finite number"),
        ("a: .nan", "not a finite number"),
        ("a: !!int x", "cannot read 'x' as int"),
        ("? [a]\n: b", "a mapping key must be a scalar"),
        ("a: &x [*x]", "unknown anchor"),
        ("a: *nowhere", "unknown anchor 'nowhere'"),
        ("a: 1\n---\nb: 2", "expected a single document"),
        ("m:\n  <<: [1, 2]", "a << merge needs a mapping"),
        ("a: [", "not valid YAML"),
    ],
    ids=[
        "binary",
        "set",
        "timestamp",
        "omap",
        "python",
        "local",
        "int64-max+1",
        "int64-min-1",
        "5000-digits",
        "inf",
        "nan",
        "bad-int",
        "complex-key",
        "self-alias",
        "undefined-alias",
        "two-documents",
        "bad-merge",
        "syntax",
    ],
)
def test_refused(text: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        decode(text)


def test_the_alias_bomb_is_excessive_aliasing() -> None:
    bomb = billion_laughs(9)
    assert len(bomb) < 400
    with pytest.raises(BadRequest, match="document contains excessive aliasing"):
        decode(bomb)


def test_moderate_aliasing_is_fine() -> None:
    text = "a: &a {x: 1, y: 2}\n" + "".join(f"b{i}: *a\n" for i in range(50))
    assert len(decode(text)) == 51


def test_alias_ratio_scale_is_go_yamls() -> None:
    assert allowed_alias_ratio(1000) == 0.99
    assert allowed_alias_ratio(400_000) == 0.99
    assert allowed_alias_ratio(4_000_000) == 0.10
    assert allowed_alias_ratio(2_200_000) == pytest.approx(0.545)


def test_expansion_past_the_size_limit_is_413() -> None:
    big = "x" * 10_000
    text = f"a: &a {big}\n" + "".join(f"b{i}: *a\n" for i in range(20))
    assert len(decode(text, max_bytes=300_000)) == 21
    with pytest.raises(RequestEntityTooLarge, match="expands to more than 100000 bytes"):
        decode(text, max_bytes=100_000)


@pytest.mark.parametrize(
    "body",
    [b"[" * 1_000_000, b"a: " + b"{a: " * 10_000, b"- " * 10_000 + b"x"],
    ids=["flow-sequences", "flow-mappings", "block-sequences"],
)
def test_depth_is_refused_as_soon_as_it_is_reached(body: bytes) -> None:
    with pytest.raises(BadRequest, match="exceeded max depth of 100"):
        decode(body)


def test_depth_at_the_limit_is_fine() -> None:
    assert decode("[" * 100 + "]" * 100) is not None
    with pytest.raises(BadRequest, match="exceeded max depth of 100"):
        decode("[" * 101 + "]" * 101)


def test_yaml_errors_do_not_leak_past_the_decoder() -> None:
    with pytest.raises(BadRequest) as caught:
        decode(b"\xff\xfe\x00 not utf")
    assert caught.value.code == 400


def test_aliases_cannot_nest_past_the_depth_limit() -> None:
    deep = "[" * 80 + "]" * 80
    text = f"a: &a {deep}\nb: &b [{'[' * 30}*a{']' * 30}]\n"
    with pytest.raises(BadRequest, match="exceeded max depth of 100"):
        decode(text)
    assert decode(f"a: &a {deep}\nb: [*a]\n")["b"]
