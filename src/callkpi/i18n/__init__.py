"""English and Russian for every surface: gettext catalogues, CLDR plurals, numbers and dates.

The catalogues are ``src/callkpi/locale/{en,ru}/LC_MESSAGES/callkpi.po``, keyed by a stable id (the
msgid is the key the code passes, e.g. ``"overview"``; the English catalogue holds the English text,
the Russian one the Russian). ``./dev i18n`` writes them from the string tables in the code and
compiles them to ``.mo``; when a ``.mo`` is missing or older than its ``.po`` (``pip install .`` ships
the ``.po``), the ``.po`` is compiled in memory on first use.

This is a layer-0 module: the CLI and the web both import it, and it imports nothing of callkpi.
Babel is imported only when a number, date or catalogue is first needed, so start-up stays light.
"""

from __future__ import annotations

import functools
import gettext
import math
import os
from collections.abc import Callable, Mapping
from datetime import date
from functools import cache
from io import BytesIO
from pathlib import Path

LANGS = ("en", "ru")
DEFAULT_LANG = "en"
DOMAIN = "callkpi"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
MINUS = "\u2212"
NBSP = "\u00a0"
_DATE_PATTERNS = {"en": "d MMM y", "ru": "dd.MM.y"}
_DAY_MONTH_PATTERNS = {"en": "d MMM", "ru": "dd.MM"}


def pick_lang(value: str | None) -> str:
    """``value`` when it is a language callkpi speaks, else English; ``ru_RU.UTF-8`` counts as ``ru``."""
    if not value:
        return DEFAULT_LANG
    short = value.replace("-", "_").split("_")[0].split(".")[0].lower()
    return short if short in LANGS else DEFAULT_LANG


