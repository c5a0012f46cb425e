"""How money, discounts, odds and times read to members, in the page's language.

Registered as jinja2 filters and globals by ``engagement.kit.web``; they translate at render
time, inside the page's locale."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engagement.kit.i18n import gettext as _


def money(cents: int) -> str:
    """Integer cents as yuan: 1000 -> '¥10', 990 -> '¥9.9', -50 -> '-¥0.5'."""
    if int(cents) < 0:
        return f"-{money(-int(cents))}"
    yuan, rest = divmod(int(cents), 100)
    if rest == 0:
        return f"¥{yuan}"
    return f"¥{yuan}.{rest:02d}".rstrip("0")


def money_exact(cents: int) -> str:
    """Integer cents as yuan to the fen, as a statement shows a balance: 42150 -> '¥421.50',
    55000 -> '¥550.00', -12850 -> '-¥128.50'."""
    sign, cents = ("-", -int(cents)) if int(cents) < 0 else ("", int(cents))
    yuan, rest = divmod(cents, 100)
    return f"{sign}¥{yuan}.{rest:02d}"


def discount_value(discount: dict[str, Any]) -> str:
    """The big number on a coupon: '¥10', '8折' / '20% off', or the gift."""
    kind = discount.get("type")
    if kind == "amount_off":
        return money(int(discount["amount"]))
    if kind == "percent_off":
        percent = int(discount["percent"])
        # 中文 says what you pay (20% off is 八折 = 8折), English what you save.
        zhe = (100 - percent) / 10
        return _("%(zhe)s折") % {"zhe": f"{zhe:g}", "percent": percent}
    return _("赠品")


def discount_terms(discount: dict[str, Any], min_spend: int) -> str:
    if discount.get("type") == "gift":
        return str(discount.get("description", ""))
    if min_spend > 0:
        return _("满%(amount)s可用") % {"amount": money(min_spend)}
    return _("无门槛")


def percent(probability: float) -> str:
    """Published odds: 0.333333 -> '33.33%'; tiny odds are shown as '<0.01%', not '0%'."""
    value = probability * 100
    if 0 < value < 0.01:
        return "<0.01%"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def local_time(when: datetime | None, time_zone: str, pattern: str = "%Y-%m-%d %H:%M") -> str:
    if when is None:
        return ""
    return when.astimezone(ZoneInfo(time_zone)).strftime(pattern)


def masked_phone(phone: str | None) -> str:
    if not phone or len(phone) < 7:
        return phone or ""
    return f"{phone[:3]}****{phone[-4:]}"
