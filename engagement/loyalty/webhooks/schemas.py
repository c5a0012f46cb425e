from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from engagement.kit.fields import Text

EventType = Literal["member.created", "order.paid", "order.refunded", "coupon.redeemed",
                    "balance.changed", "membership.started", "membership.ended"]


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Text(8, 2000, pattern=r"^https?://[^\x00-\x1F\x7F]*$")]
    events: list[EventType] = Field(min_length=1, max_length=20)


class EndpointOut(BaseModel):
    id: str
    url: str
    events: list[str]
    secret: str
    created_at: datetime


class EndpointSummary(BaseModel):
    """An endpoint as listed: its secret was shown once, at creation, and never again."""

    id: str
    url: str
    events: list[str]
    created_at: datetime
    failed: int = Field(description="deliveries that gave up (a retry sends them again)")


class EndpointList(BaseModel):
    items: list[EndpointSummary]


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
