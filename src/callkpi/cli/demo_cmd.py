"""`callkpi demo`: the main job on simulated data, in one command."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import typer
from rich.markup import escape

from callkpi.cli.app import app
from callkpi.cli.command_words import counted, say
from callkpi.cli.common import check_port, console, err_console
from callkpi.report import language

DEMO_SETTINGS = """\
# Settings of the demo: a Moscow contact centre with Russian numbers.
[params]
timezone = "Europe/Moscow"

[phone]
country_code = "7"
national_prefix = "8"
national_length = 10
"""

REPORTS = (
    ("cli.demo.whole", ["--metrics", "calls_offered,calls_answered,answer_rate,service_level,asa_s,"
                      "abandon_rate,calls_missed,missed_unreturned,fcr_rate,aht_s,occupancy,calls_handled"]),
    ("cli.demo.by_queue", ["--by", "queue", "--metrics", "calls_offered,answer_rate,service_level,asa_s,abandon_rate"]),
    ("cli.demo.by_agent", ["--by", "agent", "--metrics", "calls_handled,att_s,acw_s,aht_s,utilization,calls_per_hour"]),
    ("cli.demo.speech", ["--by", "agent", "--metrics", "transcripts,script_adherence,stage_completion,"
                                    "forbidden_phrase_rate,agent_talk_share,interruptions_per_call"]),
    ("cli.demo.stages", ["--by", "script_stage", "--metrics", "stage_completion"]),
)
# Transcripts of this share of the handled calls: loading checks each against its script, about 15 calls
# a second, so the demo keeps to a few thousand.
DEMO_TRANSCRIPT_SHARE = 0.05


def _callkpi(*args: str) -> int:
    """Run a callkpi command in the language of this one."""
    return subprocess.call([sys.executable, "-m", "callkpi", "--lang", language.language(), *args])


@app.command()
def demo(
    directory: Path = typer.Option(Path("demo-data"), "--dir", help="where the simulated records and database go"),
    days: int = typer.Option(30, help="days to simulate"),
    seed: int = typer.Option(1, help="random seed (the same seed gives the same records)"),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="open the web dashboard afterwards"),
    port: int = typer.Option(8000, "--port", help="port of the dashboard on 127.0.0.1"),
    transcripts: bool = typer.Option(True, "--transcripts/--no-transcripts",
                                     help="simulate call transcripts too and show the script KPIs"),
    lang: str = typer.Option("ru", "--lang", help="language of the simulated transcripts: ru, en or mixed"),
) -> None:
    """Simulate a 30-agent contact centre, load its records and show the KPIs.

    The default scenario starts with 30 agents; over the 30 days 2 leave and 2 are hired (32 agents),
    and the agent report also lists the 3 extensions calls are transferred to (2001, 2002, 2005).
    With --serve (the default) the dashboard then runs on 127.0.0.1:--port; a port in use is said
    before anything is created."""
    if serve:
        check_port("127.0.0.1", port)
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "callkpi.toml"
    config.write_text(DEMO_SETTINGS, encoding="utf-8")
    db = directory / "callkpi.duckdb"
    if not (directory / "queue_log").exists():
        shown_days = counted("cli.n_days", days) if language.russian() else f"{days} days"
        console.print(say("cli.demo.simulating", days=f"[bold]{shown_days}[/]", folder=escape(str(directory)))
                      .replace("Simulating", "[bold]Simulating[/]", 1))
        if _callkpi("simulate", "--out", str(directory), "--days", str(days), "--seed", str(seed),
                    *(["--transcripts", "--lang", lang, "--transcript-share", str(DEMO_TRANSCRIPT_SHARE)]
                      if transcripts else ["--no-transcripts"])) != 0:
            err_console.print(say("cli.demo.failed"))
            raise typer.Exit(2)
    files = [p for p in sorted(directory.iterdir()) if p.is_file() and _loadable(p)]
    console.print(say("cli.demo.loading", files=escape(", ".join(p.name for p in files))))
    status = _callkpi("ingest", "--db", str(db), "--config", str(config), "--tz", "Europe/Moscow", *map(str, files))
    if status == 2:
        raise typer.Exit(2)
    for title, args in REPORTS:
        console.rule(say(title))
        _callkpi("kpi", "--db", str(db), "--config", str(config), *args)
    language_option = " --lang ru" if language.russian() else ""
    console.print("\n" + say("cli.demo.try", db=db, command=f"{callkpi_command()}{language_option} kpi --db {db} "
                                                          f"--by agent,day --config {config}"), markup=False)
    if serve and importlib.util.find_spec("callkpi.cli.serve_cmd") is not None:
        console.print(say("cli.demo.dashboard", port=port))
        _callkpi("serve", "--db", str(db), "--config", str(config), "--port", str(port))


def callkpi_command() -> str:
    """How to run callkpi from here as typed: ``callkpi`` when that is on PATH and this one, else the
    program of this interpreter's environment (``.venv/bin/callkpi``), else ``python -m callkpi``."""
    here = Path(sys.executable).parent / "callkpi"
    found = shutil.which("callkpi")
    if found and here.exists() and Path(found).resolve() == here.resolve():
        return "callkpi"
    if here.exists():
        try:
            return os.path.relpath(here) if not os.path.relpath(here).startswith("..") else str(here)
        except ValueError:  # another drive
            return str(here)
    return f"{sys.executable} -m callkpi"


def _loadable(path: Path) -> bool:
    """Files of the simulated folder that a registered importer recognises."""
    from callkpi.ingest.base import ImportError_
    from callkpi.ingest.formats import detect

    if path.name.startswith("transcripts-") and path.suffix == ".json":
        return True
    if path.suffix in (".duckdb", ".wal", ".toml", ".json", ".gz") or path.name.startswith("truth_"):
        return False
    try:
        detect(path)
    except (ImportError_, OSError):
        return False
    return True
