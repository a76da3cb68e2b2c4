"""Durations as Kubernetes users write them.

Kubernetes flags take Go durations (``8760h``, ``1h30m``, ``90m``); people also think in days,
so a ``d`` suffix (24 hours) is accepted too. Rules:

 1. The grammar is Go's ``time.ParseDuration``: an optional sign, then one or more
    ``<number><unit>`` terms with units ``ns``, ``us``/``µs``, ``ms``, ``s``, ``m``, ``h``, plus ``d``.
    A bare ``0`` is zero. Anything else is an :class:`InputError` that quotes the text.
 2. Durations are printed the way Go prints them (``8760h0m0s``), and residual times the way
    ``kubectl`` and ``kubeadm`` shorten them (``364d``, ``9y``, ``<invalid>``).
"""

from __future__ import annotations

import datetime
import re

from kubeward.errors import InputError

_UNIT_MICROSECONDS = {
    "ns": 0.001,
    "us": 1.0,
    "µs": 1.0,
    "μs": 1.0,
    "ms": 1_000.0,
    "s": 1_000_000.0,
    "m": 60_000_000.0,
    "h": 3_600_000_000.0,
    "d": 86_400_000_000.0,
}
_TERM = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)")
EXAMPLES = "e.g. 8760h, 30d, 90m or 1h30m"


def parse_duration(text: str) -> datetime.timedelta:
    """Parse ``8760h``, ``30d``, ``90m``, ``1h30m``, ``1.5h`` into a :class:`~datetime.timedelta`.

    Raises:
        InputError: the text is not a duration.
    """
    raw = text.strip()
    body = raw
    sign = 1
    if body and body[0] in "+-":
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body == "0":
        return datetime.timedelta(0)
    if not body:
        raise InputError(f"{text!r}: not a duration ({EXAMPLES})")
    total = 0.0
    position = 0
    while position < len(body):
        match = _TERM.match(body, position)
        if match is None:
            raise InputError(f"{text!r}: not a duration ({EXAMPLES})")
        total += float(match.group(1)) * _UNIT_MICROSECONDS[match.group(2)]
        position = match.end()
    try:
        return datetime.timedelta(microseconds=sign * total)
    except OverflowError as exc:
        raise InputError(f"{text!r}: duration is too long") from exc


def format_duration(value: datetime.timedelta) -> str:
    """Go's ``Duration.String()`` for whole seconds: ``8760h0m0s``, ``1h30m0s``, ``45s``."""
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{sign}{minutes}m{secs}s"
    return f"{sign}{secs}s"


def short_human_duration(value: datetime.timedelta) -> str:
    """The RESIDUAL TIME column of ``kubeadm certs check-expiration`` (apimachinery's rules)."""
    seconds = int(value.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{hours // 24 // 365}y"
