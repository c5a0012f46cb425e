"""The draw hot path: one Redis script call decides, one INSERT makes it durable.

No PostgreSQL row is locked per draw (unless the campaign costs points, when the member's
own row is). A campaign that grants earned chances reads the member's chances from
PostgreSQL before each draw (games/chances): the script spends one only past the limits.
A result is returned only after its draw row is committed (invariant 4); a draw that cannot
be written is undone in Redis, so stock and limits never leak.

An Idempotency-Key is recorded in Redis and, with the draw, in PostgreSQL under a unique
claim (draw_idempotency_keys, kept a week): after Redis lost its data, the script asks for
PostgreSQL's record of a key it does not know, and a second draw under one key is refused
at insert, undone in Redis and answered with the first."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import asyncpg

from engagement.kit import metrics
from engagement.kit.constants import (
    COUPON_HOLDINGS_TTL_SECONDS,
    IDEMPOTENCY_TTL_SECONDS,
    IDEMPOTENCY_WAIT_SECONDS,
)
from engagement.kit.db import transaction
from engagement.kit.errors import IdempotencyKeyReused, NotFound, RateLimited
from engagement.kit.ids import new_id
from engagement.kit.jobs import Job, enqueue
from engagement.kit.state import Services
from engagement.members.schemas import MemberPrincipal
from engagement.points.service import Entry, post_entries
from games.chances import queries as chance_queries
from games.draw import fairness, hot_state, queries
from games.draw.protocol import (
    CheckRecord,
    DrawArgs,
    DrawKeys,
    Drawn,
    Fairness,
    LimitReached,
    NeedChances,
    NeedPity,
    NotActive,
    NotPrimed,
    Replay,
    SeedHoldings,
    Throttled,
    UndoArgs,
    UnknownCampaign,
)
from games.draw.scripts import scripts_for
from games.draw.writer import DrawRow, writer_for
from games.errors import CampaignNotActive, DrawInProgress, DrawLimitReached

log = logging.getLogger(__name__)


class _ChanceCampaigns(set[str]):
    """The campaigns this process has learnt grant earned chances: their draws look up the
    member's chances before the script asks."""


class _AlreadyDrawn(Exception):
    """PostgreSQL holds a draw under this Idempotency-Key already: Redis had lost its record."""

    def __init__(self, record: asyncpg.Record) -> None:
        self.record = record


async def draw(svc: Services, principal: MemberPrincipal, campaign_id: str,
               idempotency_key: str | None, request_hash: str,
               client_seed: str | None = None) -> str:
    """Draw once; returns the response body (JSON), the same for every replay of its key.
    The pick is the provably fair one (games/draw/fairness.py): with the member's client
    seed and the Idempotency-Key as its nonce, or else with the draw's id and no nonce.
    Each answered draw is timed (engagement_draw_duration_seconds); a refused one is not."""
    started = time.perf_counter()
    body = await _draw(svc, principal, campaign_id, idempotency_key, request_hash,
                       client_seed)
    metrics.DRAW_DURATION.observe(time.perf_counter() - started)
    return body


