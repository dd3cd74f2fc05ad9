"""The people: agents with their teams, extensions, traits, hires and leavers, training, and the
planned shifts (login, logout and breaks of every agent-day)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np

from callkpi.simulate.scenario import Scenario

FIRST_EXTENSION = 1001
LUNCH, TRAINING, ACW = "Lunch", "Training", "ACW"

# (Cyrillic, Latin) first names and surnames; female surnames add "а" / "a"
_MALE = [("Алексей", "Aleksei"), ("Дмитрий", "Dmitrii"), ("Иван", "Ivan"), ("Сергей", "Sergei"),
         ("Андрей", "Andrei"), ("Михаил", "Mikhail"), ("Никита", "Nikita"), ("Артём", "Artem"),
         ("Павел", "Pavel"), ("Егор", "Egor"), ("Роман", "Roman"), ("Кирилл", "Kirill")]
_FEMALE = [("Анна", "Anna"), ("Мария", "Mariia"), ("Елена", "Elena"), ("Ольга", "Olga"),
           ("Наталья", "Natalia"), ("Ирина", "Irina"), ("Екатерина", "Ekaterina"), ("Татьяна", "Tatiana"),
           ("Юлия", "Iuliia"), ("Дарья", "Daria"), ("Ксения", "Kseniia"), ("Алина", "Alina")]
_SURNAMES = [("Иванов", "Ivanov"), ("Смирнов", "Smirnov"), ("Кузнецов", "Kuznetsov"), ("Попов", "Popov"),
             ("Васильев", "Vasilev"), ("Петров", "Petrov"), ("Соколов", "Sokolov"), ("Михайлов", "Mikhailov"),
             ("Новиков", "Novikov"), ("Фёдоров", "Fedorov"), ("Морозов", "Morozov"), ("Волков", "Volkov"),
             ("Алексеев", "Alekseev"), ("Лебедев", "Lebedev"), ("Семёнов", "Semenov"), ("Егоров", "Egorov"),
             ("Павлов", "Pavlov"), ("Козлов", "Kozlov"), ("Степанов", "Stepanov"), ("Николаев", "Nikolaev"),
             ("Орлов", "Orlov"), ("Андреев", "Andreev"), ("Макаров", "Makarov"), ("Никитин", "Nikitin"),
             ("Захаров", "Zakharov"), ("Зайцев", "Zaitsev"), ("Соловьёв", "Solovev"), ("Борисов", "Borisov")]


@dataclass
class Agent:
    index: int
    extension: str
    name: str
    name_latin: str
    team: str
    queue_ids: tuple[int, ...]
    hired: date
    left: date | None
    leave_reason: str
    hourly_rate: float
    talk_factor: float
    ring_no_answer_share: float
    conversion_factor: float
    quality: float
    shift_start: time
    days_off: frozenset[int]
    training_day: date | None = None

    @property
    def interface(self) -> str:
        """The member interface FreePBX queues use, written in the agent column of queue_log."""
        return f"Local/{self.extension}@from-queue/n"

    @property
    def outbound(self) -> bool:
        return not self.queue_ids


@dataclass
class Shift:
    agent: int
    day: int
    scheduled_start: int
    scheduled_end: int
    login: int
    logout: int
    breaks: list[tuple[int, int, str]] = field(default_factory=list)  # (start epoch, seconds, reason)


@dataclass
class StaffPlan:
    agents: list[Agent]
    shifts_by_day: list[list[Shift]]

    @property
    def all_shifts(self) -> list[Shift]:
        return [shift for day in self.shifts_by_day for shift in day]

    def trained(self) -> list[Agent]:
        return [agent for agent in self.agents if agent.training_day is not None]


def build_staff_plan(scenario: Scenario, rng: np.random.Generator) -> StaffPlan:
    names = _NameSource(rng)
    agents = _initial_agents(scenario, names, rng)
    _staff_changes(scenario, agents, names, rng)
    if scenario.training.trained_share > 0 and not scenario.shifts.always_on:
        _plan_training(scenario, agents, rng)
    shifts = _plan_shifts(scenario, agents, rng)
    return StaffPlan(agents=agents, shifts_by_day=shifts)


def _team_sizes(scenario: Scenario) -> list[int]:
    """Agents per team by largest remainder of the team shares."""
    shares = np.array([team.share for team in scenario.teams], dtype=float)
    exact = shares / shares.sum() * scenario.agents
    sizes = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - sizes), kind="stable")[: scenario.agents - sizes.sum()]:
        sizes[index] += 1
    return sizes.tolist()


def _initial_agents(scenario: Scenario, names: _NameSource, rng: np.random.Generator) -> list[Agent]:
    agents: list[Agent] = []
    for team_index, size in enumerate(_team_sizes(scenario)):
        for _ in range(size):
            hired = scenario.start - timedelta(days=int(rng.integers(30, 1500)))
            agents.append(_new_agent(scenario, len(agents), team_index, hired, names, rng))
    return agents


def _new_agent(
    scenario: Scenario, index: int, team_index: int, hired: date, names: _NameSource, rng: np.random.Generator
) -> Agent:
    team = scenario.teams[team_index]
    behaviour = scenario.agent_behaviour
    shifts = scenario.shifts
    name, name_latin = names.next()
    weights = np.array(shifts.start_weights, dtype=float)
    start = time.fromisoformat(shifts.starts[int(rng.choice(len(weights), p=weights / weights.sum()))])
    rna = behaviour.ring_no_answer_share * float(np.exp(rng.normal(0, 0.5)) / np.exp(0.125))
    return Agent(
        index=index,
        extension=str(FIRST_EXTENSION + index),
        name=name,
        name_latin=name_latin,
        team=team.name,
        queue_ids=tuple(scenario.queue_index(queue) for queue in team.queues),
        hired=hired,
        left=None,
        leave_reason="",
        hourly_rate=round(team.hourly_rate * float(np.exp(rng.normal(0, scenario.costs.hourly_rate_spread))), -1),
        talk_factor=float(np.exp(rng.normal(0, behaviour.speed_spread))) if behaviour.speed_spread else 1.0,
        ring_no_answer_share=min(rna, 0.5),
        conversion_factor=float(np.exp(rng.normal(0, scenario.sales.skill_spread)
                                       - scenario.sales.skill_spread**2 / 2)),
        quality=float(rng.uniform(0.6, 0.95)),
        shift_start=start,
        days_off=_days_off(scenario, rng),
    )


def _days_off(scenario: Scenario, rng: np.random.Generator) -> frozenset[int]:
    """Consecutive weekdays off, more often over the weekend (0 = Monday)."""
    count = 7 - scenario.shifts.days_per_week
    if count == 0:
        return frozenset()
    blocks = [[(first + k) % 7 for k in range(count)] for first in range(7)]
    weights = np.array([1 + scenario.shifts.weekend_off_bias * sum(day >= 5 for day in block) for block in blocks])
    return frozenset(blocks[int(rng.choice(7, p=weights / weights.sum()))])


def _staff_changes(scenario: Scenario, agents: list[Agent], names: _NameSource, rng: np.random.Generator) -> None:
    """Leavers leave mid-period; hires join their teams a few days later (new extensions)."""
    staff = scenario.staff
    if scenario.days < 7 or scenario.shifts.always_on:
        return
    leavers = rng.choice(len(agents), size=min(staff.leavers, len(agents) - 1), replace=False) if agents else []
    leave_days: list[int] = []
    for index in sorted(int(i) for i in leavers):
        day = int(rng.integers(scenario.days // 5, scenario.days * 4 // 5))
        agents[index].left = scenario.start + timedelta(days=day)
        agents[index].leave_reason = staff.leave_reasons[int(rng.integers(len(staff.leave_reasons)))]
        leave_days.append(day)
    team_index = {team.name: i for i, team in enumerate(scenario.teams)}
    for hire in range(staff.hires):
        if hire < len(leave_days):
            replaced = agents[sorted(int(i) for i in leavers)[hire]]
            team = team_index[replaced.team]
            day = min(scenario.days - 1, leave_days[hire] + int(rng.integers(2, 8)))
        else:
            team = int(rng.integers(len(scenario.teams)))
            day = int(rng.integers(scenario.days // 5, scenario.days * 4 // 5))
        agents.append(_new_agent(scenario, len(agents), team, scenario.start + timedelta(days=day), names, rng))


def _plan_training(scenario: Scenario, agents: list[Agent], rng: np.random.Generator) -> None:
    """The programme runs on the first working day on or after `training.day` of each trained agent."""
    programme_day = scenario.start + timedelta(days=scenario.training.day)
    last_day = scenario.start + timedelta(days=scenario.days - 1)
    eligible = [a for a in agents if a.hired < programme_day and (a.left is None or a.left > last_day)]
    count = round(scenario.training.trained_share * len(eligible))
    for position in sorted(rng.choice(len(eligible), size=count, replace=False).tolist()):
        agent = eligible[position]
        day = programme_day
        while day <= last_day and day.weekday() in agent.days_off:
            day += timedelta(days=1)
        if day <= last_day:
            agent.training_day = day


def _plan_shifts(scenario: Scenario, agents: list[Agent], rng: np.random.Generator) -> list[list[Shift]]:
    if scenario.shifts.always_on:
        return [[Shift(agent.index, 0, scenario.start_epoch, scenario.end_epoch, scenario.start_epoch,
                       scenario.end_epoch) for agent in agents]] + [[] for _ in range(scenario.days - 1)]
    roster = _Roster(agents)
    return [_plan_day(scenario, roster, day_index, rng) for day_index in range(scenario.days)]


class _Roster:
    """The agents' fixed traits as arrays, for planning a day of shifts in one go."""

    def __init__(self, agents: list[Agent]) -> None:
        never = date.max.toordinal()
        self.agents = agents
        self.hired = np.array([a.hired.toordinal() for a in agents])
        self.left = np.array([a.left.toordinal() if a.left else never for a in agents])
        self.trained_on = np.array([a.training_day.toordinal() if a.training_day else never for a in agents])
        self.off = np.array([[weekday in a.days_off for weekday in range(7)] for a in agents], dtype=bool)
        self.start_times = sorted({a.shift_start for a in agents})
        self.start_kind = np.array([self.start_times.index(a.shift_start) for a in agents], dtype=np.int64)


