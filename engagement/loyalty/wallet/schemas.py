"""Stored value (储值) as the API speaks it (API.md, "Stored value and paid membership")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from annotated_types import Le
from pydantic import BaseModel, ConfigDict, Field, model_validator

from engagement.kit.fields import Cents, Ident, PositiveCents

# One top-up or plan is at most ¥100,000: a café's card, not a bank account.
MAX_TOP_UP = 10_000_000
TopUpAmount = Annotated[PositiveCents, Le(MAX_TOP_UP)]
SpendOrder = Literal["principal_first", "bonus_first"]
MAX_PLANS = 20


class TopUpPlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pay: TopUpAmount = Field(description="cents paid in, e.g. 50000 for ¥500")
    bonus: Annotated[Cents, Le(MAX_TOP_UP)] = Field(
        description="cents added on top (充500送50: 5000)")

    @model_validator(mode="after")
    def _bonus_at_most_pay(self) -> TopUpPlanIn:
        if self.bonus > self.pay:
            raise ValueError("bonus may be at most pay")
        return self


class TopUpPlansIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plans: list[TopUpPlanIn] = Field(max_length=MAX_PLANS)
    spend_order: SpendOrder = "principal_first"

    @model_validator(mode="after")
    def _distinct_pays(self) -> TopUpPlansIn:
        pays = [p.pay for p in self.plans]
        if len(set(pays)) != len(pays):
            raise ValueError("each plan needs its own pay amount")
        return self


class TopUpPlanOut(BaseModel):
    id: str
    pay: int
    bonus: int


class TopUpPlansOut(BaseModel):
    plans: list[TopUpPlanOut] = Field(description="cheapest first")
    spend_order: SpendOrder


PaymentMethod = Literal["cash", "wechat", "alipay", "card"]


class TopUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pay: TopUpAmount
    store_id: Ident | None = None
    payment_method: PaymentMethod | None = Field(
        default=None, description="how the member paid the top-up at the till")


class TopUpOut(BaseModel):
    id: str
    principal: int = Field(description="cents paid in by this top-up")
    bonus: int = Field(description="cents the best plan added")
    balance: int = Field(description="the member's balance after it, principal and bonus")


class BalanceItem(BaseModel):
    id: str
    delta: int = Field(description="cents, principal and bonus together")
    principal: int
    bonus: int
    kind: Literal["top_up", "spend", "refund", "card_refund", "forfeit", "membership"]
    order_id: str | None = None
    payment_method: PaymentMethod | None = None
    created_at: datetime


class BalanceOut(BaseModel):
    balance: int
    principal: int
    bonus: int
    items: list[BalanceItem] = Field(description="newest first")
    next_cursor: str | None = None
    pin_set: bool = Field(default=False, description="whether a payment PIN is set")
    pin_locked_until: datetime | None = Field(
        default=None, description="balance payments are locked until then (5 wrong PINs)")


class BalancePinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pin: str = Field(pattern=r"^[0-9]{6}$", description="the new 6-digit payment PIN")
    old_pin: str | None = Field(default=None, pattern=r"^[0-9]{6}$",
                                description="the PIN set now; needed to change it")


class BalancePinOut(BaseModel):
    pin_set: bool


class CardRefundOut(BaseModel):
    refunded: int = Field(description="cents of unspent principal paid back (退卡)")
    forfeited: int = Field(description="cents of unspent bonus given up")
