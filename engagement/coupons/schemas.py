from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class AmountOff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["amount_off"]
    amount: int = Field(gt=0, description="cents off")


class PercentOff(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["percent_off"]
    percent: int = Field(gt=0, lt=100, description="e.g. 20 means 20% off (八折)")


class Gift(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["gift"]
    description: str = Field(min_length=1, max_length=200)


Discount = Annotated[AmountOff | PercentOff | Gift, Field(discriminator="type")]


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    discount: Discount
    min_spend: int = Field(default=0, ge=0, description="cents")
    stock: int | None = Field(ge=0, description="null = unlimited")
    valid_days: int | None = Field(default=30, gt=0, le=3660)
    per_member_limit: int | None = Field(default=None, gt=0)


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
    created_at: datetime


class RedeemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: str | None = Field(default=None, max_length=128)


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
    name: str | None = Field(default=None, min_length=1, max_length=120)
    discount: Discount | None = None
    min_spend: int | None = Field(default=None, ge=0, description="cents")
    valid_days: int | None = Field(default=None, gt=0, le=3660)
    per_member_limit: int | None = Field(default=None, gt=0)
    clear_per_member_limit: bool = False


class StockChange(BaseModel):
    """Add stock (positive) or take back unused stock (negative)."""

    model_config = ConfigDict(extra="forbid")
    delta: int = Field(ge=-10_000_000, le=10_000_000)
