"""The console's campaign builder: reading its form into a CampaignCreate / CampaignUpdate,
checking prize quantities against coupon inventory, and the cost preview (what a campaign
is expected to give away for a number of players)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import ValidationError

from engagement.console.forms import Form, FormErrors, pydantic_errors
from engagement.coupons import queries as coupon_queries
from engagement.kit.fields import INT4_MAX, MAX_STOCK
from engagement.kit.i18n import N_
from games.campaigns.schemas import CampaignCreate, CampaignOut, CampaignUpdate

MAX_PRIZES = 12
DEFAULT_PLAYERS = 1000
_PRIZE_FIELD = re.compile(r"^prize-(\d{1,2})-kind$")
CHANCE_FIELDS = ("per_order", "per_check_in", "per_invite")
_NAMES = {"limits.per_member_per_day": "per_member_per_day",
          "limits.per_member_total": "per_member_total",
          **{f"chances.{name}": f"chance_{name}" for name in CHANCE_FIELDS},
          "pity.after": "pity_after", "pity.prize_index": "pity_prize"}


def prize_indexes(data: dict[str, str]) -> list[int]:
    found = sorted({int(m.group(1)) for k in data if (m := _PRIZE_FIELD.match(k))})
    return found[:MAX_PRIZES]


def _prize(form: Form, i: int, templates: dict[str, asyncpg.Record]) -> dict[str, Any]:
    p = f"prize-{i}-"
    kind = form.data.get(p + "kind", "")
    prize: dict[str, Any] = {"kind": kind,
                             "weight": form.integer(p + "weight", required=True, minimum=1)}
    default_name = N_("谢谢参与") if kind == "nothing" else None
    prize["name"] = form.text(p + "name", required=default_name is None, max_length=60) \
        or default_name
    if kind == "coupon":
        template_id = form.data.get(p + "template", "")
        template = templates.get(template_id)
        if template is None:
            form.errors[p + "template"] = N_("请选择一张优惠券")
        prize["coupon_template_id"] = template_id
        unlimited = template is not None and template["stock"] is None
        prize["quantity"] = form.integer(p + "quantity", required=not unlimited, minimum=0,
                                         maximum=MAX_STOCK)
    elif kind == "points":
        prize["points"] = form.integer(p + "points", required=True, minimum=1,
                                       maximum=10_000_000)
        prize["quantity"] = form.integer(p + "quantity", minimum=0, maximum=MAX_STOCK)
    elif kind != "nothing":
        form.errors[p + "kind"] = N_("请选择奖品类型")
    return prize


def _pity(form: Form, indexes: list[int], prizes: list[dict[str, Any]]
          ) -> dict[str, int] | None:
    """保底: after how many loses in a row, and which prize row (by its form index)."""
    after = form.integer("pity_after", minimum=1, maximum=1000)
    chosen = form.data.get("pity_prize", "")
    if after is None:
        if chosen and "pity_after" not in form.errors:
            form.errors["pity_after"] = N_("请填写连续未中奖几次后保底")
        return None
    position = indexes.index(int(chosen)) if chosen.isdigit() and int(chosen) in indexes \
        else None
    if position is None or prizes[position]["kind"] == "nothing":
        form.errors["pity_prize"] = N_("请选择保底奖品")
        return None
    return {"after": after, "prize_index": position}


def pity_fields(campaign: CampaignOut) -> dict[str, str]:
    """A campaign's pity as builder fields (its prize by row: rows follow the prize order)."""
    if campaign.pity is None:
        return {}
    rows = [i for i, p in enumerate(campaign.prizes) if p.id == campaign.pity.prize_id]
    return {"pity_after": str(campaign.pity.after), "pity_prize": str(rows[0]) if rows else ""}


