"""Money cells as CRM and spreadsheet exports write them, read by hand-known values."""

from __future__ import annotations

import pytest

from callkpi.ingest.business.rows import RowError
from callkpi.ingest.business.values import currency_of, parse_amount


@pytest.mark.parametrize(
    ("cell", "decimal", "expected"),
    [
        ("1 234,56", "auto", 1234.56),
        ("1,234.56", "auto", 1234.56),
        ("12 500 ₽", "auto", 12500.0),
        ("1.234.567", "auto", 1234567.0),
        ("1234,5", ",", 1234.5),
        ("1.234,5", ",", 1234.5),
        ("1,234.5", ".", 1234.5),
        ("-15", "auto", -15.0),
    ],
)
def test_amounts_read_as_written(cell: str, decimal: str, expected: float) -> None:
    assert parse_amount(cell, decimal) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("cell", "decimal"), [("1234.56234.56", "."), ("12,34,5", ","), ("abc", "auto"), ("1-2", "auto")]
)
def test_separators_that_fit_no_grouping_are_a_row_error(cell: str, decimal: str) -> None:
    with pytest.raises(RowError, match="not a number"):
        parse_amount(cell, decimal)


def test_empty_cells_are_no_amount_and_the_currency_is_read_from_the_cell() -> None:
    assert parse_amount("  ", "auto") is None
    assert currency_of("12 500 ₽") == "RUB"
    assert currency_of("1500") is None
