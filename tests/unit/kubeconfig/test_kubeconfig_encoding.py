"""kubeconfig text: go-yaml v2 key order and quoting, Go JSON escaping, YAML errors as one line."""

from __future__ import annotations

import pytest

from kubeward.errors import InputError
from kubeward.kubeconfig.encoding import dump_json, dump_yaml, parse_yaml


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["b", "a"], ["a", "b"]),
        (["a10", "a9"], ["a9", "a10"]),
        (["as-groups", "as"], ["as", "as-groups"]),
        (["ab", "a_b", "a-b"], ["a-b", "a_b", "ab"]),
        (["aB", "A", "ab"], ["A", "aB", "ab"]),
        (["tokenFile", "token", "tls-server-name"], ["tls-server-name", "token", "tokenFile"]),
    ],
    ids=["plain", "digit-runs-numeric", "prefix-first", "non-letter-before-letter", "case", "kc"],
)
def test_kubeconfig_yaml_sorts_keys_like_go_yaml(keys: list[str], expected: list[str]) -> None:
    text = dump_yaml({k: 1 for k in keys}).decode()
    assert [line.split(":")[0] for line in text.splitlines()] == expected


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("plain", "plain"),
        ("https://a:6443", "https://a:6443"),
        ("", '""'),
        ("true", '"true"'),
        ("y", '"y"'),
        ("off", '"off"'),
        ("null", '"null"'),
        ("~", '"~"'),
        ("0755", '"0755"'),
        ("1e3", '"1e3"'),
        (".5", '".5"'),
        ("0x1F", '"0x1F"'),
        ("1_000", '"1_000"'),
        ("2024-01-01", '"2024-01-01"'),
        ("1:20", '"1:20"'),
        ("<<", "<<"),
        ("#hash", "'#hash'"),
        ("a: b", "'a: b'"),
        ("'quote", "'''quote'"),
        ("trailing ", "'trailing '"),
        ("ünïcode", "ünïcode"),
    ],
    ids=lambda v: repr(v),
)
def test_kubeconfig_yaml_quotes_strings_like_go_yaml(value: str, written: str) -> None:
    assert dump_yaml({"k": value}).decode() == f"k: {written}\n"


def test_kubeconfig_yaml_uses_literal_blocks_and_wraps_at_80() -> None:
    text = dump_yaml({"a": "one\ntwo", "b": " ".join(["word"] * 30)}).decode()
    assert text.startswith("a: |-\n  one\n  two\nb: word")
    assert max(len(line) for line in text.splitlines()) <= 82


def test_kubeconfig_yaml_writes_other_scalars_plainly() -> None:
    text = dump_yaml({"a": [1, 2.5, True, None], "b": {}}).decode()
    assert text == "a:\n- 1\n- 2.5\n- true\n- null\nb: {}\n"


def test_kubeconfig_json_escapes_like_go() -> None:
    text = dump_json({"k": "<a&b> é \u2028"}).decode()
    assert text == '{\n    "k": "\\u003ca\\u0026b\\u003e é \\u2028"\n}\n'


def test_kubeconfig_parse_keeps_dates_as_strings() -> None:
    assert parse_yaml(b"token: 2024-01-01\n", "f") == {"token": "2024-01-01"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"garbage: [\n", "f: not valid YAML at line 2"),
        (b"a: b\n  c: d\n", "f: not valid YAML at line 2"),
        (b"\xff\xfe\x00", "f: not UTF-8 text"),
    ],
    ids=["unclosed-flow", "bad-indent", "binary"],
)
def test_kubeconfig_parse_errors_are_one_line(data: bytes, message: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_yaml(data, "f")
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)
