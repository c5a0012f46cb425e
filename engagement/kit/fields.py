"""The rules every input obeys, written once: request schemas build their fields from these
types, and console forms call the same checks, so a JSON body and a form refuse the same
things the same way, and the bounds show in the OpenAPI document.

Why a module of its own: each rule here stands for a 500 that bad input used to cause.
PostgreSQL refuses NUL in text and unpaired surrogates cannot be encoded at all; integers
past int4/int8 fail on insert; datetimes at the calendar's edges overflow once shifted to
UTC. And bodies are parsed with ``json.loads`` and validated in pydantic's Python mode,
where lax integers would take ``true`` as 1 and ``"12"`` as 12: every integer here is
strict. Bounds are those of the column the value lands in, or tighter where arithmetic on
it (sums, stock top-ups, points earned per order) must stay inside the column too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Strict,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

# PostgreSQL's integer (bigint columns are guarded by the tighter money and points bounds).
INT4_MAX = 2**31 - 1
# ¥10 billion in cents: more than any one order, discount or threshold, and small enough
# that a lifetime of such amounts still sums inside bigint.
MAX_CENTS = 10**12
# Stock of a coupon template or quantity of a prize: a hundred million leaves int4 room for
# the reservations and issues counted against it.
MAX_STOCK = 100_000_000
# Points are bigint on members and in the ledger; one amount never needs more than this.
MAX_POINTS = 10**12

# Times a client sends (campaign windows) fall in this span; outside it they are typos or
# probes, and Python's datetime overflows near years 1 and 9999 once shifted to UTC.
FIRST_YEAR, LAST_YEAR = 2000, 2100
FIRST_BIRTHDAY = date(1900, 1, 1)
# The latest zone is UTC+14: a birthday of "today" there is not in the future.
_LATEST_OFFSET = timedelta(hours=14)

# C0 controls and DEL, and unpaired surrogates (JSON can escape them; UTF-8 cannot hold
# them). Free text keeps tab, line feed and carriage return.
_NOT_IN_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# The same rules as JSON Schema patterns (ECMA 262), for the OpenAPI document.
_LINE_PATTERN = r"^[^\u0000-\u001F\u007F]*$"
_TEXT_PATTERN = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]*$"


def forbidden_character(value: str, *, multiline: bool = False) -> int | None:
    """The position of the first character text may not hold, or None."""
    found = (_NOT_IN_TEXT if multiline else _NOT_IN_LINE).search(value)
    return found.start() if found else None


def timestamp_in_range(value: datetime) -> bool:
    return FIRST_YEAR <= value.year <= LAST_YEAR


def birthday_in_range(value: date, now: datetime | None = None) -> bool:
    latest = ((now or datetime.now(UTC)) + _LATEST_OFFSET).date()
    return FIRST_BIRTHDAY <= value <= latest


@dataclass(frozen=True)
class Text:
    """A string without control characters: ``Annotated[str, Text(1, 120)]``. Single-line
    unless ``multiline`` (which allows tab and line breaks). The lengths sit inside the
    string schema, so errors stay ``string_too_long`` and the document shows them."""

    min_length: int = 0
    max_length: int = 200
    multiline: bool = False
    pattern: str | None = None

    def __get_pydantic_core_schema__(self, source: Any,
                                     handler: GetCoreSchemaHandler) -> CoreSchema:
        inner = core_schema.str_schema(min_length=self.min_length,
                                       max_length=self.max_length, pattern=self.pattern)
        return core_schema.no_info_after_validator_function(self._check, inner)

    def __get_pydantic_json_schema__(self, schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        out = handler(schema)
        if self.pattern is None:  # a field's own pattern already leaves control characters out
            out["pattern"] = _TEXT_PATTERN if self.multiline else _LINE_PATTERN
        return out

    def _check(self, value: str) -> str:
        position = forbidden_character(value, multiline=self.multiline)
        if position is not None:
            raise PydanticCustomError(
                "invalid_character",
                "Text must not contain control characters such as NUL{allowed}; found one at "
                "position {position}",
                {"position": position,
                 "allowed": " (tab and line breaks are allowed)" if self.multiline else ""})
        return value


# Names a merchant gives things (templates, campaigns, sends, the shop itself).
Name = Annotated[str, Text(1, 120)]
# Ids this service handed out (prefix + ULID), sent back by clients: opaque, but short.
Ident = Annotated[str, Text(1, 64)]
# Short public codes (share codes).
Code = Annotated[str, Text(1, 32)]

# Integers, strict (no bool, float or numeric string), bounded by their column.
Count = Annotated[int, Strict(), Ge(0), Le(INT4_MAX)]  # int4, never negative
PositiveInt4 = Annotated[int, Strict(), Ge(1), Le(INT4_MAX)]
Stock = Annotated[int, Strict(), Ge(0), Le(MAX_STOCK)]
Cents = Annotated[int, Strict(), Ge(0), Le(MAX_CENTS)]  # bigint money
PositiveCents = Annotated[int, Strict(), Ge(1), Le(MAX_CENTS)]
Points = Annotated[int, Strict(), Ge(0), Le(MAX_POINTS)]
BasisPoints = Annotated[int, Strict(), Ge(0), Le(10_000)]  # 1000 = 10%
Percent = Annotated[int, Strict(), Ge(0), Le(100)]
Days = Annotated[int, Strict(), Ge(1), Le(3660)]  # ten years at most


def _iso_time(value: Any) -> Any:
    """Times and dates come as ISO 8601 text (or, from Python callers, as objects); lax
    pydantic would also read a number as seconds since 1970."""
    if isinstance(value, str | datetime):
        return value
    raise PydanticCustomError("datetime_type",
                              "Input should be an ISO 8601 date and time with a zone")


def _iso_date(value: Any) -> Any:
    if isinstance(value, str | date) and not isinstance(value, datetime):
        return value
    raise PydanticCustomError("date_type", "Input should be an ISO 8601 date (YYYY-MM-DD)")


def _timestamp(value: datetime) -> datetime:
    if not timestamp_in_range(value):
        raise PydanticCustomError("datetime_range", "Times must fall in the years {first} to "
                                  "{last}", {"first": FIRST_YEAR, "last": LAST_YEAR})
    return value


def _birthday(value: date) -> date:
    if not birthday_in_range(value):
        raise PydanticCustomError("date_range", "A birthday is a past date, not before {first}",
                                  {"first": FIRST_BIRTHDAY.isoformat()})
    return value


# ISO 8601 with a zone (the contract's "times carry a zone"), within FIRST_YEAR..LAST_YEAR.
Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_time), AfterValidator(_timestamp)]
Birthday = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_birthday)]


# Mainland mobile numbers (joining, guest orders at the till): 11 digits starting 13-19;
# "+86" / "86" prefixes and spaces or dashes as people type them are accepted and dropped.
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def normalise_phone(value: str) -> str:
    digits = re.sub(r"[\s-]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE.match(digits):
        raise ValueError("enter an 11-digit mobile number")
    return digits


MobilePhone = Annotated[str, Text(0, 64), AfterValidator(normalise_phone)]
