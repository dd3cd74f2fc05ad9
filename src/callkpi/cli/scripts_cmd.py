"""`callkpi scripts ...`: call scripts per call type (export / import YAML) and one call's transcript
with the stages the agent did. Transcripts load with `callkpi ingest` (format ``transcripts``)."""

from __future__ import annotations

from pathlib import Path

import typer

from callkpi.analyses.stages_vs_deals import stages_vs_deals
from callkpi.cli.app import app
from callkpi.cli.command_words import say
from callkpi.cli.common import (
    ConfigOption,
    DbOption,
    TzOption,
    command_params,
    console,
    existing_db,
    fail,
    resolve_db,
    settings_for,
)
from callkpi.cli.words import t
from callkpi.ingest.transcripts import relink
from callkpi.queries.transcripts import call_transcript
from callkpi.report.render import print_table, to_json
from callkpi.speech.scripts import ScriptError, import_scripts, scripts_in_force, to_yaml
from callkpi.storage import Store

scripts_app = typer.Typer(help="Call scripts per call type and how transcripts follow them (docs/speech.md).",
                          no_args_is_help=True)
app.add_typer(scripts_app, name="scripts")


@scripts_app.command("export")
def export_command(
    db: Path | None = DbOption,
    output: Path | None = typer.Option(None, "--output", help="write the YAML to this file (default: print it)"),
    config: Path | None = ConfigOption,
) -> None:
    """Export the scripts in force (the shipped defaults until some are imported) as YAML."""
    settings_for(config)
    with Store(existing_db(db), read_only=True) as store:
        text = to_yaml(scripts_in_force(store))
    if output:
        output.write_text(text, encoding="utf-8")
        console.print(t("cli.wrote", path=output), markup=False)
    else:
        print(text, end="")


@scripts_app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="YAML file with a `scripts:` list"),
    db: Path | None = DbOption,
    user: str = typer.Option("cli", "--user", help="recorded as the author of the new versions"),
    config: Path | None = ConfigOption,
) -> None:
    """Import scripts from YAML (a changed script gets a new version) and check every transcript again."""
    settings = settings_for(config)
    if not file.is_file():
        fail(say("cli.scripts.no_file", path=file))
    with Store(resolve_db(db)) as store:
        try:
            with store.transaction():
                versions = import_scripts(store, file.read_text(encoding="utf-8"), user)
                relink(store, settings, recheck_all=True)
        except ScriptError as exc:
            fail(f"{file}: {exc}")
            raise
    for call_type, version in versions.items():
        console.print(say("cli.scripts.version", call_type=call_type, version=version), markup=False)


@scripts_app.command("show")
def show_command(
    call_id: str = typer.Argument(..., help="the call (its call id, or the id its transcript names)"),
    db: Path | None = DbOption,
    json_output: bool = typer.Option(False, "--json", help="the transcript as JSON"),
    config: Path | None = ConfigOption,
) -> None:
    """One call's transcript: who said what when, and the script stages the agent did (marked)."""
    settings_for(config)
    with Store(existing_db(db), read_only=True) as store:
        found = call_transcript(store, call_id)
    if found is None:
        fail(say("cli.scripts.no_transcript", call_id=call_id))
        raise typer.Exit(1)
    if json_output:
        print(to_json([found]))
        return
    done = [s["stage"] for s in found["stages"] if s["done"]]
    missed = [s["stage"] for s in found["stages"] if s["required"] and not s["done"]]
    console.print(say("cli.scripts.summary", call_type=found["call_type"] or "—", done=", ".join(done) or "—",
                      missed=", ".join(missed) or "—", forbidden=found["forbidden_said"] or 0),
                  markup=False, soft_wrap=True)
    for u in found["utterances"]:
        mark = f"  [{', '.join(u['stages'])}]" if u["stages"] else ""
        console.print(f"{u['start_s']:7.1f}s {u['speaker']:8} {u['text']}{mark}", markup=False, soft_wrap=True)


DEAL_COLUMNS = ("agent", "call_type", "stage", "won_calls", "won_completion", "other_calls", "other_completion",
                "difference")


@scripts_app.command("stages-vs-deals")
def deals_command(
    db: Path | None = DbOption,
    agent: list[str] | None = typer.Option(None, "--agent", help="only these agents (repeat or comma-separate)"),
    json_output: bool = typer.Option(False, "--json", help="the rows as JSON"),
    param: list[str] | None = typer.Option(None, "--param", help="NAME=VALUE, e.g. attribution_window_d=14"),
    tz: str | None = TzOption,
    config: Path | None = ConfigOption,
) -> None:
    """Per agent and script stage: completion on calls that led to a won deal vs on the other calls
    (agent * is every agent)."""
    agents = tuple(a.strip() for value in agent or () for a in value.split(",") if a.strip())
    with Store(existing_db(db), read_only=True) as store:
        params = command_params(settings_for(config), store.get_meta("timezone"), tz=tz, param=param)
        rows = stages_vs_deals(store, params, agents)
    if json_output:
        print(to_json(rows))
        return
    print_table(console, rows, DEAL_COLUMNS, title="Script stages on won-deal calls vs the others")
