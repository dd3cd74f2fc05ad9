"""Phone-number normalisation: the SQL used in bulk loads and the Python twin agree."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from callkpi import phone
from callkpi.config import PhoneSettings

RU = PhoneSettings(country_code="7", national_prefix="8", national_length=10)


def _sql(raw: str | None, rules: PhoneSettings) -> str | None:
    con = duckdb.connect()
    rows = con.execute(f"SELECT {phone.sql_expression('$raw')}", {**phone.sql_params(rules), "raw": raw}).fetchall()
    return rows[0][0]


def test_russian_shapes_are_one_number() -> None:
    shapes = ["8 (495) 123-45-67", "+7 495 123 45 67", "74951234567", "4951234567", "0074951234567"]
    assert {phone.normalise(s, RU) for s in shapes} == {"74951234567"}
    assert {_sql(s, RU) for s in shapes} == {"74951234567"}


def test_extensions_and_empty_values() -> None:
    assert phone.normalise("1127", RU) == "1127"
    assert phone.normalise("anonymous", RU) is None
    assert phone.normalise("", RU) is None
    assert _sql("anonymous", RU) is None


def test_mask_keeps_the_ends() -> None:
    assert phone.mask("74951234567") == "7495****567"
    assert phone.mask("112") == "***"


@settings(max_examples=200, deadline=None)
@given(
    raw=st.text(alphabet="0123456789+-() ", max_size=18),
    rules=st.sampled_from([RU, PhoneSettings(), PhoneSettings(country_code="1", national_prefix="1")]),
)
def test_sql_and_python_agree(raw: str, rules: PhoneSettings) -> None:
    assert _sql(raw, rules) == phone.normalise(raw, rules)
