from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engagement.kit.fields import Cents, Ident, MobilePhone, PositiveCents, Text

# Merchants' own ids: letters, digits and . _ : ~ - only, so they sit unescaped in a URL path
# (/api/v1/orders/{id}/refunds) and in logs.
ORDER_ID_PATTERN = r"^[A-Za-z0-9._:~-]{1,128}$"


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ORDER_ID_PATTERN, description="the merchant's own order id")
    member_id: Ident | None = Field(default=None, description="the buyer; or `phone`")
    phone: MobilePhone | None = Field(
        default=None, description="a guest's mobile number in place of member_id "
                                  "(支付即会员): the order becomes theirs when they join")
    amount: Cents | None = Field(
        default=None, description="cents paid; with subtotal it may be left out "
                                  "(subtotal - discount) and must equal it when sent")
    subtotal: Cents | None = Field(
        default=None, description="cents before coupons: the service prices the coupons")
    store_id: Ident | None = None
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

    @model_validator(mode="after")
    def _buyer_and_amount(self) -> OrderCreate:
        if (self.member_id is None) == (self.phone is None):
            raise ValueError("send either member_id or phone (a guest order)")
        if self.amount is None and self.subtotal is None:
            raise ValueError("send amount (cents paid) or subtotal (cents before coupons)")
        return self

    def request_hash(self) -> str:
        """What makes a retry a replay: the same buyer, money, store and coupons. A body
        with only the first version's fields hashes as it always did, so a retry of an
        order recorded before pricing existed still replays."""
        if self.subtotal is None and self.phone is None and self.store_id is None:
            body = json.dumps([self.member_id, self.amount, self.coupon_codes])
        else:
            body = json.dumps({"member_id": self.member_id, "phone": self.phone,
                               "amount": self.amount, "subtotal": self.subtotal,
                               "store_id": self.store_id, "coupons": self.coupon_codes},
                              sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()


class QuoteIn(OrderCreate):
    """The order's body; the id may be left out (a quote records nothing)."""

    id: str = Field(default="quote", pattern=ORDER_ID_PATTERN)


class CouponLine(BaseModel):
    code: str
    discount: int = Field(description="cents this coupon took off")


_MEMBER_DISCOUNT = ("cents a running paid membership took off the subtotal, before the "
                    "coupons (which apply to what it left)")


class QuoteOut(BaseModel):
    subtotal: int
    discount: int
    amount: int
    coupons: list[CouponLine]
    member_discount: int = Field(default=0, description=_MEMBER_DISCOUNT)


class OrderOut(BaseModel):
    id: str
    member_id: str | None
    amount: int
    refunded: int
    coupon_codes: list[str]
    created_at: datetime
    # Added with pricing; replays of orders recorded before it get these defaults.
    subtotal: int | None = None
    discount: int = 0
    coupons: list[CouponLine] = Field(default_factory=list)
    store_id: str | None = None
    join_url: str | None = Field(default=None,
                                 description="a guest order: where the customer joins")
    member_discount: int = Field(default=0, description=_MEMBER_DISCOUNT)


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
    coupons_returned: list[str] = Field(
        default_factory=list,
        description="codes given back to the member: a whole refund returns the order's "
                    "coupons that have not expired")
