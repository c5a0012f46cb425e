"""One person, one phone: comparing numbers however they were typed."""

from __future__ import annotations


def normalise(phone: str | None) -> str:
    """Digits only, without China's country code: '+86 138-0000-0001' -> '13800000001'."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix):]
    return digits


def same_phone(a: str | None, b: str | None) -> bool:
    na, nb = normalise(a), normalise(b)
    return bool(na) and na == nb


def mask_phone(phone: str | None) -> str:
    digits = normalise(phone)
    if len(digits) < 7:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


def mask_name(name: str | None) -> str:
    """小红 -> 小*, Alice -> A****: enough for the member to recognise a friend."""
    if not name:
        return ""
    return name[0] + "*" * max(1, min(len(name) - 1, 4))
