"""Currencies as business files write them: a mark in an amount cell or header (``12 500 ₽``,
``Бюджет, ₽``) or a name in a currency column (``Российский рубль``), read as ISO 4217 codes."""

from __future__ import annotations

import re

_CURRENCY_MARKS = {"₽": "RUB", "руб": "RUB", "р.": "RUB", "rub": "RUB", "$": "USD", "usd": "USD",
                   "€": "EUR", "eur": "EUR", "£": "GBP", "gbp": "GBP", "₸": "KZT", "kzt": "KZT"}


CURRENCY_TEXT = re.compile(r"(₽|руб\.?|р\.|rub|usd|eur|gbp|kzt|\$|€|£|₸)", re.IGNORECASE)


def currency_of(value: object) -> str | None:
    """The currency written into an amount cell (``12 500 ₽`` -> RUB), if any."""
    if not isinstance(value, str):
        return None
    match = CURRENCY_TEXT.search(value)
    return _CURRENCY_MARKS.get(match.group(1).lower()) if match else None


# Currency names as CRMs write them in a currency column (Bitrix24: "Российский рубль"), by ISO code.
_CURRENCY_NAMES = {"рубль": "RUB", "российский рубль": "RUB", "рубли": "RUB", "руб": "RUB", "руб.": "RUB",
                   "₽": "RUB", "rur": "RUB", "доллар": "USD", "доллар сша": "USD", "us dollar": "USD", "$": "USD",
                   "евро": "EUR", "euro": "EUR", "€": "EUR", "тенге": "KZT", "казахстанский тенге": "KZT",
                   "белорусский рубль": "BYN", "гривна": "UAH", "фунт стерлингов": "GBP", "£": "GBP"}


def normalise_currency(value: str | None) -> str | None:
    """A currency cell as an ISO 4217 code: ``RUB``, ``rub``, ``Российский рубль``, ``₽`` -> RUB; a
    three-letter code as written (upper case); other text unchanged (None for an empty cell)."""
    if value is None or not value.strip():
        return None
    text = " ".join(value.strip().split())
    if re.fullmatch(r"[A-Za-z]{3}", text):
        return "RUB" if text.upper() == "RUR" else text.upper()
    return _CURRENCY_NAMES.get(text.casefold(), text)
