"""Phone-number normalisation: ``8 495 123-45-67``, ``+7 (495) 123 45 67`` and ``74951234567``
are one number. The same rules exist as SQL (for bulk loading) and as Python (for single
values); tests keep the two in step.
"""

from __future__ import annotations

import re

from callkpi.config import PhoneSettings

_NON_DIGITS = re.compile(r"\D")


def normalise(raw: str | None, settings: PhoneSettings) -> str | None:
    """Digits of the number in international form where the rules can tell, else its digits."""
    if raw is None:
        return None
    text = raw.strip()
    digits = _NON_DIGITS.sub("", text)
    if not digits:
        return None
    if text.startswith("+"):
        return digits
    if digits.startswith("00") and len(digits) > 6:
        return digits[2:]
    cc, prefix, length = settings.country_code, settings.national_prefix, settings.national_length
    digits = strip_dial_prefixes(digits, settings.dial_prefixes, length)
    if cc:
        if prefix and digits.startswith(prefix) and len(digits) == len(prefix) + length:
            return cc + digits[len(prefix) :]
        if len(digits) == length:
            return cc + digits
    return digits


def strip_dial_prefixes(digits: str, prefixes: list[str], national_length: int) -> str:
    """``digits`` without the dial prefixes it starts with, each tried once in the given order,
    as long as at least ``national_length`` digits remain (``9119110445540554516`` with
    911911 and 044 -> ``5540554516``)."""
    for dial_prefix in prefixes:
        if digits.startswith(dial_prefix) and len(digits) - len(dial_prefix) >= national_length:
            digits = digits[len(dial_prefix):]
    return digits


def sql_expression(column: str) -> str:
    """SQL twin of :func:`normalise`; needs the bound parameters of :func:`sql_params`."""
    raw_digits = f"regexp_replace(coalesce({column}, ''), '[^0-9]', '', 'g')"
    digits = (f"list_reduce(list_prepend({raw_digits}, $dp::VARCHAR[]), lambda acc, p: CASE WHEN starts_with(acc, p) "
              "AND length(acc) - length(p) >= $nl THEN substr(acc, length(p) + 1) ELSE acc END)")
    return f"""(CASE
        WHEN {raw_digits} = '' THEN NULL
        WHEN ltrim({column}) LIKE '+%' THEN {raw_digits}
        WHEN {raw_digits} LIKE '00%' AND length({raw_digits}) > 6 THEN substr({raw_digits}, 3)
        WHEN $cc <> '' AND $np <> '' AND starts_with({digits}, $np)
             AND length({digits}) = length($np) + $nl THEN $cc || substr({digits}, length($np) + 1)
        WHEN $cc <> '' AND length({digits}) = $nl THEN $cc || {digits}
        ELSE {digits} END)"""


def sql_params(settings: PhoneSettings) -> dict[str, object]:
    return {"cc": settings.country_code, "np": settings.national_prefix, "nl": settings.national_length,
            "dp": list(settings.dial_prefixes)}


def mask(number: str | None) -> str | None:
    """Hide the middle digits: ``74951234567`` -> ``7495****567``."""
    if not number:
        return number
    if len(number) <= 4:
        return "*" * len(number)
    keep_head = min(4, len(number) - 3)
    return number[:keep_head] + "*" * (len(number) - keep_head - 3) + number[-3:]
