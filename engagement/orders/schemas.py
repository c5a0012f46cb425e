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
    # Stored value (engagement/orders/balance.py): part of the amount from the balance.
    pay_with_balance: PositiveCents | None = Field(
        default=None, description="cents of the amount paid from the member's balance "
                                  "(at most the amount; needs member_id and balance_pin)")
    balance_pin: str | None = Field(
        default=None, pattern=r"^[0-9]{6}$",
        description="the member's 6-digit payment PIN, typed by the member; never stored")

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
        if self.pay_with_balance is not None and self.member_id is None:
            raise ValueError("pay_with_balance needs member_id: a guest has no balance")
        return self

    def request_hash(self) -> str:
        """What makes a retry a replay: the same buyer, money, store and coupons. A body
        with only the first version's fields hashes as it always did, so a retry of an
        order recorded before pricing existed still replays."""
        if self.subtotal is None and self.phone is None and self.store_id is None \
                and self.pay_with_balance is None:
            body = json.dumps([self.member_id, self.amount, self.coupon_codes])
        else:
            fields: dict[str, object] = {
                "member_id": self.member_id, "phone": self.phone, "amount": self.amount,
                "subtotal": self.subtotal, "store_id": self.store_id,
                "coupons": self.coupon_codes}
            if self.pay_with_balance is not None:  # the PIN is no part of it: never stored
                fields["pay_with_balance"] = self.pay_with_balance
            body = json.dumps(fields, sort_keys=True)
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
    paid_with_balance: int = Field(default=0, description="the pay_with_balance asked for")


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
    paid_with_balance: int = Field(default=0,
                                   description="cents of the amount paid from the balance")


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
    to_balance: int = Field(default=0, description="cents of this refund returned to the "
                                                   "member's balance (its share of the part "
                                                   "paid from it)")
