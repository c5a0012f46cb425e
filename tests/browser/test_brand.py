"""An owner sets the shop's look in the console's settings, on a laptop (1280x800) and a
tablet (820x1180): the preview follows a typed colour before saving, a chosen logo shows
at once and is uploaded, a bad file is refused in words, and the member's join page then
wears both. Screenshots go to tests/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engagement.kit.state import Services
from tests.browser.conftest import open_phone
from tests.browser.test_console import EMAIL, LAPTOP, TABLET, _fits_width, _sign_in
from tests.console.helpers import add_user
from tests.console.test_brand import png
from tests.factories import Factory


async def _preview_colour(page: Any) -> str:
    return str(await page.eval_on_selector(
        ".preview-top", "el => getComputedStyle(el).backgroundImage"))


async def test_an_owner_sets_colour_and_logo_and_members_see_them(
        chromium: object, live_server: str, factory: Factory, services: Services,
        tmp_path: Path) -> None:
    shop = await factory.merchant("拾光咖啡 Shiguang Café")
    await add_user(services, shop, EMAIL)
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(48, 48))
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("这不是图片")
    # The laptop saves one colour; the tablet changes it to the one members will see.
    for size, name, colour in ((LAPTOP, "laptop", "#2f5fd1"), (TABLET, "tablet", "#1a7f5a")):
        browser = await open_phone(chromium, live_server, **size)
        try:
            page: Any = browser.page
            await _sign_in(browser, "/console/settings")
            await page.wait_for_selector("[data-brand-preview]")
            before = await _preview_colour(page)
            await page.fill("#brand_color", colour)
            await page.wait_for_function(
                "c => getComputedStyle(document.querySelector('[data-brand-preview]'))"
                ".getPropertyValue('--p-brand').trim() === c", arg=colour)
            assert await _preview_colour(page) != before  # before saving: the preview only
            await page.set_input_files("[data-logo-input]", str(not_an_image))
            await page.wait_for_selector("[data-logo-error]:not([hidden])")
            assert "只支持 PNG、JPG 或 WebP 图片" in await page.inner_text("[data-logo-error]")
            browser.console_errors.clear()  # the refused upload's 415: expected
            await page.set_input_files("[data-logo-input]", str(logo))
            await page.wait_for_selector("[data-brand-preview][data-logo-url]")
            assert "店铺标志已更新" in await page.inner_text("[data-logo-status]")
            assert await _fits_width(page)
            await browser.screenshot(f"console-{name}-brand")
            await page.click('[data-action="save-brand"]')
            await page.wait_for_selector("[data-notice]")
            assert "品牌颜色已保存" in await page.inner_text("[data-notice]")
            browser.assert_clean()
        finally:
            await browser.context.close()  # type: ignore[attr-defined]

    slug = await services.pool.fetchval("SELECT slug FROM merchants WHERE id = $1", shop.id)
    member = await open_phone(chromium, live_server)
    try:
        page = member.page
        await page.goto(f"/j/{slug}")
        colour = await page.evaluate(
            "() => getComputedStyle(document.documentElement).getPropertyValue('--brand').trim()")
        assert colour == "#1a7f5a"
        src = await page.get_attribute(".brand-logo", "src")
        assert src and src.startswith(f"/brand/{shop.id}/logo/")
        assert await page.evaluate(
            "() => document.querySelector('.brand-logo').naturalWidth") == 48
        await member.screenshot("member-join-branded")
        member.assert_clean()
    finally:
        await member.context.close()  # type: ignore[attr-defined]
