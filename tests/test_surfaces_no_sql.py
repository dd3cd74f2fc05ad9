"""Surfaces hold no SQL and name no table: every query is a named function of ``callkpi.queries``.

The check reads each module of ``src/callkpi/cli`` and ``src/callkpi/web`` as Python (``ast``), so
words in user-visible text or URL paths ("calls", "/agents") are not mistaken for tables:

- a string constant that reads like SQL (SELECT ... FROM, INSERT INTO, UPDATE ... SET, DELETE FROM,
  CREATE TABLE, JOIN, WITH ... AS) is a finding;
- a call of a store or connection method that reads tables (``table``, ``sql``, ``execute``,
  ``executemany``, ``row_count``, ``column_bounds``, ``has_table``, ``has_rows``, ``fetch_arrow``,
  ``append_arrow``, ``ensure_schema``) is a finding;
- a table name of ``callkpi.model`` given as a positional string argument to any call is a finding
  (keyword arguments such as ``active="calls"`` name page parts, ``.get("teams")`` a mapping's key).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from callkpi.model.business_schema import BUSINESS_TABLES
from callkpi.model.qa_schema import QA_TABLES
from callkpi.model.schema import CANONICAL_TABLES
from callkpi.model.web_schema import ALERT_TABLES, SCHEDULE_TABLES, WEB_TABLES

SRC = Path(__file__).resolve().parents[1] / "src" / "callkpi"
SURFACES = ("cli", "web")
TABLE_NAMES = frozenset(t.name for t in (*CANONICAL_TABLES, *BUSINESS_TABLES, *QA_TABLES, *WEB_TABLES, *ALERT_TABLES,
                                         *SCHEDULE_TABLES))
STORE_METHODS = frozenset({"table", "sql", "raw_sql", "execute", "executemany", "row_count", "column_bounds",
                           "has_table", "has_rows", "fetch_arrow", "append_arrow", "ensure_schema"})
MAPPING_METHODS = frozenset({"get", "pop", "setdefault", "getlist"})
SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b|\bINSERT\s+(OR\s+\w+\s+)?INTO\b|\bUPDATE\s+\"?\w+\"?\s+SET\b|\bDELETE\s+FROM\b"
    r"|\bCREATE\s+(OR\s+REPLACE\s+)?(TEMP\s+|TEMPORARY\s+)?(TABLE|VIEW)\b|\b(LEFT\s+|INNER\s+)?JOIN\s+\w+\s+(\w+\s+)?ON\b"
    r"|\bWITH\s+\w+\s+AS\s*\(|\bDROP\s+TABLE\b",
)  # upper case, as every SQL text of callkpi is written: prose like "select a period from" stays out


def findings(source: str, name: str = "<sample>") -> list[str]:
    """Every place of ``source`` that holds SQL or names a table."""
    tree = ast.parse(source, name)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                and SQL.search(node.value):
            found.append(f"{name}:{node.lineno}: SQL text {node.value[:60]!r}")
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr in STORE_METHODS:
            found.append(f"{name}:{node.lineno}: store/connection call .{node.func.attr}()")
        if isinstance(node.func, ast.Attribute) and node.func.attr in MAPPING_METHODS:
            continue  # form.get("teams"), scope.pop("agents"): keys of a mapping, not tables
        for arg in node.args:  # keywords name page parts (active="calls"), not tables
            if isinstance(arg, ast.Constant) and arg.value in TABLE_NAMES:
                found.append(f"{name}:{node.lineno}: table name {arg.value!r} passed to a call")
    return found


def surface_modules() -> list[Path]:
    return sorted(p for surface in SURFACES for p in (SRC / surface).rglob("*.py"))


def test_surfaces_hold_no_sql_and_name_no_table() -> None:
    modules = surface_modules()
    assert len(modules) > 20  # the check looks at the real surfaces
    problems = [f for path in modules for f in findings(path.read_text(encoding="utf-8"), str(path.relative_to(SRC)))]
    assert problems == []


def test_the_check_finds_sql_and_table_names() -> None:
    sample = '''
def listing(store, con):
    a = store.table("calls")
    b = con.execute("SELECT count(*) FROM web_users WHERE username = ?", ["x"])
    c = distinct_values(store, "queue_legs", "queue")
    d = "UPDATE web_targets SET warn = 1"
    e = "DELETE FROM web_call_marks"
    f = "SELECT c.call_id FROM calls c JOIN agent_legs l ON l.call_id = c.call_id"
    g = "CREATE TABLE IF NOT EXISTS x (a INT)"
    h = lookup(store, "agents")
'''
    found = findings(sample)
    assert len([f for f in found if ":3:" in f]) == 2  # .table() and "calls" as its argument
    assert sorted(int(f.split(":")[1]) for f in found if ":3:" not in f) == [4, 4, 5, 6, 7, 8, 9, 10]


def test_the_check_leaves_text_and_paths_alone() -> None:
    sample = '''
"""Lists calls: SELECT a period and the table shows calls FROM every queue."""
LABELS = {"calls": ("Call log", "Журнал вызовов"), "agents": "Agents"}
NAV = [("calls", "/calls"), ("agents", "/agents")]
def page(row):
    """Select the calls you want from the list."""
    render("calls.html", active="calls", title="Select the period from the calendar")
    teams = form.get("teams", "")
    return row["calls"] if row.get("view") == "agents" else NAV
'''
    assert findings(sample) == []


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def surface_imports(package: str) -> list[str]:
    """Modules of ``callkpi.<package>`` that import the CLI or the web."""
    return sorted(f"{path.relative_to(SRC)} imports {name}" for path in (SRC / package).rglob("*.py")
                  for name in imported_modules(path) if name.startswith(("callkpi.web", "callkpi.cli")))


def test_data_access_and_analyses_do_not_import_the_surfaces() -> None:
    """The web imports the alerts and the queries, never the other way round (no cycle)."""
    assert surface_imports("queries") == []
    assert surface_imports("analyses") == []
    assert surface_imports("model") == []


def test_the_import_check_sees_an_import_of_the_web(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from callkpi.web.targets import load_targets\nfrom callkpi import web\n", encoding="utf-8")
    assert {"callkpi.web.targets", "callkpi.web"} <= imported_modules(module)
