"""The API docs page (Swagger UI) works under its Content-Security-Policy: the operations
render from /openapi.json, and the browser reports no refused script, style or request
(a CSP violation is a console error, which fails the test)."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Phone


async def test_the_docs_page_renders_the_api_under_its_policy(phone: Phone) -> None:
    page: Any = phone.page
    response = await page.goto(phone.url("/docs"))
    assert "script-src 'self';" in response.headers["content-security-policy"]
    await page.wait_for_selector(".opblock-tag-section")
    operation = page.locator('.opblock[id$="create_member"]').first
    await operation.locator(".opblock-summary").click()
    await operation.locator(".opblock-body .model-example").first.wait_for()
    assert await page.locator(".opblock").count() >= 20
