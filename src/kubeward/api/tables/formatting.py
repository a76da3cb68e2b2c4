"""Cell formatting shared by every table printer, as kube-apiserver formats its cells.

kubectl prints server-side table cells verbatim, so these strings are what a user reads. Each
function follows the Kubernetes function named in its docstring; the rules they enforce:

1. Durations (``HumanDuration``, ``k8s.io/apimachinery/pkg/util/duration``) keep two or three
   significant figures: ``45s`` and ``119s`` below two minutes, then ``2m30s``, ``5m`` (exact
   minutes drop the seconds), ``12m`` up to three hours, ``3h4m`` up to eight hours, ``20h``
   up to two days, ``3d5h`` up to eight days, ``12d`` up to two years, ``2y45d`` up to eight
   years, then ``9y``. Each unit is truncated, never rounded.
2. A time less than two seconds in the future is ``0s`` (clock skew between machines); further
   in the future it is ``<invalid>``.
3. An absent time prints ``<unknown>``; an absent value in most columns prints ``<none>``.
4. Label sets print as ``k=v`` pairs sorted by key and joined by ``,``; label selectors print
   their requirements sorted by key (``app=web,tier in (a,b),!legacy``); a selector that
   matches everything prints ``<none>`` and an invalid one ``<error>``.
5. ``Created At`` cells are RFC 3339 in UTC, as Go's ``time.RFC3339`` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from kubeward.api.validation.meta import check_label_value, check_qualified_name

NONE = "<none>"
UNKNOWN = "<unknown>"
INVALID = "<invalid>"

_MICROS_PER_SECOND = 1_000_000
_MICROS_PER_MINUTE = 60 * _MICROS_PER_SECOND
_MICROS_PER_HOUR = 60 * _MICROS_PER_MINUTE
_DAYS_PER_YEAR = 365
_HOURS_PER_DAY = 24
_GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


def _truncated_micros_div(micros: int, unit: int) -> int:
    """``micros / unit`` truncated toward zero, as Go's integer division and ``int(float)``."""
    quotient = abs(micros) // unit
    return quotient if micros >= 0 else -quotient


def human_duration(elapsed: timedelta) -> str:
    """Go's ``duration.HumanDuration``: a short, truncated rendering of ``elapsed``."""
    micros = (elapsed.days * 86_400 + elapsed.seconds) * _MICROS_PER_SECOND + elapsed.microseconds
    seconds = _truncated_micros_div(micros, _MICROS_PER_SECOND)
    if seconds < -1:
        return INVALID
    if seconds < 0:
        return "0s"
    if seconds < 2 * 60:
        return f"{seconds}s"
    minutes = micros // _MICROS_PER_MINUTE
    if minutes < 10:
        leftover_seconds = seconds % 60
        return f"{minutes}m" if leftover_seconds == 0 else f"{minutes}m{leftover_seconds}s"
    if minutes < 3 * 60:
        return f"{minutes}m"
    hours = micros // _MICROS_PER_HOUR
    if hours < 8:
        leftover_minutes = minutes % 60
        return f"{hours}h" if leftover_minutes == 0 else f"{hours}h{leftover_minutes}m"
    if hours < 48:
        return f"{hours}h"
    days = hours // _HOURS_PER_DAY
    if hours < _HOURS_PER_DAY * 8:
        leftover_hours = hours % _HOURS_PER_DAY
        return f"{days}d" if leftover_hours == 0 else f"{days}d{leftover_hours}h"
    if hours < _HOURS_PER_DAY * _DAYS_PER_YEAR * 2:
        return f"{days}d"
    years = days // _DAYS_PER_YEAR
    if hours < _HOURS_PER_DAY * _DAYS_PER_YEAR * 8:
        leftover_days = days % _DAYS_PER_YEAR
        return f"{years}y" if leftover_days == 0 else f"{years}y{leftover_days}d"
    return f"{years}y"


