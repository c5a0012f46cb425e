"""The console's sign-in lock holds against parallel guesses: each attempt is counted
before its password is checked."""

from __future__ import annotations

import asyncio

import httpx

from engagement.console import throttle
from engagement.kit.state import Services
from tests.console.helpers import HTML, PASSWORD, add_user, csrf_token
from tests.factories import Factory


async def test_twenty_five_parallel_sign_ins_get_at_most_five_passwords_checked(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    await add_user(services, shop, "owner@example.com")
    token = csrf_token((await client.get("/console/login", headers=HTML)).text)

    async def sign_in(password: str) -> httpx.Response:
        return await client.post("/console/login", headers=HTML, data={
            "email": "owner@example.com", "password": password, "next": "",
            "csrf_token": token})

    # The right password is the last of 25 sent together.
    answers = await asyncio.gather(*[sign_in(f"guess number {i}") for i in range(24)],
                                   sign_in(PASSWORD))
    checked = [a for a in answers if a.status_code in (401, 303)]
    refused = [a for a in answers if a.status_code == 429]
    assert len(checked) + len(refused) == 25
    assert 1 <= len(checked) <= throttle.CONSOLE_LOGIN_FAILURES_PER_EMAIL
    if any(a.status_code == 303 for a in answers):
        return  # the right password was among the first five: it signed in and unlocked
    # Locked for the window now, whatever the password.
    late = await sign_in(PASSWORD)
    assert late.status_code == 429 and "登录尝试次数过多" in late.text
    counter_ttl = await services.redis.ttl(
        throttle._email_key("owner@example.com"))
    assert 0 < counter_ttl <= throttle.CONSOLE_LOGIN_WINDOW_SECONDS
