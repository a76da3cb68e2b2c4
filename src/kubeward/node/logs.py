"""A container instance's log, and the options the kubelet's ``/containerLogs`` honours.

The runtime's log file holds each line with the moment it was written; the kubelet reads it
with the options of ``PodLogOptions`` (pkg/kubelet/kuberuntime/logs). Rules:
 1. Every write is kept with the process's (simulated) time; a line continued by a later
    write keeps its first moment.
 2. ``sinceSeconds``/``sinceTime`` keep the lines written at or after that moment;
    ``tailLines`` then the last N lines; ``timestamps`` prefixes each line with its RFC 3339
    time (nanoseconds, trailing zeros trimmed, as Go's ``RFC3339Nano``) and a space;
    ``limitBytes`` finally cuts the answer to that many bytes.
 3. Invalid values are the API's: sinceSeconds and limitBytes must be positive, tailLines not
    negative, sinceTime an RFC 3339 time (the API server validates them first; the kubelet
    returns a 400 with the same words).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from kubeward.api import meta as m


@dataclass
class ContainerLog:
    """Rule 1."""

    lines: list[tuple[datetime.datetime, bytearray]] = field(default_factory=list)
    size: int = 0

    def write(self, when: datetime.datetime, data: bytes) -> None:
        self.size += len(data)
        while data:
            if self.lines and not self.lines[-1][1].endswith(b"\n"):
                line = self.lines[-1][1]
            else:
                line = bytearray()
                self.lines.append((when, line))
            head, newline, data = data.partition(b"\n")
            line += head + newline

    def complete_lines(self) -> int:
        """How many lines have ended (all but a last one still being written)."""
        partial = bool(self.lines) and not self.lines[-1][1].endswith(b"\n")
        return len(self.lines) - partial

    def data(self) -> bytes:
        return b"".join(bytes(line) for _, line in self.lines)


def rfc3339_nano(moment: datetime.datetime) -> str:
    """Go's ``time.RFC3339Nano`` in UTC: fractional seconds with trailing zeros trimmed."""
    moment = moment.astimezone(datetime.UTC)
    fraction = f"{moment.microsecond:06d}000".rstrip("0")
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


@dataclass(frozen=True)
class LogOptions:
    """Rule 2's options, read from the query."""

    since: datetime.datetime | None = None
    tail_lines: int | None = None
    limit_bytes: int | None = None
    timestamps: bool = False
    follow: bool = False
    previous: bool = False

    @classmethod
    def parse(cls, query: Mapping[str, str], now: datetime.datetime) -> LogOptions:
        """Rule 3: raises ValueError with the API's message on a bad value."""

        def flag(name: str) -> bool:
            return query.get(name, "").lower() in ("1", "true")

        def number(name: str, least: int) -> int | None:
            text = query.get(name)
            if text is None or text == "":
                return None
            try:
                value = int(text)
            except ValueError:
                raise ValueError(f"{name}: Invalid value: {text!r}") from None
            if value < least:
                must = "must be greater than 0" if least else "must be greater than or equal to 0"
                raise ValueError(f"{name}: Invalid value: {value}: {must}")
            return value

        since = None
        seconds = number("sinceSeconds", 1)
        if seconds is not None:
            since = now - datetime.timedelta(seconds=seconds)
        if query.get("sinceTime"):
            since = m.parse_time(query["sinceTime"])
            if since is None:
                raise ValueError(f"sinceTime: Invalid value: {query['sinceTime']!r}")
        return cls(
            since=since,
            tail_lines=number("tailLines", 0),
            limit_bytes=number("limitBytes", 1),
            timestamps=flag("timestamps"),
            follow=flag("follow"),
            previous=flag("previous"),
        )

    def render(self, log: ContainerLog, start: int = 0, stop: int | None = None) -> bytes:
        """Rule 2 over the log's lines ``start:stop``."""
        lines = log.lines[start:stop]
        if self.since is not None:
            lines = [(when, line) for when, line in lines if when >= self.since]
        if self.tail_lines is not None:
            lines = lines[len(lines) - self.tail_lines :] if self.tail_lines else []
        data = b"".join(
            (f"{rfc3339_nano(when)} ".encode() if self.timestamps else b"") + bytes(line)
            for when, line in lines
        )
        return data if self.limit_bytes is None else data[: self.limit_bytes]
