"""Whose address per-client rules count under: X-Forwarded-For is believed only from a
trusted proxy, walked from the right, in the app (through ASGI) and behind `serve`."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from ipaddress import ip_network
from pathlib import Path

import httpx
import pytest

from engagement.kit.config import Settings
from engagement.kit.constants import CONSOLE_LOGIN_IP_KEY, JOIN_IP_KEY
from engagement.kit.proxies import forwarded_client
from engagement.kit.state import Services
from tests.codes import RecordingSender
from tests.factories import Factory
from tests.referrals.helpers import program, share_code

HTML = {"Accept": "text/html"}
SPOOF = {"X-Forwarded-For": "1.2.3.4"}
TRUSTED = (ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8"))


def test_the_header_is_walked_from_the_right_past_trusted_hops_only() -> None:
    assert forwarded_client("127.0.0.1", ["1.2.3.4"], ()) == "127.0.0.1"
    assert forwarded_client("203.0.113.9", ["1.2.3.4"], TRUSTED) == "203.0.113.9"
    assert forwarded_client("127.0.0.1", ["1.2.3.4"], TRUSTED) == "1.2.3.4"
    assert forwarded_client("127.0.0.1", [], TRUSTED) == "127.0.0.1"
    # The client wrote the left-most entries itself; the trusted proxies appended the rest.
    assert forwarded_client("127.0.0.1", ["6.6.6.6, 1.2.3.4, 10.0.0.7"], TRUSTED) == "1.2.3.4"
    assert forwarded_client("127.0.0.1", ["6.6.6.6", "1.2.3.4, 10.0.0.7"], TRUSTED) == "1.2.3.4"
    assert forwarded_client("127.0.0.1", ["10.1.1.1, 10.0.0.7"], TRUSTED) == "10.1.1.1"
    assert forwarded_client("127.0.0.1", ["6.6.6.6, nonsense, 10.0.0.7"], TRUSTED) == "10.0.0.7"
    assert forwarded_client("::ffff:127.0.0.1", ["[2001:db8::1]:443"], TRUSTED) == "2001:db8::1"
    assert forwarded_client("127.0.0.1", ["1.2.3.4:5678"], TRUSTED) == "1.2.3.4"


def test_nothing_else_reads_the_peer_address() -> None:
    """One rule: code that needs the client's address asks ``client_address``."""
    root = Path(__file__).resolve().parents[2]
    peer = re.compile(r"request\.client\b|\.client\.host\b|scope\[.client.\]")
    readers = [str(path.relative_to(root)) for package in ("engagement", "games", "referrals")
               for path in (root / package).rglob("*.py") if peer.search(path.read_text())]
    assert readers == ["engagement/kit/proxies.py"]


def test_the_setting_is_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).trusted_proxies == ()  # type: ignore[call-arg]
    monkeypatch.setenv("ENGAGEMENT_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1")
    assert Settings(_env_file=None).trusted_proxies == (  # type: ignore[call-arg]
        ip_network("127.0.0.1"), ip_network("10.0.0.0/8"), ip_network("::1"))


@pytest.fixture
def recording(services: Services) -> Services:
    services.settings = services.settings.model_copy(
        update={"verification_sender": "tests.codes:RecordingSender"})
    return services


def _trust(services: Services, *networks: str) -> None:
    services.settings = services.settings.model_copy(
        update={"trusted_proxies": tuple(ip_network(n) for n in networks)})


