"""Importing members in the console, in Chromium on a laptop and a tablet, in Chinese and in
English: the empty page with its sample file, a file chosen, its preview with a problem row,
the import followed by its progress bar to done, and the failed rows downloaded as CSV.
Screenshots: tests/screenshots/console-imports-*.png."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import pytest

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from tests.browser.conftest import SCREENSHOTS, open_phone
from tests.browser.test_console import EMAIL, LAPTOP, TABLET, _fits_width, _sign_in
from tests.console.helpers import add_user
from tests.factories import Factory
from tests.worker import drain


def _file() -> bytes:
    """300 members from an old till's export: row 5 has a birthday that is no date, row 150
    a phone that is no number; the header is Chinese, as a spreadsheet's would be."""
    lines = ["会员编号,手机号,姓名,生日,积分,等级"]
    for row in range(2, 302):
        birthday = "1990-02-30" if row == 5 else "1991-03-08"
        phone = "打电话" if row == 150 else f"137{row:08d}"
        lines.append(f"VIP{row:04d},{phone},顾客{row},{birthday},{row * 10},")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


async def _read(download: Any) -> str:
    path = Path(await download.path())
    return await asyncio.to_thread(path.read_text, encoding="utf-8-sig")


async def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(("size", "lang"), [("laptop", "zh-CN"), ("tablet", "zh-CN"),
                                            ("laptop", "en"), ("tablet", "en")])
async def test_a_merchant_imports_old_members_in_the_console(
        chromium: object, live_server: str, factory: Factory, services: Services,
        clock: FrozenClock, size: str, lang: str) -> None:
    shop = await factory.merchant("拾光咖啡")
    await add_user(services, shop, EMAIL)
    viewport = LAPTOP if size == "laptop" else TABLET
    browser = await open_phone(chromium, live_server, **{**viewport, "locale": lang,
                                                         "accept_downloads": True})
    name = f"console-imports-{size}-{lang}"
    try:
        page: Any = browser.page
        await _sign_in(browser, "/console/imports")
        if lang == "en":
            await page.click('a[hreflang="en"]')
            await page.wait_for_selector('html[lang="en"]')
        # The empty state: no imports yet, a sample file to start from.
        await page.wait_for_selector("[data-empty]")
        async with page.expect_download() as sample_download:
            await page.click('[data-action="sample-empty"]')
        sample = await _read(await sample_download.value)
        assert sample.startswith("external_id,phone")
        assert await _fits_width(page)
        await _shot(page, f"{name}-empty")

        # A spreadsheet saved in the Chinese Windows encoding: refused in words, nothing kept.
        await page.set_input_files("[data-import-file]", files=[{
            "name": "gbk.csv", "mimeType": "text/csv",
            "buffer": "会员编号,姓名\r\nV1,王\r\n".encode("gbk")}])
        await page.wait_for_selector('[data-file-problem="invalid_encoding"]')
        assert await _fits_width(page)
        await _shot(page, f"{name}-error")
        # Chromium logs the expected 422 of the preview as a console error: exactly that one.
        refused = [e for e in browser.console_errors if "/console/imports/preview" in e]
        assert len(refused) == 1 and "422" in refused[0], browser.console_errors
        browser.console_errors.remove(refused[0])
        assert await services.pool.fetchval("SELECT count(*) FROM member_imports") == 0

        # A file is chosen: its preview, with the problem rows, before anything is written.
        await page.set_input_files("[data-import-file]", files=[{
            "name": "老会员.csv", "mimeType": "text/csv", "buffer": _file()}])
        await page.wait_for_selector("[data-preview]")
        problem = page.locator('tr.row-problem[data-code="invalid_birthday"]')
        assert await problem.get_attribute("data-row") == "5"
        assert await page.locator('[data-preview-errors] tr[data-error-row="150"]').count() == 1
        assert await page.text_content('[data-count="new"]') == "298"
        assert await services.pool.fetchval("SELECT count(*) FROM members") == 0
        assert await _fits_width(page)
        await _shot(page, f"{name}-preview")

        # Import: the import's page follows the job to done.
        await page.click('[data-action="start-import"]')
        await page.wait_for_url("**/console/imports/imp_*")
        await page.wait_for_selector('[data-import-progress][data-status="queued"]')
        assert await _fits_width(page)
        await _shot(page, f"{name}-queued")
        await drain(services.settings, clock)
        await page.wait_for_selector('[data-import-result]:not([hidden])', timeout=15_000)
        assert await page.text_content('[data-count="created"]') == "298"
        assert await page.text_content('[data-count="failed"]') == "2"
        assert await page.get_attribute("progress.import-bar", "value") == "300"
        assert await _fits_width(page)
        await _shot(page, f"{name}-done")

        # The failed rows, in words, as a file.
        async with page.expect_download() as errors_download:
            await page.click('[data-action="download-errors"]')
        rows = list(csv.reader(io.StringIO(await _read(await errors_download.value))))
        assert [r[:2] for r in rows[1:]] == [["5", "invalid_birthday"], ["150", "invalid_phone"]]
        assert rows[0][0] == ("行号" if lang == "zh-CN" else "Row")
        assert all(r[2] for r in rows[1:])
        # The page lists it now, in place of the empty state.
        await page.goto("/console/imports")
        await page.wait_for_selector("[data-imports] tr[data-import-id]")
        assert await page.locator("[data-empty]").count() == 0
        assert await _fits_width(page)
        await _shot(page, f"{name}-history")
        points = await services.pool.fetchval(
            "SELECT points FROM members WHERE external_id = 'VIP0010'")
        assert points == 100
        browser.assert_clean()
    finally:
        await browser.context.close()  # type: ignore[attr-defined]
