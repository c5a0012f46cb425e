"""A merchant's local day as a time range: the console's order list and till summary ask
for "the 23rd" as the shop saw it (merchants.time_zone), not as UTC did."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engagement.kit.errors import InvalidInput


def parse(raw: str | None, field: str) -> date | None:
    """A YYYY-MM-DD query value; blank is None, anything else a 422 naming the field."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text[:10]) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        raise InvalidInput("Give a date as YYYY-MM-DD.", fields=[{"field": field}])
    return day


def bounds(day: date, time_zone: str) -> tuple[datetime, datetime]:
    """From the day's local midnight to the next one. Each midnight is placed in the zone on
    its own, so a day with a daylight-saving change is 23 or 25 hours long, as it was."""
    zone = ZoneInfo(time_zone)
    return (datetime.combine(day, time.min, zone),
            datetime.combine(day + timedelta(days=1), time.min, zone))


def today(now: datetime, time_zone: str) -> date:
    return now.astimezone(ZoneInfo(time_zone)).date()