def _client(app: object, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40_000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _counted_under(app: object, factory: Factory, services: Services, peer: str,
                         headers: dict[str, str]) -> set[str]:
    """A console sign-in, a join-code send and a join through a share link, all from
    ``peer`` with ``headers``: the addresses each of the three recorded."""
    shop = await factory.merchant()
    await program(factory, shop)
    sharer = await factory.member(shop, phone="13900000001")
    code = await share_code(factory, sharer)
    async with _client(app, peer) as browser:
        login = await browser.get("/console/login", headers=HTML)
        token = re.search(r'name="csrf-token" content="([^"]+)"', login.text)
        assert token
        r = await browser.post("/console/login", headers={**HTML, **headers}, data={
            "email": "nobody@example.com", "password": "wrong password", "next": "",
            "csrf_token": token.group(1)})
        assert r.status_code == 401, r.text
        page = await browser.get(f"/j/{shop.slug}?share={code}", headers=HTML)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        r = await browser.post(f"/j/{shop.slug}/code", headers=headers, data={
            "phone": "13900000002", "csrf_token": token.group(1)})
        assert r.status_code == 200, r.text
        r = await browser.post(f"/j/{shop.slug}", headers=headers, data={
            "phone": "13900000002", "code": RecordingSender.sent["13900000002"],
            "share": code, "csrf_token": token.group(1)})
        assert r.status_code == 303, r.text
    logins = await services.redis.keys(CONSOLE_LOGIN_IP_KEY.format(ip="*"))
    sends = await services.redis.keys(JOIN_IP_KEY.format(ip="*"))
    bound = await services.pool.fetch("SELECT host(ip) AS ip FROM referral_bindings")
    assert len(logins) == len(sends) == len(bound) == 1
    return {logins[0].decode().rsplit(":", 1)[-1], sends[0].decode().rsplit(":", 1)[-1],
            bound[0]["ip"]}


async def test_by_default_a_forwarded_address_is_not_believed(
        app: object, factory: Factory, recording: Services) -> None:
    assert await _counted_under(app, factory, recording, "127.0.0.1", SPOOF) == {"127.0.0.1"}


async def test_behind_a_trusted_proxy_the_forwarded_address_counts(
        app: object, factory: Factory, recording: Services) -> None:
    _trust(recording, "127.0.0.1")
    assert await _counted_under(app, factory, recording, "127.0.0.1", SPOOF) == {"1.2.3.4"}


async def test_a_spoofed_left_most_entry_is_not_believed(
        app: object, factory: Factory, recording: Services) -> None:
    _trust(recording, "127.0.0.1", "10.0.0.0/8")
    forwarded = {"X-Forwarded-For": "6.6.6.6, 1.2.3.4, 10.0.0.7"}
    assert await _counted_under(app, factory, recording, "127.0.0.1",
                                forwarded) == {"1.2.3.4"}


async def test_an_untrusted_peer_cannot_name_a_client(
        app: object, factory: Factory, recording: Services) -> None:
    _trust(recording, "10.0.0.0/8")
    assert await _counted_under(app, factory, recording, "203.0.113.9",
                                SPOOF) == {"203.0.113.9"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(settings: Settings, services: Services) -> Iterator[str]:
    """`engagement serve` on a free port, with the test servers and no trusted proxies."""
    port = _free_port()
    env = dict(os.environ, ENGAGEMENT_DATABASE_URL=settings.database_url or "",
               ENGAGEMENT_REDIS_URL=settings.redis_url or "",
               ENGAGEMENT_DATA_DIR=str(settings.data_dir), ENGAGEMENT_SECRET_KEY="x" * 32)
    env.pop("ENGAGEMENT_TRUSTED_PROXIES", None)
    proc = subprocess.Popen([sys.executable, "-m", "engagement.cli", "serve", "--port",
                             str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)


async def test_serve_does_not_let_uvicorn_believe_the_header(
        served: str, services: Services) -> None:
    # uvicorn's own proxy_headers would trust X-Forwarded-For from 127.0.0.1.
    async with httpx.AsyncClient(base_url=served) as browser:
        login = await browser.get("/console/login", headers=HTML)
        token = re.search(r'name="csrf-token" content="([^"]+)"', login.text)
        assert token
        r = await browser.post("/console/login", headers={**HTML, **SPOOF}, data={
            "email": "nobody@example.com", "password": "wrong password", "next": "",
            "csrf_token": token.group(1)})
        assert r.status_code == 401
    assert await services.redis.keys(CONSOLE_LOGIN_IP_KEY.format(ip="*")) == [
        CONSOLE_LOGIN_IP_KEY.format(ip="127.0.0.1").encode()]
