"""Joining through a share link on the phone join page binds the newcomer under the sharer
and hands over the share coupon, like the members API does."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from tests.factories import Factory
from tests.referrals.helpers import program, share_code

FETCH = {"X-Requested-With": "fetch", "Accept": "application/json"}


async def test_join_page_with_share_code_binds_and_gives_the_coupon(
        client: httpx.AsyncClient, factory: Factory, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="engagement.loyalty.join.senders")
    shop = await factory.merchant()
    gift = await factory.template(shop, name="新人券", stock=10)
    await program(factory, shop, reward_coupon_template_id=gift["id"])
    sharer = await factory.member(shop, phone="13900000001")
    code = await share_code(factory, sharer)

    page = await client.get(f"/j/{shop.slug}?share={code}&next=/m", headers={"Accept": "text/html"})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert page.status_code == 200 and csrf
    r = await client.post(f"/j/{shop.slug}/code",
                          data={"phone": "13900000002", "csrf_token": csrf.group(1)},
                          headers=FETCH)
    assert r.status_code == 202
    sent = [rec.args[2] for rec in caplog.records  # type: ignore[index]
            if rec.name == "engagement.loyalty.join.senders" and isinstance(rec.args, tuple)]
    r = await client.post(f"/j/{shop.slug}", data={
        "phone": "13900000002", "code": str(sent[-1]), "share": code, "next": "/m",
        "csrf_token": csrf.group(1)})
    assert r.status_code == 303, r.text
    me = (await client.get("/api/v1/me")).json()
    assert me["referrer_id"] == sharer.id
    coupons = (await client.get("/api/v1/me/coupons")).json()["items"]
    assert [c["name"] for c in coupons] == ["新人券"]
    mine = (await client.get("/api/v1/me/referrals", headers=sharer.headers)).json()
    assert len(mine["invitees"]) == 1
