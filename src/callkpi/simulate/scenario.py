"""Every parameter of a simulation, as one validated pydantic model read from TOML.

The field defaults *are* the default scenario; ``default_scenario.toml`` spells the same values
out with comments (a test keeps the two equal). ``Scenario.stationary`` builds the textbook
M/M/c centre used to check the engine against Erlang C.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_SCENARIO_FILE = Path(__file__).with_name("default_scenario.toml")
MAX_AGENTS = 16_000  # extensions 1001..9999, then five digits; the ACD packs agents into 14 bits


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Arrivals(_Model):
    """Inbound arrivals: a Poisson process whose rate is piecewise constant per local hour."""

    calls_per_day: float = Field(1000, ge=0, description="inbound calls per day, averaged over the week")
    weekday_factors: tuple[float, ...] = Field((1.0, 1.0, 0.97, 0.95, 0.9, 0.5, 0.35), description="Mon..Sun")
    hourly_profile: tuple[float, ...] = Field(
        (0, 0, 0, 0, 0, 0, 0, 0, 3, 6, 9, 10, 9, 8, 9, 9, 8, 7, 5, 4, 3, 0, 0, 0),
        description="relative arrival weight of each local hour 0..23",
    )
    daily_noise_cv: float = Field(0.08, ge=0, description="day-to-day variation of the volume (gamma CV)")

    @field_validator("weekday_factors")
    @classmethod
    def _seven(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if len(value) != 7 or min(value) < 0 or sum(value) <= 0:
            raise ValueError("weekday_factors needs 7 non-negative numbers, Monday first")
        return value

    @field_validator("hourly_profile")
    @classmethod
    def _twenty_four(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if len(value) != 24 or min(value) < 0 or sum(value) <= 0:
            raise ValueError("hourly_profile needs 24 non-negative numbers with a positive sum")
        return value


class Callers(_Model):
    """How customers behave before and around the queue."""

    ivr_min_s: int = Field(3, ge=0, description="IVR time before the queue, uniform between min and max")
    ivr_max_s: int = Field(12, ge=0)
    patience_mean_s: float = Field(110, ge=0, description="mean of the exponential patience; 0 = never hang up")
    number_shapes: dict[str, float] = Field(
        {"plus7": 0.5, "eight": 0.3, "seven": 0.2},
        description="caller id shapes: +7XXXXXXXXXX, 8XXXXXXXXXX, 7XXXXXXXXXX",
    )
    redial_after_missed_share: float = Field(0.3, ge=0, le=1, description="missed callers who redial the same day")
    redial_delay_mean_s: float = Field(1200, gt=0)
    repeat_after_answered_share: float = Field(0.12, ge=0, le=1, description="answered callers who call again")
    repeat_after_missed_share: float = Field(0.15, ge=0, le=1, description="missed callers who call on a later day")
    repeat_delay_mean_days: float = Field(1.5, gt=0)

    @model_validator(mode="after")
    def _check(self) -> Callers:
        if self.ivr_max_s < self.ivr_min_s:
            raise ValueError("ivr_max_s < ivr_min_s")
        unknown = set(self.number_shapes) - {"plus7", "eight", "seven"}
        if unknown or sum(self.number_shapes.values()) <= 0:
            raise ValueError("number_shapes takes weights for plus7, eight, seven")
        return self


class Queue(_Model):
    name: str
    extension: str = Field(description="queue number dialled internally, the CDR dst")
    did: str = Field(description="the public number customers dial for this queue")
    share: float = Field(ge=0, description="share of inbound arrivals that enter this queue first")
    timeout_s: int = Field(0, ge=0, description="max wait before EXITWITHTIMEOUT; 0 = no timeout")
    overflow_to: str = Field("", description="queue entered after the timeout; empty = voicemail")
    talk_mean_s: float = Field(240, gt=0)
    talk_cv: float = Field(0.8, ge=0, description="coefficient of variation of lognormal talk time")
    talk_distribution: Literal["lognormal", "exponential"] = "lognormal"
    transfer_share: float = Field(0.05, ge=0, le=1)
    attended_transfer_share: float = Field(0.3, ge=0, le=1, description="share of transfers that are attended")
    won_per_call: float = Field(0.1, ge=0, le=1, description="P(won deal | handled call) of an untrained agent")
    lost_per_call: float = Field(0.08, ge=0, le=1, description="P(lost deal | handled call)")
    survey_share: float = Field(0.3, ge=0, le=1, description="answered calls that get a survey response")
    survey_type: Literal["csat", "nps"] = "csat"
    qa_call_types: dict[str, float] = Field({"qualification": 0.6, "objection": 0.4})


class Team(_Model):
    name: str
    share: float = Field(ge=0, description="share of the agents")
    queues: tuple[str, ...] = Field((), description="queues the members serve; none = outbound team")
    hourly_rate: float = Field(400, ge=0, description="RUB per paid hour")


class AgentBehaviour(_Model):
    ring_timeout_s: int = Field(15, ge=1, description="ring time before RINGNOANSWER")
    ring_answer_min_s: int = Field(2, ge=0)
    ring_answer_max_s: int = Field(8, ge=0)
    ring_no_answer_share: float = Field(0.04, ge=0, lt=1, description="mean share of rings an agent misses")
    retry_s: int = Field(5, ge=0, description="an agent who missed a ring is not rung again for this long")
    acw_min_s: int = Field(5, ge=0, description="after-call work, logged as PAUSE/UNPAUSE reason ACW")
    acw_max_s: int = Field(40, ge=0)
    speed_spread: float = Field(0.15, ge=0, description="lognormal sd of the per-agent talk-time factor")
    complete_by_caller_share: float = Field(0.55, ge=0, le=1)
    transfer_targets: tuple[str, ...] = ("2001", "2002", "2005")
    after_transfer_talk_mean_s: float = Field(120, gt=0)

    @model_validator(mode="after")
    def _check(self) -> AgentBehaviour:
        if self.ring_answer_max_s < self.ring_answer_min_s or self.ring_answer_max_s >= self.ring_timeout_s:
            raise ValueError("need ring_answer_min_s <= ring_answer_max_s < ring_timeout_s")
        if self.acw_max_s < self.acw_min_s:
            raise ValueError("acw_max_s < acw_min_s")
        return self


class Shifts(_Model):
    always_on: bool = Field(False, description="every agent logged in for the whole period, no breaks")
    starts: tuple[str, ...] = ("08:00", "09:00", "10:00", "11:00", "12:00")
    start_weights: tuple[float, ...] = (0.3, 0.2, 0.2, 0.15, 0.15)
    length_h: float = Field(9, gt=0, le=24)
    days_per_week: int = Field(5, ge=1, le=7)
    weekend_off_bias: float = Field(3.0, ge=0, description="how much likelier days off fall on Sat/Sun")
    login_late_mean_s: float = Field(60, description="mean lateness of the login (normal, sd 120 s)")
    lunch_after_h: float = Field(4, ge=0)
    lunch_min: tuple[int, int] = (30, 60)
    coaching_share: float = Field(0.08, ge=0, le=1, description="agent-days with a Training pause")
    coaching_min: int = Field(30, ge=1)

    @model_validator(mode="after")
    def _check(self) -> Shifts:
        if len(self.starts) != len(self.start_weights) or not self.starts:
            raise ValueError("starts and start_weights need the same, non-zero length")
        for start in self.starts:
            time.fromisoformat(start)
        return self


class Outbound(_Model):
    campaign: str = "spring-upsell"
    connect_by_hour: tuple[float, ...] = Field(
        (0, 0, 0, 0, 0, 0, 0, 0, 0.22, 0.28, 0.32, 0.33, 0.3, 0.26, 0.3, 0.33, 0.35, 0.36, 0.4, 0.42, 0.38, 0.3,
         0, 0),
        description="P(answer) of a campaign dial by local hour",
    )
    busy_share: float = Field(0.1, ge=0, le=1, description="share of unanswered dials that are BUSY")
    no_answer_ring_s: int = Field(30, ge=1, description="dial timeout")
    talk_mean_s: float = Field(150, gt=0)
    talk_cv: float = Field(1.0, ge=0)
    gap_min_s: int = Field(15, ge=0, description="agent time between dials (dispositioning, next lead)")
    gap_max_s: int = Field(60, ge=0)
    redial_share: float = Field(0.35, ge=0, le=1, description="share of dials that retry an unreached number")
    redial_after_s: int = Field(7200, ge=0)
    max_attempts: int = Field(3, ge=1)
    won_per_contact: float = Field(0.05, ge=0, le=1)
    lost_per_contact: float = Field(0.08, ge=0, le=1)
    qa_call_types: dict[str, float] = Field({"reactivation": 0.6, "objection": 0.4})

    @field_validator("connect_by_hour")
    @classmethod
    def _twenty_four(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if len(value) != 24 or min(value) < 0 or max(value) > 1:
            raise ValueError("connect_by_hour needs 24 probabilities")
        return value


class Callbacks(_Model):
    within_24h_share: float = Field(0.55, ge=0, le=1, description="missed calls called back within 24 h")
    later_share: float = Field(0.25, ge=0, le=1, description="called back after 1-4 days; the rest never")
    connect_share: float = Field(0.6, ge=0, le=1)
    max_pending: int = Field(50_000, ge=0, description="callback worklist size; the oldest beyond are dropped")

    @model_validator(mode="after")
    def _check(self) -> Callbacks:
        if self.within_24h_share + self.later_share > 1:
            raise ValueError("within_24h_share + later_share > 1")
        return self


class Product(_Model):
    name: str
    share: float = Field(gt=0)
    amount_median: float = Field(gt=0, description="RUB")
    amount_sigma: float = Field(0.4, ge=0, description="lognormal sigma")


class Sales(_Model):
    currency: str = "RUB"
    products: tuple[Product, ...] = (
        Product(name="Basic", share=0.55, amount_median=14_900, amount_sigma=0.25),
        Product(name="Pro", share=0.35, amount_median=59_000, amount_sigma=0.35),
        Product(name="Enterprise", share=0.10, amount_median=240_000, amount_sigma=0.5),
    )
    close_delay_mean_days: float = Field(3, ge=0)
    call_id_share: float = Field(0.7, ge=0, le=1, description="deals that name their call; others by phone")
    skill_spread: float = Field(0.25, ge=0, description="lognormal sd of the per-agent conversion factor")


class Surveys(_Model):
    csat_mean: float = Field(4.2, description="mean 1-5 score at zero wait and average agent")
    nps_mean: float = Field(8.0, description="mean 0-10 score at zero wait and average agent")
    wait_penalty_per_min: float = Field(0.25, ge=0, description="points lost per minute of wait (csat scale)")


class Criterion(_Model):
    name: str
    weight: float = Field(gt=0)
    fatal: bool = False


def _criteria(*items: tuple[str, float] | tuple[str, float, bool]) -> tuple[Criterion, ...]:
    return tuple(Criterion(name=item[0], weight=item[1], fatal=bool(item[2]) if len(item) > 2 else False)
                 for item in items)


class QualityAssurance(_Model):
    sample_share: float = Field(0.30, ge=0, le=1, description="handled calls reviewed (qa_sample_share's default)")
    reviewers: tuple[str, ...] = ("qa.smirnova", "qa.kozlov", "qa.orlova")
    na_share: float = Field(0.05, ge=0, le=1, description="non-fatal criteria marked NA")
    fatal_fail_share: float = Field(0.02, ge=0, le=1)
    scorecards: dict[str, tuple[Criterion, ...]] = {
        "qualification": _criteria(("greeting", 1), ("problem identification", 3), ("needs questions", 2),
                                   ("product presentation", 2), ("next step agreed", 2),
                                   ("personal data consent", 1, True)),
        "objection": _criteria(("greeting", 1), ("objection handling", 4), ("initiative", 3),
                               ("product presentation", 3), ("closing", 3), ("personal data consent", 1, True)),
        "reactivation": _criteria(("greeting", 1), ("initiative", 4), ("reason for the call", 2),
                                  ("offer", 3), ("closing", 2)),
        "transactional": _criteria(("greeting", 1), ("problem identification", 2), ("resolution", 3),
                                   ("accuracy", 2), ("farewell", 1), ("personal data consent", 1, True)),
    }


class Costs(_Model):
    telecom_per_minute: float = Field(1.2, ge=0, description="RUB per billed minute of any call")
    fixed_monthly: dict[str, float] = {"office rent": 420_000, "pbx and crm licences": 95_000, "management": 380_000}
    hourly_rate_spread: float = Field(0.08, ge=0, description="per-agent variation around the team rate")
    specialist_hourly_rate: float = Field(
        560, ge=0, description="RUB per hour of the extensions that take transferred calls (transfer_targets)")


class Staff(_Model):
    leavers: int = Field(2, ge=0, description="agents who leave during the period")
    hires: int = Field(2, ge=0, description="agents hired during the period")
    leave_reasons: tuple[str, ...] = ("voluntary", "dismissed", "relocation")


class Training(_Model):
    programme: str = "Objection handling"
    trained_share: float = Field(0.4, ge=0, le=1, description="share of the agents who take the programme")
    day: int = Field(12, ge=0, description="days after the start when the programme runs")
    pause_min: int = Field(120, ge=1, description="length of the Training pause that day")
    conversion_uplift: float = Field(
        0.04, ge=-1, le=1, description="added to P(won deal | handled call) for trained agents after training"
    )


class Transcripts(_Model):
    enabled: bool = Field(False, description="write transcripts of the handled calls (transcripts-DATE.json)")
    lang: str = Field("ru", pattern="^(ru|en|mixed)$", description="language of the transcripts: ru, en or mixed")
    share: float = Field(1.0, ge=0, le=1, description="handled calls that get a transcript")
    skip_share: float = Field(0.12, ge=0, le=1, description="chance an average agent skips a required stage "
                              "(scaled by the agent's quality)")
    forbidden_share: float = Field(0.06, ge=0, le=1, description="calls of an average agent with a forbidden phrase")
    noise_share: float = Field(0.3, ge=0, le=1, description="calls with recognition noise")
    word_error: float = Field(0.05, ge=0, le=0.25, description="in a noisy call: chance a word is dropped or misspelt")
    interruption_share: float = Field(0.1, ge=0, le=1, description="customer replies that start over the agent")


class Scenario(_Model):
    name: str = "Moscow sales contact centre"
    seed: int = Field(1, ge=0)
    start: date = date(2026, 3, 2)
    days: int = Field(30, ge=1, le=3650)
    timezone: str = "Europe/Moscow"
    agents: int = Field(30, ge=1, le=MAX_AGENTS)
    trunk: str = Field("trunk", description="PJSIP endpoint of the carrier trunk")
    arrivals: Arrivals = Arrivals()
    callers: Callers = Callers()
    queues: tuple[Queue, ...] = (
        Queue(name="sales", extension="500", did="74952150500", share=0.6, timeout_s=45, overflow_to="support",
              talk_mean_s=240, talk_cv=0.8, transfer_share=0.04, won_per_call=0.1, lost_per_call=0.08,
              survey_share=0.3, survey_type="nps", qa_call_types={"qualification": 0.6, "objection": 0.4}),
        Queue(name="support", extension="501", did="74952150501", share=0.4, timeout_s=300, overflow_to="",
              talk_mean_s=300, talk_cv=0.9, transfer_share=0.08, won_per_call=0.02, lost_per_call=0.01,
              survey_share=0.3, survey_type="csat", qa_call_types={"transactional": 1.0}),
    )
    teams: tuple[Team, ...] = (
        Team(name="sales", share=0.4, queues=("sales",), hourly_rate=420),
        Team(name="support", share=0.33, queues=("support",), hourly_rate=380),
        Team(name="senior", share=0.1, queues=("sales", "support"), hourly_rate=520),
        Team(name="outbound", share=0.17, queues=(), hourly_rate=400),
    )
    agent_behaviour: AgentBehaviour = AgentBehaviour()
    shifts: Shifts = Shifts()
    outbound: Outbound = Outbound()
    callbacks: Callbacks = Callbacks()
    sales: Sales = Sales()
    surveys: Surveys = Surveys()
    qa: QualityAssurance = QualityAssurance()
    costs: Costs = Costs()
    staff: Staff = Staff()
    training: Training = Training()
    transcripts: Transcripts = Transcripts()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        names = [queue.name for queue in self.queues]
        if not names or len(set(names)) != len(names):
            raise ValueError("queues need distinct names and at least one queue")
        if sum(queue.share for queue in self.queues) <= 0:
            raise ValueError("queue shares sum to zero")
        for queue in self.queues:
            if queue.overflow_to and queue.overflow_to not in names:
                raise ValueError(f"queue {queue.name}: overflow_to {queue.overflow_to!r} is not a queue")
        self._check_overflow_chains()
        if sum(team.share for team in self.teams) <= 0:
            raise ValueError("team shares sum to zero")
        for team in self.teams:
            unknown = set(team.queues) - set(names)
            if unknown:
                raise ValueError(f"team {team.name}: unknown queues {sorted(unknown)}")
        if self.agents + self.staff.hires > MAX_AGENTS:
            raise ValueError(f"at most {MAX_AGENTS} agents including hires")
        return self

    def _check_overflow_chains(self) -> None:
        by_name = {queue.name: queue for queue in self.queues}
        for queue in self.queues:
            seen = [queue.name]
            while by_name[seen[-1]].overflow_to:
                seen.append(by_name[seen[-1]].overflow_to)
                if seen[-1] in seen[:-1]:
                    raise ValueError(f"overflow loop: {' -> '.join(seen)}")
                if len(seen) > 3:
                    raise ValueError("overflow chains are limited to 3 queues")

    # ---- derived values -------------------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start_epoch(self) -> int:
        return local_midnight_epoch(self.start, self.zone)

    @property
    def end_epoch(self) -> int:
        return local_midnight_epoch(self.start + timedelta(days=self.days), self.zone)

    def queue_index(self, name: str) -> int:
        return [queue.name for queue in self.queues].index(name)

    # ---- construction ----------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | None = None) -> Scenario:
        """A scenario from a TOML file; without a path, the default scenario."""
        if path is None:
            if not DEFAULT_SCENARIO_FILE.exists():
                return cls()
            path = DEFAULT_SCENARIO_FILE
        with path.open("rb") as handle:
            return cls.model_validate(tomllib.load(handle))

    def with_overrides(
        self,
        *,
        days: int | None = None,
        agents: int | None = None,
        calls_per_day: float | None = None,
        seed: int | None = None,
        start: date | None = None,
        timezone: str | None = None,
    ) -> Scenario:
        """A copy with command-line overrides. A new volume without a new head count scales the
        agents with it, so the centre stays as loaded as the scenario meant it to be."""
        data = self.model_dump()
        if calls_per_day is not None:
            if agents is None and self.arrivals.calls_per_day > 0:
                agents = max(3, round(self.agents * calls_per_day / self.arrivals.calls_per_day))
            data["arrivals"]["calls_per_day"] = calls_per_day
        for key, value in (("days", days), ("agents", agents), ("seed", seed), ("start", start),
                           ("timezone", timezone)):
            if value is not None:
                data[key] = value
        return Scenario.model_validate(data)

    @classmethod
    def stationary(
        cls,
        *,
        calls_per_hour: float,
        aht_s: float,
        agents: int,
        days: int = 7,
        seed: int = 1,
        start: date = date(2026, 3, 2),
    ) -> Scenario:
        """The M/M/c centre of Erlang C: constant Poisson arrivals around the clock, exponential
        talk time, one queue, fixed agents always logged in; no IVR, patience, ring-no-answer,
        pauses, after-call work, transfers, outbound or staff changes."""
        return cls(
            name=f"stationary M/M/{agents}",
            seed=seed,
            start=start,
            days=days,
            timezone="UTC",
            agents=agents,
            arrivals=Arrivals(calls_per_day=calls_per_hour * 24, weekday_factors=(1.0,) * 7,
                              hourly_profile=(1.0,) * 24, daily_noise_cv=0),
            callers=Callers(ivr_min_s=0, ivr_max_s=0, patience_mean_s=0, redial_after_missed_share=0,
                            repeat_after_answered_share=0, repeat_after_missed_share=0),
            queues=(Queue(name="q1", extension="500", did="74952150500", share=1.0, timeout_s=0,
                          talk_mean_s=aht_s, talk_distribution="exponential", transfer_share=0),),
            teams=(Team(name="agents", share=1.0, queues=("q1",)),),
            agent_behaviour=AgentBehaviour(ring_answer_min_s=0, ring_answer_max_s=0, ring_no_answer_share=0,
                                           acw_min_s=0, acw_max_s=0, speed_spread=0),
            shifts=Shifts(always_on=True, coaching_share=0),
            staff=Staff(leavers=0, hires=0),
            training=Training(trained_share=0),
        )


def local_midnight_epoch(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time(0), tzinfo=zone).timestamp())
