"""The ClickHouse store (issue 16): its schema from the model, the exact aggregates it compiles,
DuckDB's types in its results, and `callkpi copy` there and back. Runs on chDB (the ClickHouse
engine in-process); skipped when chdb is not installed. A live server is tried when
CALLKPI_TEST_CLICKHOUSE_URL is set."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from callkpi.model.schema import AGENTS, CALLS, META
from callkpi.storage import Store, open_store

chdb = pytest.importorskip("chdb")

from callkpi.storage.clickhouse import (  # noqa: E402 - after the skip: the module needs no chdb, its tests do
    ClickHouseStore,
    clickhouse_ddl,
    compile_clickhouse,
)
from callkpi.storage.copy import CopyRefused, copy_store  # noqa: E402


def test_schema_follows_the_model_with_clickhouse_engines() -> None:
    calls = clickhouse_ddl(CALLS)
    assert "ENGINE = MergeTree" in calls
    assert 'PARTITION BY toYYYYMM("start_utc")' in calls
    assert 'ORDER BY ("queue", "start_slice")' in calls
    assert '"queue" LowCardinality(Nullable(String))' in calls
    assert '"caller" Nullable(String)' in calls  # many values: a plain string
    assert "\"start_utc\" Nullable(DateTime64(6, 'UTC'))" in calls
    agents = clickhouse_ddl(AGENTS)  # a keyed table: the newest row of a key wins, no partitions
    assert "ENGINE = ReplacingMergeTree" in agents and 'ORDER BY ("agent")' in agents
    assert "PARTITION" not in agents and "PARTITION" not in clickhouse_ddl(META)


def test_aggregates_compile_to_exact_clickhouse_functions() -> None:
    t = ibis.table({"q": "string", "x": "float64"}, name="t")
    sql = compile_clickhouse(t.group_by("q").aggregate(
        m=t.x.median(), p=t.x.quantile(0.9), n=t.q.nunique(), w=t.x.median(where=t.x > 1)))
    assert "quantileExactInclusive(" in sql and "quantileExactInclusiveIf(" in sql
    assert "quantile(0.9)" not in sql and "quantileExactInclusive(0.9)" in sql
    assert "uniqExact(" in sql and "uniq(" not in sql


def test_exact_median_and_distinct_equal_duckdb(tmp_path: Path) -> None:
    """Quantiles interpolate as DuckDB's quantile_cont does; the distinct count is exact."""
    values = [1.0, 2.0, 4.0, 10.0, 11.0, 40.0]
    data = pa.table({"q": ["a"] * 6, "x": values})
    with ClickHouseStore(f"chdb://{tmp_path / 'ch'}") as store:
        store.register_arrow("t", data)
        t = store.table("t")
        got = store.fetch_arrow(t.aggregate(m=t.x.median(), p=t.x.quantile(0.9), n=t.x.nunique())).to_pylist()[0]
    assert got == {"m": 7.0, "p": 25.5, "n": 6}  # by hand: (4+10)/2; 11 + 0.5 * (40 - 11)


def test_results_have_duckdb_types(tmp_path: Path) -> None:
    with ClickHouseStore(f"chdb://{tmp_path / 'ch'}") as store:
        store.append_arrow("agents", pa.table({"agent": ["1001"], "name": ["Ann"]}))
        table = store.query_arrow("SELECT count() AS n, toDateTime64('2026-03-02 09:00:00', 6, 'UTC') AS t, "
                                  "any(agent) AS a FROM agents")
        assert table.schema.field("n").type == pa.int64()
        assert table.schema.field("t").type == pa.timestamp("us")  # naive UTC, as DuckDB gives
        assert table.to_pylist() == [{"n": 1, "t": datetime(2026, 3, 2, 9), "a": "1001"}]
        assert store.get_meta("schema_version") == "1"
        store.set_meta("timezone", "Europe/Moscow")
        store.set_meta("timezone", "Europe/Berlin")  # replaced, not added
        assert store.get_meta("timezone") == "Europe/Berlin"


def _duck_with_rows(path: Path) -> Store:
    store = Store(path)
    store.append_arrow("calls", pa.table({
        "call_id": ["c1", "c2"], "queue": ["sales", None],
        "start_utc": pa.array([datetime(2026, 3, 2, 9, 0, 1, 250000), None], pa.timestamp("us")),
        "start_slice": [1, None], "answered": [True, None], "talk_s": [12.5, None]}))
    store.append_arrow("staff", pa.table({"agent": ["1001"], "hired": pa.array([date(2025, 1, 31)], pa.date32()),
                                           "left_on": pa.array([None], pa.date32())}))
    store.append_arrow("deals", pa.table({"deal_id": ["d1", "d2"],
                                           "phones_norm": pa.array([["+4420"], []], pa.list_(pa.string()))}))
    store.set_meta("timezone", "Europe/Moscow")
    return store


def _rows(store: object, table: str, order: str) -> list[dict]:
    sql = f'SELECT * FROM "{table}" ORDER BY "{order}"'  # noqa: S608 - the test's own table names
    return store.query_arrow(sql).to_pylist()  # type: ignore[attr-defined]


def test_copy_there_and_back_keeps_every_value(tmp_path: Path) -> None:
    url = f"chdb://{tmp_path / 'ch'}"
    with _duck_with_rows(tmp_path / "a.duckdb") as duck, open_store(url) as ch:
        report = copy_store(duck, ch, batch_rows=1)  # one row per batch: the batching is exercised
        assert report.tables["calls"] == 2 and report.tables["staff"] == 1
        with Store(tmp_path / "b.duckdb") as back:
            copy_store(ch, back)
            for table, order in (("calls", "call_id"), ("staff", "agent"), ("deals", "deal_id")):
                assert _rows(back, table, order) == _rows(duck, table, order) == _rows(ch, table, order)
            assert back.get_meta("timezone") == "Europe/Moscow"
        with pytest.raises(CopyRefused, match="calls"):
            copy_store(duck, ch)  # the destination holds rows: refused unless replace
        copy_store(duck, ch, replace=True)
        assert ch.row_count("calls") == 2


