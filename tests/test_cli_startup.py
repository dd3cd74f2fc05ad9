"""Start-up, --version, completion and help text (issue 15, items 2-4).

How long start-up takes is measured by bench/startup.py, not here; these tests check what makes it
short: `callkpi --help` imports no command module and `callkpi kpi` none of the statistics or web
libraries. And the messages a user meets first: a misspelt zone, metric or date.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version

import pytest

from callkpi.cli import _register_commands
from callkpi.cli.app import app, reflow
from callkpi.cli.index import COMMANDS, MODULES
from conftest import Cli, scenario_text, write_log

HEAVY = ("scipy", "statsmodels", "pandas", "fastapi", "uvicorn", "starlette", "reportlab")

PROBE = """
import json, sys
from callkpi.cli import main
sys.argv = ["callkpi", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def _modules_after(*argv: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(argv))], capture_output=True, text=True,
                          timeout=300, check=False, env={"COLUMNS": "80", "PATH": "",
                                                                      "PYTHONPATH": os.pathsep.join(sys.path)})
    line = next(line for line in done.stdout.splitlines() if line.startswith("MODULES "))
    modules = json.loads(line.removeprefix("MODULES "))
    return {name.split(".")[0] for name in modules} | set(modules)


def test_help_imports_no_command_module_nor_heavy_library() -> None:
    modules = _modules_after("--help")
    assert not [m for m in HEAVY if m in modules]
    assert not {"ibis", "duckdb", "pyarrow", "numpy", "pydantic"} & modules
    assert "rich.markdown" not in modules  # plain help: no Markdown renderer
    assert not [m for m in MODULES if m in modules]


def test_kpi_imports_only_its_own_module_and_no_statistics_or_web(tmp_path) -> None:
    modules = _modules_after("kpi", "--db", str(tmp_path / "missing.duckdb"))
    assert not [m for m in HEAVY if m in modules]
    assert "callkpi.cli.kpi_cmd" in modules
    assert not [m for m in MODULES if m in modules and m != "callkpi.cli.kpi_cmd"]


REGISTRATIONS = """
import importlib, json, typer
from callkpi.cli.app import app
from callkpi.cli.index import MODULES
seen = {}
for module in MODULES:
    importlib.import_module(module)
    for name in typer.main.get_command(app).commands:
        seen.setdefault(name, module)
print(json.dumps(seen))
"""


def test_index_names_every_command_its_module_and_summary() -> None:
    done = subprocess.run([sys.executable, "-c", REGISTRATIONS], capture_output=True, text=True, timeout=300,
                          check=True)
    registered = json.loads(done.stdout)
    _register_commands()
    commands = typer_commands()
    expected = {name: (registered[name], (reflow(commands[name].help) or "").split("\n\n")[0])
                for name in registered}
    assert {name: COMMANDS.get(name) for name in registered} == expected, (
        "update callkpi/cli/index.py: " + json.dumps(expected, ensure_ascii=False, indent=1))
    assert set(COMMANDS) == set(registered)


def typer_commands() -> dict:
    import typer

    return typer.main.get_command(app).commands  # type: ignore[attr-defined]


def _walk(command, path="callkpi"):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, f"{path} {name}")


def test_help_has_no_hard_line_breaks_in_sentences() -> None:
    import typer

    _register_commands()
    for path, command in _walk(typer.main.get_command(app)):
        for paragraph in (command.help or "").split("\n\n"):
            lines = paragraph.split("\n")
            assert all(line.lstrip().startswith(("-", "*", "•")) for line in lines[1:]), (path, paragraph)


@pytest.mark.parametrize("argv", [["--help"], ["kpi", "--help"], ["serve", "--help"], ["sources", "--help"],
                                  ["qa", "sample", "--help"]])
