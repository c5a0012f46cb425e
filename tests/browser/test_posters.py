"""Poster pages in the console on a laptop and a tablet: from the console home to the join
poster, and from a campaign's page to its poster; the preview loads, the files download.
Screenshots: tests/screenshots/console-poster-*.png; the posters themselves are saved beside
them (poster-*.png) for people to look at."""

from __future__ import annotations

from typing import Any

import pytest

from engagement.kit.state import Services
from tests.browser.conftest import SCREENSHOTS, open_phone
from tests.browser.test_console import EMAIL, LAPTOP, TABLET, _fits_width, _sign_in
from tests.console.helpers import add_user
from tests.factories import Factory


async def _preview_loaded(page: Any) -> None:
    await page.wait_for_function(
        "() => { const img = document.querySelector('[data-poster-preview]');"
        " return img && img.complete && img.naturalWidth === 1080; }", timeout=15_000)


@pytest.mark.parametrize("size", ["laptop", "tablet"])
async def test_a_merchant_downloads_posters(chromium: object, live_server: str,
                                            factory: Factory, services: Services,
                                            size: str) -> None:
    shop = await factory.merchant("拾光咖啡")
    await add_user(services, shop, EMAIL)
    campaign = await factory.campaign(
        shop, [{"name": "谢谢参与", "kind": "nothing", "weight": 1}], name="双十二幸运大转盘",
        starts_at="2026-12-01T10:00:00+08:00", ends_at="2026-12-12T22:00:00+08:00")
    options = {**(LAPTOP if size == "laptop" else TABLET), "accept_downloads": True}
    browser = await open_phone(chromium, live_server, **options)
    try:
        page: Any = browser.page
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await _sign_in(browser, "/console/campaigns")
        await page.click('[data-action="join-poster"]')
        await page.wait_for_url("**/console/posters/join")
        await _preview_loaded(page)
        assert await _fits_width(page)
        await page.screenshot(path=str(SCREENSHOTS / f"console-poster-join-{size}.png"),
                              full_page=True)
        async with page.expect_download() as info:
            await page.click('[data-poster-file="phone.png"]')
        download = await (await info.value).path()
        (SCREENSHOTS / "poster-join-phone.png").write_bytes(download.read_bytes())

        await page.goto(f"/console/campaigns/{campaign['id']}")
        await page.click('[data-action="poster"]')
        await page.wait_for_url(f"**/console/campaigns/{campaign['id']}/poster")
        await _preview_loaded(page)
        assert await _fits_width(page)
        await page.screenshot(path=str(SCREENSHOTS / f"console-poster-campaign-{size}.png"),
                              full_page=True)
        for file in ("a4.png", "phone.png"):
            async with page.expect_download() as info:
                await page.click(f'[data-poster-file="{file}"]')
            download = await (await info.value).path()
            (SCREENSHOTS / f"poster-campaign-{file}").write_bytes(download.read_bytes())
        await page.goto(f"/console/campaigns/{campaign['id']}/poster?lang=en")
        await _preview_loaded(page)
        await page.screenshot(path=str(SCREENSHOTS / f"console-poster-campaign-en-{size}.png"),
                              full_page=True)
        async with page.expect_download() as info:
            await page.click('[data-poster-file="phone.png"]')
        download = await (await info.value).path()
        (SCREENSHOTS / "poster-campaign-phone-en.png").write_bytes(download.read_bytes())
        browser.assert_clean()
    finally:
        await browser.context.close()  # type: ignore[attr-defined]
