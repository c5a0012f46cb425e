from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engagement.kit.fields import Code, Text, normalise_phone


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