def test_help_shows_no_type_noise(argv) -> None:
    from typer.testing import CliRunner

    _register_commands()

    result = CliRunner().invoke(app, argv, env={"COLUMNS": "80", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    for noise in ("<bool>", "<str>", "<int>", "<path>", "list["):
        assert noise not in result.stdout, (argv, noise)


def test_version_and_completion() -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"callkpi {version('callkpi')}"
    listed = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert "--install-completion" in listed.stdout and "--show-completion" in listed.stdout
    for words, expected in (("callkpi kp", "kpi"), ("callkpi kpi --for", "--format")):
        completed = subprocess.run([sys.executable, "-m", "callkpi"], capture_output=True, text=True, timeout=300,
                                   check=False, env={"_CALLKPI_COMPLETE": "complete_bash", "COMP_WORDS": words,
                                                     "COMP_CWORD": str(words.count(" ")), "PATH": ""})
        assert completed.stdout.split() == [expected], completed.stderr


# -- messages ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def module_cli(tmp_path_factory) -> Cli:
    return Cli(tmp_path_factory.mktemp("config") / "no-such-callkpi.toml")


@pytest.fixture(scope="module")
def db(tmp_path_factory, module_cli):
    folder = tmp_path_factory.mktemp("messages")
    path = folder / "m.duckdb"
    log = write_log(folder, scenario_text("answered.queue_log"), "answered.queue_log")  # 2026-03-02 UTC
    assert module_cli("ingest", "--db", path, "--tz", "UTC", log).exit_code == 0
    return path


def test_a_misspelt_zone_is_one_line(module_cli, db) -> None:
    result = module_cli("kpi", "--db", db, "--tz", "Europe/Moskva")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "Europe/Moskva" in result.stderr and "validation" not in result.stderr.lower()


def test_a_misspelt_metric_or_dimension_gets_did_you_mean(module_cli, db) -> None:
    metric = module_cli("kpi", "--db", db, "--metrics", "service_levle")
    assert metric.exit_code == 2 and "did you mean service_level" in metric.stderr
    dimension = module_cli("kpi", "--db", db, "--by", "agnet")
    assert dimension.exit_code == 2 and "did you mean agent" in dimension.stderr


def test_russian_dates_are_accepted_and_an_empty_period_says_where_the_data_is(module_cli, db) -> None:
    same = module_cli("kpi", "--db", db, "--from", "02.03.2026", "--to", "02.03.2026", "--metrics", "calls_offered",
                      "--format", "json")
    assert same.exit_code == 0 and json.loads(same.stdout) == [{"calls_offered": 2}]
    empty = module_cli("kpi", "--db", db, "--from", "01.12.2018", "--to", "31.12.2018", "--metrics",
                       "calls_offered")
    assert empty.exit_code == 0
    assert "2026-03-02 to 2026-03-02" in empty.stderr
    wrong = module_cli("kpi", "--db", db, "--from", "2018-13-01")
    assert wrong.exit_code == 2 and "31.03.2026" in wrong.stderr and "2026-03-31" in wrong.stderr


def test_kpi_on_a_store_imports_no_pandas_and_a_repeat_no_ibis(tmp_path, db) -> None:
    """`callkpi kpi` runs its query without pandas, scipy or statsmodels; run again in a fresh
    process it reads its compiled SQL from the cache (callkpi.metrics.templates): no Ibis either."""
    env = {"COLUMNS": "80", "PATH": "", "CALLKPI_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join(sys.path)}  # this checkout's callkpi
    for by in ((), ("--by", "agent"), ("--by", "day"), ("--by", "agent,interval")):
        runs = []
        for _ in range(2):
            done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(["kpi", "--db", str(db), *by,
                                   "--format", "json"])], capture_output=True, text=True, timeout=300,
                                  check=False, env=env)
            output, _, listed = done.stdout.rpartition("\nMODULES ")
            runs.append((output, set(json.loads(listed))))
        (first, first_modules), (again, again_modules) = runs
        assert first == again and json.loads(first)
        assert not {"pandas", "scipy", "statsmodels"} & (first_modules | again_modules), by
        assert "ibis" in first_modules and "ibis" not in again_modules and "sqlglot" not in again_modules, by
        # a small report comes back as Python rows, and DuckDB makes the calendar of a time dimension
        assert not {"pyarrow", "numpy", "duckdb"} & again_modules, by


def test_the_first_kpi_after_an_ingest_reads_sql_the_ingest_compiled(tmp_path, cli) -> None:
    """`callkpi ingest` compiles the common reports' SQL (callkpi.metrics.engine.warm): the first
    `callkpi kpi` after it, in a fresh process, imports no Ibis, with the same numbers as a compiled one."""
    cache = tmp_path / "cache"
    cli.env["CALLKPI_CACHE_DIR"] = str(cache)
    db = tmp_path / "w.duckdb"
    log = write_log(tmp_path, scenario_text("answered.queue_log"), "answered.queue_log")
    assert cli("ingest", "--db", db, "--tz", "UTC", log).exit_code == 0
    assert len(list((cache / "templates").glob("*.json"))) == 7
    env = {"COLUMNS": "80", "PATH": "", "CALLKPI_CACHE_DIR": str(cache), "CALLKPI_CONFIG": cli.env["CALLKPI_CONFIG"],
           "PYTHONPATH": os.pathsep.join(sys.path)}
    from callkpi.metrics import engine

    engine._TEMPLATES.clear()  # the comparison in this process compiles its own SQL
    cli.env["CALLKPI_CACHE_DIR"] = "off"
    for extra in ((), ("--by", "agent"), ("--by", "queue"), ("--by", "day"), ("--by", "agent,day"),
                  ("--from", "02.03.2026", "--to", "02.03.2026"), ("--by", "agent", "--from", "2026-03-01",
                                                                   "--to", "2026-03-05")):
        argv = ["kpi", "--db", str(db), *extra, "--format", "json"]
        done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True, text=True,
                              timeout=300, check=False, env=env)
        output, _, listed = done.stdout.rpartition("\nMODULES ")
        assert "ibis" not in set(json.loads(listed)), extra
        compiled = cli(*argv)  # in this process, compiled here
        assert compiled.exit_code == 0 and json.loads(output) == json.loads(compiled.stdout), extra
