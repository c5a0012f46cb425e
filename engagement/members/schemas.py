from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from engagement.merchants.schemas import Merchant


class MemberCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(min_length=1, max_length=128)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{6,20}$")
    name: str | None = Field(default=None, max_length=120)
    birthday: date | None = None
    share_code: str | None = Field(default=None, min_length=1, max_length=32)


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


@dataclass(frozen=True)
class MemberPrincipal:
    """Who a member token speaks for, and the merchant it belongs to."""

    member_id: str
    merchant: Merchant
