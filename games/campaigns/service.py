"""Campaigns: create, read, change, and move through draft -> active <-> paused -> ended.

Publishing reserves coupon inventory from the templates, so that settlement never runs out
of coupons; ending releases what was not won, once no draw can still be on its way."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from engagement.coupons import queries as coupon_queries
from engagement.coupons import service as coupons
from engagement.kit import hooks
from engagement.kit.constants import RELEASE_AFTER_END_SECONDS
from engagement.kit.errors import NotFound
from engagement.kit.ids import new_id
from engagement.kit.jobs import Unit
from engagement.kit.state import Services
from engagement.points import service as points
from engagement.points.schemas import PointValue
from games.campaigns import queries as campaign_queries
from games.campaigns.schemas import (
    CampaignCreate,
    CampaignOut,
    CampaignUpdate,
    Chances,
    CouponPrizeIn,
    FairnessOut,
    Limits,
    NothingPrizeIn,
    Pity,
    PointsPrizeIn,
    PrizeOut,
    StatsOut,
)
from games.draw import fairness, hot_state
from games.draw import queries as draw_queries
from games.draw.protocol import CampaignKeys
from games.draw.scripts import read_counts, scripts_for
from games.errors import (
    CampaignEnded,
    CampaignLiveLocked,
    InvalidPrize,
    InvalidTransition,
    PrizeValueOverCap,
)

LIVE = ("active", "paused")
# 反不正当竞争法 (Anti-Unfair Competition Law, art. 10): a prize of a lottery-style sale may
# be worth at most ¥50,000. A coupon's face value is what it takes off (amount-off only: a
# percent-off or a gift has no value of its own); points are worth what the merchant's
# points program says they are (point_value), and are not capped where it says nothing.
PRIZE_VALUE_CAP_CENTS = 5_000_000


def ensure_under_cap(template: asyncpg.Record, field: str) -> None:
    discount = template["discount"]
    if discount["type"] == "amount_off" and discount["amount"] > PRIZE_VALUE_CAP_CENTS:
        raise PrizeValueOverCap(fields=[{"field": field}], cap=PRIZE_VALUE_CAP_CENTS,
                                value=discount["amount"])


def ensure_points_under_cap(points: int, value: PointValue | None, field: str) -> None:
    if value is None:
        return
    cents = points * value.cents // value.points  # whole cents, rounded down
    if cents > PRIZE_VALUE_CAP_CENTS:
        raise PrizeValueOverCap(fields=[{"field": field}], cap=PRIZE_VALUE_CAP_CENTS,
                                value=cents)
TRANSITIONS = {"publish": ("draft",), "pause": ("active",), "resume": ("paused",),
               "end": ("active", "paused")}


async def create_campaign(conn: asyncpg.Connection, merchant_id: str,
                          data: CampaignCreate) -> str:
    template_ids = sorted({p.coupon_template_id for p in data.prizes
                           if isinstance(p, CouponPrizeIn)})
    templates = {t["id"]: t for t in await coupon_queries.templates_by_ids(
        conn, merchant_id, template_ids)}
    value = await points.point_value(conn, merchant_id)
    for index, prize in enumerate(data.prizes):
        if isinstance(prize, PointsPrizeIn):
            ensure_points_under_cap(prize.points, value, f"prizes.{index}.points")
        if not isinstance(prize, CouponPrizeIn):
            continue
        template = templates.get(prize.coupon_template_id)
        if template is None:
            raise InvalidPrize("No such coupon template.", field=f"prizes.{index}",
                               coupon_template_id=prize.coupon_template_id)
        if prize.quantity is None and template["stock"] is not None:
            raise InvalidPrize("An unlimited prize needs a template with unlimited stock.",
                               field=f"prizes.{index}.quantity")
        ensure_under_cap(template, f"prizes.{index}.coupon_template_id")
    if data.pity is not None and (data.pity.prize_index >= len(data.prizes)
                                  or data.prizes[data.pity.prize_index].kind == "nothing"):
        raise InvalidPrize("The pity prize must be one of the campaign's coupon or points "
                           "prizes.", field="pity.prize_index")
    campaign_id = new_id("cmp")
    await campaign_queries.insert_campaign(
        conn, id=campaign_id, merchant_id=merchant_id, name=data.name, game=data.game,
        starts_at=data.starts_at, ends_at=data.ends_at,
        per_member_per_day=data.limits.per_member_per_day,
        per_member_total=data.limits.per_member_total,
        entry_cost_points=data.entry_cost_points, rules=data.rules,
        chance_per_order=data.chances.per_order, chance_per_check_in=data.chances.per_check_in,
        chance_per_invite=data.chances.per_invite,
    )
    prize_ids = [new_id("prz") for _ in data.prizes]
    await campaign_queries.insert_prizes(conn, [
        (prize_ids[index], campaign_id, merchant_id, index, prize.name, prize.kind,
         getattr(prize, "coupon_template_id", None), getattr(prize, "points", None),
         None if isinstance(prize, NothingPrizeIn) else prize.quantity, prize.weight)
        for index, prize in enumerate(data.prizes)
    ])
    if data.pity is not None:
        await campaign_queries.set_pity(conn, campaign_id, data.pity.after,
                                        prize_ids[data.pity.prize_index])
    return campaign_id


async def load(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str, campaign_id: str,
               *, for_update: bool = False) -> asyncpg.Record:
    campaign = await draw_queries.campaign(conn, merchant_id, campaign_id, for_update=for_update)
    if campaign is None:
        raise NotFound("No such campaign.")
    return campaign


async def live_wins(svc: Services, campaign: asyncpg.Record) -> dict[str, int]:
    """Wins per prize: Redis's live counters when primed, else what PostgreSQL recorded."""
    if campaign["status"] == "draft":
        return {}
    keys = CampaignKeys.of(campaign["id"])
    if await svc.hot.exists(keys.meta):
        return await read_counts(svc.hot, keys.wins)
    return await draw_queries.win_counts(svc.pool, campaign["id"])