async def _draw(svc: Services, principal: MemberPrincipal, campaign_id: str,
                idempotency_key: str | None, request_hash: str,
                client_seed: str | None) -> str:
    now = svc.clock.now()
    day = now.astimezone(ZoneInfo(principal.merchant.time_zone)).date()
    keys = DrawKeys.of(campaign_id, principal.member_id, day, idempotency_key)
    scripts = scripts_for(svc)
    draw_id = new_id("drw")
    created_at = now.astimezone(UTC).isoformat(timespec="milliseconds")
    record_checked = False
    chance_campaigns = svc.helper(_ChanceCampaigns, _ChanceCampaigns)
    earned: int | None = None
    used = 0
    streak: int | None = None
    seeds = Fairness(client_seed, idempotency_key or "") if client_seed is not None \
        else Fairness(draw_id, "")
    committed = await fairness.committed(svc, campaign_id)
    # A draft has no seed and cannot be drawn: the script refuses it before it picks.
    rand = 0 if committed is None else fairness.pick(committed.seed, seeds.client_seed,
                                                     seeds.nonce, committed.total_weight)
    for _ in range(8):
        if earned is None and campaign_id in chance_campaigns:
            earned, used = await chance_queries.balance(svc.pool, campaign_id,
                                                        principal.member_id)
        reply = await scripts.run_draw(keys, DrawArgs(
            now_ms=int(now.timestamp() * 1000), rand=rand,
            draw_id=draw_id, created_at=created_at, idempotent=idempotency_key is not None,
            request_hash=request_hash, campaign_id=campaign_id,
            merchant_id=principal.merchant.id, record_checked=record_checked,
            chances_earned=earned, chances_used=used, pity_streak=streak), seeds)
        match reply:
            case Drawn() as drawn:
                break
            case NotPrimed():
                await _prime_from_record(svc, principal, campaign_id, now)
            case CheckRecord():
                assert idempotency_key is not None
                found = await queries.draw_by_idempotency_key(
                    svc.pool, campaign_id, principal.member_id, idempotency_key)
                if found is not None:
                    return await _restore(svc, keys.idempotency, found, request_hash)
                record_checked = True
            case SeedHoldings():
                await _seed_holdings(svc, keys.held, campaign_id, principal.member_id)
            case NeedChances():
                # A campaign's chances cannot change once it is live: remembered for good.
                chance_campaigns.add(campaign_id)
            case NeedPity():
                streak = await queries.loses_since_last_win(svc.pool, campaign_id,
                                                            principal.member_id)
            case Replay(record=record):
                replayed = await _replay(svc, keys.idempotency, record, request_hash)
                if replayed is not None:
                    return replayed
                # The first request failed and was undone: draw afresh.
            case UnknownCampaign():
                raise NotFound("No such campaign.")
            case NotActive(status=status):
                raise CampaignNotActive(status=status)
            case LimitReached():
                raise DrawLimitReached()
            case Throttled(ttl=ttl):
                raise RateLimited(retry_after=max(1, ttl))
    else:
        raise CampaignNotActive()
    row = DrawRow(id=draw_id, merchant_id=principal.merchant.id, campaign_id=campaign_id,
                  member_id=principal.member_id, prize_id=drawn.prize_id,
                  win_seq=drawn.seq if drawn.outcome == "win" else None, local_day=day,
                  points_spent=drawn.entry_cost, idempotency_key=idempotency_key,
                  request_hash=request_hash, response=drawn.body, created_at=now)
    first_draw = drawn.total == 1
    try:
        body, won = await _persist(svc, principal, row)
    except _AlreadyDrawn as already:
        await scripts.run_undo(keys, UndoArgs(prize_id=drawn.prize_id, first_draw=first_draw,
                                              idempotent=True, extra=drawn.extra))
        return await _restore(svc, keys.idempotency, already.record, request_hash)
    except Exception:
        await scripts.run_undo(keys, UndoArgs(prize_id=drawn.prize_id, first_draw=first_draw,
                                              idempotent=idempotency_key is not None,
                                              extra=drawn.extra))
        raise
    (metrics.DRAWS_WON if won else metrics.DRAWS_LOST).inc()  # committed: a draw made
    if idempotency_key is not None:
        await scripts.mark_drawn(keys.idempotency, f"D|{request_hash}|{body}")
    if drawn.outcome == "win" and not won:
        # Recorded as a lose: Redis's streak of loses took it as a win; PostgreSQL's stands.
        await svc.hot.delete(keys.pity)
    if won:
        await _enqueue_settlement(svc, campaign_id)
    return body


async def _restore(svc: Services, key: str, found: asyncpg.Record, request_hash: str) -> str:
    """Answer a repeated Idempotency-Key from PostgreSQL's record of its draw, and put the
    record back in Redis for the next replay."""
    if found["request_hash"] is not None and found["request_hash"] != request_hash:
        raise IdempotencyKeyReused()
    body: str = found["response"]
    await svc.hot.set(key, f"D|{request_hash}|{body}", nx=True, ex=IDEMPOTENCY_TTL_SECONDS)
    return body


async def _seed_holdings(svc: Services, key: str, campaign_id: str, member_id: str) -> None:
    """Tell the draw script how many of each limited prize coupon the member already has."""
    holdings: dict[str, int] = {}
    for row in await queries.coupon_holdings(svc.pool, campaign_id, member_id):
        holdings[f"l:{row['template_id']}"] = row["per_member_limit"]
        holdings[f"h:{row['template_id']}"] = row["held"]
    await scripts_for(svc).run_seed(key, holdings, COUPON_HOLDINGS_TTL_SECONDS)


async def _persist(svc: Services, principal: MemberPrincipal, row: DrawRow
                   ) -> tuple[str, bool]:
    """Make the draw durable before anyone sees it; returns the body and whether it won.
    A win PostgreSQL refuses (its sequence is past the prize's quantity, or taken: Redis
    had lost state) is recorded, and answered, as a lose; a draw under an Idempotency-Key
    PostgreSQL has already drawn raises _AlreadyDrawn."""
    if row.points_spent:
        # The entry cost and the draw commit together, or not at all; shielded so that a
        # client hanging up cannot cut the transaction short after the script has run.
        return await asyncio.shield(_persist_with_cost(svc, row))
    # A cancelled request does not take its row out of the writer's batch: the draw is
    # still recorded, just never shown.
    writer = writer_for(svc)
    if await writer.write(row):
        return row.response, row.win_seq is not None
    await _raise_if_drawn(svc.pool, row)
    lose = _as_lose(row)
    if not await writer.write(lose):
        await _raise_if_drawn(svc.pool, row)
        raise RuntimeError(f"draw {row.id} could not be recorded")
    return lose.response, False


