"""Reading console forms: yuan to cents, optional integers, local times; errors are
collected per field (message ids, translated on the page) and shown beside the inputs.
Text and times are held to the same rules as API bodies (``engagement.kit.fields``), and the
values read here go on through the same request models, so a form accepts nothing a JSON
body would refuse; this layer only makes the refusal a message beside the input."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from engagement.kit import fields
from engagement.kit.i18n import N_

_YUAN = re.compile(r"^\d{1,9}(\.\d{1,2})?$")

REQUIRED = N_("请填写此项")
NOT_A_NUMBER = N_("请输入数字")
NOT_WHOLE = N_("请输入整数")
TOO_SMALL = N_("数值太小")
TOO_LARGE = N_("数值太大")
NOT_MONEY = N_("请输入金额，如 10 或 9.9")
NOT_A_TIME = N_("请选择日期和时间")
TIME_OUT_OF_RANGE = N_("请选择 2000 年到 2100 年之间的时间")
BAD_CHARACTER = N_("含有无法识别的字符（如控制字符），请删除后重试")
INVALID = N_("填写有误，请检查")
# Decimals typed in forms (discounts, rates) are small: at most this many integer digits.
_DECIMAL_DIGITS = 12


class FormErrors(Exception):
    """Message ids by field, and the values some of them show (``%(n)s``)."""

    def __init__(self, errors: dict[str, str],
                 params: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors
        self.params = params or {}


class Form:
    """A submitted form and the errors found while reading it."""

    def __init__(self, data: dict[str, str]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}
        self.params: dict[str, dict[str, Any]] = {}

    def _raw(self, name: str, required: bool, strip: str | None = None) -> str | None:
        """The field's text, stripped; None when blank, which is an error if required."""
        raw = self.data.get(name, "").strip().lstrip(strip or "")
        if raw:
            return raw
        if required:
            self.errors[name] = REQUIRED
        return None

    def text(self, name: str, *, required: bool = False, max_length: int = 200,
             multiline: bool = False) -> str | None:
        value = self._raw(name, required)
        if value is None:
            return None
        if fields.forbidden_character(value, multiline=multiline) is not None:
            self.errors[name] = BAD_CHARACTER
            return None
        if len(value) > max_length:
            self.errors[name] = TOO_LARGE
            return None
        return value

    def integer(self, name: str, *, required: bool = False, minimum: int | None = None,
                maximum: int = 1_000_000_000) -> int | None:
        """An integer within bounds; the default maximum keeps any count inside int4."""
        raw = self._raw(name, required)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            self.errors[name] = NOT_WHOLE
            return None
        if minimum is not None and value < minimum:
            self.errors[name] = TOO_SMALL
        elif value > maximum:
            self.errors[name] = TOO_LARGE
        return value

    def yuan(self, name: str, *, required: bool = False) -> int | None:
        """A yuan amount (up to two decimals) as integer cents."""
        raw = self._raw(name, required, strip="¥￥")
        if raw is None:
            return None
        if not _YUAN.match(raw):
            self.errors[name] = NOT_MONEY
            return None
        return int(Decimal(raw) * 100)

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        raw = self._raw(name, required)
        if raw is None:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.errors[name] = NOT_A_NUMBER
            return None
        if not value.is_finite():  # NaN and Infinity parse, and break arithmetic later
            self.errors[name] = NOT_A_NUMBER
            return None
        if value and value.adjusted() >= _DECIMAL_DIGITS:  # no arithmetic: it could overflow
            self.errors[name] = TOO_LARGE
            return None
        return value

    def local_time(self, name: str, time_zone: str) -> datetime | None:
        """A ``datetime-local`` input, read in the merchant's zone."""
        raw = self._raw(name, False)
        if raw is None:
            return None
        try:
            value = datetime.fromisoformat(raw).replace(tzinfo=ZoneInfo(time_zone))
        except ValueError:
            self.errors[name] = NOT_A_TIME
            return None
        if not fields.timestamp_in_range(value):
            self.errors[name] = TIME_OUT_OF_RANGE
            return None
        return value

    def flag(self, name: str) -> bool:
        return self.data.get(name) in ("on", "1", "true")

    def raise_if_invalid(self) -> None:
        if self.errors:
            raise FormErrors(dict(self.errors), dict(self.params))


def pydantic_errors(exc: ValidationError, names: dict[str, str] | None = None
                    ) -> dict[str, str]:
    """A model's validation errors keyed by form field (``names`` maps a model location such
    as ``prizes.0.weight``, or the start of one such as ``share_coupon_template_ids`` for
    every item of a list, to the input's name)."""
    lookup = names or {}
    out: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        parts = [str(p) for p in error["loc"]]
        prefixes = (".".join(parts[:n]) for n in range(len(parts), 0, -1))
        field = next((lookup[p] for p in prefixes if p in lookup), None)
        out.setdefault(field or "-".join(parts) or "form", _message(error))
    return out


_MESSAGES = {
    "greater_than": TOO_SMALL, "greater_than_equal": TOO_SMALL,
    "less_than": TOO_LARGE, "less_than_equal": TOO_LARGE, "string_too_long": TOO_LARGE,
    "too_long": TOO_LARGE,
    "missing": REQUIRED, "string_too_short": REQUIRED, "too_short": REQUIRED,
    "int_type": NOT_WHOLE, "invalid_character": BAD_CHARACTER,
    "datetime_range": TIME_OUT_OF_RANGE,
}


def _message(error: Any) -> str:
    return _MESSAGES.get(error.get("type", ""), INVALID)
