"""Member imports (老会员导入) against the real PostgreSQL and Redis, applied by a real arq
worker: a file of 1,000 rows with 3 bad ones, the same file again, two runs at once, BOM
and no BOM, refused files, the preview that writes nothing, and updates."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from engagement.kit.clock import FrozenClock
from engagement.kit.state import Services
from engagement.loyalty.imports import csvfile, service, tasks
from tests.factories import Factory, MerchantHandle
from tests.worker import drain

HEADER = "external_id,phone,name,birthday,points,tier"
BAD = {101: "invalid_birthday", 502: "invalid_phone", 900: "duplicate_external_id"}


def thousand_rows() -> tuple[bytes, dict[str, int]]:
    """1,000 data rows (file rows 2..1001); rows 101, 502 and 900 are bad. Returns the file
    and the opening points each good external_id should end with."""
    lines, points = [HEADER], {}
    for row in range(2, 1002):
        ext, phone, birthday, pts = f"OLD-{row:05d}", f"139{row:08d}", "1990-05-20", row % 7
        if row == 101:
            birthday = "1990-13-01"
        elif row == 502:
            phone = "call me"
        elif row == 900:
            ext = "OLD-00002"  # row 2's id
        else:
            points[ext] = pts
        lines.append(f"{ext},{phone},会员{row},{birthday},{pts},")
    return ("\r\n".join(lines) + "\r\n").encode(), points


async def upload(client: httpx.AsyncClient, merchant: MerchantHandle, body: bytes,
                 content_type: str = "text/csv") -> httpx.Response:
    return await client.post("/api/v1/member-imports", content=body,
                             headers={**merchant.headers, "Content-Type": content_type})


async def result(client: httpx.AsyncClient, merchant: MerchantHandle,
                 import_id: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/member-imports/{import_id}", headers=merchant.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def imported(client: httpx.AsyncClient, services: Services, clock: FrozenClock,
                   merchant: MerchantHandle, body: bytes) -> dict[str, Any]:
    r = await upload(client, merchant, body)
    assert r.status_code == 202, r.text
    assert (await result(client, merchant, r.json()["id"]))["status"] == "queued"
    await drain(services.settings, clock)
    return await result(client, merchant, r.json()["id"])


async def ledger(services: Services, merchant: MerchantHandle) -> list[Any]:
    return await services.pool.fetch(
        """SELECT m.external_id, l.delta, l.reason, m.points FROM points_ledger l
           JOIN members m ON m.id = l.member_id WHERE l.merchant_id = $1""", merchant.id)


async def test_a_thousand_rows_with_three_bad_ones_then_the_same_file_again(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    shop = await factory.merchant("拾光咖啡")
    body, points = thousand_rows()
    first = await imported(client, services, clock, shop, body)
    assert first["status"] == "done"
    assert (first["rows"], first["processed"]) == (1000, 1000)
    assert (first["created"], first["updated"], first["unchanged"], first["failed"]) \
        == (997, 0, 0, 3)
    assert [(e["row"], e["code"]) for e in first["errors"]] == sorted(BAD.items())
    assert all(e["message"] for e in first["errors"])
    count = await services.pool.fetchval(
        "SELECT count(*) FROM members WHERE merchant_id = $1", shop.id)
    assert count == 997
    entries = await ledger(services, shop)
    assert {e["external_id"]: e["delta"] for e in entries} \
        == {k: v for k, v in points.items() if v}
    assert {e["reason"] for e in entries} == {"import"}
    assert all(e["points"] == e["delta"] for e in entries)  # the balance is the entry
    member = await services.pool.fetchrow(
        "SELECT id, phone, name, birthday FROM members WHERE external_id = 'OLD-00010'")
    assert (member["phone"], member["name"], str(member["birthday"])) \
        == ("13900000010", "会员10", "1990-05-20")
    history = (await client.get(f"/api/v1/members/{member['id']}/points",
                                headers=shop.headers)).json()
    assert [(i["delta"], i["reason"]) for i in history["items"]] == [(3, "import")]

    again = await imported(client, services, clock, shop, body)
    assert (again["created"], again["updated"], again["unchanged"], again["failed"]) \
        == (0, 0, 997, 3)
    assert await services.pool.fetchval(
        "SELECT count(*) FROM members WHERE merchant_id = $1", shop.id) == 997
    assert sorted(map(tuple, await ledger(services, shop))) == sorted(map(tuple, entries))


async def test_concurrent_runs_of_one_file_create_and_credit_once(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    # Two members exist already (made through the API, no points): the runs credit them
    # their opening points once between them too.
    await factory.member(shop, external_id="OLD-00003")
    await factory.member(shop, external_id="OLD-00700")
    body, points = thousand_rows()
    ids = []
    for _ in range(4):
        r = await upload(client, shop, body)
        assert r.status_code == 202
        ids.append(r.json()["id"])
    # Small batches, so the runs interleave over many transactions.
    original = service.BATCH_ROWS
    service.BATCH_ROWS = 97
    try:
        await asyncio.gather(*[tasks.run({"services": services}, i) for i in ids])
    finally:
        service.BATCH_ROWS = original
    results = [await result(client, shop, i) for i in ids]
    assert all(r["status"] == "done" and r["failed"] == 3 for r in results)
    assert sum(r["created"] for r in results) == 995
    assert sum(r["updated"] for r in results) == 2  # the two, credited once
    assert all(r["created"] + r["updated"] + r["unchanged"] == 997 for r in results)
    assert await services.pool.fetchval(
        "SELECT count(*) FROM members WHERE merchant_id = $1", shop.id) == 997
    entries = await ledger(services, shop)
    assert len(entries) == sum(1 for v in points.values() if v)
    assert {e["external_id"]: e["points"] for e in entries} \
        == {k: v for k, v in points.items() if v}


async def test_a_bom_and_no_bom_read_alike(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    text = f"{HEADER}\nA-1,13800138000,王小明,1988-02-29,50,\nA-2,,李华,,,\n"
    for name, body in (("bom", "\ufeff" + text), ("plain", text)):
        shop = await factory.merchant(name)
        done = await imported(client, services, clock, shop, body.encode())
        assert (done["created"], done["failed"]) == (2, 0), done
        row = await services.pool.fetchrow(
            "SELECT name, points, birthday FROM members WHERE merchant_id = $1 "
            "AND external_id = 'A-1'", shop.id)
        assert (row["name"], row["points"], str(row["birthday"])) \
            == ("王小明", 50, "1988-02-29")
    # Excel's Chinese headers and a mobile written with +86 and dashes.
    shop = await factory.merchant("excel")
    body = "\ufeff会员编号,手机号,积分\r\nB-1,+86 139-0013-9000,8\r\n".encode()
    assert (await imported(client, services, clock, shop, body))["created"] == 1
    assert await services.pool.fetchval(
        "SELECT phone FROM members WHERE merchant_id = $1", shop.id) == "13900139000"


async def test_unreadable_files_are_refused_with_a_code_and_store_nothing(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    cases = [
        (b"phone,name\n13800138000,x\n", "missing_column"),
        (b"external_id,email\nA,a@b.c\n", "unknown_column"),
        (b"external_id,phone,external_id\nA,1,B\n", "duplicate_column"),
        ("external_id,name\nA,王\n".encode("gbk"), "invalid_encoding"),
        (b"", "empty_file"),
        (b"external_id,name\n", "no_rows"),
    ]
    for body, code in cases:
        r = await upload(client, shop, body)
        assert r.status_code == 422, (code, r.text)
        assert r.json()["error"]["code"] == code
        preview = await client.post("/api/v1/member-imports/preview", content=body,
                                    headers={**shop.headers, "Content-Type": "text/csv"})
        assert preview.json()["error"]["code"] == code
    r = await upload(client, shop, b"external_id\nA\n", content_type="application/json")
    assert r.status_code == 415
    assert await services.pool.fetchval("SELECT count(*) FROM member_imports") == 0
    assert await services.pool.fetchval("SELECT count(*) FROM members") == 0
    # Someone else's import is not found; no key is 401.
    other = await factory.merchant("Other")
    mine = await upload(client, shop, b"external_id\nA\n")
    r = await client.get(f"/api/v1/member-imports/{mine.json()['id']}", headers=other.headers)
    assert r.status_code == 404
    assert (await client.post("/api/v1/member-imports", content=b"x")).status_code == 401


async def test_the_preview_reports_each_rows_problem_and_writes_nothing(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    await factory.member(shop, external_id="HAS-PHONE", phone="13800138000")
    await factory.member(shop, external_id="OLD-1")
    body = (f"{HEADER}\nOLD-1,,,,,\nNEW-1,13800138000,,,,\nNEW-2,,,,,黄金会员\n"
            f"NEW-3,,,,-5,\nNEW-4,,,,,\n,,,,,x\nNEW-5,1,2\n").encode()
    before = await services.pool.fetchval("SELECT count(*) FROM members")
    r = await client.post("/api/v1/member-imports/preview", content=body,
                          headers={**shop.headers, "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert (data["rows"], data["new"], data["existing"], data["failed"]) == (7, 1, 1, 5)
    assert [(e["row"], e["code"]) for e in data["errors"]] == [
        (3, "phone_taken"), (4, "unknown_tier"), (5, "invalid_points"),
        (7, "missing_external_id"), (8, "wrong_column_count")]
    assert data["sample"][1]["code"] == "phone_taken"
    assert data["sample"][0]["cells"]["external_id"] == "OLD-1"
    assert await services.pool.fetchval("SELECT count(*) FROM members") == before
    assert await services.pool.fetchval("SELECT count(*) FROM member_imports") == 0


async def test_existing_members_get_the_rows_cells_and_empty_cells_clear_nothing(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    shop = await factory.merchant()
    await client.put("/api/v1/tiers", headers=shop.headers, json={"tiers": [
        {"name": "黄金会员", "min_points": 1000, "window_days": 365}]})
    await factory.member(shop, external_id="E-1", name="旧名字", phone="13700137000")
    await factory.member(shop, external_id="E-2", name="不变")
    body = (f"{HEADER}\nE-1,,新名字,1970-01-01,,黄金会员\nE-2,,不变,,,\n").encode()
    done = await imported(client, services, clock, shop, body)
    assert (done["created"], done["updated"], done["unchanged"]) == (0, 1, 1), done
    row = await services.pool.fetchrow(
        "SELECT name, phone, birthday, tier FROM members WHERE external_id = 'E-1'")
    assert (row["name"], row["phone"], str(row["birthday"]), row["tier"]) \
        == ("新名字", "13700137000", "1970-01-01", "黄金会员")


def test_row_numbers_are_the_spreadsheets_whatever_blank_lines_and_quoted_breaks() -> None:
    body = (f"{HEADER}\nA,,,,,\n\nB,,\"两行\n的名字\",,,\nC,,,,,\n").encode()
    parsed = csvfile.parse(body)
    assert [(r.number, r.external_id, r.problem) for r in parsed.rows] == [
        (2, "A", None), (4, "B", "invalid_name"), (6, "C", None)]
    assert csvfile.count_rows(body) == 3


async def test_an_idempotency_key_replays_the_first_upload(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    headers = {**shop.headers, "Content-Type": "text/csv", "Idempotency-Key": "upload-1"}
    first = await client.post("/api/v1/member-imports", content=b"external_id\nA\n",
                              headers=headers)
    again = await client.post("/api/v1/member-imports", content=b"external_id\nA\n",
                              headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    other = await client.post("/api/v1/member-imports", content=b"external_id\nB\n",
                              headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert await services.pool.fetchval("SELECT count(*) FROM member_imports") == 1


async def test_an_import_whose_job_was_lost_is_swept_up(
        client: httpx.AsyncClient, factory: Factory, services: Services,
        clock: FrozenClock) -> None:
    shop = await factory.merchant()
    r = await upload(client, shop, b"external_id,points\nA,5\nB,0\n")
    await services.redis.flushdb()  # the queued job is gone (Redis lost it)
    assert await drain(services.settings, clock) == 0
    assert (await result(client, shop, r.json()["id"]))["status"] == "queued"
    assert await tasks.sweep({"services": services}) == 1
    await drain(services.settings, clock)
    done = await result(client, shop, r.json()["id"])
    assert (done["status"], done["created"]) == ("done", 2)
    assert await tasks.sweep({"services": services}) == 0
    assert await services.pool.fetchval(
        "SELECT body FROM member_imports WHERE id = $1", r.json()["id"]) is None


async def test_a_job_that_stopped_midway_resumes_and_counts_each_row_once(
        client: httpx.AsyncClient, factory: Factory, services: Services) -> None:
    shop = await factory.merchant()
    body, _ = thousand_rows()
    import_id = (await upload(client, shop, body)).json()["id"]
    original = service.BATCH_ROWS
    service.BATCH_ROWS = 150
    try:
        parsed = csvfile.parse(body)
        for _ in range(3):  # three batches commit, then the worker dies
            async with services.unit() as unit:
                assert await service.apply_batch(unit.conn, import_id, parsed,
                                                  services.clock.now())
        midway = await result(client, shop, import_id)
        assert (midway["status"], midway["processed"]) == ("running", 450)
        await tasks.run({"services": services}, import_id)  # the retry
    finally:
        service.BATCH_ROWS = original
    done = await result(client, shop, import_id)
    assert (done["created"], done["unchanged"], done["failed"]) == (997, 0, 3)
    assert [e["row"] for e in done["errors"]] == sorted(BAD)
