from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from engagement.coupons.schemas import Discount
from engagement.kit.fields import Ident, Text

# How many members a 手机尾号 may bring up for the cashier to pick from: enough for the
# few who share four digits, few enough to read on a phone. More means "ask for the number".
TAIL_MATCHES = 10
# A member's usable coupons shown at the till, soonest to expire first.
COUPONS_SHOWN = 50


class LookupQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: Annotated[str, Text(1, 64)] = Field(
        description="a phone number, its last 4 digits (手机尾号), an 18-digit member code or "
                    "a coupon code")
    member_id: Ident | None = Field(
        default=None, description="the member already on screen: a coupon code of someone "
                                  "else is then refused (coupon_not_owned)")


class TillMember(BaseModel):
    id: str
    name: str | None
    phone: str | None = Field(description="masked but for the last 4 digits")
    tier: str | None
    points: int


class TillCoupon(BaseModel):
    code: str
    template_id: str
    name: str
    discount: Discount
    min_spend: int = Field(description="cents")
    expires_at: datetime | None
    stackable: bool


class TillCard(BaseModel):
    """A member as the till shows them: who they are and what they may use now."""

    member: TillMember
    coupons: list[TillCoupon]
    matched_code: str | None = Field(
        default=None, description="the coupon code the query was, when it was one")


class LookupOut(BaseModel):
    kind: Literal["phone", "phone_tail", "member_code", "coupon_code"]
    items: list[TillCard]
    guest_phone: str | None = Field(
        description="a full phone of no member: the till may take a guest order for it")
    truncated: bool = Field(
        default=False, description="more members share this 手机尾号 than are listed")


class ReceiptCoupon(BaseModel):
    code: str
    name: str
    discount: int = Field(description="cents this coupon took off")


class ReceiptOut(BaseModel):
    order_id: str
    member: TillMember | None = Field(description="null for a guest order not yet claimed")
    guest_phone: str | None
    subtotal: int | None
    discount: int
    amount: int
    coupons: list[ReceiptCoupon]
    member_discount: int = Field(default=0, description="cents a paid membership took off "
                                                        "the subtotal, before the coupons")
    points_earned: int
    points_balance: int | None
    store_id: str | None
    created_at: datetime
