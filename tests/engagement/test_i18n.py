"""Every text of the member pages has its English translation (the house rule behind
`make messages`), and the catalog loads from the repository as it is."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from engagement.kit.i18n import LOCALE_DIR, gettext, translations, use_locale
from engagement.kit.web import ROOT

METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _source_texts() -> set[str]:
    texts: set[str] = set()
    for package in ("engagement", "games", "referrals"):
        for _, _, message, _, _ in extract_from_dir(
                str(ROOT / package), METHODS, keywords=KEYWORDS,
                options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
            texts.add(message if isinstance(message, str) else message[0])
    return texts


def test_every_text_has_an_english_translation() -> None:
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="en")
    # A plural entry (ngettext) counts by its singular, as the sources are collected.
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m.string
                  for m in catalog if m.id and m.string and all(m.string) and not m.fuzzy}
    texts = _source_texts()
    assert len(texts) > 100
    missing = sorted(t for t in texts if t not in translated)
    assert missing == [], f"run `make messages` and translate: {missing}"
    for msgid, msgstr in translated.items():
        assert re.findall(r"\{\w+\}", msgid) == re.findall(r"\{\w+\}", str(msgstr)), msgid


def test_the_catalog_compiles_in_memory() -> None:
    assert translations("en").gettext("我的券") == "My coupons"
    with use_locale("en"):
        assert gettext("奖品与中奖概率") == "Prizes and odds"
    assert gettext("奖品与中奖概率") == "奖品与中奖概率"
    assert not list(Path(LOCALE_DIR).rglob("*.mo")), "catalogs compile at run time"
