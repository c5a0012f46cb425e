"""Reading console forms: yuan to cents, optional integers, local times; errors are
collected per field (message ids, translated on the page) and shown beside the inputs."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from engagement.i18n import N_

_YUAN = re.compile(r"^\d{1,9}(\.\d{1,2})?$")

REQUIRED = N_("请填写此项")
NOT_A_NUMBER = N_("请输入数字")
NOT_WHOLE = N_("请输入整数")
TOO_SMALL = N_("数值太小")
TOO_LARGE = N_("数值太大")
NOT_MONEY = N_("请输入金额，如 10 或 9.9")
NOT_A_TIME = N_("请选择日期和时间")
INVALID = N_("填写有误，请检查")


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

    def text(self, name: str, *, required: bool = False, max_length: int = 200) -> str | None:
        value = self._raw(name, required)
        if value is None:
            return None
        if len(value) > max_length:
            self.errors[name] = TOO_LARGE
            return None
        return value

    def integer(self, name: str, *, required: bool = False, minimum: int | None = None,
                maximum: int = 1_000_000_000) -> int | None:
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
            return Decimal(raw)
        except InvalidOperation:
            self.errors[name] = NOT_A_NUMBER
            return None

    def local_time(self, name: str, time_zone: str) -> datetime | None:
        """A ``datetime-local`` input, read in the merchant's zone."""
        raw = self._raw(name, False)
        if raw is None:
            return None
        try:
            return datetime.fromisoformat(raw).replace(tzinfo=ZoneInfo(time_zone))
        except ValueError:
            self.errors[name] = NOT_A_TIME
            return None

    def flag(self, name: str) -> bool:
        return self.data.get(name) in ("on", "1", "true")

    def raise_if_invalid(self) -> None:
        if self.errors:
            raise FormErrors(dict(self.errors), dict(self.params))


def pydantic_errors(exc: ValidationError, names: dict[str, str] | None = None
                    ) -> dict[str, str]:
    """A model's validation errors keyed by form field (``names`` maps a model location such
    as ``prizes.0.weight`` to the input's name)."""
    out: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_input=False):
        location = ".".join(str(p) for p in error["loc"])
        field = (names or {}).get(location, location.replace(".", "-") or "form")
        out.setdefault(field, _message(error))
    return out


def _message(error: Any) -> str:
    kind = error.get("type", "")
    if kind in ("greater_than", "greater_than_equal"):
        return TOO_SMALL
    if kind in ("less_than", "less_than_equal", "string_too_long", "too_long"):
        return TOO_LARGE
    if kind in ("missing", "string_too_short", "too_short"):
        return REQUIRED
    return INVALID