async def _persist_with_cost(svc: Services, row: DrawRow) -> tuple[str, bool]:
    async with transaction(svc.pool) as conn:
        await post_entries(conn, [Entry(row.merchant_id, row.member_id, -row.points_spent,
                                        "draw_entry", f"draw_entry:{row.id}")],
                           svc.clock.now())
        if row.id in await queries.insert_draws(conn, [row.values()]):
            return row.response, row.win_seq is not None
        await _raise_if_drawn(conn, row)  # rolls the entry cost back with the draw
        lose = _as_lose(row)
        await queries.insert_draws(conn, [lose.values()])
        return lose.response, False


async def _raise_if_drawn(conn: asyncpg.Connection | asyncpg.Pool, row: DrawRow) -> None:
    """A row PostgreSQL refused may be a second draw under one Idempotency-Key (two requests
    with a key whose Redis record was lost): the first draw stands and answers both."""
    if row.idempotency_key is None:
        return
    found = await queries.draw_by_idempotency_key(conn, row.campaign_id, row.member_id,
                                                  row.idempotency_key)
    if found is not None:
        raise _AlreadyDrawn(found)


def _as_lose(row: DrawRow) -> DrawRow:
    log.warning("win %s refused by PostgreSQL; recorded as a lose", row.id)
    parsed = json.loads(row.response)
    # The game lands on no prize segment (the page picks a "nothing" one).
    parsed.update(outcome="lose", prize=None, segment_id=None, pity=False)
    body = json.dumps(parsed, ensure_ascii=False, separators=(",", ":"))
    return replace(row, prize_id=None, win_seq=None, response=body)


async def _replay(svc: Services, key: str, value: str, request_hash: str) -> str | None:
    """The stored answer for a repeated Idempotency-Key; waits while the first request is
    still writing. None when the first request failed (its record is gone)."""
    deadline = time.monotonic() + IDEMPOTENCY_WAIT_SECONDS
    while True:
        state, stored_hash, body = value.split("|", 2)
        if stored_hash != request_hash:
            raise IdempotencyKeyReused()
        if state == "D":
            return body
        if time.monotonic() > deadline:
            raise DrawInProgress()
        await asyncio.sleep(0.005)
        raw = await svc.hot.get(key)
        if raw is None:
            return None
        value = raw.decode()


async def _prime_from_record(svc: Services, principal: MemberPrincipal, campaign_id: str,
                             now: datetime) -> None:
    campaign = await queries.campaign(svc.pool, principal.merchant.id, campaign_id)
    if campaign is None:
        raise NotFound("No such campaign.")
    if campaign["status"] == "draft":
        raise CampaignNotActive(status="draft")
    await hot_state.prime(svc.pool, svc.hot, scripts_for(svc), svc.settings,
                          campaign_id, principal.merchant.time_zone, now)


# The job that turns a campaign's wins into coupons and points (games/tasks.py
# ``settle_draws``): its name is spelled here only.
SETTLE_JOB = "games.settle_draws"


class _SettleBuckets(dict[str, int]):
    """The last settlement bucket this process enqueued, by campaign."""


async def _enqueue_settlement(svc: Services, campaign_id: str) -> None:
    """Settlement jobs are coalesced per campaign and time bucket: every win of a bucket
    shares one job, which runs when the bucket has closed, so it sees all of their rows.
    Each process remembers the last bucket it enqueued for, to skip the round trips."""
    bucket_ms = svc.settings.settle_bucket_ms
    bucket = int(time.time() * 1000) // bucket_ms
    last = svc.helper(_SettleBuckets, _SettleBuckets)
    if last.get(campaign_id) == bucket:
        return
    last[campaign_id] = bucket
    run_at = datetime.fromtimestamp((bucket + 1) * bucket_ms / 1000, tz=UTC)
    try:
        await enqueue(svc.redis, Job(SETTLE_JOB, (campaign_id,),
                                     job_id=f"{SETTLE_JOB}:{campaign_id}:{bucket}",
                                     defer_until=run_at))
    except Exception:  # the next win retries; the sweeper finds anything left behind
        last.pop(campaign_id, None)
        log.exception("could not enqueue settlement for %s", campaign_id)