@pytest.mark.skipif(not os.environ.get("CALLKPI_TEST_CLICKHOUSE_URL"), reason="no CALLKPI_TEST_CLICKHOUSE_URL")
def test_copy_to_a_live_server(tmp_path: Path) -> None:  # pragma: no cover - needs a server
    with _duck_with_rows(tmp_path / "a.duckdb") as duck, open_store(os.environ["CALLKPI_TEST_CLICKHOUSE_URL"]) as ch:
        copy_store(duck, ch, replace=True)
        assert _rows(ch, "calls", "call_id") == _rows(duck, "calls", "call_id")


def test_cli_copy_and_kpi_on_chdb_give_the_same_numbers(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`callkpi copy --to chdb:///...` then `callkpi kpi --db chdb:///...` equals the DuckDB file's
    report, and `copy --from` brings the store back."""
    from conftest import load_scenario

    duck = tmp_path / "c.duckdb"
    with Store(duck) as store:
        load_scenario(store, tmp_path, "answered.queue_log")
        load_scenario(store, tmp_path, "acw.queue_log")
    url = f"chdb://{tmp_path / 'ch'}"
    copied = cli("copy", "--from", duck, "--to", url)
    assert copied.exit_code == 0, copied.output
    assert "copied" in copied.stdout
    args = ("kpi", "--by", "agent", "--format", "json", "--metrics", "calls_handled,aht_s,acw_s,calls_offered")
    on_duck, on_ch = cli(*args, "--db", duck), cli(*args, "--db", url)
    assert on_ch.exit_code == 0, on_ch.output
    assert on_ch.stdout == on_duck.stdout and '"calls_handled"' in on_ch.stdout
    back = tmp_path / "back.duckdb"
    assert cli("copy", "--from", url, "--to", back).exit_code == 0
    assert cli(*args, "--db", back).stdout == on_duck.stdout
    again = cli("copy", "--from", duck, "--to", url)
    assert again.exit_code == 2 and "--replace" in again.output


def test_duckdb_only_commands_refuse_a_clickhouse_url(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("sources", "--db", f"chdb://{tmp_path / 'ch'}")
    assert result.exit_code == 2
    assert "runs on a DuckDB file" in result.output and "callkpi kpi" in result.output
    assert not (tmp_path / "ch").exists() and not Path("chdb:").exists()


def test_kpi_on_a_missing_chdb_store_says_so(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("kpi", "--db", f"chdb://{tmp_path / 'none'}")
    assert result.exit_code == 2 and "callkpi copy --to" in result.output


def test_a_metric_listed_unsupported_on_clickhouse_is_null_with_a_note(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The support table is obeyed, not only documented: such a metric is never a number there."""
    from callkpi.metrics import backends
    from conftest import kpi_result, load_scenario

    monkeypatch.setitem(backends.CLICKHOUSE_UNSUPPORTED, "aht_s", "a test says so")
    with Store(tmp_path / "a.duckdb") as duck, open_store(f"chdb://{tmp_path / 'ch'}") as ch:
        load_scenario(duck, tmp_path, "acw.queue_log")
        copy_store(duck, ch)
        on_duck = kpi_result(duck, ["agent"], metrics=["aht_s", "calls_handled"])
        on_ch = kpi_result(ch, ["agent"], metrics=["aht_s", "calls_handled"])
    assert any(r["aht_s"] is not None for r in on_duck.rows)
    assert all(r["aht_s"] is None for r in on_ch.rows)
    assert [r["calls_handled"] for r in on_ch.rows] == [r["calls_handled"] for r in on_duck.rows]
    assert "aht_s: not supported on ClickHouse yet (a test says so); shown as null" in on_ch.notes


def test_a_keyed_table_is_read_one_row_per_key(tmp_path: Path) -> None:
    """agents is a ReplacingMergeTree: a second row of an agent replaces the first at once (as
    INSERT OR REPLACE does in DuckDB), so joining agents for the team counts each call once."""
    with ClickHouseStore(f"chdb://{tmp_path / 'ch'}") as store:
        store.append_arrow("agents", pa.table({"agent": ["1001"], "team": ["old"]}))
        store.append_arrow("agents", pa.table({"agent": ["1001"], "team": ["new"]}))
        assert store.fetch_all("SELECT agent, team FROM agents") == [("1001", "new")]


def test_copy_back_keeps_the_keys_of_the_web_tables(tmp_path: Path) -> None:
    """A model table missing in the destination is created by its own definition (a DuckDB key, a
    ClickHouse ReplacingMergeTree), not only from the rows' Arrow types: `serve` on a store copied
    back still replaces its users by name."""
    from callkpi.queries.web_tables import ensure_web_schema

    with Store(tmp_path / "a.duckdb") as duck, open_store(f"chdb://{tmp_path / 'ch'}") as ch:
        ensure_web_schema(duck)
        copy_store(duck, ch)
        engines = dict(ch.fetch_all("SELECT name, engine FROM system.tables WHERE database = currentDatabase()"))
        assert engines["web_users"] == "ReplacingMergeTree"
        with Store(tmp_path / "b.duckdb") as back:
            copy_store(ch, back)
            keys = back.fetch_all("SELECT constraint_type FROM duckdb_constraints() WHERE table_name = 'web_users'")
            assert ("PRIMARY KEY",) in keys
