"""Request limits (engagement/kit/request_limits.py): no body past its limit is ever held in
memory, and no URL with control characters reaches a route."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psutil

from engagement.kit.constants import BODY_LIMITS_BY_PREFIX, MAX_BODY_BYTES
from engagement.kit.request_limits import RequestLimitMiddleware
from engagement.kit.state import Services
from tests.console.helpers import console
from tests.factories import Factory

MiB = 1024 * 1024
HUGE = 300 * MiB
PAGE = {"Accept": "text/html"}


class PeakRss:
    """Samples a process's resident memory on a thread while the block runs."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


async def _stream(total: int, block: bytes) -> AsyncIterator[bytes]:
    for _ in range(total // len(block)):
        yield block


async def test_huge_bodies_get_413_and_never_reach_memory(
        web_server: tuple[str, psutil.Process], factory: Factory) -> None:
    base, process = web_server
    shop = await factory.merchant()
    form = {"Content-Type": "application/x-www-form-urlencoded", **PAGE}
    api = {"Content-Type": "application/json", **shop.headers}
    posts = [("/console/login", form, b"a" * (256 * 1024)),
             ("/api/v1/members", api, b" " * (256 * 1024))]
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        with PeakRss(process) as rss:
            for path, headers, block in posts:
                for length in ({"Content-Length": str(HUGE)}, {}):  # declared, then chunked
                    r = await client.post(path, headers={**headers, **length},
                                          content=_stream(HUGE, block))
                    assert r.status_code == 413, (path, length, r.text[:300])
                    if path.startswith("/api/"):
                        assert r.json()["error"]["code"] == "payload_too_large"
                    else:
                        assert r.headers["content-type"].startswith("text/html")
    assert rss.peak < 200 * MiB, f"web process peaked at {rss.peak / MiB:.0f} MiB"
    assert time.monotonic() - started < 20
    assert await factory.services.pool.fetchval("SELECT count(*) FROM members") == 0


async def test_a_body_past_the_limit_is_413_by_header_or_while_streaming(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    headers = {"Content-Type": "application/json", **shop.headers}
    too_big = b" " * (MAX_BODY_BYTES + 1)

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for start in range(0, len(too_big), 64 * 1024):
            yield too_big[start:start + 64 * 1024]

    for content in (too_big, chunked()):
        r = await client.post("/api/v1/members", headers=headers, content=content)
        assert r.status_code == 413, r.text
        assert r.json()["error"]["code"] == "payload_too_large"
        assert r.json()["error"]["details"] == {"limit": MAX_BODY_BYTES}
        assert r.headers["x-request-id"].startswith("req_")
    # Exactly the limit is fine.
    body = b'{"external_id": "at-the-limit"}'
    r = await client.post("/api/v1/members", headers=headers,
                          content=body + b" " * (MAX_BODY_BYTES - len(body)))
    assert r.status_code == 201, r.text
    assert await factory.services.pool.fetchval("SELECT count(*) FROM members") == 1


async def test_a_browser_form_past_the_limit_gets_a_413_page(client: httpx.AsyncClient) -> None:
    # Past the request limit, and past the smaller one forms have (engagement/kit/http.py).
    for size in (MAX_BODY_BYTES + 1, 20_000):
        r = await client.post("/console/login", content=b"a" * size, headers={
            "Content-Type": "application/x-www-form-urlencoded", **PAGE})
        assert r.status_code == 413
        assert r.headers["content-type"].startswith("text/html")
        assert 'data-error-page="413"' in r.text and "内容太多" in r.text


async def test_routes_that_declare_more_get_more(client: httpx.AsyncClient,
                                                 factory: Factory) -> None:
    shop = await factory.merchant()
    headers = {"Content-Type": "text/csv", **shop.headers}
    two_mib = b"a" * (2 * MiB)
    assert BODY_LIMITS_BY_PREFIX["/api/v1/member-imports"] > len(two_mib)
    # The body passes the limit and reaches the import route: one 2 MiB cell is no CSV.
    r = await client.post("/api/v1/member-imports", content=two_mib, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "malformed_csv"
    r = await client.post("/api/v1/member-importsx", content=two_mib, headers=headers)
    assert r.status_code == 413
    limits = RequestLimitMiddleware(client, default=10, by_prefix={"/a": 20, "/a/b": 30})
    assert [limits.limit_for(p) for p in ("/", "/a", "/a/x", "/ab", "/a/b/c")] == \
        [10, 20, 20, 10, 30]


async def test_control_characters_in_a_path_are_404_and_reach_no_route(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    for path in ("/api/v1/members/mbr_%00", "/api/v1/members/%01x", "/api/v1/campaigns/c%7F",
                 "/api/v1/me%0A"):
        r = await client.get(path, headers=shop.headers)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["error"]["code"] == "not_found"
    tokens = "SELECT count(*) FROM member_tokens"
    before = await factory.services.pool.fetchval(tokens)
    r = await client.post(f"/api/v1/members/{member.id}%00/tokens", headers=shop.headers)
    assert r.status_code == 404, r.text
    assert await factory.services.pool.fetchval(tokens) == before


async def test_control_characters_in_a_query_are_422_on_the_parameter(
        client: httpx.AsyncClient, factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    for query, field in (("cursor=%00", "cursor"), ("limit=5&cursor=drw_1%0A", "cursor"),
                         ("lang=%7F", "lang"), ("x%00=1", "query"), ("cursor=%1f", "cursor")):
        r = await client.get(f"/api/v1/me/draws?{query}", headers=member.headers)
        assert r.status_code == 422, (query, r.text)
        error = r.json()["error"]
        assert error["code"] == "validation_error"
        assert error["details"]["fields"][0]["field"] == field, query
    # Nothing a query string carries changes anything, however it is posted.
    r = await client.post("/api/v1/members?source=%00", json={"external_id": "nul"},
                          headers=shop.headers)
    assert r.status_code == 422, r.text
    assert await factory.services.pool.fetchval(
        "SELECT count(*) FROM members WHERE external_id = 'nul'") == 0


async def test_a_malformed_cursor_is_422_on_cursor(client: httpx.AsyncClient,
                                                  factory: Factory) -> None:
    shop = await factory.merchant()
    member = await factory.member(shop)
    for cursor in ("not a cursor", "drw_' OR 1=1 --", "drw_" + "0" * 80, "中文_1", "_1"):
        for path, who in (("/api/v1/me/draws", member), ("/api/v1/me/coupons", member)):
            r = await client.get(path, params={"cursor": cursor}, headers=who.headers)
            assert r.status_code == 422, (path, cursor, r.text)
            assert r.json()["error"]["details"]["fields"][0]["field"] == "cursor"
    r = await client.get("/api/v1/me/draws", params={"cursor": "drw_01JD0000000000000000000000"},
                         headers=member.headers)
    assert r.status_code == 200, r.text


async def _call(app: Any, path: str, query: bytes = b"", headers: tuple[bytes, ...] = (),
                body: tuple[bytes, ...] = (b"",)) -> tuple[int, bytes]:
    """The app called as a server would, for what httpx refuses to send."""
    sent: list[dict[str, Any]] = []
    chunks = list(body)

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
               "method": "POST" if len(body) > 1 else "GET", "scheme": "http",
               "path": path, "raw_path": path.encode(), "query_string": query,
               "headers": [(b"host", b"testserver"), *(tuple(h.split(b": ")) for h in headers)],
               "client": ("127.0.0.1", 1), "server": ("testserver", 80), "root_path": ""},
              receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def test_raw_control_bytes_in_a_query_are_refused_too(app: Any) -> None:
    """Servers refuse raw control bytes in a request line (uvicorn answers 400, see below);
    one that passes them on still meets the middleware."""
    status, body = await _call(app, "/api/v1/me/draws", query=b"cursor=a\x00b")
    assert status == 422 and b'"field":"cursor"' in body


async def test_a_content_length_beside_chunked_framing_is_not_trusted(
        app: Any, factory: Factory) -> None:
    """Transfer-Encoding wins over Content-Length (some servers pass both on): the body is
    counted, whatever the header claims."""
    shop = await factory.merchant()
    status, body = await _call(
        app, "/api/v1/members", body=(b" " * MiB, b" " * MiB, b"{}"), headers=(
            b"content-length: 2", b"transfer-encoding: chunked",
            b"content-type: application/json",
            b"authorization: " + shop.headers["Authorization"].encode()))
    assert status == 413 and b"payload_too_large" in body


async def test_console_urls_with_control_characters_get_an_error_page(
        app: Any, factory: Factory, services: Services) -> None:
    shop = await console(app, factory, services, "Shop", "owner@example.com")
    for path, status in (("/console/members?q=%00", 422), ("/console/members?before=x%00", 422),
                         ("/console/members/%00", 404), ("/console/coupons/tpl_%00", 404),
                         ("/console/campaigns?x=%08", 422)):
        r = await shop.get(path)
        assert r.status_code == status, (path, r.text[:300])
        assert r.headers["content-type"].startswith("text/html")
        assert f'data-error-page="{status}"' in r.text
        assert ("无法识别这个请求" if status == 422 else "找不到这个页面") in r.text
    await shop.client.aclose()
    # A member's page says the same, in the member pages' look.
    r = await factory.client.get("/m/enter?token=%00", headers=PAGE)
    assert r.status_code == 422 and "无法识别这个请求" in r.text
    r = await factory.client.get("/m/enter?token=%00&lang=en", headers=PAGE)
    assert r.status_code == 422 and "This request is not valid" in r.text


def test_raw_control_bytes_in_a_url_never_reach_the_app(
        web_server: tuple[str, psutil.Process]) -> None:
    base, _ = web_server
    host, port = base.removeprefix("http://").split(":")
    for target in (b"/api/v1/me/draws?cursor=\x00", b"/console/members/\x00", b"/healthz\x7f"):
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            status_line = s.makefile("rb").readline()
        assert status_line.startswith(b"HTTP/1.1 400 "), (target, status_line)
