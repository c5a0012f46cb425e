from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from engagement.kit.fields import Birthday, Code, Text
from engagement.merchants.schemas import Merchant

PHONE_PATTERN = r"^\+?[0-9]{6,20}$"


class MemberCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: Annotated[str, Text(1, 128)]
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    name: Annotated[str, Text(0, 120)] | None = None
    birthday: Birthday | None = None
    share_code: Code | None = None


class MemberUpdate(BaseModel):
    """A merchant's change to a member: only the fields sent change; null clears one."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    name: Annotated[str, Text(0, 120)] | None = None
    birthday: Birthday | None = None


class MyProfileUpdate(BaseModel):
    """A member's change to their own profile. The birthday can be given while none is on
    file; after that only the merchant changes it (409 birthday_locked)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Text(0, 120)] | None = None
    birthday: Birthday | None = None


class MemberOut(BaseModel):
    id: str
    external_id: str
    phone: str | None
    name: str | None
    birthday: date | None
    points: int
    tier: str | None
    referrer_id: str | None
    created_at: datetime


class TokenOut(BaseModel):
    token: str
    expires_at: datetime
    entry_url: str


class MemberCodeOut(BaseModel):
    code: str = Field(description="digits the till scans (QR) or types; short-lived")
    expires_at: datetime


@dataclass(frozen=True)
class MemberPrincipal:
    """Who a member token speaks for, and the merchant it belongs to."""

    member_id: str
    merchant: Merchant
