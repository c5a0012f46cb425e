from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from annotated_types import Le
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from engagement.kit.fields import BasisPoints, Count, Ident, PositiveCents, PositiveInt4
from engagement.kit.pagination import PageQuery

Trigger = Literal["first_order", "every_order"]
EntryStatus = Literal["held", "pending", "available", "rejected", "reversed"]
BindingStatus = Literal["active", "held", "rejected"]
# Commission depth: a program pays at most this many levels up the referral graph (level 1
# is the buyer's referrer). Three, as the law on multi-level selling in China draws the
# line there; the CHECKs referral_programs_levels_bounded and commission_entries_level_range
# (migration 0004) hold PostgreSQL to it too, and the console's form has one field a level.
MAX_LEVELS = 3


class Level(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate_bp: BasisPoints = Field(description="basis points of the paid amount: 1000 = 10%")


class ProgramIn(BaseModel):
    """The whole program: a PUT replaces it, so the contract's fields (enabled, trigger,
    hold_days) are required; an empty or partial body is a 422, never a silent reset to
    defaults. Levels alone may be left out: the contract says they default to two (10%
    and 5%)."""

    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool
    reward_coupon_template_id: Ident | None = Field(
        default=None,
        description="the coupon a share link gives to whoever joins through it")
    share_coupon_template_ids: list[Ident] = Field(
        default_factory=list, max_length=20,
        description="other coupon templates members may share links for")
    levels: list[Level] = Field(default_factory=lambda: [Level(rate_bp=1000),
                                                         Level(rate_bp=500)],
                                min_length=1, max_length=MAX_LEVELS,
                                description="level 1 is the buyer's referrer; at most 3; "
                                            "two (10% and 5%) when left out")
    trigger: Trigger
    hold_days: Annotated[Count, Le(365)] = Field(
        description="commission stays pending this long (refund window)")
    max_paid_referrals_per_day: PositiveInt4 | None = Field(
        default=50, description="orders that earn one referrer commission per day")
    max_joins_per_ip_per_hour: PositiveInt4 | None = Field(
        default=5,
        description="joins through one link from one address per hour before further "
                    "bindings are held for review")
    min_withdrawal: PositiveCents = Field(
        default=100, description="cents: the smallest withdrawal a member may request")

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
    min_withdrawal: int
    updated_at: datetime


# What a merchant starts from: two levels (10% and 5%), the console's and the demo's default.
DEFAULT_PROGRAM = ProgramIn(enabled=True, trigger="every_order", hold_days=7)


class ShareLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    coupon_template_id: Ident | None = None


class ShareLinkOut(BaseModel):
    code: str
    url: str
    qr_url: str
    coupon_template_id: str | None
    joins: int
    created_at: datetime


class Balance(BaseModel):
    """Cents; each is a sum of ledger entries (see referrals.ledger): available is what was
    released, less clawbacks, less withdrawals requested or paid."""

    pending: int
    available: int
    reversed: int
    held: int
    requested: int = Field(description="withdrawals awaiting the merchant")
    paid: int = Field(description="withdrawals the merchant has paid out")


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


class BindingQuery(PageQuery):
    """Read from the query string, where every value is text: ``limit`` stays lax."""

    model_config = ConfigDict(extra="forbid")
    status: BindingStatus = "held"
