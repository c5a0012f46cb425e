from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engagement.kit.fields import Code, Text

# Mainland mobile numbers: 11 digits starting 13-19; "+86" / "86" prefixes and spaces or
# dashes as people type them are accepted and dropped.
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def normalise_phone(value: str) -> str:
    digits = re.sub(r"[\s-]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE.match(digits):
        raise ValueError("enter an 11-digit mobile number")
    return digits


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    phone: Annotated[str, Text(0, 64)]

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalise_phone(value)


class JoinRequest(CodeRequest):
    code: str = Field(pattern=r"^[0-9]{6}$")
    share: Code | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("share", mode="before")
    @classmethod
    def _share(cls, value: object) -> object:
        return value or None