def lang_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The language of the user's locale, the way gettext reads it (LANGUAGE, LC_ALL, LC_MESSAGES, LANG)."""
    env = os.environ if environ is None else environ
    for name in ("CALLKPI_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            return pick_lang(value.split(":")[0])
    return DEFAULT_LANG


def cli_lang(option: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The CLI's language: ``--lang`` when given, otherwise the locale (``LANG=ru_RU.UTF-8`` gives ``ru``)."""
    return pick_lang(option) if option else lang_from_env(environ)


# -- catalogues ---------------------------------------------------------------------------------
class _Missing(gettext.NullTranslations):
    """The last fallback: says "not in the catalogue" instead of echoing the key."""

    def gettext(self, message: str) -> str:  # type: ignore[override]
        return None  # type: ignore[return-value]

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:  # type: ignore[override]
        return None  # type: ignore[return-value]


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> gettext.GNUTranslations | gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (the ``.mo`` when it is current, else the ``.po`` compiled in memory)."""
    po = po_path(pick_lang(lang))
    mo = po.with_suffix(".mo")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            found: gettext.NullTranslations = gettext.GNUTranslations(handle)
    elif po.exists():
        found = gettext.GNUTranslations(BytesIO(compile_po(po)))
    else:
        found = gettext.NullTranslations()
    found.add_fallback(_Missing())
    return found


def compile_po(po: Path) -> bytes:
    """The ``.mo`` bytes of a ``.po`` file (Babel's reader and writer, as ``pybabel compile`` does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalog = read_po(handle)
    out = BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def lookup(key: str, lang: str) -> str | None:
    """The catalogue's text for ``key``, or None when the catalogue does not have it."""
    return translations(pick_lang(lang)).gettext(key)


def translate(key: str, lang: str, default: str | None = None,
              table: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The text of ``key`` in ``lang``: the catalogue's, else ``default``, else the key itself.

    With the string ``table`` the key comes from (``key: (english, russian)``), English is read
    from the table (no catalogue opened, no Babel: the CLI's default start-up stays light) and
    the table answers for a key added in code before ``./dev i18n`` put it in the catalogue."""
    pair = table.get(key) if table is not None else None
    lang = pick_lang(lang)
    if pair is not None and lang == DEFAULT_LANG:
        return pair[0]
    found = lookup(key, lang)
    if found is not None:
        return found
    if pair is not None:
        return pair[LANGS.index(lang)]
    return key if default is None else default


Plurals = Mapping[str, Mapping[str, tuple[str, ...]]]


def ngettext(key: str, n: int | float, lang: str, table: Plurals | None = None,
             number: Callable[[int | float], str] | None = None) -> str:
    """The plural form of ``key`` for ``n`` by CLDR rules, with ``{n}`` replaced by the formatted number.

    ``ngettext("n_calls", 5, "ru")`` -> ``"5 звонков"``; the catalogue entry has msgid ``key`` and
    msgid_plural ``key`` (keyed catalogue) and the forms the language needs (English 2, Russian 3).
    ``table`` (``key: {"en": (one, other), "ru": (one, few, many)}``) is read as :func:`translate`
    reads a string table; ``number`` formats the count (default: :func:`format_number`).
    """
    count = int(n) if float(n).is_integer() else n
    lang = pick_lang(lang)
    forms = table.get(key) if table is not None else None
    text: str | None = None
    if forms is not None and lang == DEFAULT_LANG:
        text = forms["en"][_plural_index(count, lang)]
    elif isinstance(count, int):
        text = translations(lang).ngettext(key, key, count)
    else:  # CLDR: a fraction takes the "other" form, which gettext's Russian rule puts in the genitive singular
        text = translations(lang).ngettext(key, key, 2 if lang == "ru" else 0)
    if text is None and forms is not None:  # added in code, catalogue not rebuilt yet
        text = forms[lang][_plural_index(count, lang)]
    shown = number(n) if number is not None else format_number(n, 0 if isinstance(count, int) else 1, lang)
    return (text if text is not None else key).replace("{n}", shown)


def _plural_index(n: int | float, lang: str) -> int:
    """The form of a counted noun, as the catalogue's plural rule picks it (English 2 forms, Russian 3)."""
    if not isinstance(n, int):
        return 1
    if lang != "ru":
        return 0 if n == 1 else 1
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


# -- numbers and dates --------------------------------------------------------------------------
def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_number(value: float | int | None, decimals: int, lang: str) -> str:
    """Grouped digits by CLDR (``12,345.6`` / ``12 345,6``), a true minus sign, ``—`` for no value."""
    if _missing(value):
        return "—"
    return _grouped(value, decimals, lang)  # type: ignore[arg-type]


@functools.lru_cache(maxsize=65536)
def _grouped(value: float | int, decimals: int, lang: str) -> str:
    """:func:`format_number` of a value (memoised: Babel's formatting is the slowest part of a page)."""
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    text = format_decimal(value, format=pattern, locale=pick_lang(lang))
    text = text.replace("\u202f", NBSP)  # one kind of space inside numbers, whatever the CLDR version
    if text.startswith("-"):
        text = MINUS + text[1:]
        if text[1:].strip("0,.\u00a0") == "":  # -0.0 rounds to zero: no sign
            text = text[1:]
    return text


def format_percent(fraction: float | None, decimals: int, lang: str) -> str:
    """``0.805`` -> ``80.5 %`` / ``80,5 %`` (a no-break space before the sign in both languages)."""
    if _missing(fraction):
        return "—"
    return f"{format_number(fraction * 100, decimals, lang)}{NBSP}%"  # type: ignore[operator]


def format_date(value: date, lang: str) -> str:
    """``31 Mar 2026`` / ``31.03.2026``."""
    from babel.dates import format_date as babel_date

    return babel_date(value, _DATE_PATTERNS[pick_lang(lang)], locale=pick_lang(lang))


def format_day_month(value: date, lang: str) -> str:
    """``31 Mar`` / ``31.03``."""
    from babel.dates import format_date as babel_date

    return babel_date(value, _DAY_MONTH_PATTERNS[pick_lang(lang)], locale=pick_lang(lang))


@cache
def weekday_names(lang: str) -> tuple[str, ...]:
    """Monday first, abbreviated: ``Mon`` / ``Пн``."""
    from babel.dates import get_day_names

    names = get_day_names("abbreviated", locale=pick_lang(lang))
    return tuple(names[i][:1].upper() + names[i][1:].rstrip(".") for i in range(7))
