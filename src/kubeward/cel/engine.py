"""Compiling and evaluating CEL expressions: the only module that knows the CEL library.

kubeward evaluates CEL with ``cel-expr-python`` (Google's cel-cpp; chosen by measurement, see
``benchmarks/cel_libraries.py``). Rules:

 1. An :class:`Environment` declares variables (``types.py``) and every Kubernetes extension
    function (``library/``) plus cel-go's optional types; :meth:`Environment.compile`
    type-checks once and returns a :class:`Program`, or raises
    :class:`~kubeward.errors.CELCompileError` worded as cel-go words it
    (``ERROR: <input>:1:5: undeclared reference to 'x' (in container '')`` and the caret lines).
 2. :meth:`Program.evaluate` binds plain JSON-like Python values and returns a plain value, or
    raises :class:`~kubeward.errors.CELEvaluationError` with cel-go's wording (``no such key:
    x``, ``integer overflow``, ``division by zero``, ``no such overload``).
 3. Every program carries its estimated worst-case cost (``cost.py``, with the sizes the caller
    knows); ``evaluate(..., cost_limit=n)`` refuses, before running, an activation whose actual
    cost is over ``n`` (:class:`~kubeward.errors.CELCostExceeded`, upstream's ``operation
    cancelled: actual cost limit exceeded``).
 4. The library stops an evaluation after 10,000 comprehension iterations (cel-cpp's
    ``comprehension_max_iterations``, fixed by the binding): ``Iteration budget exceeded``, an
    evaluation error, where cel-go would go on within the cost limit.
 5. Variables may be declared optional (``optional_variables``): the program then sees
    ``optional.of(value)``, or ``optional.none()`` when the activation lacks the variable, as
    Kubernetes gives ``oldSelf`` to rules with ``optionalOldSelf``.
 6. An environment may declare struct types (``messages``: :class:`~kubeward.cel.types.Message`),
    which expressions then build and type-check (``JSONPatch{op: "add"}``); the library knows
    them as protobuf messages (a ``dyn`` field is a ``google.protobuf.Value``). A message in a
    result is returned as a map of its set fields (protobuf's JSON mapping) plus ``"@type"``:
    the type's name.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel as _cel
from cel_expr_python.ext import ext_bindings, ext_optional
from google.protobuf import (
    any_pb2,
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    json_format,
    struct_pb2,
    timestamp_pb2,
    wrappers_pb2,
)
from google.protobuf.message import Message as ProtoMessage

from kubeward.cel import library
from kubeward.cel.ast import Selection, decode, free_identifiers, selections
from kubeward.cel.cost import Estimator, SizeSource, ValueSizes
from kubeward.cel.types import CONCRETE, DYN, CELType, Message
from kubeward.errors import CELCompileError, CELCostExceeded, CELError, CELEvaluationError

_PRIMITIVES = {
    "bool": _cel.Type.BOOL,
    "int": _cel.Type.INT,
    "uint": _cel.Type.UINT,
    "double": _cel.Type.DOUBLE,
    "string": _cel.Type.STRING,
    "bytes": _cel.Type.BYTES,
    "null_type": _cel.Type.NULL,
    "google.protobuf.Duration": _cel.Type.DURATION,
    "google.protobuf.Timestamp": _cel.Type.TIMESTAMP,
    "dyn": _cel.Type.DYN,
}
_STATUS = re.compile(r"^[A-Z_]+: ")
_STATUS_TAIL = re.compile(r" \[[A-Z_]+\]$")
_RUNTIME_WORDING = (
    (re.compile(r'^Key not found in map : "?(.*?)"?$'), r"no such key: \1"),
    (re.compile(r"^No matching overloads found.*$"), "no such overload"),
    (re.compile(r"^divide by zero$"), "division by zero"),
    (re.compile(r"^modulus by zero$"), "modulus by zero"),
    (re.compile(r"^Index error: index=(-?[0-9]+).*$"), r"index out of bounds: \1"),
)


def library_type(declared: CELType) -> Any:
    """The library's type object for a declared type."""
    if declared.name == "list":
        return _cel.Type.List(library_type(declared.params[0]))
    if declared.name == "map":
        return _cel.Type.Map(library_type(declared.params[0]), library_type(declared.params[1]))
    return _PRIMITIVES[declared.name]


