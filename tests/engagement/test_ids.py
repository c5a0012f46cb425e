from __future__ import annotations

import time

from engagement.kit.ids import new_id, random_code


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
    from engagement.kit.ids import id_floor

    before = id_floor("drw", time.time_ns() // 1_000_000)
    made = new_id("drw")
    later = id_floor("drw", time.time_ns() // 1_000_000 + 1000)
    assert before <= made < later


def test_the_encoding_is_base32_in_crockfords_alphabet() -> None:
    """Ids already stored were written as base32 of 6 time bytes and 10 random bytes, mapped
    onto Crockford's alphabet; the encoder must keep writing exactly that."""
    import base64
    import secrets

    from engagement.kit.ids import _crockford, _time_part

    to_crockford = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
                                 "0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    def reference(raw: bytes) -> str:
        return base64.b32encode(raw).decode().rstrip("=").translate(to_crockford)

    for ms in (0, 1, 1_700_000_000_123, 2**48 - 1, *(secrets.randbits(48) for _ in range(500))):
        assert _time_part(ms) == reference(ms.to_bytes(6, "big"))
    for value in (0, 2**80 - 1, *(secrets.randbits(80) for _ in range(500))):
        assert _crockford(value, 16) == reference(value.to_bytes(10, "big"))
