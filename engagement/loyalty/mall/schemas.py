from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from engagement.kit.fields import Ident, Points, Stock
from engagement.kit.pagination import PageQuery


class RewardCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    coupon_template_id: Ident
    cost_points: Annotated[Points, Ge(1), Le(100_000_000)]
    stock: Annotated[Stock, Le(10_000_000)]


class RewardPatch(BaseModel):
    """On or off the shelf (上架 · 下架): members see and redeem only rewards that are on."""

    model_config = ConfigDict(extra="forbid")

    active: StrictBool


class RewardQuery(PageQuery):
    include_inactive: bool = Field(
        default=False, description="merchant only: the rewards taken off the shelf too")


class RewardOut(BaseModel):
    id: str
    coupon_template_id: str
    name: str
    discount: dict[str, Any]
    min_spend: int
    cost_points: int
    stock: int
    redeemed: int
    available: int
    active: bool
    created_at: datetime


class RewardPage(BaseModel):
    items: list[RewardOut]
    next_cursor: str | None


class RedeemedCoupon(BaseModel):
    code: str
    template_id: str
    name: str
    discount: dict[str, Any]
    min_spend: int
    issued_at: datetime
    expires_at: datetime | None


class RedemptionOut(BaseModel):
    id: str
    reward_id: str
    coupon: RedeemedCoupon
    points_spent: int
    balance: int
    created_at: datetime
