"""Issue 13 item 4: two trainings on different dates. The effect, its cells and each group's change
against a hand computation with pandas straight from the raw files (queue_log with after-call-work
pauses, training list), not through callkpi.

Agents 2001-2003 train on day 8, agents 2004-2005 on day 14, agents 2006-2009 never. With a 6-day
window the untrained calls of days 9-13 are *after* for the first cohort and *before* for the second:
each comparison uses them, the counts show each call once. AHT is talk + the ACW pause that follows the
call; a pause long after any call is nobody's after-call work.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from callkpi.analyses.training_effect import training_effect
from callkpi.config import MetricParams, PhoneSettings, Settings
from callkpi.ingest.formats import load_file
from callkpi.storage import Store

RU = Settings(phone=PhoneSettings(country_code="7", national_prefix="8", national_length=10))
DAY0 = date(2026, 3, 2)
EPOCH0 = 1772409600  # 2026-03-02 00:00 UTC
DAYS, WINDOW = 24, 6
COHORTS = {8: (2001, 2002, 2003), 14: (2004, 2005)}
UNTRAINED = (2006, 2007, 2008, 2009)
TRAINED = tuple(a for agents in COHORTS.values() for a in agents)


def _line(epoch: int, callid: str, agent: str, event: str, *data: object) -> str:
    return "|".join([str(epoch), callid, "sales", agent, event, *[str(d) for d in data]])


def write_centre(directory: Path, seed: int = 13) -> dict[str, Path]:
    rng = np.random.default_rng(seed)
    trained_on = {a: day for day, agents in COHORTS.items() for a in agents}
    lines: list[str] = []
    for agent in (*TRAINED, *UNTRAINED):
        channel = f"SIP/{agent}"
        for day in range(DAYS):
            base = EPOCH0 + day * 86400
            lines.append(_line(base + 8 * 3600, "MANAGER", channel, "ADDMEMBER", ""))
            for k in range(5):
                start = base + 9 * 3600 + k * 1200
                callid = f"{start}.{agent}"
                faster = 40 if agent in trained_on and day > trained_on[agent] else 0
                talk = int(rng.integers(120, 400)) - faster
                end = start + 5 + talk
                lines += [_line(start, callid, "NONE", "ENTERQUEUE", "", f"7495{agent}{day:02d}{k:02d}", 1),
                          _line(start + 5, callid, channel, "CONNECT", 5, "x", 1),
                          _line(end, callid, channel, "COMPLETECALLER", 5, talk, 1)]
                if rng.random() < 0.8:  # after-call work right after the call
                    pause_at = end + int(rng.integers(0, 20))
                    lines += [_line(pause_at, "NONE", channel, "PAUSE", "ACW"),
                              _line(pause_at + int(rng.integers(10, 90)), "NONE", channel, "UNPAUSE", "")]
            far = base + 13 * 3600  # an ACW pause hours after the last call: no call's wrap-up
            lines += [_line(far, "NONE", channel, "PAUSE", "ACW"), _line(far + 300, "NONE", channel, "UNPAUSE", ""),
                      _line(far + 600, "NONE", channel, "PAUSE", "Lunch"),
                      _line(far + 2400, "NONE", channel, "UNPAUSE", ""),
                      _line(base + 17 * 3600, "MANAGER", channel, "REMOVEMEMBER", "")]
    lines.sort(key=lambda line: int(line.split("|", 1)[0]))
    training = "agent,programme,date\n" + "".join(
        f"{a},Objection handling,{(DAY0 + timedelta(days=day)).isoformat()}\n" for a, day in trained_on.items())
    paths = {"queue_log": directory / "queue_log", "training.csv": directory / "training.csv"}
    paths["queue_log"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths["training.csv"].write_text(training, encoding="utf-8")
    return paths


# -- the hand computation ------------------------------------------------------------------------------


def reference_calls(path: Path) -> pd.DataFrame:
    """One row per handled call: agent, day, talk, handle (talk + the ACW pause starting <= 120 s after)."""
    log = pd.read_csv(path, sep="|", header=None, names=["epoch", "callid", "queue", "channel", "event", "d1", "d2",
                                                         "d3"], dtype=str)
    log["epoch"] = log.epoch.astype(int)
    log["agent"] = log.channel.str.removeprefix("SIP/")
    ends = log[log.event == "COMPLETECALLER"].set_index("callid")
    connect = log[log.event == "CONNECT"].set_index("callid")
    talk = ends.d2.astype(float)
    calls = pd.DataFrame({"agent": connect.agent.astype(int), "day": (connect.epoch - EPOCH0) // 86400,
                          "talk": talk, "end": ends.epoch})
    pauses = log[log.event == "PAUSE"].copy()
    unpause = log[log.event == "UNPAUSE"]
    pauses["seconds"] = [int(unpause[(unpause.agent == a) & (unpause.epoch > e)].epoch.min()) - e
                         for a, e in zip(pauses.agent, pauses.epoch, strict=True)]
    acw = pauses[pauses.d1 == "ACW"]
    calls["acw"] = 0.0
    for agent, at, seconds in zip(acw.agent.astype(int), acw.epoch, acw.seconds, strict=True):
        before = calls[(calls.agent == agent) & (calls.end <= at)]
        if len(before) and at - before.end.max() <= 120:
            calls.loc[before.end.idxmax(), "acw"] += seconds
    calls["handle"] = calls.talk + calls.acw
    return calls


def comparisons(calls: pd.DataFrame, column: str) -> pd.DataFrame:
    """Every (cohort, call) pair a cohort's comparison uses, with treated / post flags."""
    frames = []
    for day, agents in COHORTS.items():
        before = (calls.day >= day - WINDOW) & (calls.day < day)
        after = (calls.day > day) & (calls.day <= day + WINDOW)
        group = calls.agent.isin(agents)
        for mask, treated in ((group, 1), (calls.agent.isin(UNTRAINED), 0)):
            for period, post in ((before, 0), (after, 1)):
                part = calls[mask & period]
                frames.append(pd.DataFrame({"cohort": day, "call": part.index, "agent": part.agent,
                                            "treated": treated, "post": post, "v": part[column]}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, pd.DataFrame]:
    paths = write_centre(tmp_path_factory.mktemp("cohorts"))
    store = Store(":memory:")
    for path in paths.values():
        assert load_file(store, path, RU, timezone="UTC").quarantined == 0, path.name
    return store, reference_calls(paths["queue_log"])


@pytest.mark.parametrize(("metric", "column"), [("aht_s", "handle"), ("att_s", "talk")])
def test_two_cohorts_against_a_hand_computation(centre: tuple[Store, pd.DataFrame], metric: str,
                                                column: str) -> None:
    store, calls = centre
    pairs = comparisons(calls, column)
    (effect,) = training_effect(store, MetricParams(), window_days=WINDOW, metrics=[metric])

    # each call once per cell, however many cohorts use it; no cell beyond the calls there are
    names = {(1, 0): "trained_before", (1, 1): "trained_after", (0, 0): "untrained_before", (0, 1): "untrained_after"}
    expected_cells = {names[k]: g.call.nunique() for k, g in pairs.groupby(["treated", "post"])}
    assert effect.cells == expected_cells
    assert effect.observations == pairs.call.nunique() <= len(calls)
    untrained = pairs[pairs.treated == 0]
    assert len(untrained) > untrained.call.nunique()  # the windows do overlap: the case of the issue
    assert (effect.cohorts, effect.trained_agents, effect.control_agents) == (2, 5, 4)

    # per cohort: the four cell means' difference in differences; combined weighted by trained agents
    means = pairs.groupby(["cohort", "treated", "post"]).v.mean()
    per_cohort = {c: (means[c, 1, 1] - means[c, 1, 0]) - (means[c, 0, 1] - means[c, 0, 0]) for c in COHORTS}
    weights = {c: len(agents) / len(TRAINED) for c, agents in COHORTS.items()}
    assert [d["effect"] for d in effect.cohort_details] == pytest.approx([per_cohort[c] for c in COHORTS])
    assert effect.effect == pytest.approx(sum(weights[c] * per_cohort[c] for c in COHORTS), rel=1e-9)
    trained_change = sum(weights[c] * (means[c, 1, 1] - means[c, 1, 0]) for c in COHORTS)
    assert effect.trained.difference == pytest.approx(trained_change, rel=1e-9)
    assert effect.means["trained_before"]["mean"] == pytest.approx(sum(weights[c] * means[c, 1, 0] for c in COHORTS))

    # the interval: the same weighted combination of a statsmodels formula fit, clustered by agent
    fit = smf.ols("v ~ 0 + C(cohort) + C(cohort):treated + C(cohort):post + C(cohort):treated:post",
                  data=pairs).fit(cov_type="cluster", cov_kwds={"groups": pairs.agent.astype("category").cat.codes},
                  use_t=True)
    vector = np.array([weights[c] if name == f"C(cohort)[{c}]:treated:post" else 0.0
                       for name in fit.params.index for c in [_cohort_of(name)]])
    test = fit.t_test(vector.reshape(1, -1))
    low, high = np.squeeze(test.conf_int(alpha=0.05))
    assert (effect.ci_low, effect.ci_high) == pytest.approx((low, high), rel=1e-6)
    assert effect.p_value == pytest.approx(float(np.squeeze(test.pvalue)), rel=1e-6)
    assert effect.ci_low < -40 * 0.5 and effect.verdict == "improved"  # 40 s shorter talk after the training


def _cohort_of(name: str) -> int | None:
    for c in COHORTS:
        if name.startswith(f"C(cohort)[{c}]"):
            return c
    return None


def test_handle_time_is_not_talk_time(centre: tuple[Store, pd.DataFrame]) -> None:
    store, calls = centre
    aht, att = training_effect(store, MetricParams(), window_days=WINDOW, metrics=["aht_s", "att_s"])
    assert aht.trained.mean_before == pytest.approx(
        comparisons(calls, "handle").query("treated == 1 and post == 0").groupby("cohort").v.mean()
        .mul(pd.Series({c: len(a) / len(TRAINED) for c, a in COHORTS.items()})).sum())
    assert aht.trained.mean_before > att.trained.mean_before + 20  # the ACW pauses are in AHT only
    assert (aht.effect, aht.ci_low) != pytest.approx((att.effect, att.ci_low))
