from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engagement.kit.fields import Cents, Ident, PositiveCents, Text

# Merchants' own ids: letters, digits and . _ : ~ - only, so they sit unescaped in a URL path
# (/api/v1/orders/{id}/refunds) and in logs.
ORDER_ID_PATTERN = r"^[A-Za-z0-9._:~-]{1,128}$"


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ORDER_ID_PATTERN, description="the merchant's own order id")
    member_id: Ident
    amount: Cents = Field(description="cents paid")
    coupon_codes: list[Annotated[str, Text(1, 64)]] = Field(default_factory=list,
                                                            max_length=20)

    @field_validator("coupon_codes")
    @classmethod
    def _distinct_codes(cls, codes: list[str]) -> list[str]:
        cleaned = [c.strip().upper() for c in codes]
        if any(not c or len(c) > 32 for c in cleaned):
            raise ValueError("each coupon code has 1 to 32 characters")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("a coupon code is listed twice")
        return sorted(cleaned)

    def request_hash(self) -> str:
        """What makes a retry a replay: the same member, amount and coupons."""
        body = json.dumps([self.member_id, self.amount, self.coupon_codes])
        return hashlib.sha256(body.encode()).hexdigest()


class OrderOut(BaseModel):
    id: str
    member_id: str
    amount: int
    refunded: int
    coupon_codes: list[str]
    created_at: datetime


class RefundCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: PositiveCents = Field(description="cents refunded")
    id: str | None = Field(default=None, pattern=ORDER_ID_PATTERN,
                           description="the merchant's refund id: a retry with it is a replay")


class RefundOut(BaseModel):
    id: str
    order_id: str
    amount: int
    refunded_total: int
    created_at: datetime
