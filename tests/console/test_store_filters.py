"""The store filter of the console's exports and of the campaign dashboard: coupons by the
store they were redeemed at, commissions by their order's store, orders by theirs; draws
have no store and say so; another merchant's store is a 404, never a leak."""

from __future__ import annotations

import csv
import io

import pytest

from engagement.console import export
from engagement.kit.clock import FrozenClock
from engagement.kit.config import Settings
from engagement.kit.state import Services
from tests.console import till_data
from tests.console.helpers import Console
from tests.factories import Factory
from tests.referrals.helpers import join, program, share_code
from tests.worker import drain


def _rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


async def _csv(shop: Console, path: str) -> list[list[str]]:
    r = await shop.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return _rows(r.text)


async def test_exports_filter_by_store(app: object, shop: Console, rival: Console,
                                       factory: Factory, clock: FrozenClock) -> None:
    m = shop.merchant
    north = await till_data.store(factory, m, "北门店")
    south = await till_data.store(factory, m, "南门店")
    cashier = await till_data.till(app, factory, m, "lin@shiguang.example", store_id=north)
    await program(factory, m)
    sharer = await factory.member(m, name="分享人")
    buyer = await join(factory, m, await share_code(factory, sharer), name="好友")
    template = await factory.template(m, name="满50减10", stock=20)
    codes = [await till_data.coupon(factory, m, template["id"], buyer.id) for _ in range(3)]
    await till_data.order(factory, m, "N-1", member_id=buyer.id, subtotal=5000,
                          coupons=(codes[0],), at=cashier)
    await cashier.client.aclose()
    clock.advance(days=1)
    await till_data.order(factory, m, "S-1", member_id=buyer.id, subtotal=8000,
                          coupons=(codes[1],), store_id=south)
    await till_data.order(factory, m, "P-1", member_id=buyer.id, subtotal=3000)
    await till_data.refund(factory, m, "S-1", 5000)  # a part: its coupon stays redeemed

    # Coupons: those redeemed at the store, with the store named in the last column.
    every = await _csv(shop, "/console/exports/coupons.csv")
    assert len(every) == 4 and every[0][-1] == "核销门店"
    at_north = await _csv(shop, f"/console/exports/coupons.csv?store={north}")
    assert [(r[0], r[-1]) for r in at_north[1:]] == [(codes[0], "北门店")]
    at_south = await _csv(shop, f"/console/exports/coupons.csv?store={south}"
                                f"&template_id={template['id']}")
    assert [r[0] for r in at_south[1:]] == [codes[1]]
    # Commissions: those earned on the store's orders.
    every = await _csv(shop, "/console/exports/commissions.csv")
    assert {r[2] for r in every[1:]} == {"N-1", "S-1", "P-1"}
    at_south = await _csv(shop, f"/console/exports/commissions.csv?store={south}")
    assert {r[2] for r in at_south[1:]} == {"S-1"} and len(at_south) > 2  # accrual + reversal
    assert {r[-1] for r in at_south[1:]} == {"南门店"}
    # Orders: by store and by local day, statuses and the rest in words.
    rows = await _csv(shop, "/console/exports/orders.csv")
    assert rows[0][:4] == ["订单号", "时间", "门店名称", "收银员"]
    by_id = {r[0]: r for r in rows[1:]}
    assert list(by_id) == ["N-1", "P-1", "S-1"]  # oldest first; one moment: by id
    assert by_id["N-1"][2:4] == ["北门店", "lin@shiguang.example"]
    assert by_id["P-1"][2:4] == ["", "API / POS"]
    assert by_id["N-1"][8:13] == ["50.00", "10.00", "40.00", "0.00", "已支付"]
    assert by_id["S-1"][11:13] == ["50.00", "部分退款"]
    assert [r[0] for r in (await _csv(shop, f"/console/exports/orders.csv?store={south}"))[1:]
            ] == ["S-1"]
    await till_data.refund(factory, m, "P-1", 3000)
    day_two = await _csv(shop, "/console/exports/orders.csv?from=2026-11-24&to=2026-11-24")
    assert [r[12] for r in day_two[1:]] == ["已全额退款", "部分退款"]
    assert sorted(r[0] for r in day_two[1:]) == ["P-1", "S-1"]
    first_day = await _csv(shop, "/console/exports/orders.csv?to=2026-11-23")
    assert [r[0] for r in first_day[1:]] == ["N-1"]
    assert (await shop.get("/console/exports/orders.csv?from=yesterday")).status_code == 422
    # Draws happen on phones: a store filter is refused rather than ignored.
    r = await shop.get("/console/exports/draws.csv?campaign_id=x&store=" + north)
    assert r.status_code == 422
    # Another merchant's store: not found on every export; their own exports hold nothing
    # of this merchant.
    for path in ("coupons.csv", "commissions.csv", "orders.csv", "till-summary.csv"):
        assert (await rival.get(f"/console/exports/{path}?store={north}")).status_code == 404
        assert len(await _csv(rival, f"/console/exports/{path}")) <= 2  # header (+ a total)


