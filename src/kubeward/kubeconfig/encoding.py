"""Reading and writing kubeconfig text the way kubectl does.

kubectl reads YAML (or JSON) and writes YAML produced by ``sigs.k8s.io/yaml``: the object is
marshalled to JSON and re-emitted by go-yaml v2. Files kubeward writes and ``kubeward config view``
output are meant to be byte-for-byte what kubectl would write, so this module reproduces the parts
of that pipeline that show:

 1. Mapping keys are sorted the way go-yaml v2 sorts them (digit runs compare as numbers, and at the
    first difference a non-letter sorts before a letter), not by plain code point.
 2. A string that go-yaml would read back as something else (``"true"``, ``"y"``, ``"0755"``,
    ``""``, ``"null"``, a date, ...) is written double-quoted, as go-yaml does, so that kubectl
    reads back a string; other strings are plain when YAML allows it and single-quoted otherwise.
 3. Multi-line strings use the literal block style; long lines wrap at 80 columns (go-yaml's width).
 4. JSON output is Go's ``json.MarshalIndent`` with four spaces: ``<``, ``>``, ``&``, U+2028 and
    U+2029 are escaped and other non-ASCII text is kept as UTF-8.

Parsing keeps dates as strings (JSON has no dates, and neither does a kubeconfig) and wraps every
YAML error as one :class:`~kubeward.errors.InputError` line naming the file.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import yaml

from kubeward.errors import InputError


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: ``2024-01-01`` stays the string it is in JSON."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(data: bytes, source: str) -> Any:
    """Parse one YAML (or JSON) document; an empty document is ``None``.

    Raises:
        InputError: the text is not UTF-8 or not YAML, naming ``source`` and the line.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text (byte {exc.start})") from exc
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"{source}: not valid YAML{where}: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not valid YAML: {exc}") from exc


# --- go-yaml v2's key order -------------------------------------------------------------------


def _go_key_less(a: str, b: str) -> bool:
    """go-yaml v2 ``keyList.Less`` for two string keys."""
    for i in range(min(len(a), len(b))):
        if a[i] == b[i]:
            continue
        a_letter, b_letter = a[i].isalpha(), b[i].isalpha()
        if a_letter and b_letter:
            return a[i] < b[i]
        if a_letter or b_letter:
            return b_letter
        a_num = b_num = 0
        if a[i] == "0" or b[i] == "0":
            j = i - 1
            while j >= 0 and a[j].isdecimal():
                if a[j] != "0":
                    a_num = b_num = 1
                    break
                j -= 1
        a_end = i
        while a_end < len(a) and a[a_end].isdecimal():
            a_num = a_num * 10 + int(a[a_end])
            a_end += 1
        b_end = i
        while b_end < len(b) and b[b_end].isdecimal():
            b_num = b_num * 10 + int(b[b_end])
            b_end += 1
        if a_num != b_num:
            return a_num < b_num
        if a_end != b_end:
            return a_end < b_end
        return a[i] < b[i]
    return len(a) < len(b)


def _go_key_compare(a: str, b: str) -> int:
    if _go_key_less(a, b):
        return -1
    if _go_key_less(b, a):
        return 1
    return 0


_GO_KEY = functools.cmp_to_key(_go_key_compare)


def _jsonable(value: Any) -> Any:
    """The value as it looks after a trip through JSON: string keys, lists, plain scalars."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _sorted_for_yaml(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted_for_yaml(value[k]) for k in sorted(value, key=_GO_KEY)}
    if isinstance(value, list):
        return [_sorted_for_yaml(v) for v in value]
    return value


# --- go-yaml v2's idea of which plain scalars are not strings ----------------------------------

_GO_BOOL = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"
)
_GO_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_GO_INT = re.compile(r"^[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$")
_GO_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_GO_BASE60 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_GO_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$"
)


def _go_reads_as_non_string(text: str) -> bool:
    return any(
        pattern.match(text)
        for pattern in (_GO_BOOL, _GO_NULL, _GO_INT, _GO_FLOAT, _GO_BASE60, _GO_TIMESTAMP)
    )


GO_YAML_WIDTH = 80  # go-yaml v2 wraps long plain scalars at spaces past this column


class _GoResolver(yaml.resolver.BaseResolver):
    """Implicit types as go-yaml v2 resolves them, used only to decide quoting when writing."""


for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", _GO_BOOL, "yYnNtTfFoO"),
    ("tag:yaml.org,2002:null", _GO_NULL, ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", _GO_INT, "-+0123456789"),
    ("tag:yaml.org,2002:float", _GO_FLOAT, "-+.0123456789"),
    ("tag:yaml.org,2002:float", _GO_BASE60, "-+0123456789"),
    ("tag:yaml.org,2002:timestamp", _GO_TIMESTAMP, "0123456789"),
):
    _GoResolver.add_implicit_resolver(_tag, _pattern, list(_first))


class _Dumper(
    yaml.emitter.Emitter,
    yaml.serializer.Serializer,
    yaml.representer.SafeRepresenter,
    _GoResolver,
):
    """A SafeDumper whose quoting decisions follow go-yaml v2."""

    def __init__(self, stream: Any, **_ignored: Any) -> None:
        # Fixed settings rather than yaml.dump's arguments: go-yaml's layout is not optional.
        yaml.emitter.Emitter.__init__(self, stream, width=GO_YAML_WIDTH, allow_unicode=True)
        yaml.serializer.Serializer.__init__(self)
        yaml.representer.SafeRepresenter.__init__(self, default_flow_style=False, sort_keys=False)
        _GoResolver.__init__(self)


def _represent_str(dumper: yaml.representer.SafeRepresenter, text: str) -> yaml.ScalarNode:
    style: str | None = None
    if "\n" in text:
        style = "|"
    elif _go_reads_as_non_string(text):
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(value: Any) -> bytes:
    """YAML text as ``sigs.k8s.io/yaml`` writes it (see the module rules)."""
    ordered = _sorted_for_yaml(_jsonable(value))
    text = yaml.dump(ordered, Dumper=_Dumper)
    return text.encode("utf-8")


_GO_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_GO_JSON_ESCAPE_PATTERN = re.compile("[<>&\u2028\u2029]")


def dump_json(value: Any) -> bytes:
    """JSON text as Go's ``json.MarshalIndent(v, "", "    ")`` writes it, with a final newline.

    Key order is the order of ``value``'s dicts, except inside values that kubeconfig does not
    type (extensions, unknown fields), whose keys Go sorts byte-wise; the caller arranges that.
    """
    text = json.dumps(_jsonable(value), indent=4, ensure_ascii=False)
    # These characters can only occur inside JSON strings, so replacing them is safe.
    text = _GO_JSON_ESCAPE_PATTERN.sub(lambda m: _GO_JSON_ESCAPES[m.group(0)], text)
    return (text + "\n").encode("utf-8")


def sort_keys_bytewise(value: Any) -> Any:
    """Sort every mapping's keys by UTF-8 bytes, as Go's JSON encoder does for untyped maps."""
    if isinstance(value, dict):
        return {
            k: sort_keys_bytewise(value[k]) for k in sorted(value, key=lambda s: str(s).encode())
        }
    if isinstance(value, list):
        return [sort_keys_bytewise(v) for v in value]
    return value
