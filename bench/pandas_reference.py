"""A straightforward pandas implementation of the core queue report, straight from queue_log.

It is the yardstick the benchmark compares callkpi with: what a capable analyst would write
in an afternoon. Offered, answered, abandoned, service level (offered variant), ASA and average
talk per group, read from the plain queue_log file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

TERMINAL_TALK = {"COMPLETEAGENT": 2, "COMPLETECALLER": 2, "TRANSFER": 4, "BLINDTRANSFER": 4, "ATTENDEDTRANSFER": 4}


NAMES = ["epoch", "callid", "queue", "agent", "event", "d1", "d2", "d3", "d4", "d5"]


def load_events(path: Path, chunk_lines: int = 2_000_000) -> pd.DataFrame:
    """The log in chunks, each turned into compact types at once (Arrow strings, categories,
    numbers), so that 10M calls fit in memory; only what the report reads is kept."""
    chunks = pd.read_csv(path, sep="|", header=None, names=NAMES, dtype=str, usecols=range(10), engine="c",
                         on_bad_lines="skip", chunksize=chunk_lines)
    return pd.concat([_compact(chunk) for chunk in chunks], ignore_index=True)


def _compact(chunk: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "epoch": pd.to_numeric(chunk["epoch"], errors="coerce"),
        "callid": chunk["callid"].astype("string[pyarrow]"),
        "queue": chunk["queue"].astype("string[pyarrow]"),
        "agent": chunk["agent"].astype("string[pyarrow]"),
        "event": chunk["event"].astype("string[pyarrow]"),
        **{f"d{i}": pd.to_numeric(chunk[f"d{i}"], errors="coerce") for i in range(1, 5)},
    })


def queue_legs(events: pd.DataFrame) -> pd.DataFrame:
    events = events[events["event"].isin(["ENTERQUEUE", "CONNECT", "ABANDON", *TERMINAL_TALK])
                    & ~events["callid"].isin(["NONE", "MANAGER"])].copy()
    events = events[events["epoch"].notna()]
    events["epoch"] = events["epoch"].astype("int64")
    events = events.sort_values(["callid", "epoch"], kind="stable")
    events["leg"] = (events["event"] == "ENTERQUEUE").groupby(events["callid"]).cumsum()
    enter = events[events["event"] == "ENTERQUEUE"].set_index(["callid", "leg"])[["epoch", "queue"]]
    connect = events[events["event"] == "CONNECT"].drop_duplicates(["callid", "leg"]).set_index(["callid", "leg"])
    abandon = events[events["event"] == "ABANDON"].drop_duplicates(["callid", "leg"]).set_index(["callid", "leg"])
    done = events[events["event"].isin(TERMINAL_TALK)].drop_duplicates(["callid", "leg"]).set_index(["callid", "leg"])
    legs = enter.rename(columns={"epoch": "enter"})
    legs["answered"] = legs.index.isin(connect.index)
    legs["agent"] = connect["agent"].reindex(legs.index).str.replace(r"^\w+/|@.*$|-[0-9a-f]{4,}$", "", regex=True)
    legs["wait"] = pd.to_numeric(connect["d1"], errors="coerce").reindex(legs.index)
    legs["abandoned"] = legs.index.isin(abandon.index)
    legs["abandon_wait"] = pd.to_numeric(abandon["d3"], errors="coerce").reindex(legs.index)
    talk_field = done["event"].map(TERMINAL_TALK)
    talk = np.where(talk_field == 2, done["d2"], done["d4"])
    legs["talk"] = pd.to_numeric(pd.Series(talk, index=done.index), errors="coerce").reindex(legs.index)
    return legs.reset_index()


def report(legs: pd.DataFrame, by: list[str], timezone: str, interval_minutes: int = 30) -> pd.DataFrame:
    local = pd.to_datetime(legs["enter"], unit="s", utc=True).dt.tz_convert(timezone)
    legs = legs.assign(day=local.dt.date.astype(str), interval=local.dt.floor(f"{interval_minutes}min").astype(str))
    short = legs["abandoned"] & (legs["abandon_wait"] < 5)
    legs = legs.assign(
        short=short,
        within=legs["answered"] & (legs["wait"] <= 20),
        answered_wait=legs["wait"].where(legs["answered"]),
    )
    grouped = legs.groupby(by, dropna=False) if by else legs.groupby(lambda _: "total")
    out = grouped.agg(
        offered=("callid", "size"),
        answered=("answered", "sum"),
        abandoned=("abandoned", "sum"),
        short=("short", "sum"),
        within=("within", "sum"),
        wait_sum=("answered_wait", "sum"),
        talk_sum=("talk", "sum"),
        talk_n=("talk", "count"),
    )
    out["service_level"] = out["within"] / (out["offered"] - out["short"]).replace(0, np.nan)
    out["asa_s"] = out["wait_sum"] / out["answered"].replace(0, np.nan)
    out["att_s"] = out["talk_sum"] / out["talk_n"].replace(0, np.nan)
    return out
