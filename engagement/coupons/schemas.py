from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, Strict, StrictBool

from engagement.kit.fields import (
    Cents,
    Days,
    Ident,
    Name,
    Percent,
    PositiveCents,
    PositiveInt4,
    Stock,
    Text,
)


class AmountOff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["amount_off"]
    amount: PositiveCents = Field(description="cents off")


class PercentOff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["percent_off"]
    percent: Annotated[Percent, Ge(1), Le(99)] = Field(
        description="e.g. 20 means 20% off (八折)")


class Gift(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["gift"]
    description: Annotated[str, Text(1, 200)]


Discount = Annotated[AmountOff | PercentOff | Gift, Field(discriminator="type")]


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    discount: Discount
    min_spend: Cents = Field(default=0, description="cents")
    stock: Stock | None = Field(description="null = unlimited")
    valid_days: Days | None = 30
    per_member_limit: PositiveInt4 | None = None
    stackable: StrictBool = Field(
        default=False, description="may go on one order with other stackable coupons")


class TemplateOut(BaseModel):
    id: str
    name: str
    discount: Discount
    min_spend: int
    stock: int | None
    reserved: int
    issued: int
    redeemed: int
    available: int | None
    valid_days: int | None
    per_member_limit: int | None
    stackable: bool
    created_at: datetime


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: Annotated[str, Text(0, 128)] | None = None


class RedeemOut(BaseModel):
    code: str
    status: Literal["redeemed"]
    redeemed_at: datetime
    order_id: str | None


class CouponOut(BaseModel):
    code: str
    template_id: str
    name: str
    discount: Discount
    min_spend: int
    status: Literal["issued", "redeemed", "expired", "void"]
    source: str
    draw_id: str | None
    campaign_id: str | None
    issued_at: datetime
    expires_at: datetime | None
    redeemed_at: datetime | None


class CouponPage(BaseModel):
    items: list[CouponOut]
    next_cursor: str | None


class TemplateUpdate(BaseModel):
    """What may change on a template. Terms a member was already promised (the discount and
    the minimum spend) change only while no coupon of it exists or is reserved."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    discount: Discount | None = None
    min_spend: Cents | None = Field(default=None, description="cents")
    valid_days: Days | None = None
    per_member_limit: PositiveInt4 | None = None
    clear_per_member_limit: StrictBool = False
    stackable: StrictBool | None = None


class GiveCoupon(BaseModel):
    model_config = ConfigDict(extra="forbid")
    coupon_template_id: Ident


class StockChange(BaseModel):
    """Add stock (positive) or take back unused stock (negative)."""

    model_config = ConfigDict(extra="forbid")
    delta: Annotated[int, Strict(), Ge(-10_000_000), Le(10_000_000)]
