"""YAML request bodies to JSON values, with the bounds that keep one body from stalling the server.

PyYAML's ``safe_load`` builds Python objects for every YAML type (bytes, sets, dates), follows
aliases without limit and recurses once per nesting level, so a 363-byte alias bomb becomes an
89 MB object and a deep document a ``RecursionError``. This decoder reads the event stream of
libyaml's C parser (``CSafeLoader``; the pure-Python parser when the wheel has no libyaml) and
builds the value itself, iteratively. Rules:

 1. Only JSON's types come out: mappings with string keys, sequences, strings, integers, finite
    floats, booleans and null. Scalars resolve as YAML 1.1 plain scalars do (``yes`` is true,
    ``0x1F`` is 31, ``~`` is null); a plain scalar that looks like a timestamp stays a string, as
    sigs.k8s.io/yaml leaves it. An explicit tag outside those types (``!!binary``, ``!!set``,
    ``!!timestamp``, ``!!omap``, ``!!python/...``, local ``!tags``) is a 400.
 2. Integers must fit in int64 and floats must be finite (400), as Go's JSON numbers must.
 3. Mapping keys must be scalars; non-string scalar keys become strings (``1`` → ``"1"``,
    ``true`` → ``"true"``, as sigs.k8s.io/yaml converts them). A sequence or mapping as a key is
    a 400. ``<<`` merge keys work as in YAML 1.1: keys written in the mapping win, then earlier
    merged mappings over later ones.
 4. Aliases are limited as go-yaml limits them (the rule behind Kubernetes' "excessive
    aliasing" 400): once more than 1,000 nodes and more than 100 of them came from aliases, the
    share of alias-made nodes may not pass 99% (up to 400,000 nodes), falling linearly to 10%
    at 4,000,000.
 5. The size the document expands to, measured as its JSON encoding would be (approximately:
    escapes are not counted), may not exceed ``max_bytes``: 413, as a body of that size would
    get. The check runs as the value is built, before any alias is copied.
 6. Nesting deeper than ``max_depth`` mappings and sequences is a 400 as soon as the parser
    reaches it, so a 3 MiB run of ``[`` costs a hundred events, not three million.
 7. One document per body: a second document is a 400, an empty body decodes to None.
 8. While the document is read, an alias shares the anchored value, so a document refused by
    rules 4-5 never costs more memory than its source; a document that used aliases is copied
    once when complete, so that later code filling defaults in place cannot change two places
    at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson
import yaml
from yaml import events as ev
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from kubeward.errors import BadRequest, RequestEntityTooLarge

# The C parser when the installed PyYAML wheel was built with libyaml (the manylinux wheels
# are); the pure-Python one otherwise, with the same events, only slower.
WITH_LIBYAML: bool = bool(getattr(yaml, "__with_libyaml__", False))
_Loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = (
    yaml.CSafeLoader if WITH_LIBYAML else yaml.SafeLoader
)

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (f"{_TAG}{t}" for t in ("str", "int", "float", "bool", "null"))
_MERGE, _TIMESTAMP, _VALUE = f"{_TAG}merge", f"{_TAG}timestamp", f"{_TAG}value"
_SEQ, _MAP = f"{_TAG}seq", f"{_TAG}map"
_PLAIN_STRING_TAGS = frozenset({_STR, _TIMESTAMP, _VALUE, _MERGE})
_CONTAINER_TAGS = {ev.SequenceStartEvent: _SEQ, ev.MappingStartEvent: _MAP}

# go-yaml's aliasing bounds (rule 4).
_ALIAS_RATIO_LOW = 400_000
_ALIAS_RATIO_HIGH = 4_000_000
# No int64 is written with more characters than this, whatever its base and underscores.
_LONGEST_INT_TEXT = 80

_resolver = Resolver()
# A plain scalar starting with any other character is a string (no implicit resolver matches).
_RESOLVED_FIRST = frozenset(key for key in Resolver.yaml_implicit_resolvers if key)
_constructor = SafeConstructor()


def allowed_alias_ratio(decoded: int) -> float:
    """The share of nodes that may come from aliases once ``decoded`` nodes were decoded."""
    if decoded <= _ALIAS_RATIO_LOW:
        return 0.99
    if decoded >= _ALIAS_RATIO_HIGH:
        return 0.10
    return 0.99 - 0.89 * (decoded - _ALIAS_RATIO_LOW) / (_ALIAS_RATIO_HIGH - _ALIAS_RATIO_LOW)


@dataclass
class _Anchored:
    value: Any
    nodes: int  # decode operations the anchored node took, its own aliases expanded
    size: int  # bytes of its JSON encoding
    height: int  # levels of mappings and sequences in it (0 for a scalar)


@dataclass
class _Frame:
    """A sequence or mapping being built."""

    value: Any
    anchor: str | None
    start_nodes: int
    start_size: int
    height: int = 1
    key: str | None = None  # mappings: the key waiting for its value
    merging: bool = False  # mappings: the waiting key is ``<<``
    merges: list[dict[str, Any]] = field(default_factory=list)


class _Decoder:
    def __init__(self, max_depth: int, max_bytes: int) -> None:
        self.max_depth = max_depth
        self.max_bytes = max_bytes
        self.nodes = 0
        self.alias_nodes = 0
        self.size = 0
        self.anchors: dict[str, _Anchored] = {}
        self.stack: list[_Frame] = []
        self.result: Any = None
        self.documents = 0
        self.aliased = False

    # --- budgets ------------------------------------------------------------------------
    def _count(self, nodes: int, alias_nodes: int, size: int) -> None:
        self.nodes += nodes
        self.alias_nodes += alias_nodes
        if (
            self.alias_nodes > 100
            and self.nodes > 1000
            and self.alias_nodes / self.nodes > allowed_alias_ratio(self.nodes)
        ):
            raise BadRequest(
                "the request body is not valid YAML: document contains excessive aliasing"
            )
        self.size += size
        if self.size > self.max_bytes:
            raise RequestEntityTooLarge(
                f"Request entity too large: the YAML body expands to more than {self.max_bytes} bytes"
            )

    # --- events -------------------------------------------------------------------------
    def feed(self, event: ev.Event) -> None:
        if type(event) is ev.ScalarEvent:
            self._count(1, 0, len(event.value) + 2)
            value = _scalar(event)
            if event.anchor is not None:
                self.anchors[event.anchor] = _Anchored(value, 1, len(event.value) + 2, 0)
            self._add(value, 0, event)
        elif isinstance(event, ev.AliasEvent):
            self._alias(event)
        elif isinstance(event, ev.SequenceStartEvent | ev.MappingStartEvent):
            self._open(event)
        elif isinstance(event, ev.SequenceEndEvent | ev.MappingEndEvent):
            self._close(event)
        elif isinstance(event, ev.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise BadRequest(
                    f"the request body is not valid YAML: {_where(event)}expected a single document"
                )

    def _alias(self, event: ev.AliasEvent) -> None:
        anchored = self.anchors.get(event.anchor or "")
        if anchored is None:
            raise BadRequest(
                f"the request body is not valid YAML: {_where(event)}unknown anchor {event.anchor!r} "
                "(an alias may only name a node that is complete)"
            )
        self._count(1 + anchored.nodes, anchored.nodes, anchored.size)
        if len(self.stack) + anchored.height > self.max_depth:
            raise BadRequest(
                f"the request body is nested too deeply: {_where(event)}exceeded max depth of {self.max_depth}"
            )
        self.aliased = True
        self._add(anchored.value, anchored.height, event)

    def _open(self, event: ev.SequenceStartEvent | ev.MappingStartEvent) -> None:
        tag = event.tag
        if tag not in (None, "!", _CONTAINER_TAGS[type(event)]):
            raise _refused_tag(event, tag)
        if len(self.stack) >= self.max_depth:
            raise BadRequest(
                f"the request body is nested too deeply: {_where(event)}exceeded max depth of {self.max_depth}"
            )
        if self.stack and self.stack[-1].key is None and isinstance(self.stack[-1].value, dict):
            raise BadRequest(
                f"the request body is not valid YAML: {_where(event)}a mapping key must be a scalar"
            )
        self._count(1, 0, 2)
        value: Any = [] if isinstance(event, ev.SequenceStartEvent) else {}
        self.stack.append(_Frame(value, event.anchor, self.nodes - 1, self.size - 2))

    def _close(self, event: ev.Event) -> None:
        frame = self.stack.pop()
        value = frame.value
        if frame.merges:
            merged: dict[str, Any] = {}
            for source in reversed(frame.merges):
                merged.update(source)
            merged.update(value)
            value = merged
        if frame.anchor is not None:
            self.anchors[frame.anchor] = _Anchored(
                value, self.nodes - frame.start_nodes, self.size - frame.start_size, frame.height
            )
        self._add(value, frame.height, event)

    def _add(self, value: Any, height: int, event: ev.Event) -> None:
        if not self.stack:
            self.result = value
            return
        frame = self.stack[-1]
        frame.height = max(frame.height, height + 1)
        container = frame.value
        if isinstance(container, list):
            container.append(value)
            self.size += 1
            return
        if frame.key is None:
            if isinstance(value, dict | list):
                raise BadRequest(
                    f"the request body is not valid YAML: {_where(event)}a mapping key must be a scalar"
                )
            frame.merging = (
                isinstance(event, ev.ScalarEvent)
                and event.value == "<<"
                and _resolved(event) == _MERGE
            )
            frame.key = _key_text(value)
            self.size += 2
            return
        if frame.merging:
            frame.merges.extend(_merge_sources(value, event))
        else:
            container[frame.key] = value
        frame.key = None
        frame.merging = False


def decode_yaml(body: bytes, *, max_depth: int, max_bytes: int) -> Any:
    """The JSON value of a one-document YAML body (None for an empty one).

    Raises:
        BadRequest: the YAML does not parse or breaks rules 1-4, 6 or 7.
        RequestEntityTooLarge: the document expands past ``max_bytes`` (rule 5).
    """
    decoder = _Decoder(max_depth, max_bytes)
    loader = _Loader(body)
    try:
        while loader.check_event():
            event = loader.get_event()
            if event is not None:
                decoder.feed(event)
    except yaml.YAMLError as exc:
        if "exceeded maximum nesting depth" in str(exc):
            # libyaml 0.2.5's own bound (PyYAML 6.0.4+ wheels) can trip before rule 6 sees the
            # events: the scanner runs ahead of the parser inside flow collections.
            raise BadRequest(
                f"the request body is nested too deeply: exceeded max depth of {max_depth}"
            ) from exc
        raise BadRequest(f"the request body is not valid YAML: {_one_line(str(exc))}") from exc
    finally:
        loader.dispose()
    if decoder.aliased and isinstance(decoder.result, dict | list):
        return orjson.loads(orjson.dumps(decoder.result))  # rule 8: no shared objects
    return decoder.result


# --- scalars --------------------------------------------------------------------------------
def _resolved(event: ev.ScalarEvent) -> str:
    tag = event.tag
    if tag == "!":
        return _STR
    if tag is None:
        resolved: str = _resolver.resolve(  # type: ignore[no-untyped-call]
            ScalarNode, event.value, event.implicit
        )
        return resolved
    return tag


def _scalar(event: ev.ScalarEvent) -> Any:
    text = event.value
    if event.tag is None:  # the common cases first: bodies are mostly plain strings
        if not event.implicit[0] or (text and text[0] not in _RESOLVED_FIRST):
            return text
        if text.isdigit() and len(text) < 19 and (text[0] != "0" or text == "0"):
            return int(text)
    tag = _resolved(event)
    if tag in _PLAIN_STRING_TAGS and not (tag == _TIMESTAMP and event.tag is not None):
        return text
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return _construct(event, tag, _constructor.construct_yaml_bool)
    if tag == _INT:
        if len(text) > _LONGEST_INT_TEXT:
            raise _out_of_range(event)
        number = _construct(event, tag, _constructor.construct_yaml_int)
        if not INT64_MIN <= number <= INT64_MAX:
            raise _out_of_range(event)
        return number
    if tag == _FLOAT:
        number = _construct(event, tag, _constructor.construct_yaml_float)
        if not math.isfinite(number):
            raise BadRequest(
                f"the request body is not valid YAML: {_where(event)}{text!r} is not a finite number"
            )
        return number
    raise _refused_tag(event, tag)


def _construct(event: ev.ScalarEvent, tag: str, build: Any) -> Any:
    try:
        return build(ScalarNode(tag, event.value))
    except (ValueError, KeyError, yaml.YAMLError) as exc:
        raise BadRequest(
            f"the request body is not valid YAML: {_where(event)}cannot read {event.value[:40]!r} as {tag.removeprefix(_TAG)}"
        ) from exc


def _key_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _merge_sources(value: Any, event: ev.Event) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return list(value)
    raise BadRequest(
        f"the request body is not valid YAML: {_where(event)}a << merge needs a mapping or a sequence of mappings"
    )


def _refused_tag(event: ev.Event, tag: str | None) -> BadRequest:
    shown = f"!!{tag.removeprefix(_TAG)}" if tag and tag.startswith(_TAG) else str(tag)
    return BadRequest(
        f"the request body is not valid YAML: {_where(event)}the tag {shown} is not allowed: "
        "a body may hold only JSON's types (mapping, sequence, string, number, boolean, null)"
    )


def _out_of_range(event: ev.ScalarEvent) -> BadRequest:
    shown = event.value if len(event.value) <= 40 else event.value[:40] + "..."
    return BadRequest(
        f"the request body is not valid YAML: {_where(event)}the integer {shown} does not fit in 64 bits"
    )


def _where(event: ev.Event) -> str:
    mark = event.start_mark
    return f"line {mark.line + 1}: " if mark is not None else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())
