"""Paid membership (付费会员卡) as the API speaks it (API.md, "Stored value and paid
membership")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from annotated_types import Le
from pydantic import BaseModel, ConfigDict, Field, model_validator

from engagement.kit.fields import Days, Ident, Percent, PositiveCents, Text

# A card costs at most ¥100,000, runs at most ten years, and takes at most 95% off: a
# membership that makes everything free is a typo, not a plan.
MAX_PRICE = 10_000_000
MAX_DISCOUNT_PERCENT = 95
MAX_PLANS = 10
PaidWith = Literal["cash", "balance"]


class MembershipPlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Text(1, 40)]
    price: Annotated[PositiveCents, Le(MAX_PRICE)] = Field(description="cents, e.g. 19900")
    days: Days = Field(description="how long one purchase runs, e.g. 365")
    discount_percent: Annotated[Percent, Le(MAX_DISCOUNT_PERCENT)] = Field(
        default=0, description="taken off an order's subtotal before coupons, e.g. 5")
    monthly_coupon_template_id: Ident | None = Field(
        default=None, description="a coupon template given once a calendar month")


class MembershipPlansIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plans: list[MembershipPlanIn] = Field(max_length=MAX_PLANS)

    @model_validator(mode="after")
    def _distinct_names(self) -> MembershipPlansIn:
        names = [p.name for p in self.plans]
        if len(set(names)) != len(names):
            raise ValueError("each plan needs its own name")
        return self


class MembershipPlanOut(BaseModel):
    id: str
    name: str
    price: int
    days: int
    discount_percent: int
    monthly_coupon_template_id: str | None


class MembershipPlansOut(BaseModel):
    plans: list[MembershipPlanOut] = Field(description="in the order they were given")


class MembershipPurchaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan_id: Ident
    paid_with: PaidWith = Field(
        default="cash", description="cash (paid at the till) or the member's balance")


class MembershipPurchaseOut(BaseModel):
    id: str = Field(description="this purchase")
    plan_id: str
    starts_at: datetime = Field(description="when the member's unbroken membership began")
    ends_at: datetime = Field(description="when it runs out, this purchase included")
    renewal: bool = Field(description="bought while a membership ran: its end moved on")
    paid_with: PaidWith
    price: int
    balance: int | None = Field(default=None,
                                description="paid from the balance: what is left of it")


class MembershipOut(BaseModel):
    plan_id: str
    name: str
    discount_percent: int
    monthly_coupon_template_id: str | None
    starts_at: datetime
    ends_at: datetime
    active: bool


class MemberMembershipOut(BaseModel):
    membership: MembershipOut | None = Field(description="the latest one, running or ended")