@lru_cache(maxsize=4096)
def _parse(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return None if parsed == _GO_ZERO_TIME else parsed


def parse_timestamp(value: object) -> datetime | None:
    """An RFC 3339 ``metav1.Time`` or ``MicroTime`` as an aware datetime; None when absent.

    Go's zero time (``0001-01-01T00:00:00Z``) and unparseable text count as absent, which is
    how ``Time.IsZero()`` reads a field that was never set.
    """
    return _parse(value) if isinstance(value, str) and value else None


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def age_since(moment: datetime | None, now: datetime) -> str:
    """Go's ``translateTimestampSince`` for an already parsed time."""
    if moment is None:
        return UNKNOWN
    return human_duration(_aware(now) - moment)


def translate_timestamp_since(value: object, now: datetime) -> str:
    """Go's ``translateTimestampSince``: the age of an RFC 3339 timestamp, or ``<unknown>``."""
    return age_since(parse_timestamp(value), now)


def format_created_at(value: object) -> str:
    """The ``Created At`` cell: ``creationTimestamp`` in UTC as Go's ``time.RFC3339``."""
    moment = (parse_timestamp(value) or _GO_ZERO_TIME).astimezone(UTC)
    # Not strftime: it does not zero-pad years below 1000 on every platform.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


def format_labels(labels: Mapping[str, str]) -> str:
    """Go's ``labels.FormatLabels``: ``a=1,b=2`` sorted by key, ``<none>`` when empty."""
    rendered = ",".join(f"{key}={labels[key]}" for key in sorted(labels))
    return rendered or NONE


class _InvalidSelector(Exception):
    pass


def _requirement(key: object, operator: str, values: list[Any]) -> tuple[str, str]:
    """One requirement as ``(key, text)``, checked as ``labels.NewRequirement`` checks it."""
    if not isinstance(key, str) or check_qualified_name(key):
        raise _InvalidSelector
    if not all(isinstance(v, str) for v in values):
        raise _InvalidSelector
    if operator in ("In", "NotIn"):
        if not values:
            raise _InvalidSelector
    elif operator == "Equals":
        if len(values) != 1:
            raise _InvalidSelector
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            raise _InvalidSelector
    else:
        raise _InvalidSelector
    if any(check_label_value(v) for v in values):
        raise _InvalidSelector
    if operator == "Exists":
        return key, key
    if operator == "DoesNotExist":
        return key, "!" + key
    if operator == "Equals":
        return key, f"{key}={values[0]}"
    word = " in " if operator == "In" else " notin "
    return key, f"{key}{word}({','.join(sorted(values))})"


def selector_string(selector: object) -> str | None:
    """``metav1.LabelSelectorAsSelector(selector).String()``, or None when it is invalid.

    A null selector (matches nothing) and an empty one (matches everything) both print as
    the empty string, as Go's ``Nothing()`` and ``Everything()`` selectors do.
    """
    if selector is None:
        return ""
    if not isinstance(selector, Mapping):
        return None
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, Mapping) or not isinstance(expressions, list):
        return None
    try:
        requirements = [_requirement(k, "Equals", [v]) for k, v in match_labels.items()]
        for expression in expressions:
            if not isinstance(expression, Mapping):
                raise _InvalidSelector
            operator = expression.get("operator")
            values = expression.get("values") or []
            if not isinstance(operator, str) or not isinstance(values, list):
                raise _InvalidSelector
            requirements.append(_requirement(expression.get("key"), operator, values))
    except _InvalidSelector:
        return None
    # Go's selector.Add sorts by key with a stable sort: matchLabels first among equal keys.
    requirements.sort(key=lambda requirement: requirement[0])
    return ",".join(rendered for _, rendered in requirements)


def format_label_selector(selector: object) -> str:
    """Go's ``metav1.FormatLabelSelector``: ``<error>`` when invalid, ``<none>`` when empty."""
    rendered = selector_string(selector)
    if rendered is None:
        return "<error>"
    return rendered or NONE
