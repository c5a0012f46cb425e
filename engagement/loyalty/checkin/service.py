"""Daily check-in (签到): once a day in the merchant's time zone, a streak of consecutive
days, and a reward per streak day (points, extra draws).

"Once a day" is PostgreSQL's: the unique check_ins_member_day_key lets one of any number
of simultaneous check-ins in, and only that transaction credits the points (ledger ref
``check_in:<id>``) and tells campaigns (``hooks.CheckedIn``, for their extra draws). A
missed day starts the streak again at 1. The rewards list streak days 1..N; after day N
the cycle starts again at day 1 while the streak keeps counting (day N + 1 gives day 1's
reward), so a program of 7 days is a weekly cycle however long a member keeps coming."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import asyncpg

from engagement.kit import hooks
from engagement.kit.errors import Conflict
from engagement.kit.ids import new_id
from engagement.loyalty.checkin import queries
from engagement.loyalty.checkin.schemas import (
    CheckInOut,
    PastCheckIn,
    ProgramIn,
    ProgramOut,
    Reward,
    StatusOut,
    StripDay,
    StripState,
)
from engagement.orders import days
from engagement.points.service import Entry, earned_expiry, post_entries

# The member home's calendar strip shows this many days of the cycle at most.
STRIP_DAYS = 7
# The latest check-ins a member's status lists.
RECENT = 7
POINTS_REASON = "check_in"


class CheckInDisabled(Conflict):
    code, message = "check_in_disabled", "This merchant has no daily check-in running."


class AlreadyCheckedIn(Conflict):
    code, message = "already_checked_in", "Already checked in today; come back tomorrow."


def reward_for(rewards: list[Reward], streak: int) -> Reward | None:
    """The reward of a streak's day: day N + 1 is day 1 again (the cycle restarts)."""
    if not rewards:
        return None
    return rewards[(streak - 1) % len(rewards)]


def _rewards(rows: list[asyncpg.Record]) -> list[Reward]:
    return [Reward(day=r["day"], points=r["points"], draws=r["draws"]) for r in rows]


async def set_program(conn: asyncpg.Connection, merchant_id: str, data: ProgramIn,
                      now: datetime) -> ProgramOut:
    """Replace the program; check-ins already made keep what they gave."""
    await queries.replace_program(
        conn, merchant_id, data.enabled,
        [(r.day, r.points, r.draws) for r in sorted(data.rewards, key=lambda r: r.day)], now)
    return await get_program(conn, merchant_id)


async def get_program(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str) -> ProgramOut:
    """A merchant that never set one has check-in off, with no rewards."""
    row = await queries.program(conn, merchant_id)
    if row is None:
        return ProgramOut(enabled=False, rewards=[], updated_at=None)
    return ProgramOut(enabled=row["enabled"], updated_at=row["updated_at"],
                      rewards=_rewards(await queries.rewards(conn, merchant_id)))


async def check_in(conn: asyncpg.Connection, merchant_id: str, member_id: str,
                   time_zone: str, now: datetime) -> CheckInOut:
    program = await get_program(conn, merchant_id)
    if not program.enabled:
        raise CheckInDisabled()
    today = days.today(now, time_zone)
    yesterday = await queries.check_in_on(conn, member_id, today - timedelta(days=1))
    streak = yesterday["streak"] + 1 if yesterday is not None else 1
    reward = reward_for(program.rewards, streak)
    assert reward is not None  # an enabled program has day 1 at least (ProgramIn)
    check_in_id = new_id("chk")
    if not await queries.insert_check_in(conn, id=check_in_id, merchant_id=merchant_id,
                                         member_id=member_id, day=today, streak=streak,
                                         points=reward.points, draws=reward.draws, now=now):
        raise AlreadyCheckedIn(date=today.isoformat())
    if reward.points:
        await post_entries(conn, [Entry(merchant_id, member_id, reward.points, POINTS_REASON,
                                        f"check_in:{check_in_id}",
                                        await earned_expiry(conn, merchant_id, now))], now)
    await hooks.emit(conn, hooks.CheckedIn(
        merchant_id=merchant_id, member_id=member_id, check_in_id=check_in_id, day=today,
        streak=streak, draws=reward.draws, created_at=now))
    return CheckInOut(id=check_in_id, date=today, streak=streak, reward=reward, created_at=now)


async def status(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str, member_id: str,
                 time_zone: str, now: datetime) -> StatusOut:
    """Where the member stands today: the streak, whether today is done, today's and the
    next reward, and the strip of the cycle's days around today."""
    program = await get_program(conn, merchant_id)
    today = days.today(now, time_zone)
    latest = await queries.latest_check_ins(conn, member_id, RECENT)
    last = latest[0] if latest else None
    done = last is not None and last["day"] == today
    if last is not None and last["day"] in (today, today - timedelta(days=1)):
        streak = last["streak"]
    else:
        streak = 0
    # The streak day today's check-in counts as (made, or still to make).
    today_streak = streak if done else streak + 1
    rewards = program.rewards if program.enabled else []
    return StatusOut(
        enabled=program.enabled, today=today, checked_in_today=done, streak=streak,
        today_reward=reward_for(rewards, today_streak),
        next_reward=reward_for(rewards, today_streak + 1),
        strip=_strip(rewards, today, today_streak, done),
        recent=[PastCheckIn(date=r["day"], streak=r["streak"], points=r["points"],
                            draws=r["draws"]) for r in latest])


def _strip(rewards: list[Reward], today: date, today_streak: int,
           done: bool) -> list[StripDay]:
    """The cycle's days as dates: those before today's place in the cycle were checked
    in (they are the streak), today is today, the rest are to come. A cycle longer than
    the strip shows a window of it around today."""
    if not rewards:
        return []
    length = len(rewards)
    place = (today_streak - 1) % length + 1
    first = max(1, min(place - STRIP_DAYS // 2, length - STRIP_DAYS + 1))
    last = min(length, first + STRIP_DAYS - 1)
    strip = []
    for day in range(first, last + 1):
        reward = rewards[day - 1]
        state: StripState = ("done" if day < place else "today" if day == place
                             else "upcoming")
        strip.append(StripDay(date=today + timedelta(days=day - place), day=day,
                              points=reward.points, draws=reward.draws, state=state,
                              checked_in=day < place or (day == place and done)))
    return strip
