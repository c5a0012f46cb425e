"""The daily till summary: a shop's local day by store and by member of staff, its numbers
worked out again here from the orders the test placed, and the same table as CSV."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from tests.console import till_data
from tests.console.helpers import Console
from tests.factories import Factory

DAY = "2026-11-23"  # the tests' clock: 12:00 in Shanghai that day


@dataclass
class Expected:
    orders: int = 0
    coupons: int = 0
    discount: int = 0
    points: int = 0
    paid: int = 0
    refund_count: int = 0
    refunds: int = 0

    def row(self) -> list[str]:
        def yuan(c: int) -> str:
            return f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}"
        return [str(self.orders), str(self.coupons), yuan(self.discount), str(self.points),
                yuan(self.paid), str(self.refund_count), yuan(self.refunds),
                yuan(self.paid - self.refunds)]

    def add(self, other: Expected) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Day:
    lines: dict[tuple[str, str], Expected] = field(default_factory=lambda: defaultdict(Expected))

    def order(self, store: str, staff: str, subtotal: int, offs: tuple[int, ...]) -> None:
        """An order of ``subtotal`` with coupons taking ``offs`` off (each an amount_off
        coupon below the subtotal: worked out here, not read from the service)."""
        line = self.lines[(store, staff)]
        line.orders += 1
        line.coupons += len(offs)
        line.discount += sum(offs)
        line.paid += subtotal - sum(offs)
        line.points += (subtotal - sum(offs)) // 100  # the program: a point per yuan paid

    def refund(self, store: str, staff: str, amount: int) -> None:
        line = self.lines[(store, staff)]
        line.refund_count += 1
        line.refunds += amount

    def csv_rows(self, day: str, store_order: list[str]) -> list[list[str]]:
        out, total = [], Expected()
        for store in store_order:
            subtotal = Expected()
            staff = sorted((k[1] for k in self.lines if k[0] == store),
                           key=lambda s: (s == "API / POS", s))
            for name in staff:
                line = self.lines[(store, name)]
                out.append([day, store, name, *line.row()])
                subtotal.add(line)
            out.append([day, store, "小计", *subtotal.row()])
            total.add(subtotal)
        out.append([day, "合计", "", *total.row()])
        return out


def _shown(cents: int) -> str:
    return f"¥{cents // 100:,}.{cents % 100:02d}"


def _rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


async def test_a_day_by_store_and_cashier_matches_the_orders(
        app: object, shop: Console, rival: Console, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    m = shop.merchant
    await till_data.points_program(factory, m)
    north = await till_data.store(factory, m, "北门店")
    south = await till_data.store(factory, m, "南门店")
    lin = await till_data.till(app, factory, m, "lin@shiguang.example", store_id=north)
    wang = await till_data.till(app, factory, m, "wang@shiguang.example", store_id=north)
    zhao = await till_data.till(app, factory, m, "zhao@shiguang.example", store_id=south)
    member = await factory.member(m, name="小林")
    ten = await factory.template(m, name="满50减10", stock=50, stackable=True)
    five = await factory.template(m, name="5元券", stock=50, stackable=True,
                                  discount={"type": "amount_off", "amount": 500})
    off = {ten["id"]: 1000, five["id"]: 500}
    expect = Day()
    # The day before: an order whose refund comes on the day counts on the day, where the
    # order was taken; the order itself does not.
    clock.advance(days=-1)
    old = await till_data.order(factory, m, "OLD-1", member_id=member.id, subtotal=8800,
                                at=zhao)
    clock.advance(days=1)
    await till_data.refund(factory, m, old.id, 3000)
    expect.refund("南门店", "zhao@shiguang.example", 3000)

    stores = {"北门店": north, "南门店": south}
    plan: list[tuple[str, int, str | None, till_data.Till | None, list[str]]] = [
        ("N1", 12850, "北门店", lin, [ten["id"]]),
        ("N2", 4599, "北门店", lin, []),
        ("N3", 30000, "北门店", wang, [ten["id"], five["id"]]),
        ("N4", 999, "北门店", None, []),
        ("S1", 6600, "南门店", zhao, [five["id"]]),
        ("X1", 2500, None, None, [])]
    for order_id, subtotal, store, staff, uses in plan:
        codes = [await till_data.coupon(factory, m, t, member.id) for t in uses]
        placed = await till_data.order(
            factory, m, order_id, member_id=member.id, subtotal=subtotal,
            coupons=tuple(codes), store_id=stores.get(store or "") if staff is None else None,
            at=staff)
        assert placed.amount == subtotal - sum(off[t] for t in uses)
        expect.order(store or "未指定门店", staff.email if staff else "API / POS", subtotal,
                     tuple(off[t] for t in uses))
        clock.advance(minutes=7)
    await till_data.refund(factory, m, "N3", 5000)
    expect.refund("北门店", "wang@shiguang.example", 5000)
    await till_data.refund(factory, m, "N4", 999)
    expect.refund("北门店", "API / POS", 999)
    # The next local day begins at 16:00 UTC: an order just after is not this day's.
    clock.at = clock.at.replace(hour=16, minute=0, second=1)
    await till_data.order(factory, m, "NEXT-1", member_id=member.id, subtotal=7000, at=lin)
    for t in (lin, wang, zhao):
        await t.client.aclose()

    r = await shop.get(f"/console/exports/till-summary.csv?date={DAY}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = _rows(r.text)
    assert rows[0] == ["日期", "门店名称", "收银员", "订单数", "核销券数", "优惠(元)", "发放积分",
                       "实收(元)", "退款笔数", "退款(元)", "净收(元)"]
    assert rows[1:] == expect.csv_rows(DAY, ["北门店", "南门店", "未指定门店"])
    # The page shows the same numbers.
    page = await shop.get(f"/console/till-summary?date={DAY}")
    assert page.status_code == 200
    total = Expected()
    for line in expect.lines.values():
        total.add(line)
    tiles = dict(re.findall(r'data-total="(\w+)">([^<]+)<', page.text))
    assert tiles == {"orders": str(total.orders), "coupons": str(total.coupons),
                     "discount": _shown(total.discount), "points": f"{total.points:,}",
                     "paid": _shown(total.paid), "refunds": _shown(total.refunds)}
    assert page.text.count("data-subtotal") == 3 and "API / POS" in page.text
    # One store: its lines only, and its subtotal is the day's total.
    r = await shop.get(f"/console/exports/till-summary.csv?date={DAY}&store={south}")
    south_rows = _rows(r.text)[1:]
    assert [row[2] for row in south_rows] == ["zhao@shiguang.example", "小计", ""]
    assert south_rows[-1][3:] == south_rows[-2][3:]
    # Another merchant sees none of it, and cannot use this merchant's stores.
    theirs = _rows((await rival.get(f"/console/exports/till-summary.csv?date={DAY}")).text)
    assert theirs[1:] == [[DAY, "合计", "", "0", "0", "0.00", "0", "0.00", "0", "0.00", "0.00"]]
    assert (await rival.get(f"/console/till-summary?store={north}")).status_code == 404
    assert (await rival.get(f"/console/exports/till-summary.csv?store={north}")
            ).status_code == 404


async def test_days_are_navigable_and_an_empty_day_says_so(
        shop: Console, factory: Factory, services: Services) -> None:
    member = await factory.member(shop.merchant)
    await till_data.order(factory, shop.merchant, "A-1", member_id=member.id, subtotal=1000)
    today = await shop.get("/console/till-summary")  # today, in the shop's zone
    assert today.status_code == 200 and DAY in today.text
    assert 'data-day-nav="previous"' in today.text and "date=2026-11-22" in today.text
    assert 'data-day-nav="next-disabled"' in today.text  # no days after today
    assert 'data-total="orders">1<' in today.text
    before = await shop.get("/console/till-summary?date=2026-11-22")
    assert "data-empty" in before.text and "这一天没有订单" in before.text
    assert 'data-day-nav="next"' in before.text and f"date={DAY}" in before.text
    assert 'data-total="paid">¥0.00<' in before.text
    assert (await shop.get("/console/till-summary?date=23/11/2026")).status_code == 422
    assert (await shop.get("/console/till-summary?date=2026-02-30")).status_code == 422


async def test_staff_who_left_are_still_named(app: object, shop: Console, factory: Factory,
                                              services: Services) -> None:
    staff = await till_data.till(app, factory, shop.merchant, "gone@shiguang.example")
    member = await factory.member(shop.merchant)
    await till_data.order(factory, shop.merchant, "A-1", member_id=member.id, subtotal=1000,
                          at=staff)
    await staff.client.aclose()
    # Removed as the staff pages do it: the row stays, so their orders keep their name.
    await services.pool.execute("UPDATE merchant_users SET removed_at = now() WHERE id = $1",
                                staff.staff_id)
    rows = _rows((await shop.get(f"/console/exports/till-summary.csv?date={DAY}")).text)
    assert rows[1][2] == "gone@shiguang.example（已移除）"
    english = _rows((await shop.get(f"/console/exports/till-summary.csv?date={DAY}&lang=en")
                     ).text)
    assert english[0][:3] == ["Date", "Store name", "Cashier"]
    assert english[2][1:3] == ["No store", "Subtotal"] and english[3][1] == "Total"