def _plan_day(scenario: Scenario, roster: _Roster, day_index: int, rng: np.random.Generator) -> list[Shift]:
    """Shifts of one day: a hire starts the day after the hire date, a leaver stops on the
    leaving date; login, logout and breaks vary a little around the plan."""
    shifts, zone = scenario.shifts, scenario.zone
    day = scenario.start + timedelta(days=day_index)
    ordinal = day.toordinal()
    working = np.flatnonzero((roster.hired < ordinal) & (ordinal < roster.left) & ~roster.off[:, day.weekday()])
    count = len(working)
    midnight = int(datetime.combine(day, time(0), tzinfo=zone).timestamp())
    start_epochs = np.array([int(datetime.combine(day, t, tzinfo=zone).timestamp()) for t in roster.start_times])
    start = start_epochs[roster.start_kind[working]]
    end = start + int(shifts.length_h * 3600)
    login = np.maximum(midnight, start + np.clip(rng.normal(shifts.login_late_mean_s, 120, count), -600, 1800)
                       .astype(np.int64))
    logout = np.maximum(login + 3600, end + np.clip(rng.normal(60, 180, count), -900, 900).astype(np.int64))
    lunch = start + (shifts.lunch_after_h * 3600 + rng.uniform(-1800, 1800, count)).astype(np.int64)
    lunch_len = rng.integers(shifts.lunch_min[0], shifts.lunch_min[1] + 1, count) * 60
    training_len = scenario.training.pause_min * 60
    in_training = roster.trained_on[working] == ordinal
    lunch = np.where(in_training, np.maximum(lunch, start + 3600 + training_len + 1800), lunch)
    coaching_len = shifts.coaching_min * 60
    coaching_latest = lunch - coaching_len - 600
    coaching_earliest = login + 1800
    coaching = ~in_training & (rng.random(count) < shifts.coaching_share) & (coaching_latest > coaching_earliest)
    coaching_start = coaching_earliest + (rng.random(count) * (coaching_latest - coaching_earliest)).astype(np.int64)
    has_lunch = lunch + lunch_len < logout - 1800
    planned: list[Shift] = []
    for i, agent in enumerate(working.tolist()):
        breaks: list[tuple[int, int, str]] = []
        if in_training[i]:
            breaks.append((int(start[i]) + 3600, training_len, TRAINING))
        elif coaching[i]:
            breaks.append((int(coaching_start[i]), coaching_len, TRAINING))
        if has_lunch[i]:
            breaks.append((int(lunch[i]), int(lunch_len[i]), LUNCH))
        planned.append(Shift(agent, day_index, int(start[i]), int(end[i]), int(login[i]), int(logout[i]),
                             sorted(breaks)))
    return planned