def check_inventory(form: Form, indexes: list[int], prizes: list[dict[str, Any]],
                    templates: dict[str, asyncpg.Record]) -> None:
    """Coupon prizes of one template together need no more than it has available now (the
    authoritative check is the reservation at publish; this one catches it while building)."""
    wanted: dict[str, int] = {}
    for prize in prizes:
        if prize["kind"] == "coupon" and prize.get("quantity"):
            wanted[prize["coupon_template_id"]] = (wanted.get(prize["coupon_template_id"], 0)
                                                   + prize["quantity"])
    for i, prize in zip(indexes, prizes, strict=True):
        template = templates.get(prize.get("coupon_template_id") or "")
        if template is None or template["available"] is None \
                or f"prize-{i}-quantity" in form.errors:
            continue
        if wanted.get(template["id"], 0) > template["available"]:
            form.errors[f"prize-{i}-quantity"] = N_("超出库存：这张券还可用 %(n)s 张")
            form.params[f"prize-{i}-quantity"] = {"n": template["available"]}


async def read_create(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                      data: dict[str, str], time_zone: str) -> CampaignCreate:
    form = Form(data)
    templates = {t["id"]: t for t in await coupon_queries.templates_of_merchant(conn,
                                                                               merchant_id)}
    indexes = prize_indexes(data)
    prizes = [_prize(form, i, templates) for i in indexes]
    if not prizes:
        form.errors["prizes"] = N_("至少添加一个奖品")
    check_inventory(form, indexes, prizes, templates)
    values = {
        "name": form.text("name", required=True, max_length=120),
        "game": data.get("game", ""),
        "starts_at": form.local_time("starts_at", time_zone),
        "ends_at": form.local_time("ends_at", time_zone),
        "limits": {"per_member_per_day": form.integer("per_member_per_day", minimum=1),
                   "per_member_total": form.integer("per_member_total", minimum=1)},
        "chances": {name: form.integer(f"chance_{name}", minimum=1, maximum=100)
                    for name in CHANCE_FIELDS},
        "pity": _pity(form, indexes, prizes),
        "entry_cost_points": form.integer("entry_cost_points", minimum=0,
                                          maximum=10_000_000) or 0,
        "rules": form.text("rules", max_length=4000, multiline=True) or "",
        "prizes": prizes,
    }
    form.raise_if_invalid()
    names = dict(_NAMES)
    for position, i in enumerate(indexes):
        for field in ("name", "weight", "quantity", "points", "coupon_template_id"):
            suffix = "template" if field == "coupon_template_id" else field
            for kind in ("coupon", "points", "nothing"):
                names[f"prizes.{position}.{kind}.{field}"] = f"prize-{i}-{suffix}"
            names[f"prizes.{position}.{field}"] = f"prize-{i}-{suffix}"
    try:
        return CampaignCreate.model_validate(values)
    except ValidationError as exc:
        errors = pydantic_errors(exc, names)
        if "form" in errors or "" in errors:  # the window's own check
            errors["ends_at"] = N_("结束时间必须晚于开始时间")
        raise FormErrors(errors) from exc


def read_update(data: dict[str, str], campaign: CampaignOut, time_zone: str) -> CampaignUpdate:
    form = Form(data)
    live = campaign.status in ("active", "paused")
    prizes = []
    for i, prize in enumerate(campaign.prizes):
        p = f"prize-{i}-"
        change: dict[str, Any] = {"id": prize.id,
                                  "name": form.text(p + "name", required=True, max_length=60)}
        if not live:
            change["weight"] = form.integer(p + "weight", required=True, minimum=1)
        if prize.kind != "nothing" and prize.quantity is not None:
            quantity = form.integer(p + "quantity", required=True, minimum=0,
                                    maximum=MAX_STOCK)
            if live and quantity is not None and quantity < prize.quantity:
                # Fewer prizes would lower the odds members were shown: only more.
                form.errors[p + "quantity"] = N_("进行中的活动只能增加数量，现在是 %(n)s 个")
                form.params[p + "quantity"] = {"n": prize.quantity}
            change["quantity"] = quantity
        prizes.append(change)
    rules = form.text("rules", max_length=4000, multiline=True) or ""
    ends_at = form.local_time("ends_at", time_zone)
    if live and ends_at is not None and campaign.ends_at is not None \
            and ends_at < campaign.ends_at:
        form.errors["ends_at"] = N_("进行中的活动只能延后结束时间")
    form.raise_if_invalid()
    names = {f"prizes.{i}.{field}": f"prize-{i}-{field}"
             for i in range(len(prizes)) for field in ("name", "weight", "quantity")}
    try:
        return CampaignUpdate.model_validate({
            "name": form.text("name", required=True, max_length=120), "ends_at": ends_at,
            "rules": rules, "prizes": prizes})
    except ValidationError as exc:
        raise FormErrors(pydantic_errors(exc, names)) from exc