def limits_of(campaign: asyncpg.Record) -> Limits:
    return Limits(per_member_per_day=campaign["per_member_per_day"],
                  per_member_total=campaign["per_member_total"])


def chances_of(campaign: asyncpg.Record) -> Chances:
    return Chances(per_order=campaign["chance_per_order"],
                   per_check_in=campaign["chance_per_check_in"],
                   per_invite=campaign["chance_per_invite"])


def pity_of(campaign: asyncpg.Record) -> Pity | None:
    if campaign["pity_after"] is None:
        return None
    return Pity(after=campaign["pity_after"], prize_id=campaign["pity_prize_id"])


def play_url(svc: Services, campaign_id: str) -> str:
    return f"{svc.settings.public_url.rstrip('/')}/play/{campaign_id}"


async def campaign_out(svc: Services, merchant_id: str, campaign_id: str) -> CampaignOut:
    campaign = await load(svc.pool, merchant_id, campaign_id)
    prizes = await draw_queries.prizes(svc.pool, campaign_id)
    wins = await live_wins(svc, campaign)
    total_weight = sum(p["weight"] for p in prizes)
    return CampaignOut(
        id=campaign["id"], name=campaign["name"], status=campaign["status"],
        game=campaign["game"], starts_at=campaign["starts_at"], ends_at=campaign["ends_at"],
        limits=limits_of(campaign), chances=chances_of(campaign), pity=pity_of(campaign),
        fairness=FairnessOut(commitment=campaign["commitment"]),
        entry_cost_points=campaign["entry_cost_points"], rules=campaign["rules"],
        play_url=play_url(svc, campaign_id),
        prizes=[PrizeOut(
            id=p["id"], name=p["name"], kind=p["kind"],
            coupon_template_id=p["coupon_template_id"], points=p["points"],
            quantity=p["quantity"],
            remaining=None if p["quantity"] is None
            else max(0, p["quantity"] - wins.get(p["id"], 0)),
            weight=p["weight"], probability=round(p["weight"] / total_weight, 6),
        ) for p in prizes],
        created_at=campaign["created_at"], published_at=campaign["published_at"],
        ended_at=campaign["ended_at"],
    )


