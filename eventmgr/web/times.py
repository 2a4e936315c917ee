"""Turning UTC timestamps into what people read, in a meeting's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class LocalTimeError(ValueError):
    """A wall-clock time that cannot be turned into one instant in the given zone."""


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_valid_timezone(name: str) -> bool:
    """Whether `name` is an IANA time zone this machine knows; never raises, whatever `name` is."""
    # Look the name up before ZoneInfo sees it: "Europe" (a directory) or a very long string make
    # ZoneInfo raise OSError rather than report an unknown zone.
    if name not in _known_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def common_timezones() -> list[str]:
    """Sorted IANA zone names for a select box (Area/Location forms, plus UTC)."""
    names = {name for name in _known_timezones() if "/" in name and not name.startswith("Etc/")}
    return sorted(names | {"UTC"})


def to_utc(local: datetime, zone_name: str) -> datetime:
    """Interpret a naive wall-clock time in `zone_name` and return it in UTC.

    Raises LocalTimeError for a time skipped when clocks go forward. A time that happens twice when
    clocks go back is read as its first occurrence (summer time).
    """
    zone = ZoneInfo(zone_name)
    aware = local.replace(tzinfo=zone, fold=0)
    instant = aware.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local:
        raise LocalTimeError(
            f"{local:%H:%M} on {local:%d %B %Y} does not exist in {zone_name}: "
            "the clocks go forward then."
        )
    return instant


def to_local(instant: datetime, zone_name: str) -> datetime:
    """The same instant as an aware datetime in `zone_name`."""
    return instant.astimezone(ZoneInfo(zone_name))


def format_date(instant: datetime, zone_name: str) -> str:
    """'Wednesday 23 September 2015' in the zone."""
    local = to_local(instant, zone_name)
    return f"{local:%A} {local.day} {local:%B %Y}"


def format_time_range(starts: datetime, ends: datetime, zone_name: str) -> str:
    """'18:00–20:30 BST', or with both dates when the meeting runs past midnight."""
    start, end = to_local(starts, zone_name), to_local(ends, zone_name)
    if start.date() == end.date():
        if start.tzname() == end.tzname():
            return f"{start:%H:%M}–{end:%H:%M} {end.tzname()}"
        return f"{start:%H:%M} {start.tzname()} – {end:%H:%M} {end.tzname()}"
    return (
        f"{start:%H:%M} {start.tzname()} {start.day} {start:%B} – "
        f"{end:%H:%M} {end.tzname()} {end.day} {end:%B %Y}"
    )


def format_datetime(instant: datetime, zone_name: str) -> str:
    """'23 September 2015, 18:00 BST' in the zone."""
    local = to_local(instant, zone_name)
    return f"{local.day} {local:%B %Y}, {local:%H:%M} {local.tzname()}"


def iso(instant: datetime) -> str:
    """Machine-readable form for <time datetime>."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_input_value(instant: datetime | None, zone_name: str) -> datetime | None:
    """A naive wall-clock datetime for a datetime-local form field."""
    if instant is None:
        return None
    return to_local(instant, zone_name).replace(tzinfo=None)


def relative(instant: datetime, now: datetime | None = None) -> str:
    """'3 days ago', 'in 2 hours': a rough human description of the distance to now."""
    now = now or datetime.now(UTC)
    delta = instant - now
    future = delta > timedelta(0)
    seconds = abs(delta.total_seconds())
    for unit, size in (("year", 31_536_000), ("month", 2_592_000), ("day", 86_400),
                       ("hour", 3_600), ("minute", 60)):  # fmt: skip
        if seconds >= size:
            count = int(seconds // size)
            text = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"
