from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RewardCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    coupon_template_id: str = Field(min_length=1, max_length=64)
    cost_points: int = Field(gt=0, le=100_000_000)
    stock: int = Field(ge=0, le=10_000_000)


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