def _guarded(impl: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        try:
            return impl(*args)
        except CELError:
            raise
        except (ValueError, TypeError, ArithmeticError, KeyError, IndexError) as exc:
            raise CELEvaluationError(str(exc)) from exc

    return call


def _declarations() -> tuple[list[Any], dict[str, Callable[[Sequence[float]], float]]]:
    """Rule 2 of ``library/declarations.py``: one overload per concrete kind of a dyn parameter."""
    by_name: dict[str, list[Any]] = {}
    costs: dict[str, Callable[[Sequence[float]], float]] = {}
    for function in library.ALL:
        for overload in function.overloads:
            choices = [CONCRETE if p == DYN else (p,) for p in overload.params]
            combos = list(itertools.product(*choices))
            for params in combos:
                oid = overload.id
                if len(combos) > 1:
                    oid += "_" + "_".join(p.name.rsplit(".", 1)[-1].lower() for p in params)
                costs[oid] = overload.cost
                by_name.setdefault(function.name, []).append(
                    _cel.Overload(
                        oid,
                        library_type(overload.result),
                        [library_type(p) for p in params],
                        is_member=overload.member,
                        impl=_guarded(overload.impl),
                    )
                )
    return [_cel.FunctionDecl(name, overloads) for name, overloads in by_name.items()], costs


_FUNCTIONS, _FUNCTION_COSTS = _declarations()


def _compile_message(exc: Exception) -> str:
    text = _STATUS_TAIL.sub("", _STATUS.sub("", str(exc).strip()))
    # cel-go's words for the one macro error cel-cpp words differently (the column stays cel-cpp's).
    return text.replace(
        "has() argument must be a field selection", "invalid argument to has() macro"
    )


def _runtime_message(text: str) -> str:
    text = _STATUS_TAIL.sub("", _STATUS.sub("", text.strip()))
    for pattern, wording in _RUNTIME_WORDING:
        if pattern.match(text):
            return pattern.sub(wording, text)
    return text


def timestamp_value(moment: datetime.datetime) -> Any:
    """A CEL timestamp for an activation, also inside lists and maps of dyn values."""
    value = timestamp_pb2.Timestamp()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    value.FromDatetime(moment.astimezone(datetime.UTC))
    return value


def duration_value(span: datetime.timedelta) -> Any:
    """A CEL duration for an activation, also inside lists and maps of dyn values."""
    value = duration_pb2.Duration()
    value.FromTimedelta(span)
    return value


def error_at(source: str, offset: int, message: str) -> str:
    """``ERROR: <input>:L:C: message`` and the source line with a caret under column C."""
    line_start = source.rfind("\n", 0, offset) + 1
    line_end = source.find("\n", offset)
    line = source[line_start : line_end if line_end >= 0 else len(source)]
    column = offset - line_start
    number = source.count("\n", 0, offset) + 1
    return f"ERROR: <input>:{number}:{column + 1}: {message}\n | {line}\n | {'.' * column}^"


_WELL_KNOWN = {
    module.DESCRIPTOR.name: module.DESCRIPTOR
    for module in (any_pb2, duration_pb2, struct_pb2, timestamp_pb2, wrappers_pb2)
}
TYPE_KEY = "@type"


_FIELD = descriptor_pb2.FieldDescriptorProto
_SCALAR_FIELDS = {
    "string": _FIELD.TYPE_STRING,
    "bool": _FIELD.TYPE_BOOL,
    "int": _FIELD.TYPE_INT64,
    "uint": _FIELD.TYPE_UINT64,
    "double": _FIELD.TYPE_DOUBLE,
    "bytes": _FIELD.TYPE_BYTES,
}


def _pool(messages: Sequence[Message]) -> Any:
    """Rule 6: a descriptor pool declaring ``messages`` (in no package, so that CEL names
    them as declared), with ``google/protobuf/struct.proto`` for their ``dyn`` fields."""
    pool = descriptor_pool.DescriptorPool()
    struct = descriptor_pb2.FileDescriptorProto()
    _WELL_KNOWN["google/protobuf/struct.proto"].CopyToProto(struct)
    pool.Add(struct)
    for declared in messages:
        file = descriptor_pb2.FileDescriptorProto(
            name=f"kubeward/{declared.name}.proto",
            syntax="proto3",
            dependency=["google/protobuf/struct.proto"],
        )
        message = file.message_type.add(name=declared.name)
        for number, (name, kind) in enumerate(declared.fields, start=1):
            if kind == DYN:
                message.field.add(
                    name=name,
                    number=number,
                    type=_FIELD.TYPE_MESSAGE,
                    type_name=".google.protobuf.Value",
                    label=_FIELD.LABEL_OPTIONAL,
                )
            else:
                message.field.add(
                    name=name,
                    number=number,
                    type=_SCALAR_FIELDS[kind.name],
                    label=_FIELD.LABEL_OPTIONAL,
                )
        pool.Add(file)
    return pool


def _plain(value: Any) -> Any:
    """Rule 6: messages inside a result as maps."""
    if isinstance(value, ProtoMessage):
        fields = json_format.MessageToDict(value, preserving_proto_field_name=True)
        return {TYPE_KEY: value.DESCRIPTOR.full_name, **fields}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


class _NoSizes:
    def size(self, variable: str, path: tuple[str, ...]) -> float | None:
        return None


class Activation:
    """Values for the variables, converted for the library once however many programs read them.

    Programs of one environment evaluated on one ``Activation`` share the conversion of its
    values (a custom object's rules at one schema node, for instance).
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values
        self._bound: dict[int, Any] = {}

    def bound(self, env: Any, optional: tuple[str, ...]) -> Any:
        key = id(env)
        got = self._bound.get(key)
        if got is None:
            data = dict(self.values)
            for name in optional:
                data[f"__has_{name}"] = name in data
                data[f"__value_{name}"] = data.pop(name, None)
            got = (env.Activation(data), env)  # the env lives as long as the key naming it
            self._bound[key] = got
        return got[0]


@dataclass(frozen=True)
class Program:
    """A compiled expression (rule 2, 3)."""

    source: str
    estimated_cost: float
    result_type: str
    variables: frozenset[str]  # the declared variables the expression reads
    _expression: Any
    _estimator: Estimator
    _optional: tuple[str, ...]
    _env: Any
    _messages: bool = False

    def selections(self) -> list[Selection]:
        """The field selections the expression makes under its variables, with their offsets."""
        return selections(self._estimator.checked)

    def error_at(self, offset: int, message: str) -> CELCompileError:
        """A compile error at ``offset`` of the source, worded and drawn as cel-go draws it."""
        return CELCompileError(error_at(self.source, offset, message))

    def cost(self, activation: Mapping[str, Any] | Activation) -> float:
        """The expression's cost on these values (never more than the estimate's model)."""
        values = activation.values if isinstance(activation, Activation) else activation
        return self._estimator.cost(ValueSizes(values))

    def estimate(self, sizes: SizeSource) -> float:
        """The worst-case cost under other bounds than the compile-time ones (a caller that
        knows every value of an activation is at most N long can skip the actual cost)."""
        return self._estimator.cost(sizes)

    def evaluate(
        self, activation: Mapping[str, Any] | Activation, *, cost_limit: float | None = None
    ) -> Any:
        """The expression's value for ``activation``."""
        over = cost_limit is not None and self.estimated_cost > cost_limit
        if over and cost_limit is not None and self.cost(activation) > cost_limit:
            raise CELCostExceeded("operation cancelled: actual cost limit exceeded")
        shared = activation if isinstance(activation, Activation) else Activation(activation)
        try:
            value = self._expression.eval(shared.bound(self._env, self._optional))
        except RuntimeError as exc:
            raise CELEvaluationError(_runtime_message(str(exc))) from exc
        if value.type() == _cel.Type.ERROR:
            raise CELEvaluationError(_runtime_message(str(value.value())))
        plain = value.plain_value()
        return _plain(plain) if self._messages else plain


