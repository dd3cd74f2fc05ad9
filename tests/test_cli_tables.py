"""Tables at 80 columns and piped (issue 15, item 1): no identifier or number is ever cut, TSV when
the output is not a terminal, titles in headers (ids with --ids), durations as h:mm:ss.

The store holds transfers.queue_log and ring_no_answer.queue_log with the agents renamed to long
ids. By hand from those files: anna_petrova_senior_sales_lead answered 3 calls (talk 10, 85, 90 s:
mean 61.67 s = 0:01:02), boris_ivanov_junior_support 2 (talk 16, 80 s: mean 48 s = 0:00:48); sales
was offered 4 calls, support 2 (one abandoned).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from callkpi.cli import common, tables
from conftest import Cli, scenario_text, write_log

ANNA, BORIS = "anna_petrova_senior_sales_lead", "boris_ivanov_junior_support"
RENAMES = {"SIP/1001": f"SIP/{ANNA}", "SIP/1002": f"SIP/{BORIS}"}


def _renamed(name: str) -> str:
    text = scenario_text(name)
    for old, new in RENAMES.items():
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def module_cli(tmp_path_factory) -> Cli:
    return Cli(tmp_path_factory.mktemp("config") / "no-such-callkpi.toml")


@pytest.fixture(scope="module")
def db(tmp_path_factory, module_cli) -> Path:
    folder = tmp_path_factory.mktemp("tables")
    paths = [write_log(folder, _renamed(name), name) for name in ("transfers.queue_log", "ring_no_answer.queue_log")]
    path = folder / "t.duckdb"
    result = module_cli("ingest", "--db", path, "--tz", "UTC", *paths)
    assert result.exit_code == 0, result.output
    return path


def at_width(cli: Cli, width: int, *args: object):
    """Run a command with the CLI's consoles ``width`` columns wide, as on a terminal of that size."""
    from callkpi.cli.app import app

    consoles = [common.console, common.err_console]
    saved = [c._width for c in consoles]
    for c in consoles:
        c.width = width
    try:
        return cli.runner.invoke(app, [str(a) for a in args], env={**cli.env, "COLUMNS": str(width)},
                                 catch_exceptions=False)
    finally:
        for c, old in zip(consoles, saved, strict=True):
            c._width = old


def _lines_fit(text: str, width: int, whole: tuple[str, ...] = ()) -> None:
    """Every line of the tables fits (notes are prose, wrapped by the terminal), except a line that
    holds one of ``whole``: a value too long for the width once labelled, which is never cut."""
    too_long = [line for line in text.splitlines() if len(line) > width and not line.startswith("note:")
                and "Calls handled counts" not in line and not any(value in line for value in whole)]
    assert not too_long, too_long


def test_kpi_by_agent_at_80_columns_cuts_no_id(module_cli, db) -> None:
    result = at_width(module_cli, 80, "kpi", "--db", db, "--by", "agent", "--format", "table")
    assert result.exit_code == 0, result.output
    _lines_fit(result.stdout, 80)
    assert ANNA in result.stdout and BORIS in result.stdout
    assert "…" not in result.stdout
    # the default agent set: handling metrics by title, durations as h:mm:ss
    assert "Calls" in result.stdout and "handled" in result.stdout
    assert "0:01:02" in result.stdout and "0:00:48" in result.stdout


def test_kpi_by_agent_with_every_metric_is_split_and_repeats_the_agent(module_cli, db) -> None:
    result = at_width(module_cli, 80, "kpi", "--db", db, "--by", "agent", "--metrics", "all", "--format", "table",
                      "--ids")
    assert result.exit_code == 0, result.output
    _lines_fit(result.stdout, 80)
    assert "…" not in result.stdout
    parts = result.stdout.count(ANNA)
    assert parts > 1  # more than one table, each with the agent column
    assert result.stdout.count(BORIS) == parts
    for metric_id in ("calls_offered", "att_s", "calls_handled"):
        assert re.search(rf"\b{metric_id}\b", result.stdout)


def test_kpi_without_by_is_one_row_per_metric(module_cli, db) -> None:
    result = at_width(module_cli, 80, "kpi", "--db", db, "--metrics", "calls_offered,att_s,service_level",
                      "--format", "table")
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines()]
    offered = next(r for r in rows if "calls_offered" in r)
    assert offered[-1] == "6" and offered[:2] == ["Calls", "offered"]
    talk = next(r for r in rows if "att_s" in r)
    assert talk[-1] == "0:00:56"  # (10 + 85 + 90 + 16 + 80) / 5 = 56.2 s


