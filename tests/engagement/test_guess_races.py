"""Guess limits hold when the guesses arrive all at once: each guess is counted and
checked in one Redis script, so parallel requests cannot all pass a check made before
any of them was counted."""

from __future__ import annotations

import asyncio
import logging
import re

import httpx
import pytest

from engagement.kit.constants import JOIN_CODE_KEY, JOIN_CODE_MAX_ATTEMPTS
from engagement.kit.errors import AppError
from engagement.kit.state import Services
from engagement.loyalty.join.codes import CodeExpired, CodeInvalid, VerificationCodes
from tests.factories import Factory

HTML = {"Accept": "text/html"}


def _wrong(code: str, i: int) -> str:
    guess = f"{i:06d}"
    return guess if guess != code else "999999"


async def test_forty_parallel_guesses_get_at_most_five_checks(services: Services) -> None:
    codes = VerificationCodes(services.redis, "test-secret")
    code = await codes.issue("mer_a", "13800138000", "10.0.0.1")
    # The right code is the last of 40 sent together: it is checked only if it is among
    # the first five to reach Redis.
    guesses = [_wrong(code, i) for i in range(39)] + [code]
    outcomes = await asyncio.gather(
        *[codes.check("mer_a", "13800138000", g) for g in guesses], return_exceptions=True)
    wrong = [o for o in outcomes if isinstance(o, CodeInvalid)]
    burnt = [o for o in outcomes if isinstance(o, CodeExpired) and "Too many" in o.message]
    signed_in = [i for i, o in enumerate(outcomes) if o is None]
    assert all(o is None or isinstance(o, AppError) for o in outcomes)
    assert len(wrong) + len(burnt) + len(signed_in) <= JOIN_CODE_MAX_ATTEMPTS
    assert len(wrong) + len(burnt) + len(signed_in) >= 1
    assert len(signed_in) <= 1
    # Whatever happened, the code is gone, and its key did not come back without expiry.
    assert await services.redis.exists(JOIN_CODE_KEY.format(
        merchant_id="mer_a", phone="13800138000")) == 0
    with pytest.raises(CodeExpired):
        await codes.check("mer_a", "13800138000", code)


async def test_after_forty_parallel_wrong_guesses_the_right_code_is_refused(
        client: httpx.AsyncClient, factory: Factory, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="engagement.loyalty.join.senders")
    shop = await factory.merchant()
    await factory.member(shop, external_id="pos-1", phone="13800138000")
    page = await client.get(f"/j/{shop.slug}", headers=HTML)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    token = found.group(1)
    r = await client.post(f"/j/{shop.slug}/code", headers={"X-Requested-With": "fetch"},
                          data={"phone": "13800138000", "csrf_token": token})
    assert r.status_code == 202
    code = str([r.args[2] for r in caplog.records  # type: ignore[index]
                if r.name == "engagement.loyalty.join.senders"][-1])

    async def guess(value: str) -> httpx.Response:
        return await client.post(f"/j/{shop.slug}", headers=HTML, data={
            "phone": "13800138000", "code": value, "csrf_token": token})

    answers = await asyncio.gather(*[guess(_wrong(code, i)) for i in range(40)])
    assert all(a.status_code == 422 for a in answers)
    counted = [a for a in answers if "还可以再试" in a.text]
    assert len(counted) <= JOIN_CODE_MAX_ATTEMPTS - 1
    r = await guess(code)
    assert r.status_code == 422 and "验证码已失效" in r.text
    assert "eng_member" not in r.cookies
    assert (await client.get("/api/v1/me")).status_code == 401
