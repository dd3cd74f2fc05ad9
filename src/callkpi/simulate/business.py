"""The business around the calls: CRM deals, post-call surveys, QA scorecards, costs, staff,
training and schedules, and the true training effect the analysis should find."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from callkpi.simulate.clock import LocalClock
from callkpi.simulate.customers import caller_id_text, crm_phone_text
from callkpi.simulate.model import Day, Directory
from callkpi.simulate.records import call_ids
from callkpi.simulate.scenario import Scenario
from callkpi.simulate.speech import TranscriptGenerator, TranscriptWriter
from callkpi.simulate.staff import StaffPlan
from callkpi.simulate.text import ints, join, lookup, pick
from callkpi.simulate.writers import OutputSet

CONTACT_MIN_TALK_S = 10  # an answered outbound call shorter than this is no sales conversation


@dataclass
class Handled:
    """Calls an agent talked on, the unit of conversion, surveys and QA."""

    call_id: pa.StringArray
    agent: np.ndarray
    end: np.ndarray
    number: np.ndarray
    won_base: np.ndarray
    lost_base: np.ndarray
    campaign: pa.StringArray
    call_type_source: np.ndarray  # queue index, or -1 for outbound
    talk: np.ndarray  # seconds the agent talked

    def __len__(self) -> int:
        return len(self.agent)


@dataclass
class TrainingTally:
    """Handled calls and won deals of trained and untrained agents before and after training."""

    counts: dict[str, list[int]] = field(default_factory=lambda: {
        "trained_before": [0, 0], "trained_after": [0, 0], "untrained_before": [0, 0], "untrained_after": [0, 0]})

    def add(self, group: str, calls: int, won: int) -> None:
        self.counts[group][0] += calls
        self.counts[group][1] += won

    def as_dict(self) -> dict[str, dict[str, float | int | None]]:
        return {group: {"handled_calls": calls, "won_deals": won, "conversion": won / calls if calls else None}
                for group, (calls, won) in self.counts.items()}


class BusinessWriter:
    def __init__(self, scenario: Scenario, plan: StaffPlan, directory: Directory, clock: LocalClock,
                 out: OutputSet) -> None:
        self.scenario = scenario
        self.plan = plan
        self.names = directory
        self.clock = clock
        self.out = out
        agents = plan.agents
        self.conversion_factor = np.array([a.conversion_factor for a in agents])
        self.quality = np.array([a.quality for a in agents])
        self.trained = np.array([a.training_day is not None for a in agents])
        # uplift applies from the local midnight after the training day
        self.trained_from = np.array([_epoch(scenario, a.training_day + timedelta(days=1)) if a.training_day
                                      else np.iinfo(np.int64).max for a in agents], dtype=np.int64)
        self.trained_on = np.array([_epoch(scenario, a.training_day) if a.training_day
                                    else np.iinfo(np.int64).max for a in agents], dtype=np.int64)
        self.programme_day = _epoch(scenario, scenario.start + timedelta(days=scenario.training.day))
        self._criteria = _ScorecardTable(scenario)
        self.tally = TrainingTally()
        self._deals = 0
        self._reviews = 0
        self._won_amount = 0.0
        self._status_counts = {"won": 0, "lost": 0, "open": 0}
        self.transcripts: TranscriptWriter | None = None
        settings = scenario.transcripts
        if settings.enabled:
            generator = TranscriptGenerator(settings.skip_share, settings.forbidden_share, settings.noise_share,
                                            settings.word_error, settings.interruption_share)
            self.transcripts = TranscriptWriter(out.directory, generator, settings.lang)

    # ---- files written once ------------------------------------------------------------------
    def write_static_files(self) -> None:
        agents = self.plan.agents
        self.out.csv["staff.csv"].write_columns([
            pa.array([a.extension for a in agents]), pa.array([a.name for a in agents]),
            pa.array([a.team for a in agents]), pa.array([a.hired.isoformat() for a in agents]),
            pa.array([a.left.isoformat() if a.left else "" for a in agents]),
            pa.array([a.leave_reason for a in agents]),
        ], quote=[False, True, True, False, False, True])
        self._write_costs()
        trained = self.plan.trained()
        self.out.csv["training.csv"].write_columns([
            pa.array([a.extension for a in trained], pa.string()),
            pa.array([self.scenario.training.programme] * len(trained), pa.string()),
            pa.array([a.training_day.isoformat() for a in trained if a.training_day], pa.string()),
        ], quote=[False, True, False])
        shifts = self.plan.all_shifts
        starts = np.array([s.scheduled_start for s in shifts], dtype=np.int64)
        self.out.csv["schedules.csv"].write_columns([
            pa.array([agents[s.agent].extension for s in shifts], pa.string()),
            pa.array([(self.scenario.start + timedelta(days=s.day)).isoformat() for s in shifts], pa.string()),
            self.clock.iso_text(starts), self.clock.iso_text(np.array([s.scheduled_end for s in shifts],
                                                                         dtype=np.int64)),
        ])

    def _write_costs(self) -> None:
        costs = self.scenario.costs
        currency = self.scenario.sales.currency
        rows = [("agent_hourly", a.extension, f"{a.hourly_rate:g}", currency, "pay per hour") for a in self.plan.agents]
        team = {a.extension for a in self.plan.agents}
        rows += [("agent_hourly", extension, f"{costs.specialist_hourly_rate:g}", currency, "specialist, pay per hour")
                 for extension in self.scenario.agent_behaviour.transfer_targets if extension not in team]
        rows.append(("telecom_per_minute", "", f"{costs.telecom_per_minute:g}", currency, "carrier, per billed minute"))
        rows += [("fixed_monthly", "", f"{amount:g}", currency, item) for item, amount in costs.fixed_monthly.items()]
        columns = [pa.array([row[i] for row in rows], pa.string()) for i in range(5)]
        self.out.csv["costs.csv"].write_columns(columns, quote=[False, False, False, False, True])

    # ---- per day -----------------------------------------------------------------------------
    def write_day(self, day: Day, rng: np.random.Generator, speech_rng: np.random.Generator | None = None) -> None:
        handled = self._handled(day)
        self._deals_for(handled, rng)
        self._surveys(day, rng)
        self._qa(handled, rng)
        if self.transcripts is not None and speech_rng is not None:
            self._transcripts(day, handled, speech_rng)

    def _transcripts(self, day: Day, handled: Handled, rng: np.random.Generator) -> None:
        assert self.transcripts is not None
        types = self._criteria.draw_types(handled.call_type_source, rng)
        chosen = rng.random(len(handled)) < self.scenario.transcripts.share
        names = self._criteria.type_names
        extensions = self.names.extensions
        calls = [(call_id, extensions[agent], names[kind], float(talk), float(self.quality[agent]))
                 for call_id, agent, kind, talk, take in zip(
                     handled.call_id.to_pylist(), handled.agent.tolist(), types.tolist(), handled.talk.tolist(),
                     chosen.tolist(), strict=True) if take]
        label = (self.scenario.start + timedelta(days=day.index)).isoformat()
        self.transcripts.write_day(label, self.scenario.seed, calls)

    def _handled(self, day: Day) -> Handled:
        calls, legs, dials = day.calls, day.legs, day.dials
        queues = self.scenario.queues
        inbound = np.flatnonzero(calls.answered)
        queue = legs.queue[calls.answer_leg[inbound]]
        contact = np.flatnonzero((dials.answer >= 0) & (dials.end - dials.answer >= CONTACT_MIN_TALK_S))
        outbound = self.scenario.outbound
        is_callback = dials.callback_of[contact] >= 0
        return Handled(
            call_id=pa.concat_arrays([call_ids(calls.arrival[inbound], calls.uid[inbound]),
                                      call_ids(dials.start[contact], dials.uid[contact])]),
            agent=np.concatenate([calls.agent[inbound], dials.agent[contact]]),
            end=np.concatenate([calls.queue_end[inbound], dials.end[contact]]),
            number=np.concatenate([calls.number[inbound], dials.number[contact]]),
            won_base=np.concatenate([np.array([q.won_per_call for q in queues])[queue],
                                     np.full(len(contact), outbound.won_per_contact)]),
            lost_base=np.concatenate([np.array([q.lost_per_call for q in queues])[queue],
                                      np.full(len(contact), outbound.lost_per_contact)]),
            campaign=pa.concat_arrays([pa.array([""] * len(inbound), pa.string()),
                                       pick(is_callback, "", outbound.campaign)]),
            call_type_source=np.concatenate([queue, np.where(is_callback, -2, -1)]),
            talk=np.concatenate([calls.talk[inbound], dials.end[contact] - dials.answer[contact]]),
        )

    def _deals_for(self, handled: Handled, rng: np.random.Generator) -> None:
        agent = handled.agent
        uplift = self.scenario.training.conversion_uplift * (handled.end >= self.trained_from[agent])
        p_won = np.clip(handled.won_base * self.conversion_factor[agent] + uplift, 0, 1)
        p_lost = np.clip(handled.lost_base, 0, 1 - p_won)
        u = rng.random(len(handled))
        won = u < p_won
        lost = ~won & (u < p_won + p_lost)
        self._tally_training(handled, won)
        deal = np.flatnonzero(won | lost)
        created = handled.end[deal] + rng.integers(60, 1800, len(deal))
        sales = self.scenario.sales
        closed = created + (rng.exponential(sales.close_delay_mean_days * 86400, len(deal))).astype(np.int64)
        still_open = closed >= self.scenario.end_epoch
        status = np.where(still_open, 2, np.where(won[deal], 0, 1))
        products = sales.products
        shares = np.array([p.share for p in products])
        product = rng.choice(len(products), size=len(deal), p=shares / shares.sum())
        median = np.array([p.amount_median for p in products])[product]
        sigma = np.array([p.amount_sigma for p in products])[product]
        amount = np.round(median * np.exp(rng.normal(0, 1, len(deal)) * sigma), -2).astype(np.int64)
        show_call = rng.random(len(deal)) < sales.call_id_share
        ids = pc.utf8_lpad(ints(self._deals + 1 + np.arange(len(deal))), 7, "0")
        self._deals += len(deal)
        self._won_amount += float(amount[status == 0].sum())
        for code, name in enumerate(("won", "lost", "open")):
            self._status_counts[name] += int(np.count_nonzero(status == code))
        self.out.csv["deals.csv"].write_columns([
            join("D-", ids), self.clock.iso_text(created), pick(still_open, "", self.clock.iso_text(closed)),
            lookup(("won", "lost", "open"), status), ints(amount), pa.array([sales.currency] * len(deal), pa.string()),
            crm_phone_text(handled.number[deal], rng), lookup(self.names.extensions, agent[deal]),
            pick(show_call, handled.call_id.take(pa.array(deal)), ""),
            lookup([p.name for p in products], product), handled.campaign.take(pa.array(deal)),
        ], quote=[False, False, False, False, False, False, False, False, False, True, True])

    def _tally_training(self, handled: Handled, won: np.ndarray) -> None:
        agent = handled.agent
        trained = self.trained[agent]
        trained_after = handled.end >= self.trained_from[agent]
        trained_before = handled.end < self.trained_on[agent]
        untrained_after = handled.end >= self.programme_day + 86400
        untrained_before = handled.end < self.programme_day
        for group, mask in (("trained_before", trained & trained_before), ("trained_after", trained & trained_after),
                            ("untrained_before", ~trained & untrained_before),
                            ("untrained_after", ~trained & untrained_after)):
            self.tally.add(group, int(mask.sum()), int((mask & won).sum()))

    def _surveys(self, day: Day, rng: np.random.Generator) -> None:
        calls, legs = day.calls, day.legs
        queues = self.scenario.queues
        answered = np.flatnonzero(calls.answered)
        queue = legs.queue[calls.answer_leg[answered]]
        share = np.array([q.survey_share for q in queues])[queue]
        chosen = answered[rng.random(len(answered)) < share]
        queue = legs.queue[calls.answer_leg[chosen]]
        nps = np.array([q.survey_type == "nps" for q in queues])[queue]
        rules = self.scenario.surveys
        wait_min = (calls.connect[chosen] - calls.arrival[chosen]) / 60
        skill = (self.quality[calls.agent[chosen]] - 0.775) * 2
        csat = np.clip(np.rint(rng.normal(rules.csat_mean + skill - rules.wait_penalty_per_min * wait_min, 0.8)), 1, 5)
        nps_score = np.clip(np.rint(rng.normal(rules.nps_mean + 2.5 * skill - 2.5 * rules.wait_penalty_per_min
                                               * wait_min, 1.8)), 0, 10)
        score = np.where(nps, nps_score, csat).astype(np.int64)
        answered_at = calls.end[chosen] + rng.integers(5, 41, len(chosen))
        self.out.csv["surveys.csv"].write_columns([
            call_ids(calls.arrival[chosen], calls.uid[chosen]), caller_id_text(calls.number[chosen],
                                                                               calls.shape[chosen]),
            self.clock.iso_text(answered_at), pick(nps, "nps", "csat"), ints(score),
        ])

    def _qa(self, handled: Handled, rng: np.random.Generator) -> None:
        chosen = np.flatnonzero(rng.random(len(handled)) < self.scenario.qa.sample_share)
        if not len(chosen):
            return
        table = self._criteria
        call_type = table.draw_types(handled.call_type_source[chosen], rng)
        review, criterion = table.expand(call_type)
        agent = handled.agent[chosen][review]
        score = table.scores(criterion, self.quality[agent], rng)
        qa = self.scenario.qa
        reviewers = rng.integers(0, len(qa.reviewers), len(chosen))
        reviewed_at = handled.end[chosen] + rng.integers(86400, 5 * 86400, len(chosen))
        ids = join("QA-", pc.utf8_lpad(ints(self._reviews + 1 + np.arange(len(chosen))), 6, "0"))
        self._reviews += len(chosen)
        self.out.csv["qa_reviews.csv"].write_columns([
            ids.take(pa.array(review)), handled.call_id.take(pa.array(chosen[review])),
            lookup(self.names.extensions, agent), lookup(qa.reviewers, reviewers[review]),
            self.clock.iso_text(reviewed_at[review]), lookup(table.type_names, call_type[review]),
            lookup(table.names, criterion), lookup(table.weight_texts, criterion),
            ints(table.fatal[criterion].astype(np.int64)), score,
        ], quote=[False, False, False, True, False, True, True, False, False, False])

    # ---- totals ------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        return {"deals": self._deals, **{f"deals_{k}": v for k, v in self._status_counts.items()},
                "revenue_won": int(self._won_amount), "qa_reviews": self._reviews,
                **{name: file.rows_written for name, file in self.out.csv.items()}}

    def truth_summary(self) -> dict[str, object]:
        training = self.scenario.training
        return {"training_effect": {
            "programme": training.programme,
            "programme_date": (self.scenario.start + timedelta(days=training.day)).isoformat(),
            "metric": "conversion_rate (won deals per handled call)",
            "true_uplift": training.conversion_uplift,
            "how": "added to P(won deal | handled call) of trained agents for calls from the day after their "
                   "training date; untrained agents unchanged",
            "trained_agents": [a.extension for a in self.plan.trained()],
            "training_dates": {a.extension: a.training_day.isoformat() for a in self.plan.trained()
                               if a.training_day},
            "observed": self.tally.as_dict(),
        }}


class _ScorecardTable:
    """All criteria of all scorecards in flat arrays, for vectorised expansion of reviews."""

    def __init__(self, scenario: Scenario) -> None:
        qa = scenario.qa
        self.qa = qa
        self.type_names = tuple(qa.scorecards)
        criteria = [(t, c) for t, cards in enumerate(qa.scorecards.values()) for c in cards]
        self.names = tuple(c.name for _, c in criteria)
        self.weight_texts = tuple(f"{c.weight:g}" for _, c in criteria)
        self.fatal = np.array([c.fatal for _, c in criteria], dtype=bool)
        self.counts = np.array([len(cards) for cards in qa.scorecards.values()], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        self.source_mix = self._source_mix(scenario)

    def _source_mix(self, scenario: Scenario) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Call-type distribution per source: queue index, -1 campaign, -2 callback."""
        def mix(weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
            known = {k: v for k, v in weights.items() if k in self.type_names} or {self.type_names[0]: 1.0}
            types = np.array([self.type_names.index(k) for k in known])
            p = np.array(list(known.values()), dtype=float)
            return types, p / p.sum()

        mixes = {q: mix(queue.qa_call_types) for q, queue in enumerate(scenario.queues)}
        mixes[-1] = mix(scenario.outbound.qa_call_types)
        mixes[-2] = mix({"qualification": 1.0})
        return mixes

    def draw_types(self, source: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        result = np.zeros(len(source), dtype=np.int64)
        for key, (types, p) in self.source_mix.items():
            chosen = np.flatnonzero(source == key)
            result[chosen] = types[rng.choice(len(types), size=len(chosen), p=p)]
        return result

    def expand(self, call_type: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(review index, criterion index) for every criterion of every review."""
        per_review = self.counts[call_type]
        review = np.repeat(np.arange(len(call_type)), per_review)
        within = np.arange(len(review)) - np.repeat(np.cumsum(per_review) - per_review, per_review)
        return review, self.offsets[call_type][review] + within

    def scores(self, criterion: np.ndarray, quality: np.ndarray, rng: np.random.Generator) -> pa.StringArray:
        u, v = rng.random(len(criterion)), rng.random(len(criterion))
        fatal = self.fatal[criterion]
        level = np.where(v < quality, 0, np.where(v < quality + (1 - quality) * 0.6, 1, 2))
        level = np.where(fatal, np.where(u < self.qa.fatal_fail_share, 2, 0),
                         np.where(u < self.qa.na_share, 3, level))
        return lookup(("1", "0.5", "0", "NA"), level)


def _epoch(scenario: Scenario, day: date) -> int:
    return int(datetime.combine(day, time(0), tzinfo=scenario.zone).timestamp())
