"""Signing in to the console from a test client, and reading a page's CSRF token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from engagement.console.schemas import Role, UserCreate
from engagement.console.service import create_user
from engagement.kit.db import transaction
from engagement.kit.state import Services
from tests.factories import Factory, MerchantHandle

HTML = {"Accept": "text/html"}
PASSWORD = "correct horse battery"


@dataclass
class Console:
    """A signed-in browser session of one merchant's console user."""

    client: httpx.AsyncClient
    merchant: MerchantHandle
    email: str
    token: str

    async def get(self, path: str, **kw: object) -> httpx.Response:
        return await self.client.get(path, headers=HTML, **kw)  # type: ignore[arg-type]

    async def post(self, path: str, data: dict[str, str] | None = None,
                   *, token: bool = True) -> httpx.Response:
        body = dict(data or {})
        if token:
            body["csrf_token"] = self.token
        return await self.client.post(path, data=body, headers=HTML)


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


async def add_user(services: Services, merchant: MerchantHandle, email: str,
                   password: str = PASSWORD, role: Role = "owner",
                   store_id: str | None = None) -> str:
    """A console user of the merchant; returns its id."""
    async with transaction(services.pool) as conn:
        row = await create_user(conn, merchant.id, UserCreate(
            email=email, password=password, role=role, store_id=store_id),
            services.clock.now())
    return str(row["id"])


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD,
                next_path: str = "") -> httpx.Response:
    page = await client.get("/console/login", headers=HTML)
    return await client.post("/console/login", headers=HTML, data={
        "email": email, "password": password, "next": next_path,
        "csrf_token": csrf_token(page.text)})


async def console(app: object, factory: Factory, services: Services, name: str,
                  email: str) -> Console:
    """A merchant with a console user, signed in on a client of its own."""
    merchant = await factory.merchant(name)
    await add_user(services, merchant, email)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                               base_url="http://testserver")
    r = await login(client, email)
    assert r.status_code == 303, r.text
    page = await client.get("/console/coupons", headers=HTML)
    assert page.status_code == 200, page.text
    return Console(client, merchant, email, csrf_token(page.text))


@asynccontextmanager
async def signed_in(app: object, merchant: MerchantHandle, email: str,
                    password: str = PASSWORD) -> AsyncIterator[Console]:
    """An existing console user of ``merchant``, signed in on a browser of their own."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                               base_url="http://testserver")
    try:
        r = await login(client, email, password)
        assert r.status_code == 303, r.text
        # Any console page carries the session's token, one the role may not open too.
        page = await client.get("/console/staff", headers=HTML)
        yield Console(client, merchant, email, csrf_token(page.text))
    finally:
        await client.aclose()