async def test_the_dashboard_counts_redemptions_at_a_store(
        shop: Console, rival: Console, factory: Factory, services: Services,
        settings: Settings, clock: FrozenClock) -> None:
    m = shop.merchant
    north = await till_data.store(factory, m, "北门店")
    south = await till_data.store(factory, m, "南门店")
    template = await factory.template(m, stock=100)
    campaign = await factory.campaign(m, [
        {"name": "10元券", "kind": "coupon", "coupon_template_id": template["id"],
         "quantity": 10, "weight": 1}], limits={"per_member_per_day": 5})
    members = await factory.members_bulk(m, 3)
    for member in members:
        assert (await factory.draw(member, campaign["id"])).status_code == 201
    await drain(settings, clock)
    won = await services.pool.fetch(
        "SELECT code, member_id FROM coupons WHERE campaign_id = $1 ORDER BY id", campaign["id"])
    assert len(won) == 3
    for n, (coupon, store) in enumerate(zip(won, [north, north, south], strict=True)):
        await till_data.order(factory, m, f"O-{n}", member_id=coupon["member_id"],
                              subtotal=5000, coupons=(coupon["code"],), store_id=store)
    url = f"/console/campaigns/{campaign['id']}"
    page = await shop.get(url)
    assert "data-store-filter" in page.text and "不属于任何门店" in page.text
    assert 'data-stat="redeemed">3<' in page.text
    page = await shop.get(f"{url}?store={north}")
    assert f'data-store-redeemed="{north}"' in page.text
    assert 'data-stat="redeemed">2<' in page.text and "全部门店 3 张" in page.text
    assert f"/panel?store={north}" in page.text  # the refresh keeps the store
    panel = (await shop.client.get(f"{url}/panel?store={south}")).text
    assert 'data-stat="redeemed">1<' in panel and "已核销 · 南门店" in panel
    # Draws, players and wins are the whole campaign's, whatever the store.
    assert 'data-stat="draws">3<' in panel
    # A coupon a whole refund gave back is no longer redeemed there.
    returned = await till_data.refund(factory, m, "O-2", 4000)
    assert returned["coupons_returned"] == [won[2]["code"]]
    panel = (await shop.client.get(f"{url}/panel?store={south}")).text
    assert 'data-stat="redeemed">0<' in panel
    rival_store = await till_data.store(factory, rival.merchant, "隔壁店")
    assert (await shop.get(f"{url}?store={rival_store}")).status_code == 404
    assert (await shop.client.get(f"{url}/panel?store={rival_store}")).status_code == 404
    assert (await rival.get(f"{url}?store={north}")).status_code == 404


async def test_pages_offer_store_exports_only_with_stores(
        shop: Console, factory: Factory) -> None:
    await factory.template(shop.merchant)
    assert "data-store-export" not in (await shop.get("/console/coupons")).text
    await till_data.store(factory, shop.merchant, "北门店")
    coupons = (await shop.get("/console/coupons")).text
    assert 'data-store-export="coupons"' in coupons and "北门店" in coupons
    referrals = (await shop.get("/console/referrals")).text
    assert 'data-store-export="commissions"' in referrals


async def test_the_orders_export_crosses_batches_on_time_and_id(
        shop: Console, factory: Factory, clock: FrozenClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "EXPORT_BATCH_ROWS", 2)
    member = await factory.member(shop.merchant)
    ids = []
    for n in range(5):  # three at one moment: the id breaks the tie, nothing is skipped
        await till_data.order(factory, shop.merchant, f"B-{4 - n}", member_id=member.id,
                              subtotal=100 + n)
        ids.append(f"B-{4 - n}")
        if n >= 2:
            clock.advance(seconds=1)
    rows = await _csv(shop, "/console/exports/orders.csv")
    assert [r[0] for r in rows[1:]] == ["B-2", "B-3", "B-4", "B-1", "B-0"]
    assert sorted(ids) == sorted(r[0] for r in rows[1:])
