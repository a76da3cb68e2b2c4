"""When a cron schedule fires (``robfig/cron/v3``'s ``SpecSchedule.Next``) and which of its
times a CronJob has missed (``pkg/controller/cronjob/utils.go``).

Rules:

 1. Times are matched on the wall clock of the schedule's zone: a ``TZ=``/``CRON_TZ=`` prefix,
    else the CronJob's ``timeZone``, else the controller's own zone (``local_zone``, as
    kube-controller-manager runs in its host's ``time.Local``). Seconds are always zero.
 2. The day matches when the day of month and the day of week both match if either field is
    a ``*``; otherwise when either matches (cron's rule). A field that lists its whole range is
    read as ``*``.
 3. ``@every D`` fires every D after the time it is asked about.
 4. The most recent missed time is looked for from the CronJob's ``lastScheduleTime`` (else its
    creation), or from ``now - startingDeadlineSeconds`` when that is later; more than 100
    missed times are reported (upstream's ``TooManyMissedTimes``) without walking them all.
"""

from __future__ import annotations

import datetime
import os
import zoneinfo
from dataclasses import dataclass

from kubeward.api.validation.cron import DAYS_OF_MONTH, DAYS_OF_WEEK, Schedule

MAX_MISSED = 100
_SEARCH_YEARS = 5
_WALK_LIMIT = 200


def local_zone() -> datetime.tzinfo:
    """Rule 1: the zone this process runs in (``TZ``, else ``/etc/localtime``, else UTC)."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            return datetime.UTC
    try:
        with open("/etc/localtime", "rb") as handle:
            return zoneinfo.ZoneInfo.from_file(handle, key="Local")
    except (OSError, ValueError):
        return datetime.UTC


def _day_matches(schedule: Schedule, moment: datetime.datetime) -> bool:
    """Rule 2."""
    dom = moment.day in schedule.days_of_month
    dow = (moment.weekday() + 1) % 7 in schedule.days_of_week
    dom_star = schedule.days_of_month >= frozenset(range(DAYS_OF_MONTH.low, DAYS_OF_MONTH.high + 1))
    dow_star = schedule.days_of_week >= frozenset(range(DAYS_OF_WEEK.low, DAYS_OF_WEEK.high + 1))
    if dom_star or dow_star:
        return dom and dow
    return dom or dow


def next_time(
    schedule: Schedule, after: datetime.datetime, zone: datetime.tzinfo
) -> datetime.datetime | None:
    """The first time strictly after ``after`` the schedule fires (UTC), or None within five
    years (rules 1-3)."""
    if schedule.every_seconds > 0:
        step = max(1.0, float(int(schedule.every_seconds)))
        return (after + datetime.timedelta(seconds=step)).replace(microsecond=0)
    if schedule.location:
        zone = zoneinfo.ZoneInfo(schedule.location) if schedule.location != "UTC" else datetime.UTC
    wall = after.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
    wall += datetime.timedelta(minutes=1)
    limit = wall.year + _SEARCH_YEARS
    while wall.year <= limit:
        if wall.month not in schedule.months:
            year, month = (wall.year + 1, 1) if wall.month == 12 else (wall.year, wall.month + 1)
            wall = datetime.datetime(year, month, 1)
            continue
        if not _day_matches(schedule, wall):
            wall = datetime.datetime(wall.year, wall.month, wall.day) + datetime.timedelta(days=1)
            continue
        if wall.hour not in schedule.hours:
            wall = wall.replace(minute=0) + datetime.timedelta(hours=1)
            continue
        if wall.minute not in schedule.minutes:
            wall += datetime.timedelta(minutes=1)
            continue
        return wall.replace(tzinfo=zone).astimezone(datetime.UTC)
    return None


@dataclass(frozen=True)
class Missed:
    """Rule 4: the most recent time due (None: none since ``earliest``) and how many."""

    earliest: datetime.datetime
    most_recent: datetime.datetime | None
    too_many: bool


def most_recent(
    schedule: Schedule,
    earliest: datetime.datetime,
    now: datetime.datetime,
    zone: datetime.tzinfo,
    starting_deadline: int | None = None,
) -> Missed:
    """Rule 4."""
    if starting_deadline is not None:
        earliest = max(earliest, now - datetime.timedelta(seconds=starting_deadline))
    if earliest > now:
        return Missed(earliest, None, False)
    first = next_time(schedule, earliest, zone)
    if first is None or first > now:
        return Missed(earliest, None, False)
    recent, count = first, 1
    while count < _WALK_LIMIT:
        following = next_time(schedule, recent, zone)
        if following is None or following > now:
            return Missed(earliest, recent, count > MAX_MISSED)
        recent, count = following, count + 1
    # A long gap: jump by the schedule's last interval, then walk the rest.
    following = next_time(schedule, recent, zone)
    cursor = recent
    if following is not None and following > recent:
        jumps = int((now - recent) / (following - recent)) - 1
        if jumps > 0:
            cursor = recent + (following - recent) * jumps - datetime.timedelta(seconds=1)
    while True:
        following = next_time(schedule, cursor, zone)
        if following is None or following > now:
            return Missed(earliest, recent, True)
        recent = cursor = following
