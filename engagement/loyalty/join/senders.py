"""Who delivers a join verification code. Pluggable (``ENGAGEMENT_VERIFICATION_SENDER``):
development writes the code to the log; production plugs in an SMS provider's client."""

from __future__ import annotations

import importlib
import logging
from functools import lru_cache
from typing import Protocol

from engagement.kit.formats import masked_phone
from engagement.merchants.schemas import Merchant

log = logging.getLogger(__name__)


class CodeSender(Protocol):
    async def send(self, phone: str, code: str, merchant: Merchant) -> None: ...


class LogCodeSender:
    """Development only: anyone who reads the log can join as anyone."""

    async def send(self, phone: str, code: str, merchant: Merchant) -> None:
        log.warning("verification code for %s at %s: %s (log sender: development only)",
                    masked_phone(phone), merchant.slug, code)


BUILT_IN: dict[str, type] = {"log": LogCodeSender}


@lru_cache(maxsize=8)
def load_sender(spec: str) -> CodeSender:
    """"log", or "package.module:Name" naming a class (or object) with ``async send``."""
    if spec in BUILT_IN:
        sender: CodeSender = BUILT_IN[spec]()
        return sender
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"verification_sender must be 'log' or 'module:Name', not {spec!r}")
    target = getattr(importlib.import_module(module_name), attr)
    loaded: CodeSender = target() if isinstance(target, type) else target
    return loaded