def test_kpi_piped_is_tsv_with_raw_values(module_cli, db) -> None:
    result = module_cli("kpi", "--db", db, "--by", "agent", "--metrics", "calls_handled,att_s,avg_hold_s")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout), delimiter="\t"))
    assert list(rows[0]) == ["agent", "calls_handled", "att_s", "avg_hold_s"]
    by_agent = {r["agent"]: r for r in rows}
    assert set(by_agent) == {ANNA, BORIS}
    assert float(by_agent[ANNA]["att_s"]) == pytest.approx(185 / 3)
    assert by_agent[BORIS]["calls_handled"] == "2"
    assert by_agent[ANNA]["avg_hold_s"] == ""  # queue_log records no hold: empty, never 0


def test_kpi_shows_why_handled_exceeds_answered(module_cli, db) -> None:
    result = at_width(module_cli, 120, "kpi", "--db", db, "--metrics", "calls_handled,calls_answered",
                      "--format", "table")
    assert "outbound" in result.stdout and "Calls handled" in result.stdout


def test_findings_and_sources_at_80_columns_cut_no_kind_or_file(module_cli, db) -> None:
    sources = at_width(module_cli, 80, "sources", "--db", db, "--format", "table")
    assert sources.exit_code == 0, sources.output
    paths = tuple(str(p) for p in Path(db).parent.rglob("*.queue_log") if len(str(p)) > 80 - 16)
    _lines_fit(sources.stdout, 80, whole=paths)  # a temporary folder's path can itself be near 80 columns
    for name in ("transfers.queue_log", "ring_no_answer.queue_log"):
        assert name in sources.stdout
    assert "…" not in sources.stdout


def test_metrics_at_80_columns_keeps_every_id_whole(module_cli) -> None:
    from callkpi.metrics.catalogue import REGISTRY

    result = at_width(module_cli, 80, "metrics", "--format", "table", "--lang", "en")
    assert result.exit_code == 0
    words = set(re.findall(r"[a-z0-9_]+", result.stdout))
    missing = [m for m in REGISTRY.metrics if m not in words]
    assert not missing
    assert "…" not in result.stdout


def test_listing_too_wide_for_a_table_becomes_records() -> None:
    rows = [{"source": "/var/log/asterisk/queue_log.2026-03-02.gz", "kind": "session_started_from_logoff",
             "call_id": "1772442360.74", "agent": ANNA, "time_utc": "2026-03-02 09:05:00",
             "detail": "the session was opened from the logoff record because no login was found"}]
    out = io.StringIO()
    console = Console(file=out, width=80, color_system=None)
    assert tables.print_table(console, rows, list(rows[0]), "Findings", fmt="table") == "table"
    text = out.getvalue()
    _lines_fit(text.replace(rows[0]["detail"], ""), 80)
    for value in rows[0].values():
        assert value in text


def test_piped_console_gets_tsv_and_terminal_override_gets_a_table() -> None:
    rows = [{"queue": "sales", "calls_offered": 12345, "service_level": 0.5}]
    out = io.StringIO()
    console = Console(file=out, width=80, color_system=None)  # a StringIO is no terminal
    assert tables.print_table(console, rows, ["queue", "calls_offered", "service_level"]) == "tsv"
    assert out.getvalue() == "queue\tcalls_offered\tservice_level\nsales\t12345\t0.5\n"
    tables.set_terminal_output(True)
    try:
        out.seek(0)
        out.truncate()
        assert tables.print_table(console, rows, ["queue", "calls_offered", "service_level"]) == "table"
    finally:
        tables.set_terminal_output(None)
    assert "12 345" in out.getvalue() and "50.0 %" in out.getvalue() and "Service level" in out.getvalue()


@pytest.mark.parametrize(("seconds", "shown"), [(0, "0:00:00"), (59.4, "0:00:59"), (61.6, "0:01:02"),
                                                (3600, "1:00:00"), (90061, "25:01:01"), (-5, "-0:00:05")])
def test_durations_read_h_mm_ss(seconds: float, shown: str) -> None:
    assert tables.duration(seconds) == shown


def test_numbers_are_grouped_one_way() -> None:
    assert tables.cell("calls_offered", 1234567) == "1 234 567"
    assert tables.cell("revenue", 1234567.891) == "1 234 567.89"
    assert tables.cell("lines", 12000) == "12 000"
    assert tables.cell("line", 12000) == "12000"  # a position, not a quantity
    assert tables.cell("service_level", None) == "—"


def test_a_command_forwarded_from_a_terminal_prints_a_table(module_cli, db) -> None:
    """`callkpi serve` runs a forwarded command without a terminal; --terminal-output (added by the
    client when its output is one) makes it print the table the client's terminal would show."""
    forwarded = at_width(module_cli, 120, "--terminal-output", "kpi", "--db", db, "--metrics", "calls_offered")
    assert "Calls offered" in forwarded.stdout and "\t" not in forwarded.stdout
    after = module_cli("kpi", "--db", db, "--metrics", "calls_offered")  # the next command: piped again
    assert after.stdout == "calls_offered\n6\n"
