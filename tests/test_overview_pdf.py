"""The overview PDF's table of cards: a previous period without data reads "—", not "0" and a change
of "+30,960" against nothing."""

from __future__ import annotations

import io
from datetime import date

from callkpi.config import MetricParams
from callkpi.queries.targets import Targets
from callkpi.web.features.overview_pdf import overview_pdf, period_has_data
from callkpi.web.i18n import Locale
from callkpi.web.kpi import Period
from callkpi.web.tables import KpiTable

METRICS = ("calls_offered", "calls_handled", "answer_rate")
PERIOD = Period(date(2026, 3, 2), date(2026, 3, 8))


def pdf_text(previous: dict[str, object]) -> str:
    from pypdf import PdfReader

    current = {"calls_offered": 30960, "calls_handled": 29000, "answer_rate": 0.9367}
    empty = KpiTable("queues", ("queue",), METRICS, [], [], MetricParams())
    content = overview_pdf(Locale("en"), PERIOD, (), METRICS, current, previous, empty, Targets([]), [])
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def test_a_previous_period_without_calls_reads_a_dash_for_value_and_change() -> None:
    text = pdf_text({"calls_offered": 0, "calls_handled": 0, "answer_rate": None})
    assert "Calls offered 30,960 — —" in text, text[:800]
    assert "+30,960" not in text and "Calls offered 30,960 0" not in text


def test_a_previous_period_with_calls_shows_its_values_and_the_change() -> None:
    text = pdf_text({"calls_offered": 30000, "calls_handled": 28000, "answer_rate": 0.9333})
    assert "Calls offered 30,960 30,000 +960" in text, text[:800]  # 30 960 - 30 000


def test_a_period_has_data_when_one_of_its_counts_is_above_zero() -> None:
    assert not period_has_data(METRICS, {})
    assert not period_has_data(METRICS, {"calls_offered": 0, "calls_handled": 0, "answer_rate": None})
    assert period_has_data(METRICS, {"calls_offered": 0, "calls_handled": 1})


def test_money_is_shown_with_its_currency() -> None:
    from pypdf import PdfReader

    metrics = ("calls_handled", "revenue")
    empty = KpiTable("queues", ("queue",), metrics, [], [], MetricParams())
    content = overview_pdf(Locale("en", currency="RUB"), PERIOD, (), metrics, {"calls_handled": 4, "revenue": 37000.0},
                           {"calls_handled": 2, "revenue": 10000.0}, empty, Targets([]), [])
    text = " ".join("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())
    assert "Revenue 37,000.00 RUB 10,000.00 RUB" in text, text[:800]
    assert "Calls handled 4 2" in text  # counts carry no currency
