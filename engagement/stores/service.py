from __future__ import annotations

from datetime import datetime

import asyncpg

from engagement.kit.errors import Conflict, InvalidInput
from engagement.kit.ids import new_id
from engagement.stores import queries
from engagement.stores.schemas import StoreCreate, StoreOut


class StoreNameTaken(Conflict):
    code, message = "store_name_taken", "The merchant already has a store of this name."


class UnknownStore(InvalidInput):
    code, message = "unknown_store", "No store of this merchant has this id."


def store_out(row: asyncpg.Record) -> StoreOut:
    return StoreOut(id=row["id"], name=row["name"], created_at=row["created_at"])


async def create_store(conn: asyncpg.Connection, merchant_id: str, data: StoreCreate,
                       now: datetime) -> StoreOut:
    row = await queries.insert_store(conn, id=new_id("sto"), merchant_id=merchant_id,
                                     name=data.name, now=now)
    if row is None:
        raise StoreNameTaken(name=data.name, fields=[{"field": "name"}])
    return store_out(row)


async def list_stores(conn: asyncpg.Connection | asyncpg.Pool,
                      merchant_id: str) -> list[StoreOut]:
    return [store_out(r) for r in await queries.stores_of_merchant(conn, merchant_id)]


async def require_store(conn: asyncpg.Connection | asyncpg.Pool, merchant_id: str,
                        store_id: str, field: str = "store_id") -> asyncpg.Record:
    """The merchant's store; 422 unknown_store on ``field`` when there is none."""
    row = await queries.store_by_id(conn, merchant_id, store_id)
    if row is None:
        raise UnknownStore(store_id=store_id, fields=[{"field": field}])
    return row
