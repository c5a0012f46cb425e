"""CSV exports stream every row exactly once, batch after batch, in a file Excel opens."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import pytest

from engagement.console import export
from engagement.coupons.service import issue_single
from engagement.kit.db import transaction
from engagement.kit.state import Services
from tests.console.helpers import Console
from tests.factories import Factory


async def _download(shop: Console, url: str) -> tuple[list[list[str]], int, str]:
    """Rows, how many body messages the app sent, and the raw text. Talks ASGI directly:
    httpx's test transport would gather the body before handing it over."""
    path, _, query = url.partition("?")
    cookie = "; ".join(f"{c.name}={c.value}" for c in shop.client.cookies.jar)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
    sent: list[dict[str, Any]] = []
    done = asyncio.Event()
    requested = []

    async def receive() -> dict[str, Any]:
        if not requested:
            requested.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await shop.client._transport.app(scope, receive, send)  # type: ignore[attr-defined]
    done.set()
    start = sent[0]
    assert start["status"] == 200
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    assert headers["content-type"].startswith("text/csv")
    assert "attachment" in headers["content-disposition"]
    bodies = [m["body"] for m in sent[1:] if m.get("body")]
    text = b"".join(bodies).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(text[1:]))), len(bodies), text


async def test_draws_stream_in_batches_each_row_once(
        shop: Console, factory: Factory, services: Services,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "EXPORT_BATCH_ROWS", 3)
    template = await factory.template(shop.merchant, stock=100)
    campaign = await factory.campaign(shop.merchant, [
        {"name": "10元券", "kind": "coupon", "coupon_template_id": template["id"],
         "quantity": 100, "weight": 1},
        {"name": "谢谢参与", "kind": "nothing", "weight": 1}], limits={"per_member_per_day": 3})
    members = await factory.members_bulk(shop.merchant, 4)
    for member in members:
        for _ in range(2):
            assert (await factory.draw(member, campaign["id"])).status_code == 201
    rows, chunks, _ = await _download(
        shop, f"/console/exports/draws.csv?campaign_id={campaign['id']}")
    assert rows[0][:3] == ["抽奖ID", "时间", "会员ID"]
    ids = [r[0] for r in rows[1:]]
    expected = [r["id"] for r in await services.pool.fetch(
        "SELECT id FROM draws WHERE campaign_id = $1 ORDER BY id", campaign["id"])]
    assert ids == expected and len(ids) == 8  # 3 + 3 + 2: batches meet without a gap
    assert chunks >= 4  # the header, then one chunk per batch
    assert all(r[1].startswith("2026-11-23 12:00") for r in rows[1:])  # Shanghai time
    assert {r[5] for r in rows[1:]} <= {"中奖", "未中奖"}  # words, in the header's language
    assert {r[8] for r in rows[1:]} <= {"优惠券", ""}  # a lose has no prize
    english, _, _ = await _download(
        shop, f"/console/exports/draws.csv?campaign_id={campaign['id']}&lang=en")
    assert {r[5] for r in english[1:]} <= {"Win", "No prize"}
    # An empty export is just the header; a missing campaign is a 404.
    other = await factory.campaign(shop.merchant, [
        {"name": "谢谢参与", "kind": "nothing", "weight": 1}])
    rows, _, _ = await _download(shop, f"/console/exports/draws.csv?campaign_id={other['id']}")
    assert len(rows) == 1
    assert (await shop.get("/console/exports/draws.csv")).status_code == 404
    assert (await shop.get("/console/exports/draws.csv?campaign_id=cmp_x")).status_code == 404


async def test_coupons_export_defuses_spreadsheet_formulas(
        shop: Console, factory: Factory, services: Services,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "EXPORT_BATCH_ROWS", 2)
    template = await factory.template(shop.merchant, name="=HYPERLINK(\"x\")", stock=10)
    other = await factory.template(shop.merchant, name="饮品券", stock=10)
    member = await factory.member(shop.merchant, external_id="+cmd|' /C calc'!A0")
    async with transaction(services.pool) as conn:
        for template_id in [template["id"]] * 3 + [other["id"]]:
            await issue_single(conn, shop.merchant.id, template_id, member.id,
                               source="test", now=services.clock.now())
    rows, _, _ = await _download(shop, "/console/exports/coupons.csv")
    assert len(rows) == 5
    assert {r[1] for r in rows[1:]} == {"'=HYPERLINK(\"x\")", "饮品券"}
    assert all(r[4] == "'+cmd|' /C calc'!A0" for r in rows[1:])
    rows, _, _ = await _download(
        shop, f"/console/exports/coupons.csv?template_id={other['id']}")
    assert len(rows) == 2 and rows[1][2] == other["id"]


def test_cells() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    assert export.cell(None, zone) == ""
    assert export.cell(export.Yuan(-1234), zone) == "-12.34"
    assert export.cell(export.Yuan(5), zone) == "0.05"
    assert export.cell(datetime(2026, 1, 1, tzinfo=UTC), zone) == "2026-01-01 08:00:00"
    assert export.cell(-5, zone) == -5  # numbers are numbers, not formulas
    assert export.cell("@SUM(A1)", zone) == "'@SUM(A1)"
    assert export.cell(["A", "B"], zone) == "A B"


async def test_coupon_and_commission_exports_say_statuses_in_words(
        shop: Console, factory: Factory, services: Services) -> None:
    template = await factory.template(shop.merchant, stock=10)
    member = await factory.member(shop.merchant)
    async with transaction(services.pool) as conn:
        await issue_single(conn, shop.merchant.id, template["id"], member.id, source="manual",
                           now=services.clock.now())
    rows, _, _ = await _download(shop, "/console/exports/coupons.csv")
    assert rows[0][6:8] == ["状态", "来源"] and rows[1][6:8] == ["未使用", "手动发放"]
    rows, _, _ = await _download(shop, "/console/exports/coupons.csv?lang=en")
    assert rows[1][6:8] == ["Unused", "Given by hand"]
    rows, _, _ = await _download(shop, "/console/exports/commissions.csv")
    assert len(rows) == 1 and rows[0][11] == "状态"