_INITIALS = [("А", "A"), ("Б", "B"), ("В", "V"), ("Г", "G"), ("Д", "D"), ("Е", "E"), ("З", "Z"), ("И", "I"),
             ("К", "K"), ("Л", "L"), ("М", "M"), ("Н", "N"), ("О", "O"), ("П", "P"), ("Р", "R"), ("С", "S"),
             ("Т", "T"), ("Ф", "F"), ("Э", "E"), ("Ю", "Iu"), ("Я", "Ia")]


class _NameSource:
    """Distinct Russian full names (Cyrillic, and Latin for caller ids) in a seeded order; past
    the first/surname combinations, a patronymic initial keeps them distinct."""

    def __init__(self, rng: np.random.Generator) -> None:
        combos = [(first, surname, female) for female, firsts in ((True, _FEMALE), (False, _MALE))
                  for first in firsts for surname in _SURNAMES]
        self._combos = [combos[i] for i in rng.permutation(len(combos))]
        self._issued = 0

    def next(self) -> tuple[str, str]:
        cycle, position = divmod(self._issued, len(self._combos))
        self._issued += 1
        (first, first_latin), (surname, surname_latin), female = self._combos[position]
        if female:
            surname, surname_latin = surname + "а", surname_latin + "a"
        name, latin = f"{surname} {first}", f"{first_latin} {surname_latin}"
        if cycle:
            initial, initial_latin = _INITIALS[(cycle - 1) % len(_INITIALS)]
            suffix = f" {cycle}" if cycle > len(_INITIALS) else ""
            name, latin = f"{name} {initial}.{suffix}", f"{first_latin} {initial_latin}. {surname_latin}{suffix}"
        return name, latin
