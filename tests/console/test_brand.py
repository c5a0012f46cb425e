"""The merchant's brand on member pages, set in the console's settings: the colour reaches
the member pages' CSS, a logo is uploaded as its bytes, checked by what they are (not by
what the browser says), served at a versioned URL and shown on the join page; bad input
is refused with its reason and changes nothing; only owners may change any of it."""

from __future__ import annotations

import struct
import zlib

from engagement.kit.state import Services
from tests.console.helpers import HTML, Console, add_user, signed_in
from tests.factories import Factory


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG (red pixels), built by hand: no imaging library needed for a test."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                               0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


async def _upload(shop: Console, body: bytes, content_type: str = "image/png",
                  token: str | None = None) -> object:
    return await shop.client.post("/console/settings/logo", content=body, headers={
        "Content-Type": content_type, "X-CSRF-Token": token or shop.token,
        "Accept": "application/json"})


async def _settings(services: Services, merchant_id: str) -> dict[str, object]:
    return dict(await services.pool.fetchval("SELECT settings FROM merchants WHERE id = $1",
                                             merchant_id))


async def test_the_colour_reaches_member_pages_and_bad_colours_change_nothing(
        shop: Console, factory: Factory, services: Services) -> None:
    page = await shop.get("/console/settings")
    assert page.status_code == 200 and "data-brand-preview" in page.text
    for bad in ("red", "#12345", "#gggggg", "#1234567"):
        r = await shop.post("/console/settings/brand", {"brand_color": bad})
        assert r.status_code == 422 and "请填写 # 开头的 6 位颜色值" in r.text, bad
    assert "brand_color" not in await _settings(services, shop.merchant.id)
    r = await shop.post("/console/settings/brand", {"brand_color": "#1A7F5A"})
    assert r.status_code == 303 and r.headers["location"].endswith("notice=brand_saved")
    assert (await _settings(services, shop.merchant.id))["brand_color"] == "#1a7f5a"
    slug = (await services.pool.fetchval("SELECT slug FROM merchants WHERE id = $1",
                                         shop.merchant.id))
    join = await factory.client.get(f"/j/{slug}", headers=HTML)
    assert "--brand: #1a7f5a" in join.text


async def test_a_logo_is_checked_by_its_bytes_served_versioned_and_removable(
        shop: Console, factory: Factory, services: Services) -> None:
    r = await _upload(shop, b"GIF89a not allowed", "image/png")  # says PNG, is not
    assert r.status_code == 415 and r.json()["error"]["code"] == "logo_type"  # type: ignore[attr-defined]
    r = await _upload(shop, png() + b"\x00" * (300 * 1024))
    assert r.status_code == 413 and r.json()["error"]["code"] == "logo_too_large"  # type: ignore[attr-defined]
    r = await _upload(shop, png(), token="forged")
    assert r.status_code == 403  # type: ignore[attr-defined]
    assert "logo_url" not in await _settings(services, shop.merchant.id)

    image = png()
    r = await _upload(shop, image)
    assert r.status_code == 201  # type: ignore[attr-defined]
    url = r.json()["logo_url"]  # type: ignore[attr-defined]
    assert (await _settings(services, shop.merchant.id))["logo_url"] == url
    served = await factory.client.get(url)
    assert served.status_code == 200 and served.content == image
    assert served.headers["content-type"] == "image/png"
    assert "immutable" in served.headers["cache-control"]
    slug = (await services.pool.fetchval("SELECT slug FROM merchants WHERE id = $1",
                                         shop.merchant.id))
    assert f'src="{url}"' in (await factory.client.get(f"/j/{slug}", headers=HTML)).text

    # A new logo gets a new URL; the old one is gone.
    r2 = await _upload(shop, png(3, 3))
    assert r2.json()["logo_url"] != url  # type: ignore[attr-defined]
    assert (await factory.client.get(url)).status_code == 404
    r = await shop.post("/console/settings/logo/remove")
    assert r.status_code == 303
    assert "logo_url" not in await _settings(services, shop.merchant.id)
    assert (await factory.client.get(r2.json()["logo_url"])).status_code == 404  # type: ignore[attr-defined]


async def test_only_owners_change_the_brand(
        app: object, shop: Console, services: Services) -> None:
    await add_user(services, shop.merchant, "manager@shiguang.example", role="manager")
    async with signed_in(app, shop.merchant, "manager@shiguang.example") as manager:
        r = await manager.post("/console/settings/brand", {"brand_color": "#000000"})
        assert r.status_code == 403
        r = await _upload(manager, png())
        assert r.status_code == 403  # type: ignore[attr-defined]
    assert await _settings(services, shop.merchant.id) == {}
