"""Every top-level command: the module that registers it and the line `callkpi --help` shows.

`callkpi --help` lists the commands from here without importing their modules (which import the
metric engine, the statistics or the web stack); running a command imports only its module.
tests/test_cli_startup.py fails when this index and the registered commands disagree, and prints
the entries to paste.
"""

from __future__ import annotations

COMMANDS: dict[str, tuple[str, str]] = {
    "ingest": ("callkpi.cli.ingest_cmd", "Load phone-system records. Loading the same file again adds nothing; a "
               "file that grew adds only its new lines. Bad lines go to the quarantine and the rest still loads."),
    "quarantine": ("callkpi.cli.ingest_cmd",
                   "List the lines that could not be loaded, with file, line number and reason."),
    "findings": ("callkpi.cli.ingest_cmd",
                 "List data-quality findings: legs without an end, sessions taken from logoff records..."),
    "sources": ("callkpi.cli.ingest_cmd", "List what was loaded; `forget ID` removes a source."),
    "kpi": ("callkpi.cli.kpi_cmd", "Print KPIs. Rates are fractions in JSON/CSV/TSV, durations seconds, null "
            "where undefined."),
    "copy": ("callkpi.cli.copy_cmd", "Copy every table of a store to another (DuckDB <-> ClickHouse), in Arrow "
             "batches of bounded size."),
    "compact": ("callkpi.cli.compact_cmd", "Rewrite the store into a new file with only its live rows and the raw "
                "events in the order that compresses best, then put it in the old file's place (the file never "
                "shrinks by itself)."),
    "metrics": ("callkpi.cli.catalog_cmd",
                "List every metric: id, unit, formula, parameters, description (EN/RU)."),
    "simulate": ("callkpi.cli.simulate_cmd", "Simulate a sales contact centre: Asterisk queue_log and CDR, CRM "
                 "deals, surveys, QA, staff, costs, schedules, and the ground truth to check KPIs against."),
    "staffing": ("callkpi.cli.staffing_cmd", "Agents needed per interval beside the agents scheduled and "
                 "logged in."),
    "demo": ("callkpi.cli.demo_cmd", "Simulate a 30-agent contact centre, load its records and show the KPIs."),
    "missed": ("callkpi.cli.missed_cmd",
               "Missed calls not yet returned: number, how many times, first/last, queue or DID, age."),
    "sales": ("callkpi.cli.business_cmd", "Sales & money of a period: totals, whether its deals are still maturing "
              "(calls less than attribution_window_d before the data end, with the share of their deals still open), "
              "the agents with calls but no labour cost, and the deals by the day of their call (the cohort view)."),
    "training-effect": ("callkpi.cli.business_cmd", "Did training pay off? Trained agents before vs after, "
                        "against untrained agents over the same windows (difference in differences): effect, "
                        "95 % confidence interval, p-value, sample sizes and a verdict in words (\"not enough "
                        "data\" when it is so)."),
    "scorecard": ("callkpi.cli.business_cmd", "One agent on one page: calls, handling, missed calls and "
                  "callbacks, sales and money, CSAT/NPS, quality, adherence, tenure and trainings, with the team "
                  "beside (counts per team agent)."),
    "survey-list": ("callkpi.cli.business_cmd", "The customers an auto-dial survey campaign should call, as a CSV "
                    "a dialer accepts: one number per line with the call it follows up. Load the answers back "
                    "with `callkpi ingest` (a survey file with call_id, survey_type, score)."),
    "relink": ("callkpi.cli.business_cmd", "Redo what joins business data to calls (deal attribution, survey "
               "matching, agent names and teams, headcount days, adherence, cost allocation): run it after "
               "loading calls that arrived after the deals, surveys, costs or schedules that concern them."),
    "qa": ("callkpi.cli.qa_cmd", "Call quality: scorecards, the review sample, reviews and QA reports (docs/qa.md)."),
    "transcribe": ("callkpi.cli.transcribe_cmd", "Transcribe call recordings into the callkpi transcript layout."),
    "scripts": ("callkpi.cli.scripts_cmd", "Call scripts per call type and how transcripts follow them "
                "(docs/speech.md)."),
    "serve": ("callkpi.cli.serve_cmd", "Run the web dashboard and the REST API (/api/v1, docs at /docs)."),
    "user": ("callkpi.cli.serve_cmd", "Dashboard and API users."),
    "token": ("callkpi.cli.serve_cmd", "API tokens."),
    "alerts": ("callkpi.cli.alerts_cmd", "Alerts: KPIs beyond their targets' warning levels."),
    "schedule": ("callkpi.cli.schedule_cmd", "Reports e-mailed on a schedule."),
}

# Every command module, in the order they register (also the fallback for a name the index lacks).
MODULES: tuple[str, ...] = tuple(dict.fromkeys(module for module, _ in COMMANDS.values()))
