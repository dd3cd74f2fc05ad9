"""callkpi against the independent reference computations of tests/reference (issue 12).

For every real dataset (elastix-mx, asterisk-ru, freepbx-pt and its exports, FreeSWITCH CSV and
JSON, PBXware queue_log alone, CDR alone, both in either order) each figure is one test: the
number callkpi stores or reports, and the number tests/reference computes from the raw file
without callkpi's code. A figure callkpi gets wrong today is ``xfail(strict=True)`` with the
issue 12 item that explains it, so it turns into a failure (to be unmarked) once fixed.
Skipped when ../shared is absent.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from callkpi.config import PhoneSettings, Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store
from conftest import kpi_result, query_rows
from reference import datasets

pytestmark = pytest.mark.real

QUEUE_KPIS = ("calls_offered", "calls_answered", "calls_abandoned", "service_level", "asa_s")
CDR_FIGURES = ("calls", "calls_inbound", "calls_outbound", "calls_internal", "inbound_answered_by_agent",
               "calls_missed", "talk_s", "called_back", "callback_success")
FREESWITCH_FIGURES = ("calls", "answered_by_person", "talk_s")

# (dataset, figure) -> why callkpi differs from the reference today (none at present; a new entry is a
# strict xfail with its reason).
KNOWN: dict[tuple[str, str], str] = {}


# The sites' phone plans, as a user would set them ([phone] in callkpi.toml); the reference
# (tests/reference/datasets.py) compares the same national digits.
# elastix-mx: agents call mobiles back as "521" + 10 digits (Mexico's mobile prefix; callkpi's
# dial_prefix_suggested finding names it) and "7045" + number is a route prefix agents type.
PHONE = {
    "elastix-mx": {"country_code": "52", "national_length": 10,
                   "dial_prefixes": ["911911", "912912", "044", "045", "521", "7045"]},
    "asterisk-ru": {"country_code": "7", "national_prefix": "8", "national_length": 10},
    "freepbx-pt": {"country_code": "351", "national_length": 9},
    "pbxware": {"country_code": "1", "national_length": 10},
}


def settings_of(dataset: str) -> Settings:
    """The dataset's phone plan; ``dial_prefixes`` (issue 12 item 8, not a setting yet) is passed
    once PhoneSettings has that field."""
    phone = dict(next((v for k, v in PHONE.items() if dataset.startswith(k)), {}))
    if "dial_prefixes" not in PhoneSettings.model_fields:
        phone.pop("dial_prefixes", None)
    return Settings.model_validate({"phone": phone})


def require(path) -> None:
    if not path.is_file():
        pytest.skip(f"real data not found at {path}")


@cache
def callkpi_figures(dataset: str) -> dict[str, Any]:
    """Load the dataset's file(s) into a fresh store and read the figures the reference computes."""
    paths = _paths(dataset)
    store = Store(":memory:")
    try:
        for path in paths:
            load_file(store, path, settings_of(dataset), timezone=datasets.timezone_of(dataset))
        return _figures(store)
    finally:
        store.close()


def _paths(dataset: str) -> list:
    pbxware = datasets.REAL / "pbxware-us-2018"
    if dataset == "pbxware-both":
        return [pbxware / "queue_log", pbxware / "cdr.csv"]
    if dataset == "pbxware-both-cdr-first":
        return [pbxware / "cdr.csv", pbxware / "queue_log"]
    return [datasets.path_of(dataset)]


def _figures(store: Store) -> dict[str, Any]:
    metrics = ["calls_inbound", "calls_outbound", "calls_internal", "calls_missed", "callback_rate",
               "callback_success_rate", *QUEUE_KPIS, "acw_s", "aht_s", "att_s", "abandon_rate"]
    row = kpi_result(store, metrics=metrics).rows[0]
    one = query_rows(store, """
        SELECT count(*) AS calls, coalesce(sum(talk_s) FILTER (WHERE answered), 0) AS talk_s,
               count(*) FILTER (WHERE direction = 'inbound' AND answered AND agent IS NOT NULL)
                   AS inbound_answered_by_agent,
               count(*) FILTER (WHERE answered AND agent IS NOT NULL) AS answered_by_person
        FROM calls""")[0]
    missed = row["calls_missed"] or 0
    figures = {**row, **one, "talk_s": round(float(one["talk_s"]))}
    figures["called_back"] = round((row["callback_rate"] or 0) * missed)
    figures["callback_success"] = round((row["callback_success_rate"] or 0) * missed)
    return figures


def _reference(dataset: str) -> dict[str, Any]:
    name = "pbxware-both" if dataset.startswith("pbxware-both") else dataset
    summary = datasets.summary(name)
    by = summary.get("by_direction", {})
    for direction in ("inbound", "outbound", "internal"):
        summary[f"calls_{direction}"] = by.get(direction, 0)
    if "by_direction_outcome" in summary and "inbound_answered_by_agent" not in summary:
        summary["answered_by_person"] = sum(n for k, n in summary["by_direction_outcome"].items()
                                            if k.endswith("/agent"))
    summary["called_back"] = summary.get("called_back")
    return summary


def _cases() -> list:
    cases = [(d, f) for d in datasets.CDR_FILES for f in CDR_FIGURES]
    cases += [(d, f) for d in datasets.FREESWITCH_FILES for f in FREESWITCH_FIGURES]
    cases += [("pbxware-queue-log", f) for f in (*QUEUE_KPIS, "calls_abandoned", "acw_s")]
    cases += [(d, f) for d in ("pbxware-both", "pbxware-both-cdr-first") for f in (*QUEUE_KPIS, "calls")]
    params = []
    for dataset, figure in dict.fromkeys(cases):
        reason = KNOWN.get((dataset, figure))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(dataset, figure, marks=marks, id=f"{dataset}-{figure}"))
    return params


def _close(figure: str, actual: Any, expected: Any) -> bool:
    if figure == "acw_s":
        return actual is None  # the PBXware queue_log has no PAUSE: ACW is not recorded (item 1)
    if isinstance(expected, float) and actual is not None:
        return abs(actual - expected) <= 0.0005 * max(1.0, abs(expected))
    return actual == expected


@pytest.mark.parametrize(("dataset", "figure"), _cases())
def test_callkpi_equals_reference(dataset: str, figure: str) -> None:
    for path in _paths(dataset):
        require(path)
    expected = _reference(dataset).get(figure)
    actual = callkpi_figures(dataset).get(figure)
    assert _close(figure, actual, expected), f"callkpi {actual!r}, reference {expected!r}"
