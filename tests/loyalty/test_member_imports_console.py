"""The console's member import: the empty state and its sample file, a preview that shows
each row's problem and writes nothing, an unreadable file refused in words, the import's
page, its progress fragment, and the failed rows as CSV in the page's language."""

from __future__ import annotations

import csv
import io

import httpx

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from tests.console.helpers import HTML, Console, add_user, signed_in
from tests.loyalty.test_member_imports import thousand_rows
from tests.worker import drain


async def _send(shop: Console, path: str, body: bytes, *,
                token: bool = True) -> httpx.Response:
    headers = {**HTML, "Content-Type": "text/csv"}
    if token:
        headers["X-CSRF-Token"] = shop.token
    return await shop.client.post(f"{path}?filename=old.csv", content=body, headers=headers)


async def test_the_empty_page_offers_the_sample_file_which_imports_as_it_is(
        shop: Console, services: Services, clock: FrozenClock) -> None:
    page = (await shop.get("/console/imports")).text
    assert "data-empty" in page and 'href="/console/imports/sample.csv"' in page
    assert 'data-nav="imports"' in page
    members = (await shop.get("/console/members")).text
    assert 'href="/console/imports" data-action="import-members"' in members
    sample = await shop.get("/console/imports/sample.csv")
    assert sample.status_code == 200 and sample.headers["content-type"].startswith("text/csv")
    assert sample.content.startswith("\ufeff".encode())
    header = next(csv.reader(io.StringIO(sample.text.lstrip("\ufeff"))))
    assert header == ["external_id", "phone", "name", "birthday", "points", "tier"]
    r = await _send(shop, "/console/imports", sample.content)
    assert r.status_code == 202, r.text
    await drain(services.settings, clock)
    done = await shop.get(r.json()["url"])
    assert 'data-status="done"' in done.text and "data-no-errors" in done.text
    assert await services.pool.fetchval("SELECT count(*) FROM members") == 2
    listed = (await shop.get("/console/imports")).text
    assert "data-empty" not in listed and "old.csv" in listed


async def test_the_preview_shows_the_problem_rows_and_writes_nothing(
        shop: Console, services: Services) -> None:
    body = (b"external_id,phone,birthday\nA-1,13800138000,1990-01-01\n"
            b"A-2,13900139000,1990-02-30\nA-1,,\n")
    r = await _send(shop, "/console/imports/preview", body)
    assert r.status_code == 200, r.text
    assert 'data-row="3" class="row-problem" data-code="invalid_birthday"' in r.text
    assert 'data-error-row="4" data-code="duplicate_external_id"' in r.text
    assert "生日不是 YYYY-MM-DD 格式的过去日期" in r.text
    assert 'data-action="start-import"' in r.text and "导入 1 行" in r.text
    assert await services.pool.fetchval("SELECT count(*) FROM member_imports") == 0
    assert await services.pool.fetchval("SELECT count(*) FROM members") == 0
    # In English, the same fragment in English.
    shop.client.cookies.set("eng_lang", "en")
    english = await _send(shop, "/console/imports/preview", body)
    assert "The birthday is not a past date written YYYY-MM-DD" in english.text
    assert "Import 1 row" in english.text


async def test_an_unreadable_file_is_refused_in_words_and_without_a_token_at_all(
        shop: Console, services: Services) -> None:
    r = await _send(shop, "/console/imports/preview", b"phone\n138\n")
    assert r.status_code == 422 and 'data-file-problem="missing_column"' in r.text
    assert "表头缺少 external_id（会员编号）列" in r.text
    r = await _send(shop, "/console/imports", "external_id\n王\n".encode("gbk"))
    assert r.status_code == 422 and 'data-file-problem="invalid_encoding"' in r.text
    r = await _send(shop, "/console/imports", b"external_id\nA\n", token=False)
    assert r.status_code == 403
    assert await services.pool.fetchval("SELECT count(*) FROM member_imports") == 0


async def test_the_import_page_follows_progress_and_gives_the_failed_rows_as_csv(
        shop: Console, services: Services, clock: FrozenClock) -> None:
    body, _ = thousand_rows()
    r = await _send(shop, "/console/imports", body)
    url = r.json()["url"]
    queued = (await shop.get(url)).text
    assert 'data-status="queued"' in queued and "data-import-result hidden" in queued
    await drain(services.settings, clock)
    progress = (await shop.get(f"{url}/progress")).text
    assert 'data-status="done"' in progress and 'data-count="created">997<' in progress
    page = (await shop.get(url)).text
    assert page.count("<tr data-error-row=") == 3
    download = await shop.get(f"{url}/errors.csv")
    rows = list(csv.reader(io.StringIO(download.text.lstrip("\ufeff"))))
    assert rows[0] == ["行号", "错误代码", "问题"]
    assert rows[1:] == [["101", "invalid_birthday", "生日不是 YYYY-MM-DD 格式的过去日期"],
                        ["502", "invalid_phone", "手机号格式不对（6 到 20 位数字，可带 +）"],
                        ["900", "duplicate_external_id", "会员编号和文件里前面的一行重复"]]
    shop.client.cookies.set("eng_lang", "en")
    english = await shop.get(f"{url}/errors.csv")
    assert english.text.lstrip("\ufeff").splitlines()[0] == "Row,Code,Problem"


async def test_a_cashier_cannot_import_and_another_merchant_sees_nothing(
        app: object, shop: Console, rival: Console, services: Services) -> None:
    r = await _send(shop, "/console/imports", b"external_id\nA\n")
    url = r.json()["url"]
    assert (await rival.get(url)).status_code == 404
    await add_user(services, shop.merchant, "till@shiguang.example", role="cashier")
    async with signed_in(app, shop.merchant, "till@shiguang.example") as cashier:
        assert (await cashier.get("/console/imports")).status_code == 403
        refused = await _send(cashier, "/console/imports", b"external_id\nB\n")
        assert refused.status_code == 403
    assert await services.pool.fetchval("SELECT count(*) FROM member_imports") == 1


async def test_a_file_past_the_general_body_limit_still_previews(
        shop: Console, services: Services) -> None:
    lines = ["external_id,phone,name"] + [f"BIG{i:06d},135{i:08d},{'名' * 20}"
                                         for i in range(25_000)]
    body = "\n".join(lines).encode()
    assert len(body) > 1024 * 1024  # the default limit of every other route
    r = await _send(shop, "/console/imports/preview", body)
    assert r.status_code == 200, r.text[:200]
    assert 'data-count="new">25000<' in r.text
