from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from engagement.kit.fields import Ident, Text

# Who may do what in the console (API.md, "Stores, staff and the till"): the owner
# everything; a manager everything but staff, API keys and settings; a cashier the till.
Role = Literal["owner", "manager", "cashier"]
ROLES: tuple[Role, ...] = ("owner", "manager", "cashier")

# Long enough to resist guessing once the throttle is passed; no composition rules (they
# push people to predictable patterns, as NIST SP 800-63B notes).
MIN_PASSWORD_LENGTH = 10


def normalise_email(value: str) -> str:
    return value.strip().lower()


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, Text(3, 254, pattern=r"^[^@\s\x00-\x1F\x7F]+@[^@\s\x00-\x1F\x7F]+"
                                           r"\.[^@\s\x00-\x1F\x7F]+$")]
    password: Annotated[str, Text(MIN_PASSWORD_LENGTH, 256)]
    role: Role
    store_id: Ident | None = None

    @field_validator("email", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return normalise_email(value) if isinstance(value, str) else value


class StaffChange(BaseModel):
    """An owner's change to a member of staff: the role, and the store (None: every store)."""

    model_config = ConfigDict(extra="forbid")
    role: Role
    store_id: Ident | None = None


class LoginForm(BaseModel):
    email: Annotated[str, Text(1, 254)]
    password: Annotated[str, Text(1, 256)]
    next: Annotated[str, Text(0, 2000)] | None = None

    @field_validator("email", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return normalise_email(value) if isinstance(value, str) else value
