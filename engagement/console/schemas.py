from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Long enough to resist guessing once the throttle is passed; no composition rules (they
# push people to predictable patterns, as NIST SP 800-63B notes).
MIN_PASSWORD_LENGTH = 10


def normalise_email(value: str) -> str:
    return value.strip().lower()


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)

    @field_validator("email", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return normalise_email(value) if isinstance(value, str) else value


class LoginForm(BaseModel):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=256)
    next: str | None = None

    @field_validator("email", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return normalise_email(value) if isinstance(value, str) else value
