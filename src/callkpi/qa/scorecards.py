"""Scorecards: per call type, a list of weighted criteria; every change is a new version.

YAML layout (``callkpi qa scorecards export`` writes it, ``import`` reads it; the web editor
takes one scorecard of it)::

    scorecards:
      - call_type: objection
        title: Objection call
        title_ru: Работа с возражениями
        criteria:
          - {name: objection handling, title_ru: Работа с возражениями, weight: 4, fatal: false, na: true}

Saving a scorecard that equals its latest version adds nothing; otherwise it adds a version.
Reviews keep the version they were scored with, so past scores never change.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callkpi.storage import Store, first_row

CALL_TYPE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}$")


class ScorecardError(ValueError):
    """A scorecard (or its YAML) that cannot be used; the message says why."""


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=80)
    title_ru: str = ""
    weight: float = Field(gt=0, le=100)
    fatal: bool = False
    na: bool = True  # N/A allowed
    # the call script's stage (docs/speech.md) this criterion checks: the review form suggests 1 when the
    # transcript shows the agent did it, 0 when not; the reviewer confirms
    stage: str | None = Field(default=None, max_length=40)

    @field_validator("name", "title_ru")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class Scorecard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_type: str
    title: str = ""
    title_ru: str = ""
    criteria: tuple[Criterion, ...] = Field(min_length=1, max_length=60)
    queues: tuple[str, ...] = ()  # calls of these queues, campaigns or directions are of this call type
    campaigns: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    version: int | None = None  # set when read from the store
    active: bool = True

    @field_validator("call_type")
    @classmethod
    def _call_type(cls, value: str) -> str:
        value = value.strip().lower()
        if not CALL_TYPE_PATTERN.match(value):
            raise ValueError("call_type: lower-case letters, digits, - and _, at most 40 characters")
        return value

    @field_validator("queues", "campaigns", "directions", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return tuple(str(v).strip() for v in value if str(v).strip() and "," not in str(v))
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> Scorecard:
        names = [c.name.lower() for c in self.criteria]
        if len(set(names)) != len(names):
            raise ValueError("two criteria have the same name")
        return self

    def matches(self, queue: str | None, campaign: str | None, direction: str | None) -> bool:
        return bool((queue and queue in self.queues) or (campaign and campaign in self.campaigns)
                    or (direction and direction in self.directions))

    def criterion(self, name: str) -> Criterion | None:
        return next((c for c in self.criteria if c.name == name), None)

    def content(self) -> dict[str, Any]:
        """What a version is made of (compared to decide whether a save is a change)."""
        content = self.model_dump(mode="json", exclude={"version", "active"})
        for criterion in content["criteria"]:
            if criterion.get("stage") is None:
                criterion.pop("stage", None)  # a card without stages reads (and compares) as before
        return content


def parse_yaml(text: str) -> list[Scorecard]:
    """Scorecards from YAML: a document with ``scorecards:``, a list, or one scorecard."""
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: an integer of more digits than Python converts
        raise ScorecardError(f"not valid YAML: {exc}") from exc
    if isinstance(data, dict) and "scorecards" in data:
        data = data["scorecards"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise ScorecardError("expected a list of scorecards (a `scorecards:` key)")
    cards = []
    for index, item in enumerate(data, start=1):
        try:
            cards.append(Scorecard.model_validate(item))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ScorecardError(f"scorecard {index}: {problems}") from exc
    types = [c.call_type for c in cards]
    if len(set(types)) != len(types):
        raise ScorecardError("a call type appears twice")
    return cards


def to_yaml(cards: list[Scorecard]) -> str:
    body = {"scorecards": [card.content() for card in cards]}
    return yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=120)


def default_scorecards() -> list[Scorecard]:
    text = (resources.files("callkpi.qa") / "default_scorecards.yaml").read_text(encoding="utf-8")
    return parse_yaml(text)


# -- the store ------------------------------------------------------------------------------


def ensure_default_scorecards(store: Store) -> None:
    """Seed the default scorecards into a store that has none."""
    row = first_row(store.fetch_all("SELECT count(*) FROM qa_scorecards"))
    if row and row[0] == 0:
        for card in default_scorecards():
            save_scorecard(store, card, "callkpi", "default scorecard")


def save_scorecard(store: Store, card: Scorecard, user: str, note: str = "") -> int:
    """Store the scorecard as a new version unless it equals the latest; returns the version in force."""
    latest = load_scorecard(store, card.call_type)
    if latest is not None and latest.content() == card.content() and latest.active == card.active:
        return int(latest.version or 0)
    version = (latest.version or 0) + 1 if latest else 1
    store.execute(
        "INSERT INTO qa_scorecards VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [card.call_type, version, card.title, card.title_ru, user, _now(), note[:500], card.active,
         ",".join(card.queues), ",".join(card.campaigns), ",".join(card.directions)],
    )
    for i, c in enumerate(card.criteria):
        store.execute("INSERT INTO qa_criteria VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      [card.call_type, version, i, c.name, c.name, c.title_ru, c.weight, c.fatal, c.na, c.stage])
    return version


def load_scorecard(store: Store, call_type: str, version: int | None = None) -> Scorecard | None:
    """A scorecard version (the latest when ``version`` is None), or None."""
    if version is None:
        head = first_row(store.fetch_all(
            f"SELECT {_HEAD} FROM qa_scorecards WHERE call_type = ? ORDER BY version DESC LIMIT 1",  # noqa: S608
            [call_type]))
    else:
        head = first_row(store.fetch_all(
            f"SELECT {_HEAD} FROM qa_scorecards WHERE call_type = ? AND version = ?",  # noqa: S608
            [call_type, version]))
    if head is None:
        return None
    rows = store.fetch_all(
        "SELECT criterion, title_ru, weight, fatal, na_allowed, script_stage FROM qa_criteria "
        "WHERE call_type = ? AND version = ? ORDER BY position", [call_type, head[0]])
    criteria = tuple(Criterion(name=r[0], title_ru=r[1] or "", weight=r[2], fatal=bool(r[3]), na=bool(r[4]),
                               stage=r[5] or None)
                     for r in rows)
    return Scorecard(call_type=call_type, title=head[1] or "", title_ru=head[2] or "", criteria=criteria,
                     version=int(head[0]), active=bool(head[3]), queues=_split(head[4]),
                     campaigns=_split(head[5]), directions=_split(head[6]))


_HEAD = "version, title_en, title_ru, active, match_queues, match_campaigns, match_directions"


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v for v in (value or "").split(",") if v)


def list_scorecards(store: Store, *, include_retired: bool = False) -> list[Scorecard]:
    """The latest version of every scorecard, by call type."""
    types = [r[0] for r in store.fetch_all(
        "SELECT DISTINCT call_type FROM qa_scorecards ORDER BY call_type")]
    cards = [card for t in types if (card := load_scorecard(store, t)) is not None]
    return [c for c in cards if c.active or include_retired]


def scorecard_versions(store: Store, call_type: str) -> list[dict[str, Any]]:
    rows = store.fetch_all(
        "SELECT version, created_by, created_utc, note, active FROM qa_scorecards WHERE call_type = ? "
        "ORDER BY version DESC", [call_type])
    return [{"version": r[0], "created_by": r[1], "created_utc": r[2], "note": r[3], "active": r[4]} for r in rows]


def import_scorecards(store: Store, text: str, user: str) -> dict[str, int]:
    """Save every scorecard of a YAML text (all or nothing); call type -> version in force."""
    cards = parse_yaml(text)
    with store.transaction():
        return {card.call_type: save_scorecard(store, card, user, "imported") for card in cards}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
