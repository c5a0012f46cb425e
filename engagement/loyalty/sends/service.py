"""Sends (主动发券): a coupon to every member of a segment, in bulk, with a random holdout
group that gets nothing, so the send's result can show its lift: the repurchase rate of the
treated members against the holdout's.

A send runs as one job in steps that each commit: pick the targets and the holdout (one
INSERT ... SELECT), then issue coupons in batches (COPY), then finish. Every step
is resumable: a retried job skips targets already chosen and members already given a
coupon (send_members.coupon_id), so counts come out exact whatever retries happen."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import asyncpg

from engagement.coupons import queries as coupon_queries
from engagement.coupons.service import COUPON_CODE_LENGTH, require_template
from engagement.kit.errors import InvalidInput, NotFound
from engagement.kit.ids import new_id, random_codes
from engagement.kit.jobs import Unit
from engagement.loyalty.sends import queries
from engagement.loyalty.sends.schemas import (
    AudienceOut,
    BirthdayAutomationIn,
    BirthdayAutomationOut,
    RepurchaseRate,
    Segment,
    SendCreate,
    SendOut,
    SendQueued,
)

ISSUE_BATCH = 5_000  # coupons per transaction: big enough for speed, short enough to retry
# Daily sends (a birthday coupon) go out from this hour of the merchant's own day: a coupon
# that arrives in the morning is read, one at night is not.
DAILY_SEND_LOCAL_HOUR = 8


# The job that runs a send (sends/tasks.py ``run``): its name is spelled here only.
RUN_JOB = "sends.run"


def run_job(unit: Unit, send_id: str) -> None:
    unit.defer(RUN_JOB, send_id, job_id=f"{RUN_JOB}:{send_id}")


class ScheduledInPast(InvalidInput):
    message = "scheduled_at must be in the future."


async def create_send(unit: Unit, merchant_id: str, data: SendCreate,
                      now: datetime) -> SendQueued:
    conn = unit.conn
    if data.scheduled_at is not None and data.scheduled_at <= now:
        raise ScheduledInPast(fields=[{"field": "scheduled_at", "type": "in_past",
                                       "message": ScheduledInPast.message}])
    await require_template(conn, merchant_id, data.coupon_template_id, "coupon_template_id")
    send_id = new_id("snd")
    later = data.repeat is not None or data.scheduled_at is not None
    status: Literal["scheduled", "queued"] = "scheduled" if later else "queued"
    await queries.insert_send(
        conn, id=send_id, merchant_id=merchant_id, name=data.name,
        template_id=data.coupon_template_id, segment=data.segment.model_dump(exclude_none=True),
        holdout_percent=data.holdout_percent, repeat=data.repeat, status=status, now=now,
        scheduled_at=data.scheduled_at)
    if status == "queued":
        run_job(unit, send_id)
    return SendQueued(id=send_id, status=status)


async def release_due(unit: Unit, now: datetime) -> int:
    """Queue every scheduled one-off send whose time has come, each once (the release is
    one conditional UPDATE, see queries.release_due); its job runs after the commit."""
    released = await queries.release_due(unit.conn, now)
    for send_id in released:
        run_job(unit, send_id)
    return len(released)


async def audience(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                   time_zone: str, segment: Segment, now: datetime) -> AudienceOut:
    """The members a send with this segment would target now (holdout included)."""
    data = segment.model_dump(exclude_none=True)
    today = now.astimezone(ZoneInfo(time_zone)).date()
    return AudienceOut(count=await queries.count_audience(
        conn, merchant_id, data, now, birthdays(data, today)))


async def list_sends(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                     limit: int = 50) -> list[SendOut]:
    rows = await queries.list_sends(conn, merchant_id, limit)
    return [await _send_out(conn, row) for row in rows]


def _rate(back: int, of: int) -> float | None:
    return round(back / of, 4) if of else None


async def get_send(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                   send_id: str) -> SendOut:
    row = await queries.send_by_id(conn, merchant_id, send_id)
    if row is None:
        raise NotFound("No such send.")
    return await _send_out(conn, row)


async def _send_out(conn: asyncpg.Connection | asyncpg.Pool, row: asyncpg.Record) -> SendOut:
    send_id = row["id"]
    totals = await queries.results(conn, send_id)
    treated = totals["targeted"] - totals["held_out"]
    rates = RepurchaseRate(treated=_rate(totals["treated_back"], treated),
                           holdout=_rate(totals["holdout_back"], totals["held_out"]))
    lift = None if rates.treated is None or rates.holdout is None \
        else round(rates.treated - rates.holdout, 4)
    return SendOut(
        id=row["id"], name=row["name"], coupon_template_id=row["coupon_template_id"],
        segment=Segment.model_validate(row["segment"]), holdout_percent=row["holdout_percent"],
        repeat=row["repeat"], status=row["status"], error=row["error"],
        targeted=totals["targeted"], treated=treated, held_out=totals["held_out"],
        issued=totals["issued"], redeemed=totals["redeemed"], repurchase_rate=rates, lift=lift,
        scheduled_at=row["scheduled_at"], created_at=row["created_at"],
        started_at=row["started_at"], finished_at=row["finished_at"])


def birthday_years(segment: dict[str, Any], today: date) -> dict[str, int] | None:
    """The birthdays ('MM-DD') a birthday segment matches, each with the year of the
    birthday it stands for: today (or ``birthday_days_ahead`` days from today), or the 7
    days from there. A 29 February birthday is matched on 28 February in other years."""
    if "birthday" not in segment:
        return None
    first = today + timedelta(days=segment.get("birthday_days_ahead") or 0)
    days = [first + timedelta(days=n)
            for n in range(1 if segment["birthday"] == "today" else 7)]
    out = {d.strftime("%m-%d"): d.year for d in days}
    if "02-28" in out and not _leap(out["02-28"]):
        out["02-29"] = out["02-28"]
    return out


def birthdays(segment: dict[str, Any], today: date) -> list[str] | None:
    years = birthday_years(segment, today)
    return None if years is None else list(years)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


async def choose_targets(conn: asyncpg.Connection, send_id: str,
                         now: datetime) -> asyncpg.Record | None:
    """Step 1: the targets and the holdout, once. Returns the send, None when it is done."""
    send = await queries.lock_send(conn, send_id)
    if send is None or send["status"] in ("done", "failed", "scheduled"):
        return None
    if send["status"] == "queued":
        # A daily run targets its own day's birthdays even when its job runs after midnight.
        today = send["run_date"] or now.astimezone(ZoneInfo(send["time_zone"])).date()
        years = birthday_years(send["segment"], today)
        # Once a year: each target is claimed for its birthday's year under the daily
        # definition (a unique key), so a member matched by two runs gets one coupon.
        claim = queries.BirthdayClaim(send["parent_id"] or send_id, years) \
            if years is not None and send["segment"].get("birthday_once_a_year") else None
        targeted, held_out = await queries.fill_targets(
            conn, send_id, send["merchant_id"], send["segment"], send["holdout_percent"], now,
            None if years is None else list(years), claim=claim)
        await queries.start(conn, send_id, targeted, held_out, now)
    return send


async def issue_batch(conn: asyncpg.Connection, send: asyncpg.Record, now: datetime) -> int:
    """Step 2, repeated: coupons for the next batch of treated members; 0 when none is left.
    The template's counters move with the batch, so its stock CHECK refuses an oversell
    (InsufficientInventory from the caller's point of view)."""
    members = await queries.members_to_issue(conn, send["id"], ISSUE_BATCH)
    if not members:
        return 0
    template = await coupon_queries.template_by_id(conn, send["merchant_id"],
                                                   send["coupon_template_id"])
    assert template is not None
    valid_days = template["valid_days"]
    expires_at = now + timedelta(days=valid_days) if valid_days else None
    coupon_ids = [new_id("cpn") for _ in members]
    for tries in range(3):
        codes = random_codes(len(members), COUPON_CODE_LENGTH)
        try:
            async with conn.transaction():  # savepoint: a collision draws the codes again
                await queries.copy_coupons(conn, [
                    (coupon_id, send["merchant_id"], template["id"], member_id, code, "send",
                     now, expires_at, now)
                    for coupon_id, member_id, code in zip(coupon_ids, members, codes,
                                                          strict=True)])
            break
        except asyncpg.UniqueViolationError:
            if tries == 2:
                raise
    await coupon_queries.adjust_template_counters(conn, template["id"], issued=len(members))
    await queries.link_coupons(conn, send["id"], members, coupon_ids)
    return len(members)


async def finish(conn: asyncpg.Connection, send_id: str, now: datetime) -> None:
    await queries.finish(conn, send_id, now)


async def fail(conn: asyncpg.Connection, send_id: str, error: str, now: datetime) -> None:
    await queries.fail(conn, send_id, error, now)


async def schedule_daily_runs(unit: Unit, now: datetime) -> int:
    """One run per daily definition and day (in the merchant's time zone), once, made at
    the first call at or after DAILY_SEND_LOCAL_HOUR there; a later call the same day still
    makes a run missed at that hour, and the run's unique (parent_id, run_date) stops a
    second one."""
    made = 0
    for definition in await queries.daily_definitions(unit.conn):
        local = now.astimezone(ZoneInfo(definition["time_zone"]))
        if local.hour < DAILY_SEND_LOCAL_HOUR:
            continue
        today = local.date()
        run_id = new_id("snd")
        if await queries.insert_send(
                unit.conn, id=run_id, merchant_id=definition["merchant_id"],
                name=definition["name"], template_id=definition["coupon_template_id"],
                segment=definition["segment"], holdout_percent=definition["holdout_percent"],
                repeat=None, status="queued", now=now, parent_id=definition["id"],
                run_date=today):
            run_job(unit, run_id)
            made += 1
    return made


# --- Birthday coupons (生日礼): one daily send per merchant, switched on and off ----------

# The name of the daily send behind a merchant's birthday coupons (GET /api/v1/sends/{id}).
BIRTHDAY_SEND_NAME = "生日礼"


def birthday_segment(days_before: int) -> dict[str, Any]:
    return {"birthday": "today", "birthday_days_ahead": days_before,
            "birthday_once_a_year": True}


def _birthday_out(row: asyncpg.Record | None) -> BirthdayAutomationOut:
    if row is None:
        return BirthdayAutomationOut(enabled=False, coupon_template_id=None, days_before=0,
                                     send_id=None, updated_at=None)
    return BirthdayAutomationOut(
        enabled=not row["paused"], coupon_template_id=row["coupon_template_id"],
        days_before=row["segment"].get("birthday_days_ahead") or 0, send_id=row["send_id"],
        updated_at=row["updated_at"])


async def get_birthday_automation(conn: asyncpg.Connection | asyncpg.Pool,
                                  merchant_id: str) -> BirthdayAutomationOut:
    return _birthday_out(await queries.birthday_automation(conn, merchant_id))


async def set_birthday_automation(conn: asyncpg.Connection, merchant_id: str,
                                  data: BirthdayAutomationIn,
                                  now: datetime) -> BirthdayAutomationOut:
    """Each day from DAILY_SEND_LOCAL_HOUR in the merchant's zone, the members whose
    birthday is ``days_before`` days away get the coupon, once per birthday (the segment's
    birthday_once_a_year). Turning it off keeps the definition, paused, for next time."""
    await queries.lock_merchant(conn, merchant_id)
    if data.coupon_template_id is not None:
        await require_template(conn, merchant_id, data.coupon_template_id,
                               "coupon_template_id")
    existing = await queries.birthday_automation(conn, merchant_id)
    segment = birthday_segment(data.days_before)
    if existing is None:
        if data.coupon_template_id is None:  # off, and never set: nothing to keep
            return _birthday_out(None)
        send_id = new_id("snd")
        await queries.insert_send(
            conn, id=send_id, merchant_id=merchant_id, name=BIRTHDAY_SEND_NAME,
            template_id=data.coupon_template_id, segment=segment, holdout_percent=0,
            repeat="daily", status="scheduled", now=now)
        await queries.set_paused(conn, send_id, not data.enabled)
        await queries.insert_birthday_automation(conn, merchant_id, send_id, now)
    else:
        await queries.update_birthday_automation(
            conn, merchant_id, template_id=data.coupon_template_id
            or existing["coupon_template_id"], segment=segment, paused=not data.enabled,
            now=now)
    return await get_birthday_automation(conn, merchant_id)
