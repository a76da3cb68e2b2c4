"""Cron schedules as a CronJob's ``spec.schedule`` holds them, parsed as Kubernetes parses them.

Kubernetes validates (and its cronjob controller runs) schedules with ``robfig/cron/v3``'s
``ParseStandard``; this module follows that parser so that the same schedules are accepted and
the refusals read the same (they become the detail of a 422 on ``spec.schedule``). Rules:

 1. A schedule is five whitespace-separated fields — minute (0-59), hour (0-23), day of month
    (1-31), month (1-12 or ``jan``-``dec``), day of week (0-6 or ``sun``-``sat``); names are
    case-insensitive. Any other count is refused with ``expected exactly 5 fields, found N``.
 2. A field is a comma-separated list of ranges: ``*`` or ``?`` (the whole range), ``N`` or
    ``N-M``, each optionally followed by ``/STEP``; ``N/STEP`` runs from N to the maximum.
    Out-of-bound, reversed, negative, non-numeric values and a zero step are refused.
 3. Descriptors: ``@yearly`` (``@annually``), ``@monthly``, ``@weekly``, ``@daily``
    (``@midnight``), ``@hourly`` and ``@every <Go duration>``; any other ``@`` word is refused.
 4. A ``TZ=``/``CRON_TZ=`` prefix names a location that must exist; whether it is allowed at
    all is the CronJob validation's decision, not the parser's.

:func:`parse_schedule` returns the allowed values of each field, for a controller to compute
the next run; :func:`schedule_error` returns the refusal only.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass

from kubeward.errors import InputError


@dataclass(frozen=True)
class Bounds:
    low: int
    high: int
    names: tuple[tuple[str, int], ...] = ()


MINUTES = Bounds(0, 59)
HOURS = Bounds(0, 23)
DAYS_OF_MONTH = Bounds(1, 31)
MONTHS = Bounds(
    1,
    12,
    tuple(
        (name, i + 1)
        for i, name in enumerate(
            ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
        )
    ),
)
DAYS_OF_WEEK = Bounds(
    0,
    6,
    tuple((name, i) for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))),
)
_FIELDS = (MINUTES, HOURS, DAYS_OF_MONTH, MONTHS, DAYS_OF_WEEK)


@dataclass(frozen=True)
class Schedule:
    """The allowed values of each field (rule 1), or a fixed interval for ``@every``."""

    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    days_of_month: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    days_of_week: frozenset[int] = frozenset()
    every_seconds: float = 0.0
    location: str = ""


def _atoi(text: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise InputError(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
        )
    number = int(text)
    if number < 0:
        raise InputError(f"negative number ({number}) not allowed: {text}")
    return number


def _int_or_name(text: str, bounds: Bounds) -> int:
    for name, value in bounds.names:
        if text.lower() == name:
            return value
    return _atoi(text)


def _range(expr: str, bounds: Bounds) -> set[int]:
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    if low_and_high[0] in ("*", "?"):
        start, end = bounds.low, bounds.high
    else:
        start = _int_or_name(low_and_high[0], bounds)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], bounds)
        else:
            raise InputError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _atoi(range_and_step[1])
        if single:
            end = bounds.high
    else:
        raise InputError(f"too many slashes: {expr}")
    if start < bounds.low:
        raise InputError(f"beginning of range ({start}) below minimum ({bounds.low}): {expr}")
    if end > bounds.high:
        raise InputError(f"end of range ({end}) above maximum ({bounds.high}): {expr}")
    if start > end:
        raise InputError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise InputError(f"step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step))


def _field(text: str, bounds: Bounds) -> frozenset[int]:
    values: set[int] = set()
    for expr in (part for part in text.split(",") if part):
        values |= _range(expr, bounds)
    return frozenset(values)


_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_DURATION_PART = re.compile(r"([0-9]*\.?[0-9]*)(ns|us|µs|μs|ms|s|m|h)")


def _go_duration(text: str) -> float:
    """Seconds in a Go ``time.ParseDuration`` string (``1h30m``, ``90s``)."""
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0.0
    total = 0.0
    position = 0
    while position < len(body):
        match = _DURATION_PART.match(body, position)
        if match is None or match.group(1) in ("", "."):
            raise InputError(f'time: invalid duration "{text}"')
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not body:
        raise InputError(f'time: invalid duration "{text}"')
    return -total if text.startswith("-") else total


_ALL = {b: frozenset(range(b.low, b.high + 1)) for b in _FIELDS}
_DESCRIPTORS = {
    "@yearly": ("0", "0", "1", "1", "*"),
    "@annually": ("0", "0", "1", "1", "*"),
    "@monthly": ("0", "0", "1", "*", "*"),
    "@weekly": ("0", "0", "*", "*", "0"),
    "@daily": ("0", "0", "*", "*", "*"),
    "@midnight": ("0", "0", "*", "*", "*"),
    "@hourly": ("0", "*", "*", "*", "*"),
}


def _from_fields(fields: tuple[str, ...] | list[str], location: str) -> Schedule:
    minutes, hours, dom, months, dow = (
        _field(text, bounds) for text, bounds in zip(fields, _FIELDS, strict=True)
    )
    return Schedule(minutes, hours, dom, months, dow, location=location)


def parse_schedule(spec: str) -> Schedule:
    """Parse ``spec`` as ``cron.ParseStandard`` does (the module rules).

    Raises:
        InputError: the schedule is refused; its message is the parser's.
    """
    if not spec:
        raise InputError("empty spec string")
    location = ""
    if spec.startswith(("TZ=", "CRON_TZ=")):
        space = spec.find(" ")
        name = spec[spec.index("=") + 1 : space if space >= 0 else len(spec)]
        if not known_time_zone(name):
            raise InputError(f"provided bad location {name}: unknown time zone {name}")
        location = name
        spec = spec[space:].strip() if space >= 0 else ""
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return _from_fields(_DESCRIPTORS[spec], location)
        if spec.startswith("@every "):
            try:
                return Schedule(every_seconds=_go_duration(spec[len("@every ") :]))
            except InputError as exc:
                raise InputError(f"failed to parse duration {spec}: {exc}") from None
        raise InputError(f"unrecognized descriptor: {spec}")
    fields = spec.split()
    if len(fields) != 5:
        shown = "[" + " ".join(fields) + "]"
        raise InputError(f"expected exactly 5 fields, found {len(fields)}: {shown}")
    return _from_fields(fields, location)


def schedule_error(spec: str) -> str | None:
    """Why ``spec`` is refused, in the parser's words; None when it is a valid schedule."""
    try:
        parse_schedule(spec)
    except InputError as exc:
        return str(exc)
    return None


def known_time_zone(name: str) -> bool:
    """True when the tz database knows ``name`` (``UTC`` included), as Go's LoadLocation."""
    if name == "UTC":
        return True
    if not name or name.startswith("/") or ".." in name.split("/"):
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True