class Environment:
    """Declared variables and every extension library (rule 1)."""

    def __init__(
        self,
        variables: Mapping[str, CELType],
        *,
        optional_variables: Sequence[str] = (),
        messages: Sequence[Message] = (),
    ) -> None:
        self._variables = dict(variables)
        self._messages = bool(messages)
        pool = {"descriptor_pool": _pool(messages)} if messages else {}
        self._optional = tuple(optional_variables)
        plain = {name: library_type(t) for name, t in variables.items()}
        # Optional variables are dyn here, for the first compilation of every expression.
        first = {n: (_cel.Type.DYN if n in self._optional else t) for n, t in plain.items()}
        self._env = _cel.NewEnv(
            **pool,
            variables=first,
            extensions=[ext_optional.ExtOptional(), ext_bindings.ExtBindings()],
            functions=_FUNCTIONS,
        )
        self._wrapped_env = self._env
        if self._optional:
            wrapped = {n: t for n, t in plain.items() if n not in self._optional}
            for name in self._optional:
                wrapped[f"__has_{name}"] = _cel.Type.BOOL
                wrapped[f"__value_{name}"] = plain.get(name, _cel.Type.DYN)
            self._wrapped_env = _cel.NewEnv(
                **pool,
                variables=wrapped,
                extensions=[ext_optional.ExtOptional(), ext_bindings.ExtBindings()],
                functions=_FUNCTIONS,
            )

    def compile(self, source: str, *, sizes: SizeSource | None = None) -> Program:
        """Type-check ``source``; its estimated cost uses ``sizes`` (unbounded when None)."""
        try:
            expression = self._env.compile(source)
            checked = decode(expression.serialize())
            variables = free_identifiers(checked.root) & set(self._variables)
            uses_optional = tuple(n for n in self._optional if n in variables)
            env = self._env
            if uses_optional:
                # The rule sees optional.of(value) or optional.none() (rule 5); positions in
                # errors are the user's, from the first compilation above.
                text = source
                for name in uses_optional:
                    text = (  # a newline before the ")": the source may end in a // comment
                        f"cel.bind({name}, __has_{name} ? optional.of(__value_{name}) : "
                        f"optional.none(), {text}\n)"
                    )
                env = self._wrapped_env
                expression = env.compile(text)
                checked = decode(expression.serialize())
        except RuntimeError as exc:
            raise CELCompileError(_compile_message(exc)) from exc
        estimator = Estimator(checked, _FUNCTION_COSTS)
        return Program(
            source,
            estimator.cost(sizes or _NoSizes()),
            expression.return_type().name().lower(),
            frozenset(variables),
            expression,
            estimator,
            uses_optional,
            env,
            self._messages,
        )