# The cost preview

@dataclass(frozen=True)
class PrizeCost:
    name: str
    kind: str
    probability: float
    quantity: int | None
    expected: float  # expected wins, capped by the quantity
    runs_out: bool
    face_value: int | None  # cents, for amount-off coupons
    points: int | None


@dataclass(frozen=True)
class CostPreview:
    players: int
    plays: float
    draws: float
    prizes: list[PrizeCost]
    coupons: float
    face_value: int
    points: float
    per_player: int  # cents of face value per player
    unpriced: bool  # percent-off or gift coupons: counted, but they have no fixed face value


def plays_per_player(per_day: int | None, total: int | None) -> int:
    """A default for "draws per player": the campaign's limit, or one."""
    return total or per_day or 1


def cost_preview(prizes: list[dict[str, Any]], templates: dict[str, Any], players: int,
                 plays: float) -> CostPreview:
    """Expected give-away for ``players`` players drawing ``plays`` times each. A prize that
    runs out turns its later draws into "no prize", so it costs at most its quantity and
    the others' odds do not rise (invariant 5)."""
    total_weight = sum(max(0, int(p.get("weight") or 0)) for p in prizes) or 1
    draws = players * plays
    out = []
    for prize in prizes:
        probability = max(0, int(prize.get("weight") or 0)) / total_weight
        quantity = prize.get("quantity")
        expected = draws * probability if prize["kind"] != "nothing" else 0.0
        runs_out = quantity is not None and expected >= quantity
        if quantity is not None:
            expected = min(expected, float(quantity))
        face = points = None
        if prize["kind"] == "coupon":
            discount = (templates.get(prize.get("coupon_template_id") or "") or {}).get(
                "discount") or {}
            if discount.get("type") == "amount_off":
                face = round(expected * int(discount["amount"]))
        elif prize["kind"] == "points":
            points = round(expected * int(prize.get("points") or 0))
        out.append(PrizeCost(name=str(prize.get("name") or ""), kind=prize["kind"],
                             probability=probability, quantity=quantity, expected=expected,
                             runs_out=runs_out, face_value=face, points=points))
    face_value = sum(p.face_value or 0 for p in out)
    return CostPreview(
        players=players, plays=plays, draws=draws, prizes=out,
        coupons=sum(p.expected for p in out if p.kind == "coupon"), face_value=face_value,
        points=sum(p.points or 0 for p in out),
        per_player=round(face_value / players) if players else 0,
        unpriced=any(p.kind == "coupon" and p.face_value is None for p in out))


def loose_prizes(data: dict[str, str]) -> list[dict[str, Any]]:
    """The builder's prize rows as typed so far, for the preview: bad numbers count as 0,
    and so do numbers past int4 (the preview's float arithmetic would overflow on them)."""
    def number(value: str | None) -> int | None:
        try:
            parsed = int(value) if value else None
        except ValueError:
            return 0
        return parsed if parsed is None or 0 <= parsed <= INT4_MAX else 0
    return [{"name": data.get(f"prize-{i}-name", ""), "kind": data.get(f"prize-{i}-kind", ""),
             "coupon_template_id": data.get(f"prize-{i}-template"),
             "points": number(data.get(f"prize-{i}-points")),
             "quantity": number(data.get(f"prize-{i}-quantity")),
             "weight": number(data.get(f"prize-{i}-weight")) or 0}
            for i in prize_indexes(data)]
