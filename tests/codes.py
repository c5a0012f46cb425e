"""A verification-code sender for tests: remembers the last code sent to each phone."""

from __future__ import annotations

from typing import ClassVar

from engagement.merchants.schemas import Merchant


class RecordingSender:
    sent: ClassVar[dict[str, str]] = {}

    async def send(self, phone: str, code: str, merchant: Merchant) -> None:
        RecordingSender.sent[phone] = code
