"""How a merchant's member pages look: name, colour and logo from ``merchants.settings``.

Settings keys (all optional): ``brand_color`` ("#rrggbb") and ``logo_url``. A logo must be
served by this service (a path such as ``/static/...``) or be a ``data:image/`` URI: member
pages make no request to other hosts (privacy, and the pages' Content-Security-Policy)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol


class Branded(Protocol):
    """What branding reads of a merchant (the platform kit knows no merchant model)."""

    @property
    def name(self) -> str: ...

    @property
    def settings(self) -> dict[str, Any] | None: ...

DEFAULT_COLOR = "#e4393c"
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Brand:
    name: str
    color: str
    # A darker shade: the background behind text and of buttons, so that text keeps its
    # contrast on the stock red too.
    color_dark: str
    # Text on the dark shade: white, or dark ink when even the shade is too light for white.
    on_color: str
    logo_url: str | None
    initial: str


def _channels(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _luminance(color: str) -> float:
    def linear(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _channels(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _darker(color: str, amount: float = 0.22) -> str:
    return "#" + "".join(f"{round(c * (1 - amount)):02x}" for c in _channels(color))


def _logo(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    if value.startswith("/") and not value.startswith("//"):
        return value
    if value.startswith("data:image/"):
        return value
    return None


def brand_of(merchant: Branded | None) -> Brand:
    settings: dict[str, Any] = (merchant.settings if merchant else None) or {}
    color = settings.get("brand_color")
    if not isinstance(color, str) or not _HEX.match(color):
        color = DEFAULT_COLOR
    color = color.lower()
    dark = _darker(color)
    # White text needs a contrast of 4.5:1 (WCAG AA): 1.05 / (L + 0.05) >= 4.5.
    on_color = "#ffffff" if _luminance(dark) <= 0.183 else "#1f2329"
    name = merchant.name if merchant else ""
    return Brand(name=name, color=color, color_dark=dark, on_color=on_color,
                 logo_url=_logo(settings.get("logo_url")), initial=(name[:1] or "会"))
