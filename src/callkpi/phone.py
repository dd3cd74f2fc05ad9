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
    if cc:
        if prefix and digits.startswith(prefix) and len(digits) == len(prefix) + length:
            return cc + digits[len(prefix) :]
        if len(digits) == length:
            return cc + digits
    return digits


def sql_expression(column: str) -> str:
    """SQL twin of :func:`normalise`; needs the bound parameters ``$cc``, ``$np`` and ``$nl``."""
    digits = f"regexp_replace(coalesce({column}, ''), '[^0-9]', '', 'g')"
    return f"""(CASE
        WHEN {digits} = '' THEN NULL
        WHEN ltrim({column}) LIKE '+%' THEN {digits}
        WHEN {digits} LIKE '00%' AND length({digits}) > 6 THEN substr({digits}, 3)
        WHEN $cc <> '' AND $np <> '' AND starts_with({digits}, $np)
             AND length({digits}) = length($np) + $nl THEN $cc || substr({digits}, length($np) + 1)
        WHEN $cc <> '' AND length({digits}) = $nl THEN $cc || {digits}
        ELSE {digits} END)"""


def sql_params(settings: PhoneSettings) -> dict[str, object]:
    return {"cc": settings.country_code, "np": settings.national_prefix, "nl": settings.national_length}


def mask(number: str | None) -> str | None:
    """Hide the middle digits: ``74951234567`` -> ``7495****567``."""
    if not number:
        return number
    if len(number) <= 4:
        return "*" * len(number)
    keep_head = min(4, len(number) - 3)
    return number[:keep_head] + "*" * (len(number) - keep_head - 3) + number[-3:]
