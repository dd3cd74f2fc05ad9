"""Issue 12 item 8: outbound dial prefixes ([phone] dial_prefixes) are stripped from numbers, so a
callback dialled as 911911 044 + the customer's number is a callback of that customer."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from callkpi import phone
from callkpi.config import PhoneSettings, Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store

MX = PhoneSettings(country_code="52", national_length=10, dial_prefixes=["911911", "912912", "044", "045"])


def _sql(raw: str | None, rules: PhoneSettings) -> str | None:
    con = duckdb.connect()
    return con.execute(f"SELECT {phone.sql_expression('$raw')}", {**phone.sql_params(rules), "raw": raw}).fetchone()[0]


def test_prefixes_are_stripped_in_order_down_to_the_national_number() -> None:
    # hand-computed: 911911 | 044 | 5540554516 -> 52 + 5540554516
    for raw in ("9119110445540554516", "9129120455540554516", "0445540554516", "5540554516"):
        assert phone.normalise(raw, MX) == "525540554516", raw
        assert _sql(raw, MX) == "525540554516", raw


def test_a_prefix_is_kept_when_too_few_digits_would_remain() -> None:
    assert phone.normalise("044123456", MX) == "044123456"  # 6 digits after 044 < 10
    assert _sql("044123456", MX) == "044123456"
    assert phone.normalise("468", MX) == "468"  # an extension


def test_international_forms_are_not_touched() -> None:
    assert phone.normalise("+52 911911 1234", MX) == "529119111234"
    assert phone.normalise("005255405545160", MX) == "5255405545160"


@settings(max_examples=200, deadline=None)
@given(raw=st.text(alphabet="0123456789+ ", max_size=22),
       rules=st.sampled_from([MX, PhoneSettings(dial_prefixes=["9"], national_length=4),
                              PhoneSettings(country_code="7", national_prefix="8", dial_prefixes=["0", "810"])]))
def test_sql_and_python_agree_with_prefixes(raw: str, rules: PhoneSettings) -> None:
    assert _sql(raw, rules) == phone.normalise(raw, rules)


# -- the finding that suggests a prefix -------------------------------------------------------

HEADER = "calldate,clid,src,dst,dcontext,channel,dstchannel,lastapp,lastdata,duration,billsec,disposition,amaflags,"\
    "accountcode,uniqueid,userfield"
EPOCH_0 = 1772442000  # 2026-03-02 09:00:00 UTC


def _row(offset_s: int, src: str, dst: str, context: str, channel: str, dstchannel: str, billsec: int,
         line: int) -> str:
    when = datetime.fromtimestamp(EPOCH_0 + offset_s, UTC).strftime("%Y-%m-%d %H:%M:%S")
    disposition = "ANSWERED" if billsec else "NO ANSWER"
    return (f'{when},"""{src}"" <{src}>",{src},{dst},{context},{channel}-{line:08x},{dstchannel}-{line + 1:08x},'
            f'Dial,"{dstchannel}",{billsec + 10},{billsec},{disposition},3,,{EPOCH_0 + offset_s}.{line},')


def _callbacks_file(tmp_path: Path, customers: list[str], prefix: str) -> Path:
    """Each customer calls in (missed) and agent 468 dials ``prefix`` + the customer 2 h later."""
    lines = [HEADER]
    for i, number in enumerate(customers):
        lines.append(_row(i * 600, number, "600", "from-pstn", "SIP/mambo", "SIP/468", 0, 10 * i + 1))
        lines.append(_row(7200 + i * 600, "468", prefix + number, "outbound-allroutes", "SIP/468", "SIP/Nextor",
                          60, 10 * i + 3))
    path = tmp_path / "callbacks.cdr.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


CUSTOMERS = ["5540554516", "5512345678", "5587654321"]


def _findings(store: Store) -> list[str]:
    return [r[0] for r in store.connection.execute(
        "SELECT detail FROM data_quality WHERE kind = 'dial_prefix_suggested'").fetchall()]


def test_three_callbacks_through_a_prefix_suggest_it(tmp_path: Path) -> None:

    path = _callbacks_file(tmp_path, CUSTOMERS, "911911044")
    with Store(":memory:") as store:
        load_file(store, path, Settings.model_validate({"phone": {"country_code": "52"}}), timezone="UTC")
        found = _findings(store)
        assert len(found) == 1
        assert found[0].startswith("3 dialled numbers are 911911044 followed by the number of a caller")
        assert "[phone] dial_prefixes" in found[0]


def test_no_suggestion_for_two_numbers_or_once_the_prefix_is_set(tmp_path: Path) -> None:

    with Store(":memory:") as store:
        load_file(store, _callbacks_file(tmp_path, CUSTOMERS[:2], "911911044"), Settings(), timezone="UTC")
        assert _findings(store) == []
    set_prefix = Settings.model_validate({"phone": {"dial_prefixes": ["911911044"]}})
    with Store(":memory:") as store:
        load_file(store, _callbacks_file(tmp_path, CUSTOMERS, "911911044"), set_prefix, timezone="UTC")
        assert _findings(store) == []
        callbacks = store.connection.execute(
            "SELECT count(*) FROM calls WHERE direction = 'inbound' AND callback_attempt_gap_s = 7200").fetchone()[0]
        assert callbacks == 3  # each missed call was called back 2 h later (hand-computed)
