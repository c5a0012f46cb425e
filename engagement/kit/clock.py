"""An injectable clock: business time (limits per day, campaign windows, hold periods,
expiry, the times rows record) is read only through it, as ``services.clock``, so tests can
move days with ``FrozenClock`` without sleeping.

Other reads of the time remain, where no business rule depends on them:
- ``time.monotonic()`` / ``time.perf_counter()`` measure elapsed time: timeouts and waits
  (a replayed draw waiting for its first request, the CLI's shutdown deadline) and the
  durations logged (requests, webhook attempts).
- ``time.time()`` numbers the settlement buckets (games/draw/service.py) and the sweeper's
  minute (games/tasks.py). They name and schedule arq jobs, and arq runs deferred jobs and
  crons by the real clock, so they follow the real clock too.
- ``time.time_ns()`` gives ids their time part (engagement/kit/ids.py): an order for
  indexes, cursors and the dashboard's range scans; no limit or expiry reads it.
- ``datetime.now()`` in engagement/kit/fields.py bounds birthdays ("a past date") when the
  caller passes no ``now``: input validation, 14 hours ahead for the earliest time zone.
- PostgreSQL's ``now()`` is the default of some columns (``created_at``) in the migrations,
  for inserts that pass no time; Redis's clock runs TTLs (throttle windows, join codes,
  sessions, idempotency records)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)
