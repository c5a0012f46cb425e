"""Request and response bodies of commission withdrawals (提现)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from engagement.kit.fields import PositiveCents, Text
from engagement.kit.pagination import PageQuery

WithdrawalStatus = Literal["requested", "paid", "rejected"]
# How a merchant pays a member out, outside this service.
PayMethod = Literal["wechat", "alipay", "bank", "cash", "other"]
PAY_METHODS: tuple[PayMethod, ...] = ("wechat", "alipay", "bank", "cash", "other")


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: PositiveCents = Field(description="cents, at least the program's min_withdrawal")


class PayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: PayMethod = Field(description="wechat, alipay, bank (transfer), cash or other")
    reference: Annotated[str, Text(0, 100)] | None = Field(
        default=None, description="the transfer's receipt or transaction number")


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Text(0, 200)] | None = Field(
        default=None, description="why, shown to the member")


class WithdrawalCreated(BaseModel):
    id: str
    amount: int
    status: WithdrawalStatus
    created_at: datetime


class WithdrawalOut(BaseModel):
    id: str
    member_id: str
    amount: int
    status: WithdrawalStatus
    method: PayMethod | None
    reference: str | None
    reason: str | None
    created_at: datetime
    decided_at: datetime | None


class WithdrawalPage(BaseModel):
    items: list[WithdrawalOut]
    next_cursor: str | None


class WithdrawalQuery(PageQuery):
    """Read from the query string, where every value is text: ``limit`` stays lax."""

    model_config = ConfigDict(extra="forbid")
    status: WithdrawalStatus | None = None
