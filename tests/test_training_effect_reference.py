"""Acceptance test of issue 11: the training effect's figures (per group and window: observations and
means; the difference-in-differences estimate) against a reference computed here with pandas straight
from the raw files (queue_log, deals, surveys, training list), not through callkpi.

The centre: agents 2001-2004 take one programme on day 10, agents 2005-2008 never do; every agent
answers six queue calls a day for 21 days. Some calls win one or two deals, some lose one; some get a
CSAT and an NPS answer. With one cohort the DiD estimate of the OLS (treated, post, interaction) is
exactly (trained after - trained before) - (untrained after - untrained before) of the cell means.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from callkpi.analyses.training_effect import training_effect
from callkpi.config import MetricParams, PhoneSettings, Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store

RU = Settings(phone=PhoneSettings(country_code="7", national_prefix="8", national_length=10))
DAY0 = date(2026, 3, 2)
EPOCH0 = 1772409600  # 2026-03-02 00:00 UTC
DAYS, TRAINING_DAY, WINDOW = 21, 10, 9
TRAINED, UNTRAINED = range(2001, 2005), range(2005, 2009)
METRICS = ("conversion_rate", "arpc", "aov", "att_s", "csat", "nps")


def _stamp(epoch: int) -> str:
    """Epoch seconds as a naive UTC timestamp."""
    return (datetime(1970, 1, 1) + timedelta(seconds=epoch)).strftime("%Y-%m-%d %H:%M:%S")


def write_centre(directory: Path, seed: int = 11) -> dict[str, Path]:
    rng = np.random.default_rng(seed)
    lines: list[str] = []
    deals = ["deal_id,created_at,closed_at,status,amount,call_id"]
    surveys = ["call_id,phone,answered_at,survey_type,score"]
    for agent in (*TRAINED, *UNTRAINED):
        for day in range(DAYS):
            for k in range(6):
                start = EPOCH0 + day * 86400 + 9 * 3600 + k * 1200
                callid = f"{start}.{agent}"
                talk = int(rng.integers(30, 400))
                lines += [f"{start}|{callid}|sales|NONE|ENTERQUEUE||7495{agent}{day:02d}{k:02d}|1",
                          f"{start + 5}|{callid}|sales|SIP/{agent}|CONNECT|5|x|1",
                          f"{start + 5 + talk}|{callid}|sales|SIP/{agent}|COMPLETECALLER|5|{talk}|1"]
                for n in range(int(rng.choice([0, 0, 0, 1, 1, 2]))):
                    status = "won" if rng.random() < 0.7 else "lost"
                    amount = int(rng.integers(5, 60)) * 100
                    day_text = (DAY0 + timedelta(days=day)).isoformat()
                    deals.append(f"D{callid}-{n},{day_text} 12:00,{day_text} 18:00,{status},{amount},{callid}")
                if rng.random() < 0.6:
                    answered = _stamp(start + 5 + talk + 120)
                    surveys.append(f"{callid},,{answered},csat,{int(rng.integers(1, 6))}")
                    surveys.append(f"{callid},,{answered},nps,{int(rng.integers(0, 11))}")
    lines.sort(key=lambda line: int(line.split("|", 1)[0]))
    training_date = (DAY0 + timedelta(days=TRAINING_DAY)).isoformat()
    files = {
        "queue_log": "\n".join(lines) + "\n",
        "deals.csv": "\n".join(deals) + "\n",
        "surveys.csv": "\n".join(surveys) + "\n",
        "training.csv": "agent,programme,date\n" + "".join(f"{a},Objection handling,{training_date}\n"
                                                             for a in TRAINED),
    }
    paths = {}
    for name, text in files.items():
        paths[name] = directory / name
        paths[name].write_text(text, encoding="utf-8")
    return paths


# -- the reference: pandas on the raw files ---------------------------------------------------------


def reference_observations(paths: dict[str, Path]) -> dict[str, pd.DataFrame]:
    """Per metric: one row per observation with agent, day (0 = 2026-03-02) and value."""
    log = pd.read_csv(paths["queue_log"], sep="|", header=None, usecols=range(7),
                      names=["epoch", "callid", "queue", "channel", "event", "d1", "d2"], dtype=str)
    connect = log[log.event == "CONNECT"].set_index("callid")
    complete = log[log.event == "COMPLETECALLER"].set_index("callid")
    calls = pd.DataFrame({
        "agent": connect.channel.str.removeprefix("SIP/").astype(int),
        "day": (connect.epoch.astype(int) - EPOCH0) // 86400,
        "talk": complete.d2.astype(float),
    })
    deals = pd.read_csv(paths["deals.csv"], dtype={"call_id": str})
    won = deals[deals.status == "won"]
    revenue = won.groupby("call_id").amount.sum()
    calls["won"] = calls.index.isin(won.call_id).astype(float)
    calls["revenue"] = revenue.reindex(calls.index).fillna(0.0)
    won_deals = won.join(calls[["agent"]], on="call_id")
    won_deals["day"] = (pd.to_datetime(won_deals.closed_at) - pd.Timestamp(DAY0)).dt.days
    answers = pd.read_csv(paths["surveys.csv"], dtype={"call_id": str}).join(calls[["agent"]], on="call_id")
    answers["day"] = (pd.to_datetime(answers.answered_at) - pd.Timestamp(DAY0)).dt.days
    csat = answers[answers.survey_type == "csat"]
    nps = answers[answers.survey_type == "nps"]

    def frame(table: pd.DataFrame, value: pd.Series | np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"agent": table.agent.to_numpy(), "day": table.day.to_numpy(),
                             "value": np.asarray(value, dtype=float)})

    return {
        "conversion_rate": frame(calls, calls.won),
        "arpc": frame(calls, calls.revenue),
        "aov": frame(won_deals, won_deals.amount),
        "att_s": frame(calls, calls.talk),
        "csat": frame(csat, (csat.score >= 4).astype(float)),
        "nps": frame(nps, np.select([nps.score >= 9, nps.score <= 6], [100.0, -100.0], 0.0)),
    }


def reference_cells(obs: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
    trained = obs.agent.isin(list(TRAINED))
    before = (obs.day >= TRAINING_DAY - WINDOW) & (obs.day < TRAINING_DAY)
    after = (obs.day >= TRAINING_DAY + 1) & (obs.day < TRAINING_DAY + 1 + WINDOW)
    return {(group, period): obs.value[mask_g & mask_p]
            for group, mask_g in (("trained", trained), ("untrained", ~trained))
            for period, mask_p in (("before", before), ("after", after))}


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict[str, Path]]:
    paths = write_centre(tmp_path_factory.mktemp("centre"))
    store = Store(":memory:")
    for path in paths.values():
        assert load_file(store, path, RU, timezone="UTC").quarantined == 0, path.name
    return store, paths


@pytest.mark.parametrize("metric", METRICS)
def test_training_effect_matches_a_pandas_reference(centre: tuple[Store, dict[str, Path]], metric: str) -> None:
    store, paths = centre
    cells = reference_cells(reference_observations(paths)[metric])
    (effect,) = training_effect(store, MetricParams(), window_days=WINDOW, metrics=[metric])

    assert effect.cells == {f"{g}_{p}": len(values) for (g, p), values in cells.items()}
    assert min(effect.cells.values()) >= 30  # enough for a verdict: the figures below are all computed
    assert (effect.cohorts, effect.trained_agents, effect.control_agents) == (1, 4, 4)
    means = {key: float(values.mean()) for key, values in cells.items()}
    for change, group in ((effect.trained, "trained"), (effect.control, "untrained")):
        assert change.mean_before == pytest.approx(means[(group, "before")], rel=1e-12)
        assert change.mean_after == pytest.approx(means[(group, "after")], rel=1e-12)
        assert change.difference == pytest.approx(means[(group, "after")] - means[(group, "before")],
                                                  rel=1e-9, abs=1e-9)
    did = ((means[("trained", "after")] - means[("trained", "before")])
           - (means[("untrained", "after")] - means[("untrained", "before")]))
    assert effect.effect == pytest.approx(did, rel=1e-9, abs=1e-9)
    assert effect.ci_low < effect.effect < effect.ci_high


def test_handle_time_is_unknown_where_no_after_call_work_is_recorded(centre: tuple[Store, dict[str, Path]]) -> None:
    """This queue_log has no PAUSE at all: AHT (talk + hold + ACW) is unknown, not talk time."""
    store, _ = centre
    (effect,) = training_effect(store, MetricParams(), window_days=WINDOW, metrics=["aht_s"])
    assert effect.observations == 0 and effect.effect is None
    assert effect.verdict == "not_enough_data"
    assert any("after-call work is not recorded" in note for note in effect.notes)
