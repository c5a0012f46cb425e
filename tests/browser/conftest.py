"""Browser tests: headless Chromium (Debian's package, driven by Playwright) against a real
uvicorn server on a free local port, sharing the test database and Redis.

Phones first: a 390x844 touch viewport. Every page is watched for console errors and for
requests to any other host; both fail the test. Screenshots go to tests/screenshots/."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn

from engagement.app import create_app
from engagement.kit.clock import FrozenClock
from engagement.kit.config import Settings

CHROMIUM = os.environ.get("ENGAGEMENT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
_DRAW_API = re.compile(r"/api/v1/campaigns/[^/]+/draws$")
_REFUSAL = re.compile(r"^Failed to load resource: (the server responded with a status of (409|429) "
                      r"|net::ERR_FAILED)")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 2, "locale": "zh-CN"}


def _browser_missing() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not shutil.which(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _browser_missing()
    if reason is None:
        return
    # `make test` installs the browser, so a missing one is an error, not a silent skip;
    # only an explicit ENGAGEMENT_SKIP_BROWSER=1 (e.g. a quick local run) skips them.
    if os.environ.get("ENGAGEMENT_SKIP_BROWSER") != "1":
        raise pytest.UsageError(f"browser tests required but {reason}")
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_settings(settings: Settings) -> Settings:
    port = _free_port()
    return settings.model_copy(update={
        "public_url": f"http://127.0.0.1:{port}", "port": port,
        "verification_sender": "tests.codes:RecordingSender"})


@pytest.fixture(scope="session")
def live_server(live_settings: Settings) -> Iterator[str]:
    """The whole app over real HTTP, on its own thread and event loop."""
    clock = FrozenClock(datetime(2026, 11, 23, 4, 0, tzinfo=UTC))  # as the tests' clock
    config = uvicorn.Config(create_app(live_settings, clock=clock), host="127.0.0.1",
                            port=live_settings.port, log_level="warning", lifespan="on",
                            access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield live_settings.public_url
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Phone:
    """A phone's browser session and what it did that it should not have."""

    base_url: str
    context: object
    page: object
    console_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    # Chromium logs every 4xx response and every failed request as a console error, even
    # one the page expects and handles; those of the draw API (limit reached, rate limited,
    # a dropped connection) are kept apart so that tests assert them instead of ignoring
    # console errors.
    draw_refusals: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    async def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=False)  # type: ignore[attr-defined]
        return path

    def assert_clean(self) -> None:
        assert self.console_errors == [], self.console_errors
        assert self.external_requests == [], self.external_requests


async def open_phone(chromium: object, base_url: str, **options: object) -> Phone:
    context = await chromium.new_context(base_url=base_url, **{**PHONE, **options})  # type: ignore[attr-defined]
    page = await context.new_page()
    phone = Phone(base_url, context, page)

    def on_console(message: object) -> None:
        if message.type != "error":  # type: ignore[attr-defined]
            return
        text: str = message.text  # type: ignore[attr-defined]
        where: str = message.location.get("url", "")  # type: ignore[attr-defined]
        if _DRAW_API.search(where) and _REFUSAL.match(text):
            phone.draw_refusals.append(text)
        else:
            phone.console_errors.append(f"{text} ({where})" if where else text)

    def on_request(request: object) -> None:
        url: str = request.url  # type: ignore[attr-defined]
        if not (url.startswith(base_url + "/") or url.startswith(("data:", "blob:"))):
            phone.external_requests.append(url)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: phone.console_errors.append(f"pageerror: {exc}"))
    context.on("request", on_request)
    # Nothing may leave the machine even if a page tried: other hosts are refused.
    await context.route(lambda url: not url.startswith(base_url), lambda route: route.abort())
    return phone


@pytest.fixture
async def phone(chromium: object, live_server: str, app: object) -> AsyncIterator[Phone]:
    """A fresh phone (no cookies). Depends on ``app`` so that tables start empty."""
    p = await open_phone(chromium, live_server)
    try:
        yield p
        p.assert_clean()
    finally:
        await p.context.close()  # type: ignore[attr-defined]
