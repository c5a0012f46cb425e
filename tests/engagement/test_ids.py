from __future__ import annotations

import time

from engagement.ids import new_id, random_code


def test_ids_sort_by_time_and_do_not_repeat() -> None:
    made = []
    for _ in range(5):
        made += [new_id("drw") for _ in range(200)]
        time.sleep(0.002)
    assert len(set(made)) == len(made)
    stamps = [i[4:14] for i in made]
    assert stamps == sorted(stamps)
    assert all(len(i) == 4 + 26 for i in made)
    assert new_id("a") < new_id("a").replace(new_id("a")[2:12], "ZZZZZZZZZZ")


def test_codes_use_the_unambiguous_alphabet() -> None:
    codes = {random_code(12) for _ in range(2000)}
    assert len(codes) == 2000
    assert not set("".join(codes)) & set("ILOU")


def test_id_floor_bounds_ids_made_from_then_on() -> None:
    from engagement.ids import id_floor

    before = id_floor("drw", time.time_ns() // 1_000_000)
    made = new_id("drw")
    later = id_floor("drw", time.time_ns() // 1_000_000 + 1000)
    assert before <= made < later
