"""The shared input rules (engagement/kit/fields.py) at work on the API: each class of hostile
input is a 422 naming the field, never a 500, and nothing is written."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import Factory, MemberHandle, MerchantHandle

INT4_PAST = 2**31
INT8_PAST = 2**63
NOTHING = {"name": "谢谢参与", "kind": "nothing", "weight": 1}


@dataclass
class World:
    shop: MerchantHandle
    member: MemberHandle
    template: dict[str, Any]


@pytest.fixture
async def world(factory: Factory) -> World:
    shop = await factory.merchant()
    return World(shop, await factory.member(shop), await factory.template(shop, stock=50))


async def send(client: httpx.AsyncClient, method: str, path: str, body: Any,
               headers: dict[str, str]) -> httpx.Response:
    """The body as JSON text with \\u escapes, the way any client may send NUL or a lone
    surrogate (httpx's own encoder would refuse the surrogate before sending)."""
    return await client.request(method, path, content=json.dumps(body).encode(),
                                headers={**headers, "Content-Type": "application/json"})


def invalid_fields(r: httpx.Response) -> set[str]:
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_error", error
    return {f["field"] for f in error["details"]["fields"]}


async def count(factory: Factory, table: str) -> int:
    return int(await factory.services.pool.fetchval(f"SELECT count(*) FROM {table}"))


def _campaign(**fields: Any) -> dict[str, Any]:
    return {"name": "大转盘", "game": "wheel", "prizes": [NOTHING], **fields}


def _coupon_prize(w: World, **fields: Any) -> dict[str, Any]:
    return {"name": "券", "kind": "coupon", "coupon_template_id": w.template["id"],
            "quantity": 5, "weight": 1, **fields}


# (method, path, body, field, table): each body is valid but for one field.
Case = tuple[str, Callable[[World], str], Callable[[World], dict[str, Any]], str, str]

NUL_CASES: dict[str, Case] = {
    "member name": ("POST", lambda w: "/api/v1/members",
                    lambda w: {"external_id": "m-1", "name": "阿\x00伟"}, "name", "members"),
    "member external_id": ("POST", lambda w: "/api/v1/members",
                           lambda w: {"external_id": "\x00"}, "external_id", "members"),
    "template name": ("POST", lambda w: "/api/v1/coupon-templates",
                      lambda w: {"name": "满50\x00减10", "stock": 1,
                                 "discount": {"type": "amount_off", "amount": 100}},
                      "name", "coupon_templates"),
    "gift description": ("POST", lambda w: "/api/v1/coupon-templates",
                         lambda w: {"name": "礼品", "stock": 1,
                                    "discount": {"type": "gift", "description": "咖啡\x00"}},
                         "discount.gift.description", "coupon_templates"),
    "campaign rules": ("POST", lambda w: "/api/v1/campaigns",
                       lambda w: _campaign(rules="第一条\n第二条\x00"), "rules", "campaigns"),
    "prize template id": ("POST", lambda w: "/api/v1/campaigns",
                          lambda w: _campaign(prizes=[_coupon_prize(
                              w, coupon_template_id=w.template["id"] + "\x00")]),
                          "prizes.0.coupon.coupon_template_id", "campaigns"),
    "order member_id": ("POST", lambda w: "/api/v1/orders",
                        lambda w: {"id": "o-1", "member_id": w.member.id + "\x00",
                                   "amount": 100}, "member_id", "orders"),
    "order coupon code": ("POST", lambda w: "/api/v1/orders",
                          lambda w: {"id": "o-1", "member_id": w.member.id, "amount": 100,
                                     "coupon_codes": ["AB\x00CD"]},
                          "coupon_codes.0", "orders"),
    "points reason": ("POST", lambda w: f"/api/v1/members/{w.member.id}/points",
                      lambda w: {"delta": 10, "reason": "补偿\x00"}, "reason", "points_ledger"),
    "send name": ("POST", lambda w: "/api/v1/sends",
                  lambda w: {"name": "唤醒\x1b", "coupon_template_id": w.template["id"]},
                  "name", "sends"),
    "tier name": ("PUT", lambda w: "/api/v1/tiers",
                  lambda w: {"tiers": [{"name": "金\x7f卡", "min_points": 0,
                                        "window_days": 365}]}, "tiers.0.name", "tiers"),
    "webhook url": ("POST", lambda w: "/api/v1/webhooks",
                    lambda w: {"url": "https://example.com/\x00", "events": ["order.paid"]},
                    "url", "webhook_endpoints"),
    "reward template id": ("POST", lambda w: "/api/v1/rewards",
                           lambda w: {"coupon_template_id": "\x00", "cost_points": 10,
                                      "stock": 1}, "coupon_template_id", "rewards"),
    "referral share template": ("PUT", lambda w: "/api/v1/referral-program",
                                lambda w: {"enabled": True, "levels": [{"rate_bp": 100}],
                                           "trigger": "every_order", "hold_days": 0,
                                           "share_coupon_template_ids": ["tpl\x00"]},
                                "share_coupon_template_ids.0", "referral_programs"),
    "name with a newline": ("POST", lambda w: "/api/v1/coupon-templates",
                            lambda w: {"name": "满50\n减10", "stock": 1,
                                       "discount": {"type": "amount_off", "amount": 100}},
                            "name", "coupon_templates"),
    "lone surrogate": ("POST", lambda w: "/api/v1/members",
                       lambda w: {"external_id": "m-1", "name": "\ud800"}, "name", "members"),
}


@pytest.mark.parametrize("case", NUL_CASES.values(), ids=NUL_CASES.keys())
async def test_control_characters_in_text_are_422_and_write_nothing(
        client: httpx.AsyncClient, factory: Factory, world: World, case: Case) -> None:
    method, path, body, field, table = case
    before = await count(factory, table)
    r = await send(client, method, path(world), body(world), world.shop.headers)
    assert field in invalid_fields(r)
    assert await count(factory, table) == before


async def test_free_text_keeps_its_line_breaks(client: httpx.AsyncClient,
                                               world: World) -> None:
    r = await send(client, "POST", "/api/v1/campaigns",
                   _campaign(rules="一、每人每天三次\r\n二、\t奖品以实物为准"), world.shop.headers)
    assert r.status_code == 201, r.text
    assert r.json()["rules"] == "一、每人每天三次\r\n二、\t奖品以实物为准"


async def test_a_nul_in_a_share_link_request_is_422(client: httpx.AsyncClient,
                                                     factory: Factory, world: World) -> None:
    r = await send(client, "POST", "/api/v1/me/share-links",
                   {"coupon_template_id": "tpl\x00"}, world.member.headers)
    assert invalid_fields(r) == {"coupon_template_id"}
    assert await count(factory, "share_links") == 0


INT_CASES: dict[str, Case] = {
    "stock past int4": ("POST", lambda w: "/api/v1/coupon-templates",
                        lambda w: {"name": "券", "stock": INT4_PAST,
                                   "discount": {"type": "amount_off", "amount": 100}},
                        "stock", "coupon_templates"),
    "stock past int8": ("POST", lambda w: "/api/v1/coupon-templates",
                        lambda w: {"name": "券", "stock": INT8_PAST,
                                   "discount": {"type": "amount_off", "amount": 100}},
                        "stock", "coupon_templates"),
    "min_spend past int8": ("POST", lambda w: "/api/v1/coupon-templates",
                            lambda w: {"name": "券", "stock": 1, "min_spend": INT8_PAST,
                                       "discount": {"type": "amount_off", "amount": 100}},
                            "min_spend", "coupon_templates"),
    "per_member_limit past int4": ("POST", lambda w: "/api/v1/coupon-templates",
                                   lambda w: {"name": "券", "stock": 1,
                                              "per_member_limit": INT4_PAST,
                                              "discount": {"type": "amount_off",
                                                           "amount": 100}},
                                   "per_member_limit", "coupon_templates"),
    "prize quantity past int4": ("POST", lambda w: "/api/v1/campaigns",
                                 lambda w: _campaign(prizes=[_coupon_prize(
                                     w, quantity=INT4_PAST)]),
                                 "prizes.0.coupon.quantity", "campaigns"),
    "points prize past int8": ("POST", lambda w: "/api/v1/campaigns",
                               lambda w: _campaign(prizes=[{
                                   "name": "积分", "kind": "points", "points": INT8_PAST,
                                   "quantity": None, "weight": 1}]),
                               "prizes.0.points.points", "campaigns"),
    "daily limit past int4": ("POST", lambda w: "/api/v1/campaigns",
                              lambda w: _campaign(limits={"per_member_per_day": INT4_PAST}),
                              "limits.per_member_per_day", "campaigns"),
    "referral cap past int4": ("PUT", lambda w: "/api/v1/referral-program",
                               lambda w: {"enabled": True, "levels": [{"rate_bp": 100}],
                                          "trigger": "every_order", "hold_days": 0,
                                          "max_paid_referrals_per_day": INT4_PAST},
                               "max_paid_referrals_per_day", "referral_programs"),
    "ip cap past int8": ("PUT", lambda w: "/api/v1/referral-program",
                         lambda w: {"enabled": True, "levels": [{"rate_bp": 100}],
                                    "trigger": "every_order", "hold_days": 0,
                                    "max_joins_per_ip_per_hour": INT8_PAST},
                         "max_joins_per_ip_per_hour", "referral_programs"),
    "points delta past int8": ("POST", lambda w: f"/api/v1/members/{w.member.id}/points",
                               lambda w: {"delta": INT8_PAST, "reason": "补偿"},
                               "delta", "points_ledger"),
    "negative points delta past int8": (
        "POST", lambda w: f"/api/v1/members/{w.member.id}/points",
        lambda w: {"delta": -INT8_PAST - 1, "reason": "补偿"}, "delta", "points_ledger"),
    "order amount past int8": ("POST", lambda w: "/api/v1/orders",
                               lambda w: {"id": "o-1", "member_id": w.member.id,
                                          "amount": INT8_PAST}, "amount", "orders"),
    "reward stock past int4": ("POST", lambda w: "/api/v1/rewards",
                               lambda w: {"coupon_template_id": w.template["id"],
                                          "cost_points": 10, "stock": INT4_PAST},
                               "stock", "rewards"),
    "reward cost past int8": ("POST", lambda w: "/api/v1/rewards",
                              lambda w: {"coupon_template_id": w.template["id"],
                                         "cost_points": INT8_PAST, "stock": 1},
                              "cost_points", "rewards"),
    "holdout past int4": ("POST", lambda w: "/api/v1/sends",
                          lambda w: {"name": "唤醒", "coupon_template_id": w.template["id"],
                                     "holdout_percent": INT4_PAST},
                          "holdout_percent", "sends"),
    "a million points per cent": ("PUT", lambda w: "/api/v1/points-program",
                                  lambda w: {"earn": {"per_amount": 1, "points": 1_000_000},
                                             "join_bonus": 0, "expiry_days": None},
                                  "earn", "points_programs"),
    "join bonus past int8": ("PUT", lambda w: "/api/v1/points-program",
                             lambda w: {"earn": {"per_amount": 100, "points": 1},
                                        "join_bonus": INT8_PAST, "expiry_days": None},
                             "join_bonus", "points_programs"),
}


@pytest.mark.parametrize("case", INT_CASES.values(), ids=INT_CASES.keys())
async def test_integers_past_their_column_are_422_and_write_nothing(
        client: httpx.AsyncClient, factory: Factory, world: World, case: Case) -> None:
    method, path, body, field, table = case
    before = await count(factory, table)
    r = await send(client, method, path(world), body(world), world.shop.headers)
    assert field in invalid_fields(r)
    assert await count(factory, table) == before


async def test_reservations_that_add_up_past_int4_are_a_409(
        client: httpx.AsyncClient, factory: Factory, world: World) -> None:
    """Each quantity is within bounds, but an unlimited template's reservations add up."""
    unlimited = await factory.template(world.shop, stock=None)
    prizes = [{"name": f"券{i}", "kind": "coupon", "coupon_template_id": unlimited["id"],
               "quantity": 100_000_000, "weight": 1} for i in range(12)]
    first = await factory.campaign(world.shop, prizes)
    assert first["status"] == "active"
    second = await factory.campaign(world.shop, prizes, publish=False)
    r = await client.post(f"/api/v1/campaigns/{second['id']}/publish",
                          headers=world.shop.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "insufficient_inventory"
    reserved = await factory.services.pool.fetchval(
        "SELECT reserved FROM coupon_templates WHERE id = $1", unlimited["id"])
    assert reserved == 1_200_000_000
    got = await client.get(f"/api/v1/campaigns/{second['id']}", headers=world.shop.headers)
    assert got.json()["status"] == "draft"


async def test_discount_of_two_to_the_63_is_refused(client: httpx.AsyncClient,
                                                    factory: Factory, world: World) -> None:
    for amount in (INT8_PAST, INT8_PAST - 1, 10**12 + 1):
        r = await send(client, "POST", "/api/v1/coupon-templates",
                       {"name": "券", "stock": 1,
                        "discount": {"type": "amount_off", "amount": amount}},
                       world.shop.headers)
        assert invalid_fields(r) == {"discount.amount_off.amount"}, amount
    assert await count(factory, "coupon_templates") == 1  # the world's own


@pytest.mark.parametrize(("field", "value"), [
    ("stock", True), ("stock", "5"), ("stock", 5.0), ("min_spend", False),
    ("valid_days", True), ("per_member_limit", "2")])
async def test_booleans_strings_and_floats_are_not_integers(
        client: httpx.AsyncClient, factory: Factory, world: World, field: str,
        value: Any) -> None:
    body = {"name": "券", "stock": 1, "discount": {"type": "amount_off", "amount": 100},
            field: value}
    r = await send(client, "POST", "/api/v1/coupon-templates", body, world.shop.headers)
    assert invalid_fields(r) == {field}
    assert await count(factory, "coupon_templates") == 1


async def test_true_is_not_a_quantity_or_a_rate(client: httpx.AsyncClient, factory: Factory,
                                                world: World) -> None:
    r = await send(client, "POST", "/api/v1/campaigns",
                   _campaign(prizes=[_coupon_prize(world, quantity=True, weight=True)]),
                   world.shop.headers)
    assert invalid_fields(r) == {"prizes.0.coupon.quantity", "prizes.0.coupon.weight"}
    r = await send(client, "PUT", "/api/v1/referral-program",
                   {"enabled": 1, "levels": [{"rate_bp": True}], "trigger": "every_order",
                    "hold_days": False}, world.shop.headers)
    assert invalid_fields(r) == {"enabled", "levels.0.rate_bp", "hold_days"}
    r = await send(client, "POST", "/api/v1/orders",
                   {"id": "o-1", "member_id": world.member.id, "amount": True},
                   world.shop.headers)
    assert invalid_fields(r) == {"amount"}
    assert (await count(factory, "campaigns"), await count(factory, "referral_programs"),
            await count(factory, "orders")) == (0, 0, 0)


@pytest.mark.parametrize("when", [
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z",
    "1999-12-31T23:59:59+08:00", "2101-01-01T00:00:00+00:00"])
async def test_times_at_the_calendars_edges_are_422(
        client: httpx.AsyncClient, factory: Factory, world: World, when: str) -> None:
    for field in ("starts_at", "ends_at"):
        r = await send(client, "POST", "/api/v1/campaigns", _campaign(**{field: when}),
                       world.shop.headers)
        assert invalid_fields(r) == {field}, when
    assert await count(factory, "campaigns") == 0
    draft = await send(client, "POST", "/api/v1/campaigns", _campaign(), world.shop.headers)
    assert draft.status_code == 201, draft.text
    url = f"/api/v1/campaigns/{draft.json()['id']}"
    r = await send(client, "PATCH", url, {"ends_at": when}, world.shop.headers)
    assert invalid_fields(r) == {"ends_at"}
    got = await client.get(url, headers=world.shop.headers)
    assert got.json()["ends_at"] is None


@pytest.mark.parametrize("when", ["2026-12-01T00:00:00", 1_790_000_000, True])
async def test_times_need_a_zone_and_text(client: httpx.AsyncClient, factory: Factory,
                                          world: World, when: Any) -> None:
    r = await send(client, "POST", "/api/v1/campaigns", _campaign(starts_at=when),
                   world.shop.headers)
    assert invalid_fields(r) == {"starts_at"}
    assert await count(factory, "campaigns") == 0


@pytest.mark.parametrize("birthday", ["2999-01-01", "1899-12-31", "0001-01-01", 19_900_501,
                                      "1990-02-30"])
async def test_a_birthday_is_a_real_past_date(client: httpx.AsyncClient, factory: Factory,
                                              world: World, birthday: Any) -> None:
    before = await count(factory, "members")
    r = await send(client, "POST", "/api/v1/members",
                   {"external_id": "born", "birthday": birthday}, world.shop.headers)
    assert invalid_fields(r) == {"birthday"}
    assert await count(factory, "members") == before
    ok = await send(client, "POST", "/api/v1/members",
                    {"external_id": "born", "birthday": "1990-05-01"}, world.shop.headers)
    assert ok.status_code == 201, ok.text


PROGRAM = {"enabled": True, "levels": [{"rate_bp": 800}], "trigger": "first_order",
           "hold_days": 3, "max_paid_referrals_per_day": 9}


@pytest.mark.parametrize("body", [
    {}, {"enabled": False}, {k: v for k, v in PROGRAM.items() if k != "trigger"},
    {k: v for k, v in PROGRAM.items() if k != "hold_days"}])
async def test_a_put_of_the_referral_program_needs_its_fields(
        client: httpx.AsyncClient, factory: Factory, world: World,
        body: dict[str, Any]) -> None:
    first = await send(client, "PUT", "/api/v1/referral-program", PROGRAM, world.shop.headers)
    assert first.status_code == 200, first.text
    r = await send(client, "PUT", "/api/v1/referral-program", body, world.shop.headers)
    assert {"enabled", "trigger", "hold_days"} - body.keys() <= invalid_fields(r)
    got = await client.get("/api/v1/referral-program", headers=world.shop.headers)
    assert got.json() == first.json()


async def test_levels_left_out_are_the_contracts_two(client: httpx.AsyncClient,
                                                     world: World) -> None:
    body = {k: v for k, v in PROGRAM.items() if k != "levels"}
    r = await send(client, "PUT", "/api/v1/referral-program", body, world.shop.headers)
    assert r.status_code == 200, r.text
    assert r.json()["levels"] == [{"rate_bp": 1000}, {"rate_bp": 500}]


async def test_an_empty_put_of_the_points_program_or_tiers_changes_nothing(
        client: httpx.AsyncClient, world: World) -> None:
    program = {"earn": {"per_amount": 100, "points": 2}, "join_bonus": 50, "expiry_days": 30}
    first = await send(client, "PUT", "/api/v1/points-program", program, world.shop.headers)
    assert first.status_code == 200, first.text
    for body in ({}, {"earn": {"per_amount": 100, "points": 2}}):
        r = await send(client, "PUT", "/api/v1/points-program", body, world.shop.headers)
        assert {"join_bonus", "expiry_days"} <= invalid_fields(r)
    got = await client.get("/api/v1/points-program", headers=world.shop.headers)
    assert got.json() == first.json()
    tiers = {"tiers": [{"name": "金卡", "min_points": 100, "window_days": 365}]}
    first = await send(client, "PUT", "/api/v1/tiers", tiers, world.shop.headers)
    assert first.status_code == 200, first.text
    r = await send(client, "PUT", "/api/v1/tiers", {}, world.shop.headers)
    assert invalid_fields(r) == {"tiers"}
    assert (await client.get("/api/v1/tiers", headers=world.shop.headers)).json() == first.json()


async def test_the_openapi_document_shows_the_bounds(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    template = schemas["TemplateCreate"]["properties"]
    assert template["name"]["maxLength"] == 120 and "pattern" in template["name"]
    stock = template["stock"]["anyOf"][0]
    assert (stock["minimum"], stock["maximum"]) == (0, 100_000_000)
    assert schemas["AmountOff"]["properties"]["amount"]["maximum"] == 10**12
    # Three models are called ProgramIn (points, referrals and check-in): the document tells
    # them apart.
    required = {tuple(sorted(s.get("required", []))) for name, s in schemas.items()
                if name.endswith("ProgramIn")}
    assert required == {("enabled", "hold_days", "trigger"),
                        ("earn", "expiry_days", "join_bonus"), ("enabled", "rewards")}
