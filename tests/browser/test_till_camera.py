"""The till's camera, for real: Chromium's fake camera plays a video of a member code's QR
code (a Y4M file drawn here from segno's matrix), the page reads it with jsQR and looks the
member up. Without permission, the page says how to allow it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import segno

from engagement.kit.state import Services
from engagement.members import member_codes
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, open_phone
from tests.browser.test_till import _shop, _shot, _sign_in
from tests.factories import Factory

WIDTH, HEIGHT, MODULE = 640, 480, 10
WHITE, BLACK, GREY = 235, 16, 128  # luma of video range, and neutral chroma


def qr_video(text: str, path: Path, frames: int = 3) -> Path:
    """A few frames of ``text`` as a QR code, black on white, in Y4M (4:2:0)."""
    matrix = [list(row) for row in segno.make(text, error="m", micro=False).matrix]
    border = 4
    size = (len(matrix) + 2 * border) * MODULE
    left, top = (WIDTH - size) // 2, (HEIGHT - size) // 2
    luma = bytearray([WHITE]) * (WIDTH * HEIGHT)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if not dark:
                continue
            for y in range(top + (r + border) * MODULE, top + (r + border + 1) * MODULE):
                start = y * WIDTH + left + (c + border) * MODULE
                luma[start:start + MODULE] = bytes([BLACK]) * MODULE
    chroma = bytes([GREY]) * ((WIDTH // 2) * (HEIGHT // 2))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


@pytest.fixture
async def camera_browser(tmp_path: Path, services: Services) -> AsyncIterator[Any]:
    """A Chromium whose camera films a file; the file is written by each test first."""
    from playwright.async_api import async_playwright

    video = tmp_path / "camera.y4m"
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
        try:
            yield browser, video
        finally:
            await browser.close()


async def test_the_camera_reads_a_member_code(
        camera_browser: Any, live_server: str, factory: Factory, services: Services) -> None:
    browser, video = camera_browser
    shop = await _shop(factory, services)
    member = await factory.member(shop, phone="13800138000", name="李雷")
    code, _ = await member_codes.issue(services.redis, shop.id, member.id,
                                       services.clock.now())
    qr_video(code, video)
    phone = await open_phone(browser, live_server, permissions=["camera"])
    try:
        page: Any = phone.page
        await _sign_in(phone)
        await page.click("[data-action=scan]")
        await page.wait_for_selector(f"[data-member][data-member-id='{member.id}']",
                                     timeout=15_000)
        assert (await page.inner_text("[data-member-name]")) == "李雷"
        assert await page.is_hidden("[data-camera]")  # the camera stops once it has read
        assert await page.evaluate(
            "() => document.querySelector('[data-camera-video]').srcObject === null")
        await _shot(page, "till-phone-camera")
        phone.assert_clean()
    finally:
        await phone.context.close()


async def test_a_refused_camera_is_explained(
        camera_browser: Any, live_server: str, factory: Factory, services: Services) -> None:
    browser, video = camera_browser
    await _shop(factory, services)
    qr_video("nothing", video)
    phone = await open_phone(browser, live_server)  # no camera permission granted
    try:
        page: Any = phone.page
        await _sign_in(phone)
        await page.click("[data-action=scan]")
        await page.wait_for_selector("[data-message]:not([hidden])")
        assert "没有摄像头权限" in await page.inner_text("[data-message]")
        assert await page.is_hidden("[data-camera]")
        phone.assert_clean()
    finally:
        await phone.context.close()
