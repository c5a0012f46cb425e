from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EventType = Literal["member.created", "order.paid", "order.refunded", "coupon.redeemed"]


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://")
    events: list[EventType] = Field(min_length=1, max_length=20)


class EndpointOut(BaseModel):
    id: str
    url: str
    events: list[str]
    secret: str
    created_at: datetime


class DeliveryOut(BaseModel):
    id: str
    type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