async def transition(unit: Unit, svc: Services, merchant_id: str, campaign_id: str,
                     action: str) -> None:
    campaign = await load(unit.conn, merchant_id, campaign_id, for_update=True)
    if campaign["status"] not in TRANSITIONS[action]:
        raise InvalidTransition(status=campaign["status"], action=action)
    now = svc.clock.now()
    if action == "publish":
        if campaign["ends_at"] is not None and campaign["ends_at"] <= now:
            raise InvalidTransition("The campaign's window is already over.",
                                    status=campaign["status"], action=action)
        prizes = await draw_queries.prizes(unit.conn, campaign_id)
        templates = await coupon_queries.templates_by_ids(
            unit.conn, merchant_id, sorted({p["coupon_template_id"] for p in prizes
                                            if p["kind"] == "coupon"}))
        for template in templates:  # its terms may have changed since the draft was made
            ensure_under_cap(template, "prizes")
        value = await points.point_value(unit.conn, merchant_id)  # so may the point value
        for prize in prizes:
            if prize["kind"] == "points":
                ensure_points_under_cap(prize["points"], value, "prizes")
        for prize in prizes:
            if prize["kind"] == "coupon" and prize["quantity"] is not None:
                await coupons.reserve(unit.conn, prize["coupon_template_id"], prize["quantity"])
                await draw_queries.set_reserved(unit.conn, prize["id"], prize["quantity"])
        await fairness.commit(unit.conn, campaign_id)  # the seed its draws will pick with
    status = {"publish": "active", "pause": "paused", "resume": "active", "end": "ended"}[action]
    await campaign_queries.set_status(unit.conn, campaign_id, status, now)
    if status == "ended":
        defer_release(unit, campaign_id, now)


# The job that gives an ended campaign's unwon reservations back (games/tasks.py
# ``release_reservations``): its name is spelled here only.
RELEASE_JOB = "games.release_reservations"


def defer_release(unit: Unit, campaign_id: str, now: datetime) -> None:
    unit.defer(RELEASE_JOB, campaign_id, job_id=f"{RELEASE_JOB}:{campaign_id}",
               defer_until=now + timedelta(seconds=RELEASE_AFTER_END_SECONDS))


async def after_change(svc: Services, campaign_id: str, time_zone: str) -> None:
    """Once committed: bring hot state up to date, priming it if there is none (a freshly
    published campaign), so the first draws do not all find it missing at once."""
    scripts = scripts_for(svc)
    if not await hot_state.patch(svc.pool, scripts, svc.settings, campaign_id):
        await hot_state.prime(svc.pool, svc.hot, scripts, svc.settings, campaign_id,
                              time_zone, svc.clock.now())


