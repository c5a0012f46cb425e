"""QR codes for the till: coupon codes as inline SVG (no image requests, crisp at any size)."""

from __future__ import annotations

import io
from functools import lru_cache

import segno
from markupsafe import Markup


@lru_cache(maxsize=1024)
def qr_svg(text: str) -> Markup:
    # Level M survives a scuffed or glary phone screen; the quiet zone of 2 modules is
    # what till scanners need beside a white card.
    code = segno.make(text, error="m", micro=False)
    svg = code.svg_inline(scale=4, border=2, dark="#1f2329", light="#ffffff", omitsize=True,
                          svgclass="qr", lineclass=None)
    return Markup(svg)  # noqa: S704 (generated here from a segno matrix, no user markup)


@lru_cache(maxsize=256)
def qr_svg_document(text: str) -> bytes:
    """The same code as a standalone SVG file, for an ``<img>`` (the till's join code)."""
    buffer = io.BytesIO()
    # A 4-module quiet zone: the customer's phone camera reads it off a tablet's screen.
    segno.make(text, error="m", micro=False).save(
        buffer, kind="svg", scale=6, border=4, dark="#1f2329", light="#ffffff", xmldecl=False)
    return buffer.getvalue()
