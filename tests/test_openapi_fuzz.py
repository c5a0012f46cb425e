"""Schemathesis over the served OpenAPI document: generated and boundary inputs for every
operation, with a merchant key and with a member token, against a real server process.
Any 5xx, undocumented status or response that does not match the document fails the
run. The seed and the number of examples are fixed, so a run is repeatable and bounded."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.factories import Factory

EXAMPLES_PER_OPERATION = 12
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"


@pytest.mark.parametrize("who", ["merchant", "member"])
async def test_schemathesis_finds_no_server_error_and_no_mismatch(
        factory: Factory, web_server: tuple[str, psutil.Process], who: str,
        tmp_path: Path) -> None:
    base, _ = web_server
    shop = await factory.merchant()
    member = await factory.member(shop, phone="13800138000", name="张三")
    # Something to find: a live campaign and a coupon template.
    tpl = await factory.template(shop, stock=100)
    await factory.campaign(shop, [
        {"name": "5元券", "kind": "coupon", "coupon_template_id": tpl["id"], "quantity": 50,
         "weight": 1}, {"name": "谢谢参与", "kind": "nothing", "weight": 1}])
    auth = (shop.headers if who == "merchant" else member.headers)["Authorization"]
    st = Path(sys.executable).parent / "st"
    run = await asyncio.to_thread(subprocess.run, [
        str(st), "run", f"{base}/openapi.json", "--header", f"Authorization: {auth}",
        "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", "20261130",
        "--checks", CHECKS, "--phases", "examples,coverage,fuzzing",
        "--generation-database", "none", "--workers", "1", "--no-color",
        "--suppress-health-check", "all", "--request-timeout", "10",
        "--report", "junit", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
