"""Posters for the join page and for a campaign: the files have their sizes (A4 at 300 dpi,
1080x1920 for phones), their QR code decodes to the page it advertises (zxing-cpp reads the
image as a phone camera would), a cashier is refused, another merchant's campaign is not
found, and a missing CJK font is a clear 503, not a crash."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from engagement.kit import posters
from engagement.kit.state import Services
from tests.console.helpers import HTML, Console, add_user, signed_in
from tests.factories import Factory


def _qr_text(body: bytes) -> str:
    image = Image.open(io.BytesIO(body))
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, found
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(found[0].text)


async def _file(shop: Console, path: str, kind: str) -> bytes:
    r = await shop.get(path)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == kind
    assert r.headers["content-disposition"].startswith("inline; filename=")
    return r.content


async def test_the_join_poster_prints_and_scans_to_the_join_page(
        shop: Console, services: Services) -> None:
    page = (await shop.get("/console/posters/join")).text
    for file in ("a4.pdf", "a4.png", "phone.png"):
        assert f'href="/console/posters/join/{file}"' in page
    assert 'href="/console/posters/join"' in (await shop.get("/console/campaigns")).text
    assert 'href="/console/posters/join"' in (await shop.get("/console/settings")).text
    join = f"{services.settings.public_url}/j/{shop.merchant.slug}"
    assert f'value="{join}"' in page

    phone = await _file(shop, "/console/posters/join/phone.png", "image/png")
    image = Image.open(io.BytesIO(phone))
    assert image.size == (1080, 1920)
    assert _qr_text(phone) == join
    a4 = await _file(shop, "/console/posters/join/a4.png", "image/png")
    image = Image.open(io.BytesIO(a4))
    assert image.size == (2480, 3508)
    assert [round(d) for d in image.info["dpi"]] == [300, 300]
    assert _qr_text(a4) == join
    pdf = await _file(shop, "/console/posters/join/a4.pdf", "application/pdf")
    assert pdf.startswith(b"%PDF-")
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box and (round(float(box[1])), round(float(box[2]))) == (595, 842)  # A4, points
    assert (await shop.get("/console/posters/join/a3.png")).status_code == 404


async def test_a_campaign_poster_scans_to_its_play_page(
        shop: Console, rival: Console, factory: Factory, services: Services) -> None:
    campaign = await factory.campaign(
        shop.merchant, [{"name": "谢谢参与", "kind": "nothing", "weight": 1}],
        name="双十二幸运大转盘", starts_at="2026-12-01T10:00:00+08:00",
        ends_at="2026-12-12T22:00:00+08:00")
    base = f"/console/campaigns/{campaign['id']}/poster"
    assert f'href="{base}"' in (await shop.get(f"/console/campaigns/{campaign['id']}")).text
    page = await shop.get(base)
    assert page.status_code == 200 and "双十二幸运大转盘" in page.text
    phone = await _file(shop, f"{base}/phone.png", "image/png")
    assert Image.open(io.BytesIO(phone)).size == (1080, 1920)
    assert _qr_text(phone) == campaign["play_url"]
    assert _qr_text(await _file(shop, f"{base}/a4.png", "image/png")) == campaign["play_url"]
    # Another merchant's console finds no such campaign.
    assert (await rival.get(base)).status_code == 404
    assert (await rival.get(f"{base}/phone.png")).status_code == 404


async def test_a_cashier_gets_no_poster(app: object, shop: Console, factory: Factory,
                                       services: Services) -> None:
    campaign = await factory.campaign(
        shop.merchant, [{"name": "谢谢参与", "kind": "nothing", "weight": 1}])
    await add_user(services, shop.merchant, "cashier@shiguang.example", role="cashier")
    async with signed_in(app, shop.merchant, "cashier@shiguang.example") as cashier:
        for path in ("/console/posters/join", "/console/posters/join/phone.png",
                     f"/console/campaigns/{campaign['id']}/poster",
                     f"/console/campaigns/{campaign['id']}/poster/a4.pdf"):
            assert (await cashier.get(path)).status_code == 403, path
            r = await cashier.client.get(path)  # an API client: the code, in JSON
            assert r.status_code == 403 and r.json()["error"]["code"] == "role_forbidden"


async def test_a_missing_font_says_what_to_install(
        shop: Console, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(posters, "FONT_DIRS", (tmp_path,))
    page = await shop.get("/console/posters/join")
    assert page.status_code == 503 and "fonts-noto-cjk" in page.text
    assert "data-poster-file" not in page.text
    r = await shop.client.get("/console/posters/join/phone.png")
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "poster_font_missing"
    assert "fonts-noto-cjk" in r.json()["error"]["message"]
    r = await shop.client.get("/console/posters/join/phone.png", headers=HTML)
    assert r.status_code == 503 and "<html" in r.text
