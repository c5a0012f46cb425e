"""Printable posters: a QR code with a title, a line of dates, the merchant's name and brand
colour, drawn with Pillow as an A4 page (300 dpi, PNG or PDF, for the shop's wall) or a
1080x1920 PNG (a phone's screen, for sharing in chats).

Chinese text needs a CJK font on the machine: Noto Sans CJK (Debian's fonts-noto-cjk, which
the Dockerfile installs). Without it a poster is refused with PosterFontMissing, a 503 that
says what to install, rather than drawn with boxes for every character."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import segno
from PIL import Image, ImageDraw, ImageFont

from engagement.kit.branding import Brand
from engagement.kit.errors import AppError

Size = Literal["a4", "phone"]
# A4 is 210 x 297 mm: at 300 dpi, 2480 x 3508 pixels. A phone poster fills a 9:16 screen.
PIXELS: dict[Size, tuple[int, int]] = {"a4": (2480, 3508), "phone": (1080, 1920)}
DPI = 300
# Where Linux distributions put Noto Sans CJK (Debian and Ubuntu, Fedora, Arch and Alpine).
FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/google-noto-cjk"),
             Path("/usr/share/fonts/noto-cjk"), Path("/usr/share/fonts/noto"))
FONT_FILES = {"regular": "NotoSansCJK-Regular.ttc", "bold": "NotoSansCJK-Bold.ttc"}


class PosterFontMissing(AppError):
    status, code = 503, "poster_font_missing"
    message = ("Posters need the Noto Sans CJK font (Debian: apt-get install fonts-noto-cjk); "
               "it is not installed on this server.")


@dataclass(frozen=True)
class PosterContent:
    title: str  # the campaign's name, or the join poster's call
    dates: str  # one line under the title ("" for none)
    call: str  # under the QR code: what scanning it does
    url: str  # what the QR code opens, printed in small type too
    brand: Brand


def _font_file(weight: str) -> Path:
    for folder in FONT_DIRS:
        path = folder / FONT_FILES[weight]
        if path.is_file():
            return path
    raise PosterFontMissing()


@cache
def _font_index(path: Path) -> int:
    """The collection's Simplified Chinese face (the .ttc holds JP, KR, SC, TC and HK)."""
    for index in range(8):
        try:
            name = ImageFont.truetype(str(path), 10, index=index).getname()[0] or ""
        except OSError:
            break
        if name.endswith(" SC"):
            return index
    return 0


def font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    path = _font_file(weight)
    return ImageFont.truetype(str(path), size, index=_font_index(path))


def check_fonts() -> None:
    """Raise PosterFontMissing unless both weights are installed."""
    for weight in FONT_FILES:
        _font_file(weight)


def _tokens(text: str) -> list[str]:
    """Break points: between any two CJK characters, and at spaces between other words."""
    out: list[str] = []
    word = ""
    for ch in text:
        wide = unicodedata.east_asian_width(ch) in ("W", "F")
        if ch == " " or wide:
            if word:
                out.append(word)
            word = ""
            out.append(ch)
        else:
            word += ch
    if word:
        out.append(word)
    return out


def balanced(text: str, face: ImageFont.FreeTypeFont, width: float,
             max_lines: int) -> list[str]:
    """As few lines as ``wrap`` needs, made as even as they can be (no lone last character
    under a full line, as a title set in large type would otherwise get)."""
    lines = wrap(text, face, width, max_lines)
    if len(lines) < 2 or len(wrap(text, face, width, max_lines + 1)) > max_lines:
        return lines  # one line, or cut short: nothing to even out
    low, high = width / len(lines), width
    while high - low > 4:
        middle = (low + high) / 2
        if len(wrap(text, face, middle, max_lines + 1)) <= len(lines):
            high = middle
        else:
            low = middle
    return wrap(text, face, high, max_lines)


def wrap(text: str, face: ImageFont.FreeTypeFont, width: float, max_lines: int) -> list[str]:
    """Greedy lines no wider than ``width``; the last line is cut with an ellipsis when the
    text needs more than ``max_lines``. A word wider than a line is split by character."""
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        candidate = line + token
        if face.getlength(candidate) <= width or not line.strip():
            if face.getlength(candidate) > width:  # one word longer than the line
                for ch in token:
                    if face.getlength(line + ch) > width and line:
                        lines.append(line)
                        line = ""
                    line += ch
                continue
            line = candidate
        else:
            lines.append(line.rstrip())
            line = token.lstrip()
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and face.getlength(last + "…") > width:
            last = last[:-1]
        lines = [*lines[:max_lines - 1], last + "…"]
    return lines