async def update(unit: Unit, svc: Services, merchant_id: str, campaign_id: str,
                 data: CampaignUpdate) -> None:
    campaign = await load(unit.conn, merchant_id, campaign_id, for_update=True)
    status = campaign["status"]
    if status == "ended":
        raise CampaignEnded()
    live = status in LIVE
    if live and data.ends_at is not None and (
            data.ends_at <= svc.clock.now()  # no end at all is the latest end there is
            or (campaign["ends_at"] is not None and data.ends_at < campaign["ends_at"])):
        raise CampaignLiveLocked("A live campaign's end can only move later.")
    if live and data.rules is not None and data.rules != campaign["rules"]:
        # 有奖销售: the rules members read before they played are the rules until the end.
        raise CampaignLiveLocked("A live campaign's rules cannot change.", field="rules")
    if live and data.limits is not None and data.limits != limits_of(campaign):
        raise CampaignLiveLocked("A live campaign's limits cannot change.", field="limits")
    if live and data.chances is not None and data.chances != chances_of(campaign):
        raise CampaignLiveLocked("A live campaign's earned chances cannot change.",
                                 field="chances")
    if live and ((data.pity is not None and data.pity != pity_of(campaign))
                 or (data.remove_pity and campaign["pity_after"] is not None)):
        raise CampaignLiveLocked("A live campaign's pity (保底) cannot change.", field="pity")
    prizes = {p["id"]: p for p in await draw_queries.prizes(unit.conn, campaign_id)}
    if data.pity is not None and (data.pity.prize_id not in prizes
                                  or prizes[data.pity.prize_id]["kind"] == "nothing"):
        raise InvalidPrize("The pity prize must be one of the campaign's coupon or points "
                           "prizes.", field="pity.prize_id")
    for index, change in enumerate(data.prizes):
        prize = prizes.get(change.id)
        if prize is None:
            raise InvalidPrize("No such prize in this campaign.", field=f"prizes.{index}.id")
        if change.quantity is not None and prize["kind"] == "nothing":
            raise InvalidPrize("A 'nothing' prize has no quantity.",
                               field=f"prizes.{index}.quantity")
        reserved_delta = 0
        if live:
            if change.weight is not None and change.weight != prize["weight"]:
                raise CampaignLiveLocked(prize_id=prize["id"])
            if change.quantity is not None:
                if prize["quantity"] is None:
                    raise InvalidPrize("An unlimited prize has no quantity to change.",
                                       field=f"prizes.{index}.quantity")
                if change.quantity < prize["quantity"]:
                    # Fewer prizes would lower the odds members were shown: only more.
                    raise CampaignLiveLocked("A live campaign's quantities can only grow.",
                                             prize_id=prize["id"])
                reserved_delta = change.quantity - prize["quantity"]
                if prize["kind"] == "coupon" and reserved_delta > 0:
                    await coupons.reserve(unit.conn, prize["coupon_template_id"], reserved_delta)
                if prize["kind"] != "coupon":
                    reserved_delta = 0
        await campaign_queries.update_prize(unit.conn, prize["id"], name=change.name,
                                   quantity=change.quantity, weight=change.weight,
                                   reserved_delta=reserved_delta)
    await campaign_queries.update_campaign(unit.conn, campaign_id, data.name, data.ends_at,
                                           data.rules)
    if data.limits is not None:
        await campaign_queries.set_limits(unit.conn, campaign_id,
                                          data.limits.per_member_per_day,
                                          data.limits.per_member_total)
    if data.chances is not None:
        await campaign_queries.set_chances(unit.conn, campaign_id, data.chances.per_order,
                                           data.chances.per_check_in, data.chances.per_invite)
    if data.pity is not None:
        await campaign_queries.set_pity(unit.conn, campaign_id, data.pity.after,
                                        data.pity.prize_id)
    elif data.remove_pity:
        await campaign_queries.set_pity(unit.conn, campaign_id, None, None)


async def stats(svc: Services, merchant_id: str, campaign_id: str, time_zone: str) -> StatsOut:
    campaign = await load(svc.pool, merchant_id, campaign_id)
    prizes = await draw_queries.prizes(svc.pool, campaign_id)
    draws = players = 0
    wins: dict[str, int] = {}
    if campaign["status"] != "draft":
        keys = CampaignKeys.of(campaign_id)
        if not await svc.hot.exists(keys.meta):
            await hot_state.prime(svc.pool, svc.hot, scripts_for(svc), svc.settings,
                                  campaign_id, time_zone, svc.clock.now())
        counters = await read_counts(svc.hot, keys.stats)
        draws, players = counters.get("draws", 0), counters.get("players", 0)
        wins = await read_counts(svc.hot, keys.wins)
    return StatsOut(
        draws=draws, players=players,
        wins={p["id"]: wins.get(p["id"], 0) for p in prizes if p["kind"] != "nothing"},
        coupons_issued=sum(p["settled"] for p in prizes if p["kind"] == "coupon"),
        coupons_redeemed=sum(p["redeemed"] for p in prizes),
        unsettled=await draw_queries.unsettled_count(svc.pool, campaign_id),
    )


async def on_coupon_redeemed(conn: asyncpg.Connection, coupon: hooks.CouponRedeemed) -> None:
    """Campaign counters follow redemptions of the coupons a campaign gave out."""
    if coupon.prize_id:
        await campaign_queries.add_redeemed(conn, coupon.prize_id)


async def on_coupon_returned(conn: asyncpg.Connection, coupon: hooks.CouponReturned) -> None:
    """A coupon a refund gave back no longer counts as redeemed."""
    if coupon.prize_id:
        await campaign_queries.add_redeemed(conn, coupon.prize_id, -1)
