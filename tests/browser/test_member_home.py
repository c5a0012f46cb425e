"""The member home at phone width in both languages: every card and button fits, nothing
scrolls sideways (the English Invite button once did). Screenshots:
tests/screenshots/home-full-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from engagement.coupons.service import issue_single
from engagement.kit.db import transaction
from tests.browser.conftest import SCREENSHOTS, Phone
from tests.factories import Factory
from tests.loyalty.checkin_helpers import set_check_in
from tests.referrals.helpers import program


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_whole_home_fits_a_390_phone(phone: Phone, factory: Factory,
                                               lang: str) -> None:
    shop = await factory.merchant("拾光咖啡")
    await program(factory, shop)
    await set_check_in(factory.client, shop)
    template = await factory.template(shop, name="满50减10元券", min_spend=5000)
    await factory.campaign(shop, [{"name": "咖啡立减5元", "kind": "coupon",
                                   "coupon_template_id": template["id"], "quantity": 10,
                                   "weight": 1}])
    member = await factory.member(shop, name="小林", phone="13800138000")
    async with transaction(factory.services.pool) as conn:
        await issue_single(conn, shop.id, template["id"], member.id, source="manual",
                           now=factory.services.clock.now())
    page: Any = phone.page
    await page.goto(f"/m/enter?token={member.token}")
    await page.goto(f"/m?lang={lang}")
    await page.wait_for_load_state("networkidle")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"home-full-{lang}.png"), full_page=True)
    assert await page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    outside = await page.evaluate("""() => [...document.querySelectorAll(
        'a.btn, button, .btn, input, [data-action]')].filter(el => el.offsetParent !== null)
        .map(el => [el.textContent.trim() || el.outerHTML.slice(0, 60),
                    el.getBoundingClientRect()])
        .filter(([, r]) => r.left < 0 || r.right > window.innerWidth)
        .map(([name]) => name)""")
    assert outside == []
    phone.assert_clean()
