"""The daily till summary (日结): what an owner checks at closing time, for one local day of
the merchant (merchants.time_zone), by store and by member of staff, with store subtotals,
a day total and the same table as CSV.

What a day holds: the orders taken that day (how many, their coupons, discount, the points
they were credited with, ref ``order:<id>``, and the money paid), and the refunds made that
day, whichever day their order was taken, counted where that order was taken. That way a
day's figures never change afterwards and match the cash that moved through the till."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from engagement.console.export import Yuan, csv_table
from engagement.console.shell import MANAGERS, ConsoleUser, page_route, render_page
from engagement.kit import i18n
from engagement.kit.i18n import N_
from engagement.kit.state import services
from engagement.orders import days, queries
from engagement.stores.filters import store_param, stores_of

NO_STORE = N_("未指定门店")
NO_STAFF = N_("API / POS")
REMOVED = N_("%(email)s（已移除）")


@dataclass(frozen=True)
class Figures:
    orders: int = 0
    coupons: int = 0
    discount: int = 0
    points: int = 0
    paid: int = 0
    refunds: int = 0
    refund_count: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                          for f in fields(self)})

    @property
    def net(self) -> int:
        return self.paid - self.refunds


@dataclass(frozen=True)
class Line:
    """One member of staff at one store (staff None: orders sent over the API by a POS)."""

    staff_id: str | None
    staff_email: str | None
    staff_removed: bool
    figures: Figures


@dataclass
class StoreBlock:
    store_id: str | None
    store_name: str | None
    lines: list[Line] = field(default_factory=list)
    total: Figures = field(default_factory=Figures)


@dataclass(frozen=True)
class Summary:
    day: date
    stores: list[StoreBlock]
    total: Figures


def _figures(row: asyncpg.Record) -> Figures:
    return Figures(**{f.name: int(row[f.name]) for f in fields(Figures)})


async def build(pool: asyncpg.Pool, merchant_id: str, time_zone: str, day: date,
                store_id: str | None) -> Summary:
    since, until = days.bounds(day, time_zone)
    blocks: dict[str | None, StoreBlock] = {}
    for row in await queries.till_summary(pool, merchant_id, store_id, since, until):
        block = blocks.setdefault(row["store_id"], StoreBlock(row["store_id"], row["store_name"]))
        line = Line(row["staff_id"], row["staff_email"], row["staff_removed_at"] is not None,
                    _figures(row))
        block.lines.append(line)
        block.total = block.total + line.figures
    stores = list(blocks.values())
    total = Figures()
    for block in stores:
        total = total + block.total
    return Summary(day=day, stores=stores, total=total)


async def _day_and_store(request: Request, user: ConsoleUser
                         ) -> tuple[date, asyncpg.Record | None, date]:
    today = days.today(services(request).clock.now(), user.merchant.time_zone)
    day = days.parse(request.query_params.get("date"), "date") or today
    return day, await store_param(request, user.merchant.id), today


async def summary_page(request: Request, user: ConsoleUser) -> Response:
    day, store, today = await _day_and_store(request, user)
    summary = await build(services(request).pool, user.merchant.id, user.merchant.time_zone,
                          day, store["id"] if store else None)
    store_id = store["id"] if store else ""
    return render_page(request, user, "console/till_summary.html", {
        "summary": summary, "store": store, "store_id": store_id,
        "stores": await stores_of(request, user.merchant.id), "today": today,
        "previous": (day - timedelta(days=1)).isoformat(),
        "next": (day + timedelta(days=1)).isoformat() if day < today else None},
        active="summary")


def table_rows(summary: Summary) -> list[list[Any]]:
    """The page's table as CSV rows, in the request's language: every line, each store's
    subtotal, then the day's total."""
    text = i18n.gettext
    day = summary.day.isoformat()

    def row(store: str, staff: str, f: Figures) -> list[Any]:
        return [day, store, staff, f.orders, f.coupons, Yuan(f.discount), f.points,
                Yuan(f.paid), f.refund_count, Yuan(f.refunds), Yuan(f.net)]

    out = []
    for block in summary.stores:
        name = block.store_name or text(NO_STORE)
        for line in block.lines:
            staff = text(NO_STAFF) if line.staff_email is None else (
                text(REMOVED) % {"email": line.staff_email} if line.staff_removed
                else line.staff_email)
            out.append(row(name, staff, line.figures))
        out.append(row(name, text(N_("小计")), block.total))
    out.append(row(text(N_("合计")), "", summary.total))
    return out


async def summary_csv(request: Request, user: ConsoleUser) -> Response:
    day, store, _ = await _day_and_store(request, user)
    summary = await build(services(request).pool, user.merchant.id, user.merchant.time_zone,
                          day, store["id"] if store else None)
    locale, _chosen = i18n.choose_locale(request)
    with i18n.use_locale(locale):
        rows = table_rows(summary)
    suffix = f"-{store['id']}" if store else ""
    return csv_table(
        request, filename=f"till-summary-{day.isoformat()}{suffix}.csv",
        time_zone=user.merchant.time_zone,
        header=[N_("日期"), N_("门店名称"), N_("收银员"), N_("订单数"), N_("核销券数"),
                N_("优惠(元)"), N_("发放积分"), N_("实收(元)"), N_("退款笔数"), N_("退款(元)"),
                N_("净收(元)")],
        rows=rows)


routes: list[Route] = [
    page_route("/console/till-summary", summary_page, allow=MANAGERS),
    page_route("/console/exports/till-summary.csv", summary_csv, allow=MANAGERS),
]
