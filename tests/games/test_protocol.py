"""The draw scripts' layout is written once, in games/draw/protocol.py, by name; the Lua files
read positions. These tests hold the Lua headers to the protocol's names and order, and
check that every reply reads back as its typed result."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import date
from pathlib import Path

import pytest

from engagement.kit.state import Services
from games.draw import protocol
from games.draw.protocol import (
    CheckRecord,
    DrawArgs,
    DrawKeys,
    Drawn,
    DrawReply,
    Fairness,
    LimitReached,
    NeedChances,
    NeedPity,
    NotActive,
    NotPrimed,
    Replay,
    SeedHoldings,
    Throttled,
    UndoArgs,
    UnknownCampaign,
    parse_draw_reply,
)
from games.draw.scripts import scripts_for

LUA = Path(protocol.__file__).parent / "lua"
REPLY_TYPES: dict[str, type] = {
    "ok": Drawn, "replay": Replay, "check_record": CheckRecord, "noprime": NotPrimed,
    "seed": SeedHoldings, "chances": NeedChances, "pity": NeedPity,
    "not_found": UnknownCampaign,
    "not_active": NotActive, "limit": LimitReached, "rate": Throttled}


def _header(name: str) -> str:
    """The Lua file's leading comment, as one line."""
    lines = []
    for line in (LUA / name).read_text().splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.removeprefix("--").strip())
    return " ".join(lines)


def _numbered(text: str) -> list[str]:
    """The names of a '1 name, 2 name, ...' list."""
    found = re.findall(r"\b(\d+) ([a-z_]+)", text)
    assert [int(n) for n, _ in found] == list(range(1, len(found) + 1)), found
    return [name for _, name in found]


def _names(cls: type) -> list[str]:
    return [f.name for f in fields(cls)]


def _wire(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


ARGS = DrawArgs(now_ms=1_790_000_000_000, rand=4_503_599_627_370_495, draw_id="drw_1",
                created_at="2026-11-23T08:00:00.000+00:00", idempotent=True,
                request_hash="hash", campaign_id="cmp_1", merchant_id="mer_1", day_ttl=7,
                idempotency_ttl=9, record_checked=False, chances_earned=3, chances_used=2,
                pity_streak=4)
SEEDS = Fairness(client_seed="a b:c", nonce="")


def test_draw_lua_names_the_keys_in_the_protocol_order() -> None:
    header = _header("draw.lua")
    lua = _numbered(header[header.index("KEYS:"):header.index("ARGV[1]")])
    assert lua == list(DrawKeys._fields)
    assert list(DrawKeys(**{name: name for name in lua})) == lua


def test_draw_lua_reads_the_packed_fields_in_the_protocol_order() -> None:
    header = _header("draw.lua")
    lua = _numbered(header[header.index("ARGV[1]"):header.index("Reply")])
    assert lua == list(DrawArgs._fields)
    assert ARGS.pack().split("\t") == [_wire(getattr(ARGS, name)) for name in lua]
    assert DrawArgs(*ARGS[:11]).pack().split("\t")[11:] == ["-", "0", "-"]  # not looked up


def test_draw_lua_names_its_second_and_third_arguments_as_the_protocol_does() -> None:
    header = _header("draw.lua")
    named = re.findall(r"ARGV\[(\d)\] and ARGV\[(\d)\]: the ([a-z ]+?) and the ([a-z]+)",
                       header)
    assert named == [("2", "3", "client seed", "nonce")]
    assert [name.replace("_", " ") for name in Fairness._fields] == ["client seed", "nonce"]


async def test_the_packed_argument_splits_in_lua_into_its_fields(services: Services) -> None:
    """The split is draw.lua's own lines: args[i] is the i-th name of its header."""
    source = (LUA / "draw.lua").read_text()
    split = source[source.index("local args = {}"):source.index("local meta")]
    got = await services.redis.eval(split + "return args", 0, ARGS.pack())  # type: ignore[misc]
    assert [x.decode() for x in got] == [_wire(value) for value in ARGS]


def test_draw_lua_documents_each_reply_with_the_protocol_fields() -> None:
    header = _header("draw.lua")
    replies = {verdict: [n for n in rest.split(", ") if n]
               for verdict, rest in re.findall(r"\{'(\w+)',? ?([a-z_, ]*)\}",
                                               header[header.index("Reply"):])}
    assert replies.keys() == REPLY_TYPES.keys()
    for verdict, names in replies.items():
        assert names == _names(REPLY_TYPES[verdict]), verdict


def test_undo_lua_reads_the_undo_args_in_the_protocol_order() -> None:
    header = _header("undo.lua")
    lua = _numbered(header[header.index("ARGV"):])
    assert lua == _names(UndoArgs)
    args = UndoArgs(prize_id="prz_1", first_draw=True, idempotent=False, extra=True)
    assert args.pack() == [_wire(getattr(args, name)) for name in lua]
    assert UndoArgs(prize_id=None, first_draw=False, idempotent=True).pack() == [
        "", "0", "1", "0"]


@pytest.mark.parametrize(("raw", "reply"), [
    ([b"ok", b'{"outcome":"win"}', b"win", b"prz_1", 3, 1, b"5", b"0", b"1"],
     Drawn(body='{"outcome":"win"}', outcome="win", prize_id="prz_1", seq=3, total=1,
           entry_cost=5, extra=False, pity=True)),
    ([b"ok", b'{"outcome":"lose"}', b"lose", b"", 0, 12, b"0", b"1", b"0"],
     Drawn(body='{"outcome":"lose"}', outcome="lose", prize_id=None, seq=0, total=12,
           entry_cost=0, extra=True, pity=False)),
    ([b"replay", 'D|hash|{"name":"谢谢参与"}'.encode()],
     Replay(record='D|hash|{"name":"谢谢参与"}')),
    ([b"not_active", b"paused"], NotActive(status="paused")),
    ([b"rate", 17], Throttled(ttl=17)),
    ([b"check_record"], CheckRecord()),
    ([b"noprime"], NotPrimed()),
    ([b"seed"], SeedHoldings()),
    ([b"chances"], NeedChances()),
    ([b"pity"], NeedPity()),
    ([b"not_found"], UnknownCampaign()),
    ([b"limit"], LimitReached()),
])
def test_each_verdict_parses_to_its_typed_reply(raw: list[object], reply: DrawReply) -> None:
    assert parse_draw_reply(raw) == reply
    assert type(reply) is REPLY_TYPES[str(raw[0], "ascii")]  # type: ignore[arg-type]


def test_an_unknown_verdict_is_an_error_not_a_reply() -> None:
    with pytest.raises(ValueError, match="unknown verdict"):
        parse_draw_reply([b"maybe"])


async def test_a_draw_on_an_unprimed_campaign_answers_not_primed(services: Services) -> None:
    """The whole way: keys and args packed, the batch, the script, the reply parsed."""
    keys = DrawKeys.of("cmp_none", "mem_1", date(2026, 11, 23), None)
    reply = await scripts_for(services).run_draw(keys, ARGS, SEEDS)
    assert reply == NotPrimed()
