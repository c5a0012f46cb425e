from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from engagement.kit.state import Services
from tests.console.helpers import Console, console
from tests.factories import Factory


@pytest.fixture
async def shop(app: object, factory: Factory, services: Services) -> AsyncIterator[Console]:
    c = await console(app, factory, services, "拾光咖啡", "owner@shiguang.example")
    try:
        yield c
    finally:
        await c.client.aclose()


@pytest.fixture
async def rival(app: object, factory: Factory, services: Services) -> AsyncIterator[Console]:
    c = await console(app, factory, services, "隔壁奶茶", "boss@rival.example")
    try:
        yield c
    finally:
        await c.client.aclose()
