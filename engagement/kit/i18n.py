"""Member pages speak zh-CN first and English on request (``?lang=en``, then a cookie).

Chinese is the source language: templates are written in Chinese and the English catalog
(``locale/en/LC_MESSAGES/messages.po``) translates them. The catalog is compiled in memory
when first used, so a fresh clone needs no build step and no compiled files are committed.
Refresh it after changing texts with ``make messages``.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

from engagement.kit.constants import LANG_COOKIE

DEFAULT_LOCALE = "zh-CN"
LOCALES = {"zh-CN": "中文", "en": "English"}
LOCALE_DIR = Path(__file__).parent.parent / "locale"
DOMAIN = "messages"

_current: ContextVar[_gettext.NullTranslations | None] = ContextVar("translations", default=None)
_SOURCE = _gettext.NullTranslations()  # the source language needs no catalog


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> _gettext.NullTranslations:
    if locale == DEFAULT_LOCALE:
        return _gettext.NullTranslations()
    po = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries stay out, as with pybabel compile
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def normalise(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value in LOCALES:
        return value
    if value.lower().startswith("zh"):
        return "zh-CN"
    if value.lower().startswith("en"):
        return "en"
    return None


def choose_locale(request: Request) -> tuple[str, bool]:
    """The page's locale, and whether it was chosen just now (to be remembered)."""
    asked = normalise(request.query_params.get("lang"))
    if asked is not None:
        return asked, True
    return normalise(request.cookies.get(LANG_COOKIE)) or DEFAULT_LOCALE, False


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(translations(locale))
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return (_current.get() or _SOURCE).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return (_current.get() or _SOURCE).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a text for extraction; it is translated where it is shown."""
    return message


def install(env: jinja2.Environment) -> None:
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True)


def lang_url(request: Request, locale: str) -> str:
    """This page in another language (a relative URL: no host to trust)."""
    params = dict(request.query_params)
    params["lang"] = locale
    return f"{request.url.path}?{urlencode(params)}"
