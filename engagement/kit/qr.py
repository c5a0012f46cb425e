"""QR codes for the till: coupon codes as inline SVG (no image requests, crisp at any size),
and member codes as SVG files the member home's script swaps in as each new code arrives."""

from __future__ import annotations

import io
from functools import lru_cache

import segno
from markupsafe import Markup

# Level M survives a scuffed or glary phone screen; the quiet zone of 2 modules is what
# till scanners need beside a white card.
_LOOK = {"scale": 4, "border": 2, "dark": "#1f2329", "light": "#ffffff", "omitsize": True,
         "svgclass": "qr", "lineclass": None}


@lru_cache(maxsize=1024)
def qr_svg(text: str) -> Markup:
    svg = segno.make(text, error="m", micro=False).svg_inline(**_LOOK)
    return Markup(svg)  # noqa: S704 (generated here from a segno matrix, no user markup)


def qr_svg_file(text: str) -> bytes:
    """A standalone SVG document (with its namespace, for an <img>). Not cached: member
    codes are each shown once."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="svg", xmldecl=False, **_LOOK)
    return buffer.getvalue()
