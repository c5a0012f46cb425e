"""The console's check-in page: it shows the program, saves what the API would, refuses bad
input with the field's message and changes nothing."""

from __future__ import annotations

from tests.console.helpers import Console
from tests.loyalty.checkin_helpers import set_check_in


async def _program(shop: Console) -> dict[str, object]:
    r = await shop.client.get("/api/v1/check-in-program", headers=shop.merchant.headers)
    assert r.status_code == 200
    return dict(r.json())


async def test_a_merchant_turns_check_in_on_from_the_console(shop: Console) -> None:
    page = (await shop.get("/console/check-in")).text
    assert "data-never-set" in page and page.count("<tr data-day=") == 7
    assert 'href="/console/check-in"' in page  # in the navigation
    form = {"enabled": "on", "cycle": "3", "day-1-points": "5", "day-2-points": "5",
            "day-3-points": "20", "day-3-draws": "1"}
    r = await shop.post("/console/check-in", form)
    assert r.status_code == 303 and r.headers["location"].endswith("notice=check_in_saved")
    program = await _program(shop)
    assert program["enabled"] is True
    assert [(d["day"], d["points"], d["draws"]) for d in program["rewards"]] == [  # type: ignore[attr-defined]
        (1, 5, 0), (2, 5, 0), (3, 20, 1)]
    page = (await shop.get("/console/check-in")).text
    assert page.count("<tr data-day=") == 3 and 'value="20"' in page


async def test_bad_check_in_forms_say_why_and_change_nothing(shop: Console) -> None:
    await set_check_in(shop.client, shop.merchant, [{"day": 1, "points": 5}])
    before = await _program(shop)
    for form, message in [({"cycle": "0"}, "数值太小"), ({"cycle": "32"}, "数值太大"),
                          ({"cycle": "2", "day-2-points": "很多"}, "请输入整数"),
                          ({"cycle": "1", "day-1-draws": "101"}, "数值太大")]:
        r = await shop.post("/console/check-in", {"enabled": "on", **form})
        assert r.status_code == 422, form
        assert message in r.text and 'aria-invalid="true"' in r.text, form
    assert await _program(shop) == before
    # Turning it off keeps the rewards for the next time.
    r = await shop.post("/console/check-in", {"cycle": "1", "day-1-points": "5"})
    assert r.status_code == 303
    assert (await _program(shop))["enabled"] is False