def _qr(url: str, side: int) -> Image.Image:
    """The QR code at ``side`` pixels square, modules kept sharp (nearest-neighbour scaling)
    and the quiet zone of 4 modules that scanners need included."""
    code = segno.make(url, error="m")
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=1, border=4)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB")
    return image.resize((side, side), Image.Resampling.NEAREST)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def draw(content: PosterContent, size: Size) -> Image.Image:
    width, height = PIXELS[size]
    # Layout units: the phone poster's pixels, scaled to fit the page both ways (A4 is less
    # tall for its width than a phone, so its type and code scale with its height).
    u = min(width / 1080, height / 1920)
    brand, ink, muted = _rgb(content.brand.color_dark), (31, 35, 41), (91, 97, 110)
    on_brand = _rgb(content.brand.on_color)
    image = Image.new("RGB", (width, height), brand)
    pen = ImageDraw.Draw(image)
    margin = round(72 * u)

    # The merchant's name on the brand colour, at the top.
    name_face = font("bold", round(56 * u))
    y = round(110 * u) if size == "phone" else round(160 * u)
    for line in wrap(content.brand.name, name_face, width - 2 * margin, 2):
        pen.text((width / 2, y), line, font=name_face, fill=on_brand, anchor="ma")
        y += round(74 * u)

    # A white card holding the title, the dates, the QR code, the call and the link, set as
    # one block in the middle of the card; the QR code gets what the text leaves, up to
    # three quarters of the width.
    card_top = y + round(48 * u)
    card_bottom = height - round(1.5 * margin)
    pen.rounded_rectangle((margin, card_top, width - margin, card_bottom),
                          radius=round(36 * u), fill=(255, 255, 255))
    inner = width - 2 * margin - round(112 * u)
    title_face, date_face = font("bold", round(84 * u)), font("regular", round(40 * u))
    call_face, url_face = font("bold", round(46 * u)), font("regular", round(28 * u))
    titles = balanced(content.title, title_face, inner, 3)
    dates = wrap(content.dates, date_face, inner, 2) if content.dates else []
    calls = balanced(content.call, call_face, inner, 2)
    urls = wrap(content.url, url_face, inner, 2)
    gap = round(56 * u)
    lead = round(12 * u) if dates else 0  # between the title and the dates
    text_height = (len(titles) * round(112 * u) + lead + len(dates) * round(56 * u) + 2 * gap
                   + len(calls) * round(64 * u) + round(12 * u) + len(urls) * round(38 * u))
    room = card_bottom - card_top - 2 * round(72 * u)
    side = max(round(240 * u), min(round(810 * u), inner, room - text_height))
    y = card_top + round(72 * u) + max(0, (room - text_height - side) // 2)
    for line in titles:
        pen.text((width / 2, y), line, font=title_face, fill=ink, anchor="ma")
        y += round(112 * u)
    y += lead
    for line in dates:
        pen.text((width / 2, y), line, font=date_face, fill=muted, anchor="ma")
        y += round(56 * u)
    y += gap
    image.paste(_qr(content.url, side), (round((width - side) / 2), y))
    y += side + gap - round(16 * u)
    for line in calls:
        pen.text((width / 2, y), line, font=call_face, fill=brand, anchor="ma")
        y += round(64 * u)
    y += round(12 * u)
    for line in urls:
        pen.text((width / 2, y), line, font=url_face, fill=muted, anchor="ma")
        y += round(38 * u)
    return image


def png(content: PosterContent, size: Size) -> bytes:
    out = io.BytesIO()
    image = draw(content, size)
    if size == "a4":  # printed at its size: 300 pixels an inch
        image.save(out, format="PNG", dpi=(DPI, DPI), optimize=True)
    else:
        image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def pdf(content: PosterContent) -> bytes:
    """One A4 page: the 300 dpi image at its printed size (210 x 297 mm)."""
    out = io.BytesIO()
    draw(content, "a4").save(out, format="PDF", resolution=DPI)
    return out.getvalue()
