from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Trigger = Literal["first_order", "every_order"]
EntryStatus = Literal["held", "pending", "available", "rejected", "reversed"]
BindingStatus = Literal["active", "held", "rejected"]


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate_bp: int = Field(strict=True, ge=0, le=10_000,
                         description="basis points of the paid amount: 1000 = 10%")


def _default_levels() -> list[Level]:
    return [Level(rate_bp=1000), Level(rate_bp=500)]


class ProgramIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    reward_coupon_template_id: str | None = Field(
        default=None, max_length=64,
        description="the coupon a share link gives to whoever joins through it")
    share_coupon_template_ids: list[str] = Field(
        default_factory=list, max_length=20,
        description="other coupon templates members may share links for")
    levels: list[Level] = Field(default_factory=_default_levels, min_length=1, max_length=3,
                                description="level 1 is the buyer's referrer; at most 3")
    trigger: Trigger = "every_order"
    hold_days: int = Field(default=7, strict=True, ge=0, le=365,
                           description="commission stays pending this long (refund window)")
    max_paid_referrals_per_day: int | None = Field(
        default=50, gt=0, description="orders that earn one referrer commission per day")
    max_joins_per_ip_per_hour: int | None = Field(
        default=5, gt=0,
        description="joins through one link from one address per hour before further "
                    "bindings are held for review")

    @field_validator("levels")
    @classmethod
    def _total_rate(cls, levels: list[Level]) -> list[Level]:
        if sum(level.rate_bp for level in levels) > 10_000:
            raise ValueError("the levels' rates add up to more than 100%")
        return levels


class ProgramOut(BaseModel):
    enabled: bool
    reward_coupon_template_id: str | None
    share_coupon_template_ids: list[str]
    levels: list[Level]
    trigger: Trigger
    hold_days: int
    max_paid_referrals_per_day: int | None
    max_joins_per_ip_per_hour: int | None
    updated_at: datetime


class ShareLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    coupon_template_id: str | None = Field(default=None, max_length=64)


class ShareLinkOut(BaseModel):
    code: str
    url: str
    qr_url: str
    coupon_template_id: str | None
    joins: int
    created_at: datetime


class Balance(BaseModel):
    """Cents; each is a sum of ledger entries (see referrals.ledger)."""

    pending: int
    available: int
    reversed: int
    held: int


class CommissionOut(BaseModel):
    id: str
    order_id: str
    level: int
    kind: Literal["accrual", "reversal", "clawback"]
    amount: int
    status: EntryStatus
    rate_bp: int
    buyer_id: str
    available_at: datetime
    created_at: datetime


class CommissionPage(BaseModel):
    items: list[CommissionOut]
    next_cursor: str | None
    balance: Balance


class InviteeOut(BaseModel):
    display_name: str = Field(description="masked: a name's first character, a phone's ends")
    joined_at: datetime
    status: BindingStatus


class ReferralsOut(BaseModel):
    share_link: ShareLinkOut | None
    invitees: list[InviteeOut]
    commission: Balance


class BindingOut(BaseModel):
    member_id: str
    referrer_id: str
    status: BindingStatus
    hold_reason: str | None
    share_code: str | None
    coupon_code: str | None
    created_at: datetime
    reviewed_at: datetime | None


class BindingPage(BaseModel):
    items: list[BindingOut]
    next_cursor: str | None


class BindingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: BindingStatus = "held"
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=64)
